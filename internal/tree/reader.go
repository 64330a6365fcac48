package tree

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diag"
)

// Obj reads the fields of one object node strictly: every field read or declared
// Known is allowed, and Done reports the others as unknown with a did-you-mean.
type Obj struct {
	N    *Node
	What string // what the object is, for messages: "course", "manual", "cohort method"
	ds   *diag.Diagnostics
	// declared are keys valid in every object of this kind (KnownList), shared and
	// never written; known are the others read or declared Known.
	declared []string
	known    []string
	// buf holds the first keys of known: one allocation per object read, not three.
	buf [8]string
}

// ReadObject starts reading n as an object; it reports an error and returns nil when n is
// not one. A null node (an empty YAML value) reads as an empty object.
func ReadObject(n *Node, what string, ds *diag.Diagnostics) *Obj {
	o := new(Obj).Read(n, what, ds)
	if o != nil {
		o.known = o.buf[:0]
	}
	return o
}

// Read starts reading n into o as ReadObject does, so that o can live on the
// caller's stack (an object read with KnownList then allocates nothing): it returns
// o, or nil when n is not an object.
func (o *Obj) Read(n *Node, what string, ds *diag.Diagnostics) *Obj {
	if n.Bad {
		return nil
	}
	if n.Kind == Null {
		*o = Obj{N: &Node{Kind: Object, Pos: n.Pos, Syntax: n.Syntax}, What: what, ds: ds}
		return o
	}
	if n.Kind != Object {
		*ds = append(*ds, diag.Errorf(n.Pos, "%s must be a mapping of fields, not %s", what, n.Kind))
		return nil
	}
	*o = Obj{N: n, What: what, ds: ds}
	return o
}

// Errorf records an error at p.
func (o *Obj) Errorf(p diag.Pos, format string, args ...any) {
	*o.ds = append(*o.ds, diag.Errorf(p, format, args...))
}

// Diags is where the reader records its diagnostics.
func (o *Obj) Diags() *diag.Diagnostics { return o.ds }

// Known declares keys as valid without reading them.
func (o *Obj) Known(keys ...string) { o.known = append(o.known, keys...) }

// KnownList declares keys as valid, as Known does, without copying them: keys, the
// fields of a kind of object, must never change. Reading an object's fields then
// allocates nothing (a tenth of the allocations of loading specs did).
func (o *Obj) KnownList(keys []string) {
	if o.declared != nil {
		o.Known(keys...)
		return
	}
	o.declared = keys
}

// Get returns the field named key (nil when absent) and marks key as valid.
func (o *Obj) Get(key string) *Field {
	if !slices.Contains(o.declared, key) {
		o.known = append(o.known, key)
	}
	return o.N.Field(key)
}

// isKnown reports whether key was read or declared.
func (o *Obj) isKnown(key string) bool {
	return slices.Contains(o.declared, key) || slices.Contains(o.known, key)
}

// Name is how the author spells field key: the HCL block type for fields filled by
// blocks, the key itself otherwise.
func (o *Obj) Name(key string) string {
	if b, ok := o.N.blockNames[key]; ok && o.N.Syntax == HCL {
		if f := o.N.Field(key); f == nil || f.Block {
			return b
		}
	}
	return key
}

// Done reports every field that was neither read nor declared Known.
func (o *Obj) Done() {
	var candidates []string // built at the first unknown field: most objects have none
	for _, f := range o.N.Fields {
		if o.isKnown(f.Key) {
			continue
		}
		if candidates == nil {
			candidates = make([]string, 0, len(o.declared)+len(o.known))
			for _, k := range slices.Concat(o.declared, o.known) {
				candidates = append(candidates, o.Name(k))
			}
		}
		kind := "field"
		if f.Block {
			kind = "block"
		}
		*o.ds = append(*o.ds, diag.Diagnostic{
			File: f.KeyPos.File, Line: f.KeyPos.Line, Col: f.KeyPos.Col,
			Message:    fmt.Sprintf("unknown %s %q in %s", kind, f.Key, o.What),
			Suggestion: diag.Suggest(f.Key, candidates),
		})
	}
}

// Require reports key as missing when it is absent, and returns its field.
func (o *Obj) Require(key string) *Field {
	f := o.Get(key)
	if f == nil {
		o.Errorf(o.N.Pos, "%s: missing required field %q", o.What, o.Name(key))
	}
	return f
}

// RequireString reads key as text, reporting it when it is missing.
func (o *Obj) RequireString(key string) Str {
	f := o.Require(key)
	if f == nil {
		return Str{}
	}
	return AsString(f.Value, key, o.ds)
}

// Str is a string read from a file, with where it was written.
type Str struct {
	V   string
	Pos diag.Pos
	Set bool
}

// String reads key as text. Numbers are accepted as written (usernames and course
// shortnames may be all digits); lists, mappings and booleans are errors.
func (o *Obj) String(key string) Str {
	f := o.Get(key)
	if f == nil {
		return Str{}
	}
	return AsString(f.Value, o.Name(key), o.ds)
}

// AsString reads a scalar node as text, or reports why it cannot.
func AsString(n *Node, name string, ds *diag.Diagnostics) Str {
	switch {
	case n.Bad:
	case n.Kind == Scalar && n.Tag != "bool":
		return Str{V: n.Text, Pos: n.Pos, Set: true}
	case n.Kind == Null:
		*ds = append(*ds, diag.Errorf(n.Pos, "%s: missing value", name))
	case n.Kind == Scalar:
		*ds = append(*ds, diag.Errorf(n.Pos, "%s must be text, not %s (quote it if you mean the word)", name, n.Text))
	default:
		*ds = append(*ds, diag.Errorf(n.Pos, "%s must be text, not %s", name, n.Kind))
	}
	return Str{Pos: n.Pos}
}

// Bool is a boolean read from a file.
type Bool struct {
	V   bool
	Pos diag.Pos
	Set bool
}

// Bool reads key as true or false.
func (o *Obj) Bool(key string) Bool {
	v, pos, set := typedScalar(o, key, "bool", "true or false", func(s string) (bool, bool) { return s == "true", true })
	return Bool{V: v, Pos: pos, Set: set}
}

// Int is a whole number read from a file.
type Int struct {
	V   int
	Pos diag.Pos
	Set bool
}

// Int reads key as a whole number of at least 0.
func (o *Obj) Int(key string) Int {
	v, pos, set := typedScalar(o, key, "int", "a whole number (0 or more)", func(s string) (int, bool) {
		v, err := strconv.Atoi(s)
		return v, err == nil && v >= 0
	})
	return Int{V: v, Pos: pos, Set: set}
}

// typedScalar reads key as a scalar of the YAML tag that parse accepts, or says that it
// must be want and what it is instead.
func typedScalar[T any](o *Obj, key, tag, want string, parse func(string) (T, bool)) (v T, pos diag.Pos, set bool) {
	f := o.Get(key)
	if f == nil {
		return v, pos, false
	}
	n := f.Value
	if n.Bad {
		return v, n.Pos, false
	}
	if n.Kind == Scalar && n.Tag == tag {
		if v, ok := parse(n.Text); ok {
			return v, n.Pos, true
		}
	}
	what := n.Kind.String()
	if n.Kind == Scalar {
		what = strconv.Quote(n.Text)
	}
	o.Errorf(n.Pos, "%s must be %s, not %s", o.Name(key), want, what)
	return v, n.Pos, false
}

// Strings reads key as a list of text values; a single value is taken as a list of one.
func (o *Obj) Strings(key string) []Str {
	f := o.Get(key)
	if f == nil {
		return nil
	}
	name := o.Name(key)
	switch f.Value.Kind {
	case List:
		if len(f.Value.Items) == 0 {
			return nil
		}
		out := make([]Str, 0, len(f.Value.Items))
		for _, it := range f.Value.Items {
			if s := AsString(it, name+" item", o.ds); s.Set {
				out = append(out, s)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case Scalar:
		if s := AsString(f.Value, name, o.ds); s.Set {
			return []Str{s}
		}
	case Null:
		return nil
	default:
		o.Errorf(f.Value.Pos, "%s must be a list, not %s", name, f.Value.Kind)
	}
	return nil
}

// List reads key as a list of nodes. A mapping or scalar is an error.
func (o *Obj) List(key string) []*Node {
	f := o.Get(key)
	if f == nil || f.Value.Kind == Null {
		return nil
	}
	if f.Value.Kind != List {
		o.Errorf(f.Value.Pos, "%s must be a list, not %s", o.Name(key), f.Value.Kind)
		return nil
	}
	return f.Value.Items
}

// OneOf checks that s is one of allowed, reporting an error with a suggestion otherwise.
func OneOf(s Str, what string, allowed []string, ds *diag.Diagnostics) bool {
	if !s.Set || slices.Contains(allowed, s.V) {
		return s.Set
	}
	*ds = append(*ds, diag.Diagnostic{
		File: s.Pos.File, Line: s.Pos.Line, Col: s.Pos.Col,
		Message:    fmt.Sprintf("unknown %s %q: use one of %s", what, s.V, strings.Join(allowed, ", ")),
		Suggestion: diag.Suggest(s.V, allowed),
	})
	return false
}
