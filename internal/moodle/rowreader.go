package moodle

import (
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// rowReader reads get_course_rows' answer value by value: a scanner of JSON that
// knows the answer's shape, so that reading a number is a few byte comparisons rather
// than a tokenizer's state machine (jsontext took most of a site-wide read's decoding
// time). It checks what jsontext would: the JSON grammar (commas and colons in their
// places), strings of valid UTF-8 without control characters, integers in range, no
// name twice in one object. The first error sticks: every later read returns a zero
// value, and err says what went wrong, at which byte of the answer.
type rowReader struct {
	in  io.Reader
	buf []byte // buf[pos:] is read from in, not yet scanned
	pos int
	off int64 // bytes of the answer before buf[0]
	eof bool
	err error
	// comma: the next value of the open array or object follows a comma (a value
	// was read since it opened, or since its last colon).
	comma  bool
	intern map[string]string
}

// rowBufferSize is how much of the answer a rowReader reads at a time (a string
// longer than that grows it).
var rowBufferSize = 64 << 10

func newRowReader(in io.Reader) *rowReader {
	return &rowReader{in: in, buf: make([]byte, 0, rowBufferSize), intern: map[string]string{"": ""}}
}

// offset is the answer's byte the reader is at.
func (r *rowReader) offset() int64 { return r.off + int64(r.pos) }

// fail records an error unless one is already recorded.
func (r *rowReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// more reads more of the answer, keeping buf[keep:] (keep <= pos) and moving it to the
// front; it returns how far the kept bytes moved, and false at the answer's end.
func (r *rowReader) more(keep int) (int, bool) {
	if r.eof || r.err != nil {
		return 0, false
	}
	n := copy(r.buf, r.buf[keep:])
	r.off += int64(keep)
	r.pos -= keep
	r.buf = r.buf[:n]
	if n == cap(r.buf) { // a string longer than the buffer
		r.buf = append(r.buf, make([]byte, n)...)[:n]
	}
	for range 100 {
		m, err := r.in.Read(r.buf[n:cap(r.buf)])
		r.buf = r.buf[:n+m]
		if err == io.EOF {
			r.eof = true
		} else if err != nil {
			r.err = err
			return keep, false
		}
		if m > 0 {
			return keep, true
		}
		if r.eof {
			return keep, false
		}
	}
	r.err = io.ErrNoProgress
	return keep, false
}

// space skips white space and returns the next byte, unread; 0 at the answer's end.
func (r *rowReader) space() byte {
	for {
		for r.pos < len(r.buf) {
			switch c := r.buf[r.pos]; c {
			case ' ', '\t', '\n', '\r':
				r.pos++
			default:
				return c
			}
		}
		if _, ok := r.more(r.pos); !ok {
			return 0
		}
	}
}

// what names a byte where something else was wanted.
func what(c byte) string {
	switch {
	case c == 0:
		return "the end of the answer"
	case c == '"':
		return "a string"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	case c == '[' || c == ']' || c == '{' || c == '}' || c == ',' || c == ':':
		return fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("byte %q", c)
}

// value starts a value: after the comma that must come before it in its container,
// at its first byte, which it returns.
func (r *rowReader) value() byte {
	c := r.space()
	if r.comma {
		if c != ',' {
			r.fail("at byte %d: want ',' or a closing bracket, got %s", r.offset(), what(c))
			return 0
		}
		r.pos++
		c = r.space()
	}
	return c
}

// want reads an array or object's opening or closing bracket.
func (r *rowReader) want(k byte) {
	if r.err != nil {
		return
	}
	// Most brackets of an answer: the bracket, after the comma due before it, at once.
	if i := r.pos; i+1 < len(r.buf) {
		switch {
		case k == ']' || k == '}':
			if r.buf[i] == k {
				r.pos, r.comma = i+1, true
				return
			}
		case !r.comma:
			if r.buf[i] == k {
				r.pos = i + 1
				return
			}
		case r.buf[i] == ',' && r.buf[i+1] == k:
			r.pos, r.comma = i+2, false
			return
		}
	}
	var c byte
	if k == '[' || k == '{' {
		c = r.value()
	} else {
		c = r.space()
	}
	if r.err != nil {
		return
	}
	if c != k {
		r.fail("at byte %d: want %q, got %s", r.offset(), k, what(c))
		return
	}
	r.pos++
	r.comma = k == ']' || k == '}' // a container closed is a value read
}

// end reports whether the open array or object closes next (k is ']' or '}').
func (r *rowReader) end(k byte) bool {
	if r.pos < len(r.buf) && !spaceByte[r.buf[r.pos]] {
		return r.buf[r.pos] == k
	}
	return r.space() == k
}

// colon reads the colon after an object's name.
func (r *rowReader) colon() {
	if r.err != nil {
		return
	}
	if c := r.space(); c != ':' {
		r.fail("at byte %d: want ':', got %s", r.offset(), what(c))
		return
	}
	r.pos++
	r.comma = false
}

// trailing checks that nothing but white space follows the answer's object.
func (r *rowReader) trailing() {
	if r.err == nil {
		if c := r.space(); c != 0 && r.err == nil {
			r.fail("at byte %d: %s after the answer", r.offset(), what(c))
		}
	}
}

// rows reads a list of rows, each a list whose items row reads.
func (r *rowReader) rows(row func()) {
	r.want('[')
	for r.err == nil && !r.end(']') {
		r.want('[')
		row()
		r.want(']')
	}
	r.want(']')
}

// int reads an integer: JSON's grammar, in int64's range.
func (r *rowReader) int() int64 {
	if r.err != nil {
		return 0
	}
	// Most integers of an answer: white space, the comma before, a few digits and
	// the byte after them, all in the buffer.
	buf, i := r.buf, r.pos
	for i < len(buf) && spaceByte[buf[i]] {
		i++
	}
	if r.comma && i < len(buf) && buf[i] == ',' {
		i++
		for i < len(buf) && spaceByte[buf[i]] {
			i++
		}
	} else if r.comma {
		i = len(buf) // the slow path says what is wrong
	}
	neg := i < len(buf) && buf[i] == '-'
	if neg {
		i++
	}
	start := i
	var n int64
	for i < len(buf) && buf[i]-'0' < 10 {
		n = n*10 + int64(buf[i]-'0')
		i++
	}
	if digits := i - start; digits > 0 && digits < 19 && i < len(buf) && !numberByte[buf[i]] && (buf[start] != '0' || digits == 1) {
		r.pos, r.comma = i, true
		if neg {
			n = -n
		}
		return n
	}
	return r.slowInt()
}

// spaceByte holds JSON's white space.
var spaceByte = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

// slowInt is int for what its fast path leaves: a number cut by the buffer's end,
// a long or invalid one, or no number.
func (r *rowReader) slowInt() int64 {
	c := r.value()
	if r.err != nil {
		return 0
	}
	if c != '-' && (c < '0' || c > '9') {
		r.fail("at byte %d: want a number, got %s", r.offset(), what(c))
		return 0
	}
	start, num := r.scanNumber()
	neg := num[0] == '-'
	digits := num
	if neg {
		digits = num[1:]
	}
	// Most numbers: digits alone, no leading zero, and few enough not to overflow.
	if len(digits) > 0 && len(digits) < 19 && (digits[0] != '0' || len(digits) == 1) {
		var n int64
		plain := true
		for _, d := range digits {
			if d < '0' || d > '9' {
				plain = false
				break
			}
			n = n*10 + int64(d-'0')
		}
		if plain {
			if neg {
				n = -n
			}
			return n
		}
	}
	if !jsonNumber(num) {
		r.fail("at byte %d: invalid number %q", r.off+int64(start), num)
		return 0
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		r.fail("at byte %d: want an integer, got %s", r.off+int64(start), num)
	}
	return n
}

// jsonNumber reports whether b is a number as JSON writes them.
func jsonNumber(b []byte) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// raw reads a string's bytes, unescaped; they are valid until the next read.
func (r *rowReader) raw() []byte {
	if r.err != nil {
		return nil
	}
	c := r.value()
	if r.err != nil {
		return nil
	}
	if c != '"' {
		r.fail("at byte %d: want a string, got %s", r.offset(), what(c))
		return nil
	}
	start := r.pos // the opening quote
	i := start + 1
	escaped, high := false, false
	for {
		for i < len(r.buf) {
			b := r.buf[i]
			if b == '"' {
				break
			}
			if b == '\\' {
				escaped = true
				if i+1 >= len(r.buf) {
					break // the escaped byte is past the buffer: read more first
				}
				i += 2
				continue
			}
			if b < 0x20 {
				r.fail("at byte %d: control character in a string", r.off+int64(i))
				return nil
			}
			high = high || b >= utf8.RuneSelf
			i++
		}
		if i < len(r.buf) && r.buf[i] == '"' {
			break
		}
		d, ok := r.more(start)
		start, i = start-d, i-d
		if !ok {
			r.fail("at byte %d: unterminated string", r.off+int64(start))
			return nil
		}
	}
	quoted := r.buf[start : i+1]
	r.pos = i + 1
	r.comma = true
	if escaped {
		out, err := jsontext.AppendUnquote(nil, quoted)
		if err != nil {
			r.fail("at byte %d: %v", r.off+int64(start), err)
		}
		return out
	}
	s := quoted[1 : len(quoted)-1]
	if high && !utf8.Valid(s) {
		r.fail("at byte %d: invalid UTF-8 in a string", r.off+int64(start))
		return nil
	}
	return s
}

// str reads a string that repeats (a username, role, component, method): one copy
// per answer.
func (r *rowReader) str() string {
	b := r.raw()
	if len(b) == 0 {
		return "" // most components: no look-up
	}
	if s, ok := r.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	r.intern[s] = s
	return s
}

// text reads a string that seldom repeats (names, e-mail addresses).
func (r *rowReader) text() string { return string(r.raw()) }

// skip reads a value this client does not know (a later plugin's table), checking it
// as jsontext would: depth is how deep in skipped values it is.
func (r *rowReader) skip(depth int) {
	if r.err != nil {
		return
	}
	if depth > 10000 {
		r.fail("at byte %d: values nested too deep", r.offset())
		return
	}
	c := r.value()
	r.comma = false // read: the readers below must not want another
	switch {
	case r.err != nil:
	case c == '"':
		r.raw()
	case c == '-' || c >= '0' && c <= '9':
		r.number()
	case c == 't' || c == 'f' || c == 'n':
		r.literal()
	case c == '[':
		r.want('[')
		for r.err == nil && !r.end(']') {
			r.skip(depth + 1)
		}
		r.want(']')
	case c == '{':
		r.want('{')
		names := map[string]bool{}
		for r.err == nil && !r.end('}') {
			name := string(r.raw())
			if names[name] && r.err == nil {
				r.fail("at byte %d: duplicate name %q", r.offset(), name)
			}
			names[name] = true
			r.colon()
			r.skip(depth + 1)
		}
		r.want('}')
	default:
		r.fail("at byte %d: want a value, got %s", r.offset(), what(c))
	}
}

// scanNumber reads the bytes of a number, at its first byte: where they start in
// buf, and the bytes, valid until the next read.
func (r *rowReader) scanNumber() (int, []byte) {
	start := r.pos
	i := start
	for {
		for i < len(r.buf) && numberByte[r.buf[i]] {
			i++
		}
		if i < len(r.buf) {
			break
		}
		d, ok := r.more(start)
		start, i = start-d, i-d
		if !ok {
			break
		}
	}
	r.pos = i
	r.comma = true
	return start, r.buf[start:i]
}

// numberByte holds the bytes a JSON number is made of.
var numberByte = [256]bool{'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true,
	'8': true, '9': true, '-': true, '+': true, '.': true, 'e': true, 'E': true}

// number reads a number of any kind, at its first byte.
func (r *rowReader) number() {
	start, num := r.scanNumber()
	if !jsonNumber(num) {
		r.fail("at byte %d: invalid number %q", r.off+int64(start), num)
	}
}

// literal reads true, false or null.
func (r *rowReader) literal() {
	var word []byte
	for r.err == nil && len(word) < 5 {
		if r.pos >= len(r.buf) {
			if _, ok := r.more(r.pos); !ok {
				break
			}
		}
		c := r.buf[r.pos]
		if c < 'a' || c > 'z' {
			break
		}
		word = append(word, c)
		r.pos++
	}
	r.comma = true
	if w := string(word); w != "true" && w != "false" && w != "null" && r.err == nil {
		r.fail("at byte %d: invalid literal %q", r.offset(), word)
	}
}
