package tree

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/enrolctl/enrolctl/internal/diag"
)

// ParseYAML parses every document of a YAML file. Empty documents are skipped.
// Duplicate keys are errors (the first one wins in the tree).
func ParseYAML(file string, src []byte) ([]*Node, diag.Diagnostics) {
	return new(YAMLReader).Parse(file, src)
}

// parseYAMLv3 is ParseYAML through yaml.v3, for any YAML.
func parseYAMLv3(file string, src []byte) ([]*Node, diag.Diagnostics) {
	var ds diag.Diagnostics
	var docs []*Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			ds = append(ds, yamlError(file, src, err))
			break
		}
		if len(doc.Content) == 0 {
			continue
		}
		c := &converter{file: file, ds: &ds}
		n := c.node(doc.Content[0], 0)
		if n.Kind == Null {
			continue
		}
		docs = append(docs, n)
	}
	return docs, ds
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlError turns a yaml.v3 syntax error, which only carries a line, into a diagnostic.
func yamlError(file string, src []byte, err error) diag.Diagnostic {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		// yaml.v3 reports parser errors ("did not find expected ...") at the 0-based line
		// of the construct left open; scanner errors are 1-based already.
		if line > 0 && strings.HasPrefix(msg, "did not find expected") {
			line++
		}
	}
	col := 0
	if line > 0 {
		col = 1
	}
	text := lineOf(src, line)
	indent := len(text) - len(strings.TrimLeft(text, " \t"))
	switch {
	case strings.HasPrefix(msg, "found character that cannot start any token") && strings.Contains(text[:indent], "\t"):
		// yaml.v3 says this of a tab, which the terminal shows as blanks.
		col = strings.Index(text, "\t") + 1
		msg = "a tab in the indentation: YAML indents with spaces only (replace the tab by spaces)"
	case strings.HasPrefix(msg, "mapping values are not allowed in this context") && line > 1:
		col = indent + 1
		msg = fmt.Sprintf("bad indentation: this line is indented by %d space(s), which matches no key above it; indent it like the key it belongs under", indent)
	}
	return diag.Errorf(diag.Pos{File: file, Line: line, Col: col}, "invalid YAML: %s", msg)
}

// lineOf is line n (1-based) of src, "" when there is none.
func lineOf(src []byte, n int) string {
	if n < 1 {
		return ""
	}
	lines := strings.SplitN(string(src), "\n", n+1)
	if len(lines) < n {
		return ""
	}
	return strings.TrimRight(lines[n-1], "\r")
}

type converter struct {
	file  string
	ds    *diag.Diagnostics
	nodes int // nodes built so far, alias expansions included
}

// maxNodes bounds the tree a file may expand to, so that nested aliases (a "billion
// laughs" file) cannot exhaust memory.
const maxNodes = 1_000_000

// maxDepth bounds nesting (and alias expansion) far above anything a spec needs.
const maxDepth = 64

func (c *converter) pos(n *yaml.Node) diag.Pos {
	return diag.Pos{File: c.file, Line: n.Line, Col: n.Column}
}

func (c *converter) node(y *yaml.Node, depth int) *Node {
	at := c.pos(y)
	c.nodes++
	if depth > maxDepth || c.nodes > maxNodes {
		if c.nodes <= maxNodes+1 {
			*c.ds = append(*c.ds, diag.Errorf(at, "file too large or too deeply nested (aliases included)"))
		}
		return &Node{Kind: Null, Pos: at}
	}
	switch y.Kind {
	case yaml.AliasNode:
		if y.Alias == nil {
			return &Node{Kind: Null, Pos: at}
		}
		n := c.node(y.Alias, depth+1)
		return n
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &Node{Kind: Null, Pos: at}
		}
		return c.node(y.Content[0], depth+1)
	case yaml.SequenceNode:
		n := &Node{Kind: List, Pos: at}
		for _, item := range y.Content {
			n.Items = append(n.Items, c.node(item, depth+1))
		}
		return n
	case yaml.MappingNode:
		n := &Node{Kind: Object, Pos: at}
		seen := map[string]diag.Pos{}
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Kind == yaml.AliasNode && k.Alias != nil {
				k = k.Alias
			}
			kp := c.pos(k)
			if k.Kind != yaml.ScalarNode {
				*c.ds = append(*c.ds, diag.Errorf(kp, "a key must be a plain name"))
				continue
			}
			if k.Tag == "!!merge" {
				*c.ds = append(*c.ds, diag.Errorf(kp, "YAML merge keys (<<) are not supported; write the fields out"))
				continue
			}
			if first, dup := seen[k.Value]; dup {
				*c.ds = append(*c.ds, diag.Errorf(kp, "duplicate key %q (first at line %d)", k.Value, first.Line))
				continue
			}
			seen[k.Value] = kp
			n.Fields = append(n.Fields, &Field{Key: k.Value, KeyPos: kp, Value: c.node(v, depth+1)})
		}
		return n
	case yaml.ScalarNode:
		switch y.ShortTag() {
		case "!!null":
			return &Node{Kind: Null, Pos: at}
		case "!!bool":
			var b bool
			if err := y.Decode(&b); err != nil {
				return &Node{Kind: Scalar, Pos: at, Tag: "str", Text: y.Value}
			}
			return &Node{Kind: Scalar, Pos: at, Tag: "bool", Text: strconv.FormatBool(b)}
		case "!!int":
			return &Node{Kind: Scalar, Pos: at, Tag: "int", Text: y.Value}
		case "!!float":
			return &Node{Kind: Scalar, Pos: at, Tag: "float", Text: y.Value}
		default: // !!str, !!timestamp, !!binary and custom tags: the text as written
			return &Node{Kind: Scalar, Pos: at, Tag: "str", Text: y.Value}
		}
	}
	return &Node{Kind: Null, Pos: at}
}
