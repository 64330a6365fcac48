package tree

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// What each function of Functions makes from its arguments, bounded before the call
// (from the bounds of the arguments) and checked at the call (from their values).

// callBound bounds a function call from its arguments, by what each function makes.
func (h *hclConv) callBound(e *hclsyntax.FunctionCallExpr, sc scope) bound {
	args := make([]argSize, len(e.Args))
	var work int64
	for i, a := range e.Args {
		b := h.bound(a, sc)
		args[i].size, args[i].count = b.size, b.count
		work = add(work, b.work)
		if s, ok := literalString(a); ok {
			args[i].text, args[i].known = s, true
		}
	}
	size := int64(boundCap)
	if e.ExpandFinal && len(args) > 0 {
		// f(x, list...): the list's items are the last arguments.
		last := args[len(args)-1]
		size = resultSize(e.Name, append(args[:len(args)-1], argSize{size: last.size, count: last.size / valueCost}))
	} else {
		size = resultSize(e.Name, args)
	}
	size = min(size, MaxHCLValue) // the guarded functions refuse more when called
	// Functions make text, which reads as any number, as far as we know before calling.
	return bound{size: size, count: size / valueCost, elem: size, work: add(work, size), digits: boundCap}
}

// literalString is the text of a literal string expression.
func literalString(e hclsyntax.Expression) (string, bool) {
	switch e := e.(type) {
	case *hclsyntax.LiteralValueExpr:
		if e.Val.Type() == cty.String && e.Val.IsKnown() && !e.Val.IsNull() {
			return e.Val.AsString(), true
		}
	case *hclsyntax.TemplateExpr:
		if len(e.Parts) == 1 {
			return literalString(e.Parts[0])
		}
		if len(e.Parts) == 0 {
			return "", true
		}
	case *hclsyntax.TemplateWrapExpr:
		return literalString(e.Wrapped)
	}
	return "", false
}

// argSize is a function argument's size and item count, and its text when known.
type argSize struct {
	size, count int64
	text        string
	known       bool
}

var formatWidth = regexp.MustCompile(`[0-9]+`)

// resultSize bounds what a function of Functions makes from arguments of these sizes.
// It serves both before evaluation (from bounds) and at the call (from the values).
func resultSize(name string, args []argSize) int64 {
	arg := func(i int) argSize {
		if i < len(args) {
			return args[i]
		}
		return argSize{}
	}
	var rest, items int64 // every argument after the first
	for _, a := range args[min(1, len(args)):] {
		rest, items = add(rest, a.size), add(items, a.count)
	}
	switch name {
	case "upper", "lower", "title", "trimspace":
		return mul(2, arg(0).size) // case mapping may lengthen a letter's encoding
	case "replace":
		s, sub, repl := arg(0), arg(1), arg(2)
		matches := add(s.size, 1)
		perMatch := repl.size
		regex := !sub.known || (len(sub.text) > 1 && strings.HasPrefix(sub.text, "/") && strings.HasSuffix(sub.text, "/"))
		if regex && (!repl.known || strings.Contains(repl.text, "$")) {
			perMatch = mul(repl.size, add(s.size, 1)) // $0, $1... repeat the match
		}
		return add(s.size, mul(matches, perMatch))
	case "format":
		f := arg(0)
		if !f.known {
			return boundCap
		}
		verbs := int64(strings.Count(f.text, "%"))
		var width int64
		for _, w := range formatWidth.FindAllString(f.text, -1) {
			n, err := strconv.ParseInt(w, 10, 64)
			if err != nil {
				return boundCap
			}
			width = max(width, n)
		}
		var biggest int64
		for _, a := range args[min(1, len(args)):] {
			biggest = max(biggest, a.size)
		}
		return add(f.size, mul(verbs, add(add(biggest, width), 64)))
	case "join":
		return add(rest, mul(arg(0).size, items))
	case "split":
		s := arg(1).size
		return add(s, mul(add(s, 1), valueCost))
	case "concat":
		return add(arg(0).size, rest)
	case "formatdate":
		return add(mul(8, arg(0).size), 64)
	case "timeadd", "date":
		return 64
	}
	return boundCap
}

// guardAll wraps every function of a table with guarded.
func guardAll(fs map[string]function.Function) map[string]function.Function {
	out := make(map[string]function.Function, len(fs))
	for name, f := range fs {
		out[name] = guarded(name, f)
	}
	return out
}

// guarded wraps a function so that a call whose result would pass MaxHCLValue is refused
// before it is made: the check the static bound leaves to the call (format with a width
// from a variable, for instance) is made on the actual arguments.
func guarded(name string, f function.Function) function.Function {
	spec := &function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type:        func(args []cty.Value) (cty.Type, error) { return f.ReturnTypeForValues(args) },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			sizes := make([]argSize, len(args))
			for i, a := range args {
				a, _ = a.Unmark()
				b := measureBound(a)
				sizes[i].size, sizes[i].count = b.size, b.count
				if a.Type() == cty.String && a.IsKnown() && !a.IsNull() {
					sizes[i].text, sizes[i].known = a.AsString(), true
				}
			}
			if name == "format" { // %d and %f read text as numbers, then write them out
				for _, a := range args[min(1, len(args)):] {
					if valueDigits(a) > MaxNumberDigits {
						return cty.NilVal, fmt.Errorf("format of a number of more than %d digits", MaxNumberDigits)
					}
				}
			}
			if n := resultSize(name, sizes); n > MaxHCLValue {
				return cty.NilVal, fmt.Errorf("%s would produce %s, more than the %s an HCL value may be", name, units(n), units(MaxHCLValue))
			}
			return f.Call(args)
		},
	}
	return function.New(spec)
}
