package tree

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/enrolctl/enrolctl/internal/diag"
)

// Limits of HCL files. HCL evaluates expressions, and a few lines of nested functions,
// templates or for expressions can ask for gigabytes (1 KB of nested join locals took
// 50 s and 3.8 GB), and deep nesting overflows the parser's stack, which kills the
// process. Each limit is far above what a spec needs.
const (
	// MaxHCLNesting is how many brackets, quotes and interpolations may be open at once.
	MaxHCLNesting = 64
	// MaxHCLOperators is how many operators one expression may chain (a+b+c... nests
	// as deeply as brackets do).
	MaxHCLOperators = 128
	// MaxHCLValue is the size one expression or function call may produce, counted as
	// bytes of text plus valueCost per value in lists and objects (about its memory):
	// a list of 150,000 usernames, far more than a course has.
	MaxHCLValue = 4 << 20
	// MaxHCLWork is what a whole file may evaluate, in the same units, counting every
	// value every expression builds (a for expression counts once per item).
	MaxHCLWork = 32 << 20
)

// valueCost is what one value in a list or an object counts for, beside its text.
const valueCost = 16

// checkNesting refuses, before parsing, a file whose expressions nest or chain deeper
// than the limits: the parser and the evaluator recurse once per level, and a chain
// (a+b+c..., x[i][j]..., %{if}%{if}...) nests as deeply as brackets do. It reads the
// lexer's tokens, which come without recursion.
func checkNesting(file string, src []byte) diag.Diagnostics {
	toks, _ := hclsyntax.LexConfig(src, file, hcl.InitialPos)
	type level struct {
		open hclsyntax.TokenType
		ops  int // operators and bracketed terms chained in the current expression
	}
	stack := []level{{open: hclsyntax.TokenOBrace}} // the file is a body, like a block's
	directives := 0                                 // template %{if} and %{for} open
	at := func(t hclsyntax.Token) diag.Pos {
		return diag.Pos{File: file, Line: t.Range.Start.Line, Col: t.Range.Start.Column}
	}
	chain := func(t hclsyntax.Token) diag.Diagnostics {
		top := &stack[len(stack)-1]
		top.ops++
		if top.ops > MaxHCLOperators {
			return diag.Diagnostics{diag.Errorf(at(t), "expression too long: more than %d operators and bracketed terms in one expression", MaxHCLOperators)}
		}
		return nil
	}
	for i, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenOQuote,
			hclsyntax.TokenOHeredoc, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			inTemplate := stack[len(stack)-1].open == hclsyntax.TokenOQuote || stack[len(stack)-1].open == hclsyntax.TokenOHeredoc
			if !inTemplate { // a template's parts are a flat list
				if ds := chain(t); ds != nil {
					return ds
				}
			}
			if t.Type == hclsyntax.TokenTemplateControl && i+1 < len(toks) && toks[i+1].Type == hclsyntax.TokenIdent {
				switch string(toks[i+1].Bytes) {
				case "if", "for":
					directives++
				case "endif", "endfor":
					directives--
				}
			}
			stack = append(stack, level{open: t.Type})
			if len(stack)-1+max(directives, 0) > MaxHCLNesting {
				return diag.Diagnostics{diag.Errorf(at(t), "expression nested too deeply: more than %d brackets, quotes, interpolations and template directives open at once", MaxHCLNesting)}
			}
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCQuote,
			hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
		case hclsyntax.TokenNewline:
			// A new line ends an attribute or an object item only in a body or braces;
			// inside brackets and parentheses the expression goes on.
			if stack[len(stack)-1].open == hclsyntax.TokenOBrace {
				stack[len(stack)-1].ops = 0
			}
		case hclsyntax.TokenComma, hclsyntax.TokenEqual:
			stack[len(stack)-1].ops = 0 // the next item, argument or field
		case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash, hclsyntax.TokenPercent,
			hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual, hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq,
			hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq, hclsyntax.TokenAnd, hclsyntax.TokenOr,
			hclsyntax.TokenBang, hclsyntax.TokenQuestion:
			if ds := chain(t); ds != nil {
				return ds
			}
		}
	}
	return nil
}

// bound is an upper bound of a value's size, in MaxHCLValue's units: size of the whole,
// count of its top-level items, largest item; work is what evaluating it costs; digits
// bounds the decimal digits of any number the value is, holds, or reads as when text is
// used in arithmetic (hclnumbers.go).
type bound struct{ size, count, elem, work, digits int64 }

// The arithmetic of bounds saturates, so that nested products cannot overflow.
const boundCap = 1 << 50

func add(a, b int64) int64 { return min(a+b, boundCap) }

func mul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a >= boundCap/b {
		return boundCap
	}
	return a * b
}

func scalar(size, work int64) bound { return bound{size: size, work: add(work, size), digits: 1} }

// part is a bound for a piece of a value whose shape is unknown.
func part(b bound) bound {
	return bound{size: b.size, count: b.size / valueCost, elem: b.size, work: b.work, digits: b.digits}
}

// guard checks an expression before it is evaluated: the value it may produce and the
// file's total work must stay within the limits. It reports the first excess once.
func (h *hclConv) guard(e hclsyntax.Expression) bool {
	if h.overBudget {
		return false
	}
	h.numberErr = nil
	b := h.bound(e, nil)
	at := e.Range().Start
	if h.numberErr != nil {
		h.errorf(h.numberErr.at, "%s", h.numberErr.msg)
		return false
	}
	if b.size > MaxHCLValue {
		h.errorf(at, "this expression may produce %s, more than the %s an HCL value may be (functions, templates or for expressions over large values)", units(b.size), units(MaxHCLValue))
		return false
	}
	h.work = add(h.work, b.work)
	if h.work > MaxHCLWork {
		h.overBudget = true
		h.errorf(at, "evaluating this file needs more than %s of work; stopped here (simplify the locals and expressions)", units(MaxHCLWork))
		return false
	}
	return h.loadGuard(at, b.work)
}

func units(n int64) string {
	switch {
	case n >= boundCap:
		return "an unbounded amount"
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("about %d MiB", (n+(1<<19))>>20)
	case n >= 1<<10:
		return fmt.Sprintf("about %d KiB", (n+(1<<9))>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// scope holds the bounds of for-expression variables (by name) and splat items (by
// their symbol) while the expression that binds them is bounded.
type scope map[any]bound

func (s scope) with(k any, b bound) scope {
	out := scope{k: b}
	for key, v := range s {
		if key != k {
			out[key] = v
		}
	}
	return out
}

// bound walks an expression and bounds its result from the sizes of the values it
// refers to (measured), of its literals, and of what each construct can make of them.
func (h *hclConv) bound(e hclsyntax.Expression, sc scope) bound {
	switch e := e.(type) {
	case *hclsyntax.LiteralValueExpr:
		b := measureBound(e.Val)
		if e.Val.Type() == cty.Number && b.digits > MaxNumberDigits && h.numberErr == nil {
			h.numberErr = &numberErr{at: e.Range().Start, msg: fmt.Sprintf("number of more than %d digits, the most a spec may write", MaxNumberDigits)}
		}
		return b
	case *hclsyntax.ScopeTraversalExpr:
		if b, ok := sc[e.Traversal.RootName()]; ok {
			if len(e.Traversal) > 1 {
				return part(b)
			}
			return b
		}
		return h.refBound(e.Traversal)
	case *hclsyntax.AnonSymbolExpr:
		return sc[e]
	case *hclsyntax.RelativeTraversalExpr:
		return part(h.bound(e.Source, sc))
	case *hclsyntax.IndexExpr:
		c, k := h.bound(e.Collection, sc), h.bound(e.Key, sc)
		p := part(c)
		p.work = add(c.work, k.work)
		return p
	case *hclsyntax.SplatExpr:
		// Each is a traversal of one item (x[*].a.b): it picks a part of each item, so
		// the result is no bigger than the source.
		src := h.bound(e.Source, sc)
		n := max(src.count, 1)
		size := add(src.size, mul(n, valueCost))
		return bound{size: size, count: n, elem: src.elem, work: add(src.work, size), digits: src.digits}
	case *hclsyntax.ForExpr:
		coll := h.bound(e.CollExpr, sc)
		n := coll.count
		inner := sc.with(e.ValVar, part(bound{size: coll.elem, digits: coll.digits}))
		if e.KeyVar != "" {
			inner = inner.with(e.KeyVar, scalar(coll.elem, 0))
		}
		var k, v, c bound
		if e.KeyExpr != nil {
			k = h.bound(e.KeyExpr, inner)
		}
		v = h.bound(e.ValExpr, inner)
		if e.CondExpr != nil {
			c = h.bound(e.CondExpr, inner)
		}
		item := add(add(k.size, v.size), 2*valueCost)
		return bound{size: mul(n, item), count: n, elem: v.size, work: add(coll.work, mul(n, add(add(k.work, v.work), add(c.work, item)))), digits: max(k.digits, v.digits)}
	case *hclsyntax.FunctionCallExpr:
		return h.callBound(e, sc)
	case *hclsyntax.TemplateExpr:
		var b bound
		for _, p := range e.Parts {
			pb := h.bound(p, sc)
			b.size, b.work = add(b.size, pb.size), add(b.work, pb.work)
		}
		b.work = add(b.work, b.size)
		b.digits = boundCap // text made at evaluation: any number, as far as we know
		if s, ok := literalString(e); ok {
			b.digits = textDigits(s)
		}
		return b
	case *hclsyntax.TemplateWrapExpr:
		return h.bound(e.Wrapped, sc)
	case *hclsyntax.TemplateJoinExpr:
		t := h.bound(e.Tuple, sc)
		b := scalar(t.size, t.work)
		b.digits = boundCap
		return b
	case *hclsyntax.ParenthesesExpr:
		return h.bound(e.Expression, sc)
	case *hclsyntax.ConditionalExpr:
		c, t, f := h.bound(e.Condition, sc), h.bound(e.TrueResult, sc), h.bound(e.FalseResult, sc)
		return bound{size: max(t.size, f.size), count: max(t.count, f.count), elem: max(t.elem, f.elem), work: add(c.work, add(t.work, f.work)), digits: max(t.digits, f.digits)}
	case *hclsyntax.TupleConsExpr:
		b := bound{count: int64(len(e.Exprs))}
		for _, x := range e.Exprs {
			xb := h.bound(x, sc)
			b.size, b.elem, b.work = add(b.size, add(xb.size, valueCost)), max(b.elem, xb.size), add(b.work, add(xb.work, valueCost))
			b.digits = max(b.digits, xb.digits)
		}
		return b
	case *hclsyntax.ObjectConsExpr:
		b := bound{count: int64(len(e.Items))}
		for _, it := range e.Items {
			kb, vb := h.bound(it.KeyExpr, sc), h.bound(it.ValueExpr, sc)
			b.size, b.elem = add(b.size, add(add(kb.size, vb.size), valueCost)), max(b.elem, vb.size)
			b.work = add(b.work, add(add(kb.work, vb.work), valueCost))
			b.digits = max(b.digits, vb.digits)
		}
		return b
	case *hclsyntax.ObjectConsKeyExpr:
		if hcl.ExprAsKeyword(e.Wrapped) != "" {
			return scalar(int64(len(hcl.ExprAsKeyword(e.Wrapped))), 0)
		}
		return h.bound(e.Wrapped, sc)
	case *hclsyntax.BinaryOpExpr:
		// Numbers and booleans; comparing two values costs their sizes.
		l, r := h.bound(e.LHS, sc), h.bound(e.RHS, sc)
		b := scalar(valueCost, add(add(l.work, r.work), add(l.size, r.size)))
		b.digits = h.arithmetic(e.Op, e.Range(), l.digits, r.digits)
		return b
	case *hclsyntax.UnaryOpExpr:
		v := h.bound(e.Val, sc)
		b := scalar(valueCost, v.work)
		b.digits = h.arithmetic(e.Op, e.Range(), v.digits, 0)
		return b
	case *hclsyntax.ExprSyntaxError:
		return bound{}
	}
	// An expression type this walker does not know: assume the worst.
	return bound{size: boundCap, work: boundCap, digits: boundCap}
}

// refBound measures the value a reference (var.x, local.y.z) names. Values are measured
// once per variable: a local used a thousand times is not walked a thousand times.
func (h *hclConv) refBound(t hcl.Traversal) bound {
	if len(t) < 2 {
		return measureBound(evalRef(t, h.ctx)) // all of var or local: rare, not kept
	}
	a, ok := t[1].(hcl.TraverseAttr)
	if !ok {
		return part(measureBound(evalRef(t[:1], h.ctx)))
	}
	key := t.RootName() + "." + a.Name
	b, ok := h.measured[key]
	if !ok {
		b = measureBound(evalRef(t[:2], h.ctx))
		if h.measured == nil {
			h.measured = map[string]bound{}
		}
		h.measured[key] = b
	}
	if len(t) > 2 {
		return part(b)
	}
	return b
}

// evalRef is the value a reference names, or null when it names none (evaluation
// reports that).
func evalRef(t hcl.Traversal, ctx *hcl.EvalContext) cty.Value {
	v, d := t.TraverseAbs(ctx)
	if d.HasErrors() {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	return v
}

func measureBound(v cty.Value) bound {
	v, _ = v.UnmarkDeep() // iterating a marked value panics
	var b bound
	if v.IsKnown() && !v.IsNull() && v.CanIterateElements() {
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			s := measure(ev, boundCap)
			b.count++
			b.elem = max(b.elem, s)
			b.size = add(b.size, add(s, valueCost))
		}
	} else {
		b.size = measure(v, boundCap)
	}
	b.work = b.size
	b.digits = valueDigits(v)
	return b
}

// measure is v's size in MaxHCLValue's units, walking no further than limit.
func measure(v cty.Value, limit int64) int64 { return sizeOf(v, limit, 0, valueCost) }

// sizeOf is v's size, walking no further than limit: each value counts base, text its
// bytes besides, a value that is neither text nor holds items item besides, and each
// item of a list or object its key's bytes and item besides.
func sizeOf(v cty.Value, limit, base, item int64) int64 {
	if !v.IsKnown() || v.IsNull() {
		return base + item
	}
	v, _ = v.Unmark()
	switch {
	case v.Type() == cty.String:
		return base + int64(len(v.AsString()))
	case v.CanIterateElements():
		n := base
		for it := v.ElementIterator(); it.Next() && n <= limit; {
			k, ev := it.Element()
			n = add(n, item)
			if k.Type() == cty.String {
				n = add(n, int64(len(k.AsString())))
			}
			n = add(n, sizeOf(ev, limit-n, base, item))
		}
		return n
	}
	return base + item
}
