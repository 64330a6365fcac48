package tree

import (
	"bytes"
	"regexp"

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
	for _, c := range src {
		if c >= 0x7f || c == '\t' || c == '\r' || (c < 0x20 && c != '\n') {
			return nil, false
		}
	}
	p := &plainParser{file: file}
	for n, line := range bytes.Split(src, []byte("\n")) {
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		content := line[indent:]
		if len(content) == 0 || content[0] == '#' {
			continue
		}
		p.lines = append(p.lines, plainLine{no: n + 1, indent: indent, text: line})
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

type plainLine struct {
	no, indent int
	text       []byte // the whole line; text[indent:] is its content
}

type plainParser struct {
	file  string
	lines []plainLine
	at    int // the next line to read
	ok    bool
	nodes int
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
	n := &Node{Kind: List, Pos: p.pos(l.no, indent+1)}
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
			n.Items = append(n.Items, p.mapping(col))
			continue
		}
		p.at++
		v := p.inline(l, col)
		if v == nil {
			return p.fail()
		}
		n.Items = append(n.Items, v)
	}
	if p.at < len(p.lines) && p.lines[p.at].indent > indent {
		return p.fail()
	}
	return n
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
	n := &Node{Kind: Object, Pos: p.pos(l.no, indent+1)}
	for p.ok && p.at < len(p.lines) && p.lines[p.at].indent == indent {
		l := p.lines[p.at]
		key, rest := keyAt(l.text, indent)
		if key == nil || (key[0] == '-' && len(key) > 1 && key[1] == ' ') {
			return p.fail()
		}
		for _, f := range n.Fields {
			if f.Key == string(key) {
				return p.fail() // a duplicate key: yaml.v3's path reports it
			}
		}
		if bytes.Equal(key, []byte("<<")) {
			return p.fail()
		}
		f := &Field{Key: string(key), KeyPos: p.pos(l.no, indent+1)}
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
		n.Fields = append(n.Fields, f)
	}
	if p.at < len(p.lines) && p.lines[p.at].indent > indent {
		return p.fail()
	}
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
		n := &Node{Kind: List, Pos: p.pos(l.no, col+1)}
		i := col + 1
		for {
			for i < len(text) && text[i] == ' ' {
				i++
			}
			if i < len(text) && text[i] == ']' && len(n.Items) == 0 {
				i++
				break
			}
			var item *Node
			item, i = p.flowScalar(l, i)
			if item == nil {
				return nil
			}
			n.Items = append(n.Items, item)
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
		return &Node{Kind: Scalar, Pos: p.pos(l.no, col+1), Tag: "str", Text: string(s)}
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
	return &Node{Kind: Scalar, Pos: p.pos(l.no, col+1), Tag: tag, Text: string(s)}
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
		return &Node{Kind: Scalar, Pos: p.pos(l.no, i+1), Tag: "str", Text: string(s)}, i + 2 + end
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
	return &Node{Kind: Scalar, Pos: p.pos(l.no, i+1), Tag: tag, Text: string(s)}, j
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
	decimal  = regexp.MustCompile(`^(?:0|[1-9][0-9]{0,17})$`)
)

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
		if decimal.Match(s) {
			return "int", true
		}
		if dateLike.Match(s) {
			return "str", true
		}
		return "", false
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '/':
		if reserved[string(bytes.ToLower(s))] {
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
