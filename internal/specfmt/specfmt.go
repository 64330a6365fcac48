package specfmt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"go.yaml.in/yaml/v3"
)

// Format returns src in the canonical layout of its kind, chosen by name's extension
// (.hcl, else YAML). It returns an error, and no text, when src does not parse or
// could not be laid out without changing what it says.
func Format(name string, src []byte) ([]byte, error) {
	if strings.EqualFold(filepath.Ext(name), ".hcl") {
		return formatHCL(name, src)
	}
	return formatYAML(src)
}

func formatHCL(name string, src []byte) ([]byte, error) {
	if _, diags := hclwrite.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
		return nil, errors.New(diags.Error())
	}
	return hclwrite.Format(src), nil
}

func formatYAML(src []byte) ([]byte, error) {
	docs, err := decodeYAML(src)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return src, nil // nothing but comments or blank lines: nothing to lay out
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	out := b.Bytes()
	// Read back: the same values and the same comments, or the file is left alone.
	again, err := decodeYAML(out)
	if err != nil {
		return nil, fmt.Errorf("cannot lay it out without changing it (%v); left as it is", err)
	}
	if !sameDocs(docs, again) {
		return nil, errors.New("cannot lay it out without changing what it says or moving a comment; left as it is")
	}
	return out, nil
}

func decodeYAML(src []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

// sameDocs compares documents value for value (kind, tag, text, order) and comment for
// comment (the comments of each node, wherever the layout puts them).
func sameDocs(a, b []*yaml.Node) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameNode(a[i], b[i]) {
			return false
		}
	}
	return slices.Equal(comments(a), comments(b))
}

func sameNode(a, b *yaml.Node) bool {
	if a.Kind != b.Kind || a.ShortTag() != b.ShortTag() || a.Value != b.Value || a.Anchor != b.Anchor || len(a.Content) != len(b.Content) {
		return false
	}
	if (a.Alias == nil) != (b.Alias == nil) {
		return false
	}
	for i := range a.Content {
		if !sameNode(a.Content[i], b.Content[i]) {
			return false
		}
	}
	return true
}

// comments lists every comment line of the documents, sorted: where the encoder
// attaches a comment (head of a key or of its value) may differ, its text may not.
func comments(docs []*yaml.Node) []string {
	var out []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		for _, c := range []string{n.HeadComment, n.LineComment, n.FootComment} {
			for _, l := range strings.Split(c, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					out = append(out, l)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, d := range docs {
		walk(d)
	}
	slices.Sort(out)
	return out
}
