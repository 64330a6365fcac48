package tree

import (
	"bytes"
	"regexp"
	"unsafe"

	"github.com/enrolctl/enrolctl/internal/diag"
)

// parsePlainYAML reads the plain YAML that import moodle, CSV import and most people
// write (block mappings and sequences, one scalar or flow list of scalars per line,
// comments) straight into the tree, several times faster than yaml.v3: spec parsing
// was a quarter of a 10,000-course plan. It builds exactly the tree ParseYAML builds
// from yaml.v3's nodes, positions and tags included (TestFastYAMLMatchesYAMLv3), and
// gives up (ok false) on anything else (non-ASCII, tabs, anchors, tags, flow
// mappings, block or multi-line scalars, escapes, several documents, duplicate keys,
// errors of any kind), which yaml.v3 then reads with its own messages.
func parsePlainYAML(file string, src []byte) (*Node, bool) {
	return new(YAMLReader).parsePlain(file, src)
}

// A YAMLReader parses YAML files one after another as ParseYAML does, reusing the
// memory of the plain YAML reader from one file to the next: the nodes Parse returns
// are valid only until its next call. Loading 10,000 specs otherwise made 90 MB of
// nodes and fields that lived only until their file was decoded, and the garbage
// collector's work with them. One per goroutine.
type YAMLReader struct {
	// Owned says that the content given to Parse never changes afterwards (a file
	// read for the parse): the tree's strings then share it rather than a copy.
	Owned bool

	lines  []plainLine
	nodes  chunks[Node]
	fields chunks[Field]
	// The items of lists and fields of mappings being read are stacked here, and
	// copied, once complete, into runs of an array: no slice grows per value.
	itemStack  []*Node
	fieldStack []*Field
	items      runs[*Node]
	fieldRuns  runs[*Field]
}

// Parse is ParseYAML, with the nodes valid until the next Parse.
func (r *YAMLReader) Parse(file string, src []byte) ([]*Node, diag.Diagnostics) {
	if ds := checkUTF8(file, src); ds != nil {
		return nil, ds
	}
	if n, ok := r.parsePlain(file, src); ok {
		return []*Node{n}, nil
	}
	return parseYAMLv3(file, src)
}

func (r *YAMLReader) parsePlain(file string, src []byte) (*Node, bool) {
	for _, c := range src {
		if c >= 0x7f || c == '\t' || c == '\r' || (c < 0x20 && c != '\n') {
			return nil, false
		}
	}
	// Keys and scalars are substrings of one copy of the file, and nodes and fields
	// come from a few arrays kept from file to file: a 10,000-file plan otherwise
	// made a string and a node per value, a tenth of its allocations.
	r.nodes.reset()
	r.fields.reset()
	r.items.reset()
	r.fieldRuns.reset()
	r.itemStack, r.fieldStack = r.itemStack[:0], r.fieldStack[:0]
	s := unsafe.String(unsafe.SliceData(src), len(src))
	if !r.Owned {
		s = string(src)
	}
	p := &plainParser{file: file, s: s, lines: r.lines[:0], r: r}
	defer func() { r.lines = p.lines }()
	for n, off := 0, 0; off <= len(src); n++ {
		end := bytes.IndexByte(src[off:], '\n')
		if end < 0 {
			end = len(src) - off
		}
		line, lineOff := src[off:off+end], off
		off += end + 1
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		content := line[indent:]
		if len(content) == 0 || content[0] == '#' {
			continue
		}
		p.lines = append(p.lines, plainLine{no: n + 1, indent: indent, off: lineOff, text: line})
	}
	if len(p.lines) == 0 || p.lines[0].indent != 0 {
		return nil, false
	}
	root := p.block(0)
	if !p.ok || p.at < len(p.lines) || root == nil || root.Kind != Object {
		return nil, false
	}
	return root, true
}

// chunks hands out elements of arrays it keeps; reset makes them all free again.
type chunks[T any] struct {
	all [][]T
	at  int // all[at] is the array being filled
}

// next returns a free element (holding whatever it last held), adding an array of
// size elements when all are taken.
func (c *chunks[T]) next(size int) *T {
	for c.at < len(c.all) && len(c.all[c.at]) == cap(c.all[c.at]) {
		c.at++
	}
	if c.at == len(c.all) {
		c.all = append(c.all, make([]T, 0, size))
	}
	a := &c.all[c.at]
	*a = (*a)[:len(*a)+1]
	return &(*a)[len(*a)-1]
}

func (c *chunks[T]) reset() {
	for i := range c.all[:min(c.at+1, len(c.all))] {
		c.all[i] = c.all[i][:0]
	}
	c.at = 0
}

// runs copies slices into arrays it keeps; reset makes them all free again.
type runs[T any] struct{ c chunks[T] }

// copy returns a copy of s (nil when empty) whose capacity is its length, so that an
// append to it never writes over the next run.
func (r *runs[T]) copy(s []T) []T {
	if len(s) == 0 {
		return nil
	}
	c := &r.c
	for c.at < len(c.all) && cap(c.all[c.at])-len(c.all[c.at]) < len(s) {
		c.at++
	}
	if c.at == len(c.all) {
		c.all = append(c.all, make([]T, 0, max(len(s), 1024)))
	}
	a := &c.all[c.at]
	start := len(*a)
	*a = append(*a, s...)
	return (*a)[start:len(*a):len(*a)]
}

func (r *runs[T]) reset() { r.c.reset() }

type plainLine struct {
	no, indent int
	off        int    // where the line starts in the file
	text       []byte // the whole line; text[indent:] is its content
}

type plainParser struct {
	file  string
	s     string // the file, for substrings
	lines []plainLine
	at    int // the next line to read
	ok    bool
	nodes int
	r     *YAMLReader // whose arrays nodes and fields come from
}

// str returns text[a:b] of line l as a string sharing the file's copy.
func (p *plainParser) str(l plainLine, a, b int) string { return p.s[l.off+a : l.off+b] }

// node and field return a new node or field from the reader's arrays. Up to two nodes
// a line ("- username: x" is a mapping and a scalar), at most a field a line.
func (p *plainParser) node(n Node) *Node {
	e := p.r.nodes.next(min(2*len(p.lines)+8, 2048))
	*e = n
	return e
}

func (p *plainParser) field(f Field) *Field {
	e := p.r.fields.next(min(len(p.lines)+8, 1024))
	*e = f
	return e
}

func (p *plainParser) pos(line, col int) diag.Pos {
	return diag.Pos{File: p.file, Line: line, Col: col}
}

func (p *plainParser) fail() *Node { p.ok = false; return nil }

// block reads the mapping or sequence whose lines start at column indent.
func (p *plainParser) block(indent int) *Node {
	if p.at == 0 {
		p.ok = true
	}
	if p.at >= len(p.lines) || p.lines[p.at].indent != indent {
		return p.fail()
	}
	if isItem(p.lines[p.at].text[indent:]) {
		return p.sequence(indent)
	}
	return p.mapping(indent)
}

func isItem(content []byte) bool {
	return len(content) >= 2 && content[0] == '-' && content[1] == ' '
}

func (p *plainParser) sequence(indent int) *Node {
	l := p.lines[p.at]
	n := p.node(Node{Kind: List, Pos: p.pos(l.no, indent+1)})
	start := len(p.r.itemStack)
	for p.ok && p.at < len(p.lines) && p.lines[p.at].indent == indent && isItem(p.lines[p.at].text[indent:]) {
		l := p.lines[p.at]
		col := indent + 2
		for col < len(l.text) && l.text[col] == ' ' {
			col++
		}
		if col >= len(l.text) || l.text[col] == '-' || l.text[col] == '#' {
			return p.fail() // a nested "- -", or an empty item
		}
		if key, _ := keyAt(l.text, col); key != nil {
			// "- key: value": a mapping whose keys line up at col.
			p.lines[p.at].indent = col
			p.r.itemStack = append(p.r.itemStack, p.mapping(col))
			continue
		}
		p.at++
		v := p.inline(l, col)
		if v == nil {
			return p.fail()
		}
		p.r.itemStack = append(p.r.itemStack, v)
	}
	if p.at < len(p.lines) && p.lines[p.at].indent > indent {
		return p.fail()
	}
	n.Items = p.popItems(start)
	return n
}

// popItems and popFields take the values stacked since start.
func (p *plainParser) popItems(start int) []*Node {
	s := p.r.items.copy(p.r.itemStack[start:])
	p.r.itemStack = p.r.itemStack[:start]
	return s
}

func (p *plainParser) popFields(start int) []*Field {
	s := p.r.fieldRuns.copy(p.r.fieldStack[start:])
	p.r.fieldStack = p.r.fieldStack[:start]
	return s
}

// keyAt returns the plain key at col of line and where its value starts, or nil.
func keyAt(line []byte, col int) ([]byte, int) {
	i := col
	for i < len(line) && isKeyByte(line[i]) {
		i++
	}
	// YAML's implicit keys are at most 1,024 characters.
	if i == col || i-col > 1000 || i >= len(line) || line[i] != ':' || (i+1 < len(line) && line[i+1] != ' ') {
		return nil, 0
	}
	return line[col:i], i + 1
}

func isKeyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func (p *plainParser) mapping(indent int) *Node {
	l := p.lines[p.at]
	n := p.node(Node{Kind: Object, Pos: p.pos(l.no, indent+1)})
	start := len(p.r.fieldStack)
	for p.ok && p.at < len(p.lines) && p.lines[p.at].indent == indent {
		l := p.lines[p.at]
		key, rest := keyAt(l.text, indent)
		if key == nil || (key[0] == '-' && len(key) > 1 && key[1] == ' ') {
			return p.fail()
		}
		for _, f := range p.r.fieldStack[start:] {
			if f.Key == string(key) {
				return p.fail() // a duplicate key: yaml.v3's path reports it
			}
		}
		if bytes.Equal(key, []byte("<<")) {
			return p.fail()
		}
		f := p.field(Field{Key: p.str(l, indent, indent+len(key)), KeyPos: p.pos(l.no, indent+1)})
		p.at++
		for rest < len(l.text) && l.text[rest] == ' ' {
			rest++
		}
		if rest < len(l.text) && l.text[rest] != '#' {
			f.Value = p.inline(l, rest)
		} else if p.at < len(p.lines) && (p.lines[p.at].indent > indent ||
			p.lines[p.at].indent == indent && isItem(p.lines[p.at].text[indent:])) {
			f.Value = p.block(p.lines[p.at].indent)
		}
		if f.Value == nil {
			return p.fail() // an empty value, or one this reader leaves to yaml.v3
		}
		p.r.fieldStack = append(p.r.fieldStack, f)
	}
	if p.at < len(p.lines) && p.lines[p.at].indent > indent {
		return p.fail()
	}
	n.Fields = p.popFields(start)
	return n
}

// inline reads the value that starts at col of line and runs to its end (or to a
// comment): a scalar or a flow list of scalars.
func (p *plainParser) inline(l plainLine, col int) *Node {
	p.nodes++
	if p.nodes > maxNodes {
		return nil
	}
	text := l.text
	if text[col] == '[' {
		n := p.node(Node{Kind: List, Pos: p.pos(l.no, col+1)})
		start := len(p.r.itemStack)
		i := col + 1
		for {
			for i < len(text) && text[i] == ' ' {
				i++
			}
			if i < len(text) && text[i] == ']' && len(p.r.itemStack) == start {
				i++
				break
			}
			var item *Node
			item, i = p.flowScalar(l, i)
			if item == nil {
				return nil
			}
			p.r.itemStack = append(p.r.itemStack, item)
			for i < len(text) && text[i] == ' ' {
				i++
			}
			if i < len(text) && text[i] == ',' {
				i++
				continue
			}
			if i < len(text) && text[i] == ']' {
				i++
				break
			}
			return nil
		}
		if !restIsEmpty(text[i:]) {
			return nil
		}
		n.Items = p.popItems(start)
		return n
	}
	if text[col] == '"' || text[col] == '\'' {
		end := bytes.IndexByte(text[col+1:], text[col])
		if end < 0 {
			return nil
		}
		s := text[col+1 : col+1+end]
		if bytes.IndexByte(s, '\\') >= 0 || !restIsEmpty(text[col+2+end:]) {
			return nil
		}
		return p.node(Node{Kind: Scalar, Pos: p.pos(l.no, col+1), Tag: "str", Text: p.str(l, col+1, col+1+end)})
	}
	end := len(text)
	if c := bytes.Index(text[col:], []byte(" #")); c >= 0 {
		end = col + c
	}
	s := bytes.TrimRight(text[col:end], " ")
	tag, ok := plainTag(s)
	if !ok {
		return nil
	}
	return p.node(Node{Kind: Scalar, Pos: p.pos(l.no, col+1), Tag: tag, Text: p.str(l, col, col+len(s))})
}

// flowScalar reads one plain or quoted scalar of a flow list.
func (p *plainParser) flowScalar(l plainLine, i int) (*Node, int) {
	text := l.text
	if i >= len(text) {
		return nil, i
	}
	if text[i] == '"' || text[i] == '\'' {
		end := bytes.IndexByte(text[i+1:], text[i])
		if end < 0 {
			return nil, i
		}
		s := text[i+1 : i+1+end]
		if bytes.IndexByte(s, '\\') >= 0 {
			return nil, i
		}
		return p.node(Node{Kind: Scalar, Pos: p.pos(l.no, i+1), Tag: "str", Text: p.str(l, i+1, i+1+end)}), i + 2 + end
	}
	j := i
	for j < len(text) && text[j] != ',' && text[j] != ']' && text[j] != '[' && text[j] != '{' && text[j] != '}' && text[j] != '#' {
		j++
	}
	s := bytes.TrimRight(text[i:j], " ")
	tag, ok := plainTag(s)
	if !ok || bytes.Contains(s, []byte(": ")) {
		return nil, i
	}
	p.nodes++
	return p.node(Node{Kind: Scalar, Pos: p.pos(l.no, i+1), Tag: tag, Text: p.str(l, i, i+len(s))}), j
}

// restIsEmpty reports whether what follows a value is only spaces and a comment.
func restIsEmpty(rest []byte) bool {
	rest = bytes.TrimLeft(rest, " ")
	return len(rest) == 0 || rest[0] == '#'
}

var (
	// dateLike are the plain scalars starting with a digit that yaml.v3 reads as a
	// timestamp or a string, never a number: ParseYAML keeps both as strings.
	dateLike = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9:.]+(?:Z|[+-][0-9]{2}:[0-9]{2})?)?$`)
)

// isDecimal reports whether s is ^(?:0|[1-9][0-9]{0,17})$, the plain decimals whose tag
// is certain, without a regexp: every all-digit username asks it.
func isDecimal(s []byte) bool {
	if len(s) == 0 || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// plainTag is the tag yaml.v3 gives a plain scalar, for the scalars whose tag is
// certain; ok false for the others (null and its spellings, yes/no, numbers other than
// plain decimals, indicators, ": " inside).
func plainTag(s []byte) (string, bool) {
	if len(s) == 0 || s[len(s)-1] == ':' || bytes.Contains(s, []byte(": ")) {
		return "", false
	}
	switch string(s) {
	case "true", "false":
		return "bool", true
	}
	c := s[0]
	switch {
	case c >= '0' && c <= '9':
		if isDecimal(s) {
			return "int", true
		}
		if dateLike.Match(s) {
			return "str", true
		}
		return "", false
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '/':
		if len(s) <= maxReserved && reserved[string(bytes.ToLower(s))] {
			return "", false
		}
		for _, b := range s {
			if b == '#' || b == '[' || b == ']' || b == '{' || b == '}' || b == ',' || b == '"' || b == '\'' {
				return "", false
			}
		}
		return "str", true
	}
	return "", false
}

// reserved are words yaml.v3 (or YAML 1.1 readers) may take for something else than a
// string: left to yaml.v3.
var reserved = map[string]bool{"null": true, "true": true, "false": true, "yes": true, "no": true, "on": true,
	"off": true, "y": true, "n": true, "nan": true, "inf": true}

// maxReserved is the length of the longest reserved word.
const maxReserved = 5
