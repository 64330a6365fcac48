package moodle

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonInString decodes an answer that is one JSON string holding the JSON that inner
// decodes (local_enrolctl_get_course_state_json). The string is unquoted as it is
// read, so a large answer is never held whole, encoded or decoded.
type jsonInString struct{ inner streamDecoder }

func (jsonInString) opens() byte { return '"' }

func (s jsonInString) decodeStream(r io.Reader) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	if !skipSpaceTo(br, '"') {
		return errors.New("want a JSON string")
	}
	u := &unquoter{r: br}
	if err := s.inner.decodeStream(u); err != nil {
		return err
	}
	// What the inner decoder left of the string must be space; then the string ends.
	rest, err := io.ReadAll(u)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return fmt.Errorf("%d bytes after the JSON in the string", len(rest))
	}
	return nil
}

// skipSpaceTo reads JSON white space and then want, reporting whether it was there.
func skipSpaceTo(r *bufio.Reader, want byte) bool {
	for {
		b, err := r.ReadByte()
		if err != nil {
			return false
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b == want
	}
}

// unquoter reads the content of a JSON string whose opening quote is already read,
// unescaped, and ends (io.EOF) at its closing quote.
type unquoter struct {
	r       *bufio.Reader
	pending []byte // unescaped bytes not yet returned
	done    bool
}

func (u *unquoter) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(u.pending) > 0 {
			c := copy(p[n:], u.pending)
			u.pending = u.pending[c:]
			n += c
			continue
		}
		if u.done {
			break
		}
		if n > 0 && u.r.Buffered() == 0 {
			break // return what is there rather than wait for the network
		}
		chunk, err := u.r.Peek(max(1, u.r.Buffered()))
		if len(chunk) == 0 {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, fmt.Errorf("unterminated JSON string: %w", err)
		}
		// The common case in one pass over the buffered bytes: plain bytes and the
		// two-byte escapes, written straight into p.
		i := 0
	scan:
		for i < len(chunk) && n < len(p) {
			// Eight bytes at a time while none ends a run of plain ones: most of an
			// answer (the escapes are a quote in ten bytes or so).
			for i+8 <= len(chunk) && n+8 <= len(p) {
				w := binary.LittleEndian.Uint64(chunk[i:])
				binary.LittleEndian.PutUint64(p[n:], w) // p is the caller's to scribble on
				if m := special(w); m != 0 {
					k := bits.TrailingZeros64(m) / 8
					i, n = i+k, n+k
					break
				}
				i, n = i+8, n+8
			}
			if i == len(chunk) || n == len(p) {
				break
			}
			switch b := chunk[i]; {
			case b == '"':
				u.done = true
				i++
				break scan
			case b == '\\':
				if i+1 >= len(chunk) {
					break scan // the escape continues past the buffer: the slow path
				}
				e := unescape[chunk[i+1]]
				if e == 0 {
					break scan // \uXXXX or an invalid escape: the slow path
				}
				p[n] = e
				n++
				i += 2
			case b < 0x20:
				u.r.Discard(i)
				return n, errors.New("control character in a JSON string")
			default:
				p[n] = b
				n++
				i++
			}
		}
		u.r.Discard(i)
		if u.done || n == len(p) {
			continue
		}
		if i < len(chunk) {
			// An escape the fast path left: \uXXXX, invalid, or cut by the buffer's end.
			if b, _ := u.r.ReadByte(); b != '\\' {
				return n, errors.New("unquoter: lost its place") // cannot happen
			}
			if err := u.escape(); err != nil {
				return n, err
			}
		}
	}
	if n == 0 && u.done {
		return 0, io.EOF
	}
	return n, nil
}

// special marks the bytes of w (eight bytes of a string, the first one lowest) that
// end a run of plain bytes: a quote, a backslash, a control character. Each such byte
// has its high bit set in the result; bytes after the first one marked may be marked
// wrongly (a borrow), so only the lowest mark counts.
func special(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q, b := w^('"'*ones), w^('\\'*ones)
	return ((q-ones)&^q | (b-ones)&^b | (w-0x20*ones)&^w) & highs
}

// unescape maps the second byte of a two-byte escape to its value (0: not one).
var unescape = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// escape unescapes one escape sequence, its backslash read, into pending.
func (u *unquoter) escape() error {
	b, err := u.r.ReadByte()
	if err != nil {
		return fmt.Errorf("unterminated JSON string: %w", io.ErrUnexpectedEOF)
	}
	var out byte
	switch b {
	case '"', '\\', '/':
		out = b
	case 'b':
		out = '\b'
	case 'f':
		out = '\f'
	case 'n':
		out = '\n'
	case 'r':
		out = '\r'
	case 't':
		out = '\t'
	case 'u':
		r, err := u.hex4()
		if err != nil {
			return err
		}
		if utf16.IsSurrogate(r) {
			// A pair is \uD8xx\uDCxx; a lone half becomes U+FFFD, as encoding/json does.
			if next, _ := u.r.Peek(2); string(next) == `\u` {
				u.r.Discard(2)
				r2, err := u.hex4()
				if err != nil {
					return err
				}
				r = utf16.DecodeRune(r, r2)
			} else {
				r = utf8.RuneError
			}
		}
		u.pending = utf8.AppendRune(u.pending[:0], r)
		return nil
	default:
		return fmt.Errorf("invalid escape \\%c in a JSON string", b)
	}
	u.pending = append(u.pending[:0], out)
	return nil
}

func (u *unquoter) hex4() (rune, error) {
	var h [4]byte
	if _, err := io.ReadFull(u.r, h[:]); err != nil {
		return 0, fmt.Errorf("unterminated JSON string: %w", io.ErrUnexpectedEOF)
	}
	v, err := strconv.ParseUint(string(h[:]), 16, 16)
	if err != nil {
		return 0, fmt.Errorf("invalid escape \\u%s in a JSON string", h[:])
	}
	return rune(v), nil
}
