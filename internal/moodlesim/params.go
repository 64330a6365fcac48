package moodlesim

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// node is a PHP request array: a leaf string or an ordered map (PHP arrays keep
// insertion order, and external_multiple_structure iterates in that order).
type node struct {
	leaf   bool
	val    string
	keys   []string
	values map[string]*node
}

func newArray() *node { return &node{values: map[string]*node{}} }

// set assigns path to val like PHP's $_POST parsing: a[b][]=x appends, a later
// assignment to an existing key replaces it in place.
func (n *node) set(path []string, val string) {
	for i, k := range path {
		if n.leaf {
			*n = *newArray()
		}
		if k == "" {
			k = strconv.Itoa(n.nextIndex())
		}
		child, ok := n.values[k]
		if !ok {
			child = newArray()
			n.values[k] = child
			n.keys = append(n.keys, k)
		}
		if i == len(path)-1 {
			*child = node{leaf: true, val: val}
			return
		}
		n = child
	}
}

func (n *node) nextIndex() int {
	next := 0
	for _, k := range n.keys {
		if i, err := strconv.Atoi(k); err == nil && i >= next {
			next = i + 1
		}
	}
	return next
}

func (n *node) remove(k string) {
	if i := slices.Index(n.keys, k); i >= 0 {
		delete(n.values, k)
		n.keys = slices.Delete(n.keys, i, i+1)
	}
}

// splitKey turns "a[0][b]" into [a 0 b]; a malformed key is one literal name.
func splitKey(key string) []string {
	open := strings.IndexByte(key, '[')
	if open <= 0 {
		return []string{key}
	}
	path := []string{key[:open]}
	rest := key[open:]
	for len(rest) > 0 {
		if rest[0] != '[' {
			break // PHP ignores what follows the last bracket group
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return []string{key}
		}
		path = append(path, rest[1:end])
		rest = rest[end+1:]
	}
	return path
}

// parseQuery adds the pairs of a query string (or urlencoded body) to n, in order.
// Like PHP with max_input_vars, pairs beyond limit (when > 0) are silently dropped.
func parseQuery(n *node, raw string, limit int) error {
	count := 0
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		if count++; limit > 0 && count > limit {
			break
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return err
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return err
		}
		n.set(splitKey(key), val)
	}
	return nil
}

// Parameter descriptions: external_value, external_single_structure,
// external_multiple_structure.

type ptype string

const (
	pInt         ptype = "int"
	pBool        ptype = "bool"
	pRaw         ptype = "raw"
	pText        ptype = "text"
	pNoTags      ptype = "notags"
	pAlpha       ptype = "alpha"
	pAlphaNumExt ptype = "alphanumext"
	pPlugin      ptype = "plugin"
)

type presence int

const (
	required presence = iota
	optional
	withDefault
)

type desc struct {
	value  ptype   // set for values
	fields []field // set for single structures
	elem   *desc   // set for multiple structures
}

type field struct {
	name string
	d    *desc
	p    presence
	def  any
}

func val(t ptype) *desc         { return &desc{value: t} }
func obj(fields ...field) *desc { return &desc{fields: fields} }
func list(elem *desc) *desc     { return &desc{elem: elem} }

func req(name string, d *desc) field        { return field{name, d, required, nil} }
func opt(name string, d *desc) field        { return field{name, d, optional, nil} }
func def(name string, d *desc, v any) field { return field{name, d, withDefault, v} }
func defList(name string, d *desc) field    { return field{name, d, withDefault, []any{}} }
func invalidParam(debug string) *wsError    { return newInvalidParam(debug) }
func wrapParam(key string, e *wsError) *wsError {
	return newInvalidParam(key + " => Invalid parameter value detected: " + e.DebugInfo)
}

// validate is external_api::validate_parameters. Values come out as int64, bool or
// string; structures as map[string]any; lists as []any.
func validate(d *desc, n *node) (any, *wsError) {
	switch {
	case d.value != "":
		if !n.leaf {
			return nil, invalidParam("Scalar type expected, array or object received.")
		}
		return cleanValue(d.value, n.val)
	case d.elem != nil:
		if n.leaf {
			return nil, invalidParam(fmt.Sprintf("Only arrays accepted. The bad value is: '%s'", n.val))
		}
		out := make([]any, 0, len(n.keys))
		for _, k := range n.keys {
			v, err := validate(d.elem, n.values[k])
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	default:
		if n.leaf {
			return nil, invalidParam(fmt.Sprintf("Only arrays accepted. The bad value is: '%s'", n.val))
		}
		out := map[string]any{}
		seen := map[string]bool{}
		for _, f := range d.fields {
			seen[f.name] = true
			child, ok := n.values[f.name]
			if !ok {
				switch f.p {
				case required:
					return nil, invalidParam("Missing required key in single structure: " + f.name)
				case withDefault:
					out[f.name] = f.def
				}
				continue
			}
			v, err := validate(f.d, child)
			if err != nil {
				return nil, wrapParam(f.name, err)
			}
			out[f.name] = v
		}
		extra := slices.DeleteFunc(slices.Clone(n.keys), func(k string) bool { return seen[k] })
		if len(extra) > 0 {
			return nil, invalidParam("Unexpected keys (" + strings.Join(extra, ", ") + ") detected in parameter array.")
		}
		return out, nil
	}
}

var (
	tagRE         = regexp.MustCompile(`<[a-zA-Z/!?]`)
	alphaRE       = regexp.MustCompile(`^[a-zA-Z]*$`)
	alphaNumExtRE = regexp.MustCompile(`^[a-zA-Z0-9_-]*$`)
	pluginRE      = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// cleanValue is validate_param: the value must equal its cleaned form.
func cleanValue(t ptype, raw string) (any, *wsError) {
	bad := func() *wsError {
		return invalidParam(fmt.Sprintf("Invalid external api parameter: the value is \"%s\", the server was expecting \"%s\" type", raw, t))
	}
	switch t {
	case pInt:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || strconv.FormatInt(n, 10) != raw {
			return nil, bad()
		}
		return n, nil
	case pBool:
		switch raw {
		case "1":
			return true, nil
		case "0", "":
			return false, nil
		}
		return nil, bad()
	case pText, pNoTags:
		if tagRE.MatchString(raw) {
			return nil, bad()
		}
	case pAlpha:
		if !alphaRE.MatchString(raw) {
			return nil, bad()
		}
	case pAlphaNumExt:
		if !alphaNumExtRE.MatchString(raw) {
			return nil, bad()
		}
	case pPlugin:
		if raw != "" && !pluginRE.MatchString(raw) {
			return nil, bad()
		}
	}
	return raw, nil
}

// args reads validated parameters.
type args map[string]any

func (a args) int(k string) int64 { v, _ := a[k].(int64); return v }
func (a args) str(k string) string {
	v, _ := a[k].(string)
	return v
}
func (a args) bool(k string) bool { v, _ := a[k].(bool); return v }
func (a args) has(k string) bool  { _, ok := a[k]; return ok }
func (a args) obj(k string) args  { v, _ := a[k].(map[string]any); return v }
func (a args) list(k string) []args {
	raw, _ := a[k].([]any)
	out := make([]args, len(raw))
	for i, v := range raw {
		out[i], _ = v.(map[string]any)
	}
	return out
}
func (a args) ints(k string) []int64  { return each[int64](a[k]) }
func (a args) strs(k string) []string { return each[string](a[k]) }

// each is a validated list's values as T (the zero value where one is not a T).
func each[T any](list any) []T {
	raw, _ := list.([]any)
	out := make([]T, len(raw))
	for i, v := range raw {
		out[i], _ = v.(T)
	}
	return out
}
