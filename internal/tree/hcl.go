package tree

import (
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/enrolctl/enrolctl/internal/diag"
)

// BlockRule says how an HCL block type maps onto the YAML shape of the same model.
type BlockRule struct {
	// Field is the YAML field the block fills ("methods" for method blocks).
	Field string
	// Label, when set, is the field the block's one label becomes ("type"); blocks
	// without Label take no label.
	Label string
	// List collects every block of the type into a list; Map keys them by their label
	// into an object (sites "x" {} -> sites: {x: {}}); otherwise the block may appear once.
	List, Map bool
}

// Functions are the HCL functions spec and configuration files may call.
// Each is guarded: a call whose result would pass MaxHCLValue is refused.
var Functions = guardAll(map[string]function.Function{
	"upper":      stdlib.UpperFunc,
	"lower":      stdlib.LowerFunc,
	"title":      stdlib.TitleFunc,
	"trimspace":  stdlib.TrimSpaceFunc,
	"replace":    stdlib.ReplaceFunc,
	"format":     stdlib.FormatFunc,
	"join":       stdlib.JoinFunc,
	"split":      stdlib.SplitFunc,
	"concat":     stdlib.ConcatFunc,
	"formatdate": stdlib.FormatDateFunc,
	"timeadd":    stdlib.TimeAddFunc,
	"date":       dateFunc,
})

// dateFunc is date(year, month, day): the "YYYY-MM-DD" text of that day. A day the
// calendar does not have (date(2027, 2, 30)) or before MinYear is refused, as in YAML.
var dateFunc = function.New(&function.Spec{
	Params: []function.Parameter{
		{Name: "year", Type: cty.Number},
		{Name: "month", Type: cty.Number},
		{Name: "day", Type: cty.Number},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		var ymd [3]int
		for i, a := range args {
			v, acc := a.AsBigFloat().Int64()
			if acc != big.Exact || v < -1e6 || v > 1e6 {
				return cty.NilVal, function.NewArgErrorf(i, "must be a whole number")
			}
			ymd[i] = int(v)
		}
		if err := CheckDay(ymd[0], time.Month(ymd[1]), ymd[2]); err != nil {
			return cty.NilVal, fmt.Errorf("date(%d, %d, %d) is %w", ymd[0], ymd[1], ymd[2], err)
		}
		t := time.Date(ymd[0], time.Month(ymd[1]), ymd[2], 0, 0, 0, 0, time.UTC)
		return cty.StringVal(t.Format(time.DateOnly)), nil
	},
})

// ParseHCL parses an HCL file into one object node. Top-level `variable "x" { default
// = ... }` and `locals { ... }` blocks are evaluated first and usable as var.x and
// local.y in every value of the file; they do not appear in the tree.
func ParseHCL(file string, src []byte, rules map[string]BlockRule) (*Node, diag.Diagnostics) {
	return ParseHCLShared(file, src, rules, nil, nil)
}

// ParseHCLShared is ParseHCL with the variables and locals of the spec folder's
// variables file (nil: none) visible in the file too.
//
// budget, when not nil, is shared by every HCL file of one load (hclbudget.go): the
// file's evaluation is charged to it and stops, with an error, when it runs out.
func ParseHCLShared(file string, src []byte, rules map[string]BlockRule, shared *Shared, budget *Budget) (*Node, diag.Diagnostics) {
	body, ds := parseBody(file, src)
	if body == nil {
		return nil, ds
	}
	h := &hclConv{file: file, src: src, rules: rules, ds: &ds, blockNames: map[string]string{}, shared: shared, budget: budget}
	for typ, r := range rules {
		h.blockNames[r.Field] = typ
	}
	h.ctx = &hcl.EvalContext{Functions: Functions, Variables: map[string]cty.Value{}}
	h.variables(body)
	return h.body(body, body.SrcRange.Start, true), ds
}

var unknownVariable = regexp.MustCompile(`^There is no variable named "([^"]*)"`)

// fromHCL turns HCL diagnostics, which carry ranges, into file:line:col ones.
func fromHCL(file string, hds hcl.Diagnostics) diag.Diagnostics {
	var ds diag.Diagnostics
	for _, d := range hds {
		p := diag.Pos{File: file}
		if d.Subject != nil {
			p.Line, p.Col = d.Subject.Start.Line, d.Subject.Start.Column
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		suggestion := ""
		if m := unknownVariable.FindStringSubmatch(d.Detail); d.Summary == "Unknown variable" && m != nil {
			// HCL picks its suggestion from a map, so ties vary from run to run.
			msg = fmt.Sprintf("unknown name %q: values come from var.NAME (variable blocks) and local.NAME (locals)", m[1])
			suggestion = diag.Suggest(m[1], []string{"local", "var"})
		}
		sev := diag.Error
		if d.Severity == hcl.DiagWarning {
			sev = diag.Warning
		}
		ds = append(ds, diag.Diagnostic{File: p.File, Line: p.Line, Col: p.Col, Severity: sev, Message: msg, Suggestion: suggestion})
	}
	return ds
}

type hclConv struct {
	file  string
	src   []byte
	rules map[string]BlockRule
	ctx   *hcl.EvalContext
	ds    *diag.Diagnostics

	blockNames map[string]string
	shared     *Shared // the folder's shared variables and locals, or nil
	budget     *Budget // what all the files of the load may still evaluate, or nil

	// Evaluation limits (hcllimits.go): sizes of referenced values, work done so far.
	measured   map[string]bound
	work       int64
	overBudget bool
	numberErr  *numberErr
}

func (h *hclConv) pos(p hcl.Pos) diag.Pos { return diag.Pos{File: h.file, Line: p.Line, Col: p.Column} }

func (h *hclConv) errorf(p hcl.Pos, format string, args ...any) {
	*h.ds = append(*h.ds, diag.Errorf(h.pos(p), format, args...))
}

// variables evaluates `variable` defaults and `locals`, locals in dependency order.
func (h *hclConv) variables(body *hclsyntax.Body) {
	vars, locals := h.shared.copies()
	pending := map[string]*hclsyntax.Attribute{}
	var order []string
	for _, b := range body.Blocks {
		switch b.Type {
		case "variable":
			if len(b.Labels) != 1 {
				h.errorf(b.TypeRange.Start, "a variable block takes one label, its name: variable \"name\" { default = ... }")
				continue
			}
			name := b.Labels[0]
			h.notShared("variable", name, b.TypeRange.Start)
			def := cty.NullVal(cty.DynamicPseudoType)
			for an, a := range b.Body.Attributes {
				if an != "default" && an != "description" && an != "type" {
					h.errorf(a.NameRange.Start, "unknown field %q in variable (only default, description and type)", an)
				}
			}
			if a, ok := b.Body.Attributes["default"]; ok && h.guard(a.Expr) {
				v, d := a.Expr.Value(&hcl.EvalContext{Functions: Functions})
				*h.ds = append(*h.ds, fromHCL(h.file, d)...)
				if !d.HasErrors() {
					def = v
				}
			} else if !ok {
				h.errorf(b.TypeRange.Start, "variable %q needs a default value", name)
			}
			vars[name] = def
		case "locals":
			for _, a := range sortedAttrs(b.Body) {
				name := a.Name
				if _, dup := pending[name]; dup {
					h.errorf(a.NameRange.Start, "local %q is defined twice", name)
					continue
				}
				h.notShared("local", name, a.NameRange.Start)
				pending[name] = a
				order = append(order, name)
			}
		}
	}
	h.ctx.Variables["var"] = cty.ObjectVal(vars)
	left := h.evalLocals(order, pending, locals)
	h.ctx.Variables["local"] = cty.ObjectVal(locals)
	for _, name := range left {
		a := pending[name]
		h.errorf(a.Expr.StartRange().Start, "local %q refers to a local that is undefined or refers back to it", name)
	}
}

// body converts a block body (or the file) into an object node.
// at is where the block starts (its type name), where "missing field" errors point.
func (h *hclConv) body(b *hclsyntax.Body, at hcl.Pos, top bool) *Node {
	n := &Node{Kind: Object, Pos: h.pos(at), Syntax: HCL, blockNames: h.blockNames}
	byKey := map[string]*Field{}
	addField := func(f *Field) *Field {
		byKey[f.Key] = f
		n.Fields = append(n.Fields, f)
		return f
	}
	for _, a := range sortedAttrs(b) {
		addField(&Field{Key: a.Name, KeyPos: h.pos(a.NameRange.Start), Value: h.value(a.Expr)})
	}
	for _, blk := range b.Blocks {
		if top && (blk.Type == "variable" || blk.Type == "locals") {
			continue
		}
		at := h.pos(blk.TypeRange.Start)
		rule, known := h.rules[blk.Type]
		if !known {
			// Left for the reader, which knows the valid names and suggests one.
			f := &Field{Key: blk.Type, KeyPos: at, Value: h.body(blk.Body, blk.TypeRange.Start, false), Block: true}
			if _, dup := byKey[blk.Type]; !dup {
				addField(f)
			}
			continue
		}
		wantLabels := 0
		if rule.Label != "" || rule.Map {
			wantLabels = 1
		}
		if len(blk.Labels) != wantLabels {
			if wantLabels == 1 {
				h.errorf(blk.TypeRange.Start, "a %s block takes one label (%s %q {...})", blk.Type, blk.Type, labelHint(rule))
			} else {
				h.errorf(blk.LabelRanges[0].Start, "a %s block takes no label", blk.Type)
			}
			continue
		}
		body := h.body(blk.Body, blk.TypeRange.Start, false)
		if rule.Label != "" {
			lp := h.pos(blk.LabelRanges[0].Start)
			label := &Field{Key: rule.Label, KeyPos: lp, Value: &Node{Kind: Scalar, Tag: "str", Text: blk.Labels[0], Pos: lp, Syntax: HCL}}
			if dup := body.Field(rule.Label); dup != nil {
				h.errorf(blk.Body.Attributes[rule.Label].NameRange.Start, "%s is given by the block label; remove this field", rule.Label)
				body.Fields = slices.DeleteFunc(body.Fields, func(f *Field) bool { return f.Key == rule.Label })
			}
			body.Fields = append([]*Field{label}, body.Fields...)
		}
		f := byKey[rule.Field]
		if f != nil && !f.Block {
			h.errorf(blk.TypeRange.Start, "%s is already set as a field at line %d; use either the field or %s blocks", rule.Field, f.KeyPos.Line, blk.Type)
			continue
		}
		switch {
		case rule.List:
			if f == nil {
				f = addField(&Field{Key: rule.Field, KeyPos: at, Block: true, Value: &Node{Kind: List, Pos: at, Syntax: HCL}})
			}
			f.Value.Items = append(f.Value.Items, body)
		case rule.Map:
			if f == nil {
				f = addField(&Field{Key: rule.Field, KeyPos: at, Block: true, Value: &Node{Kind: Object, Pos: at, Syntax: HCL}})
			}
			lp := h.pos(blk.LabelRanges[0].Start)
			if prev := f.Value.Field(blk.Labels[0]); prev != nil {
				h.errorf(blk.LabelRanges[0].Start, "duplicate %s %q (first at line %d)", blk.Type, blk.Labels[0], prev.KeyPos.Line)
				continue
			}
			f.Value.Fields = append(f.Value.Fields, &Field{Key: blk.Labels[0], KeyPos: lp, Value: body, Block: true})
		default:
			if f != nil {
				h.errorf(blk.TypeRange.Start, "duplicate %s block (first at line %d)", blk.Type, f.KeyPos.Line)
				continue
			}
			addField(&Field{Key: rule.Field, KeyPos: at, Value: body, Block: true})
		}
	}
	return n
}

func labelHint(r BlockRule) string {
	if r.Label != "" {
		return r.Label
	}
	return "name"
}

// sortedAttrs returns a body's attributes in source order (the map has none).
func sortedAttrs(b *hclsyntax.Body) []*hclsyntax.Attribute {
	return slices.SortedFunc(maps.Values(b.Attributes), func(a, b *hclsyntax.Attribute) int { return a.SrcRange.Start.Byte - b.SrcRange.Start.Byte })
}

// value evaluates an expression and converts the result to a node.
func (h *hclConv) value(e hclsyntax.Expression) *Node {
	if !h.guard(e) {
		return &Node{Kind: Null, Pos: h.pos(h.start(e)), Syntax: HCL, Bad: true}
	}
	v, d := e.Value(h.ctx)
	*h.ds = append(*h.ds, fromHCL(h.file, d)...)
	at := h.start(e)
	if d.HasErrors() || !h.keep(at, v) {
		return &Node{Kind: Null, Pos: h.pos(at), Syntax: HCL, Bad: true}
	}
	var items []hclsyntax.Expression
	if t, ok := e.(*hclsyntax.TupleConsExpr); ok {
		items = t.Exprs
	}
	return h.fromCty(v, at, items)
}

func (h *hclConv) fromCty(v cty.Value, at hcl.Pos, items []hclsyntax.Expression) *Node {
	n := &Node{Pos: h.pos(at), Syntax: HCL}
	if v.IsNull() {
		return n
	}
	if !v.IsWhollyKnown() {
		h.errorf(at, "value is not known when the file is read")
		return n
	}
	v, _ = v.Unmark()
	t := v.Type()
	switch {
	case t == cty.String:
		n.Kind, n.Tag, n.Text = Scalar, "str", v.AsString()
	case t == cty.Bool:
		n.Kind, n.Tag, n.Text = Scalar, "bool", fmt.Sprint(v.True())
	case t == cty.Number:
		if numberDigits(v) > MaxNumberDigits { // checked before evaluation; never written out
			h.errorf(at, "number of more than %d digits", MaxNumberDigits)
			return n
		}
		bf := v.AsBigFloat()
		n.Kind, n.Text = Scalar, bf.Text('f', -1)
		n.Tag = "float"
		if bf.IsInt() {
			n.Tag = "int"
		}
	case t.IsListType() || t.IsTupleType() || t.IsSetType():
		n.Kind = List
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			_, ev := it.Element()
			ip := at
			if i < len(items) && len(items) == v.LengthInt() {
				ip = h.start(items[i])
			}
			n.Items = append(n.Items, h.fromCty(ev, ip, nil))
		}
	case t.IsMapType() || t.IsObjectType():
		n.Kind = Object
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			n.Fields = append(n.Fields, &Field{Key: k.AsString(), KeyPos: h.pos(at), Value: h.fromCty(ev, at, nil)})
		}
	default:
		h.errorf(at, "unsupported value of type %s", t.FriendlyName())
	}
	return n
}

// start is where an expression begins; for a quoted string, its opening quote (HCL's
// range starts inside it), as YAML positions do.
func (h *hclConv) start(e hclsyntax.Expression) hcl.Pos {
	p := e.StartRange().Start
	if _, ok := e.(*hclsyntax.TemplateExpr); ok && p.Byte > 0 && p.Byte <= len(h.src) && h.src[p.Byte-1] == '"' && p.Column > 1 {
		p.Byte--
		p.Column--
	}
	return p
}

// parseBody checks src (UTF-8, nesting) and parses it into an HCL body; nil when the
// file cannot be read further, with the diagnostics saying why.
func parseBody(file string, src []byte) (*hclsyntax.Body, diag.Diagnostics) {
	ds := checkUTF8(file, src)
	if !ds.HasErrors() {
		ds = checkNesting(file, src) // before parsing: the parser recurses on nesting
	}
	if ds.HasErrors() {
		return nil, ds
	}
	f, hds := hclsyntax.ParseConfig(src, file, hcl.InitialPos)
	ds = append(ds, fromHCL(file, hds)...)
	if hds.HasErrors() || f == nil {
		return nil, ds
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, ds
	}
	return body, ds
}
