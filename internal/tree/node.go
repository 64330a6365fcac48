package tree

import (
	"github.com/enrolctl/enrolctl/internal/diag"
)

// Kind is the shape of a node.
type Kind int

const (
	Null Kind = iota
	Scalar
	List
	Object
)

func (k Kind) String() string {
	switch k {
	case Scalar:
		return "a value"
	case List:
		return "a list"
	case Object:
		return "a mapping"
	default:
		return "nothing"
	}
}

// Syntax is the language a node was written in; messages name fields as that
// language spells them.
type Syntax int

const (
	YAML Syntax = iota
	HCL
)

// Node is one value with the place it was written.
type Node struct {
	Kind Kind
	Pos  diag.Pos
	// Tag is the scalar's type: "str", "int", "float" or "bool".
	Tag  string
	Text string // the scalar as written (bools: "true"/"false")

	Items  []*Node
	Fields []*Field

	Syntax Syntax
	// Bad marks a value that could not be evaluated (already reported): readers treat
	// it as absent without a second message.
	Bad bool
	// blockNames maps a field to the HCL block type that fills it (HCL objects only),
	// so messages and suggestions use the names the author wrote.
	blockNames map[string]string
}

// Field is one key of an object, with where the key was written.
type Field struct {
	Key    string
	KeyPos diag.Pos
	Value  *Node
	// Block is set when the field came from an HCL block (its name is then the
	// block type, spelt in the singular for lists).
	Block bool
}

// Field returns the field named key, if any.
func (n *Node) Field(key string) *Field {
	for _, f := range n.Fields {
		if f.Key == key {
			return f
		}
	}
	return nil
}
