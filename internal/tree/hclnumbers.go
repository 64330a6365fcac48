package tree

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// MaxNumberDigits bounds the numbers an HCL file may compute: HCL numbers are
// arbitrary-precision, and writing 1e99999999 as text (in a template, a value, an
// error) takes minutes and gigabytes, while its source is ten characters. 400 digits
// hold every float64 and far more than a spec needs.
const MaxNumberDigits = 400

// numberErr is the first number past MaxNumberDigits that the bound walk found.
type numberErr struct {
	at  hcl.Pos
	msg string
}

// arithmetic bounds the digits of op applied to operands of a and b digits (text
// operands are converted to numbers), and records an error past MaxNumberDigits.
func (h *hclConv) arithmetic(op *hclsyntax.Operation, at hcl.Range, a, b int64) int64 {
	var d int64
	switch op {
	case hclsyntax.OpMultiply, hclsyntax.OpDivide:
		d = add(add(a, b), 1)
	case hclsyntax.OpAdd, hclsyntax.OpSubtract, hclsyntax.OpModulo:
		d = add(max(a, b), 1)
	case hclsyntax.OpNegate:
		d = a
	default: // comparisons and logic: a boolean (comparing huge numbers is cheap)
		return 1
	}
	if max(a, b, d) > MaxNumberDigits && h.numberErr == nil {
		msg := fmt.Sprintf("this arithmetic may make a number of more than %d digits, the most a spec may compute", MaxNumberDigits)
		if max(a, b) >= boundCap {
			msg = "arithmetic on text made while the file is read (a template or a function result) is refused: it could stand for a number of any size; compute with numbers"
		}
		h.numberErr = &numberErr{at: at.Start, msg: msg}
	}
	return d
}

// valueDigits bounds the digits of the numbers in v, and of its text read as numbers.
func valueDigits(v cty.Value) int64 {
	if !v.IsKnown() || v.IsNull() {
		return 1
	}
	v, _ = v.UnmarkDeep()
	switch {
	case v.Type() == cty.Number:
		return numberDigits(v)
	case v.Type() == cty.String:
		return textDigits(v.AsString())
	case v.CanIterateElements():
		var d int64 = 1
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			d = max(d, valueDigits(ev))
		}
		return d
	}
	return 1
}

// numberDigits is about how many decimal digits v has before or after its point.
func numberDigits(v cty.Value) int64 {
	bf := v.AsBigFloat()
	if bf.IsInf() || bf.Sign() == 0 {
		return 1
	}
	exp := int64(bf.MantExp(nil))
	return max(exp, -exp)*30103/100000 + 1 // log10(2)
}

var numberText = regexp.MustCompile(`^\s*[-+]?(\d*)\.?(\d*)(?:[eE]([-+]?\d+))?\s*$`)

// textDigits bounds the digits of the number text s reads as (1 when it is not one).
func textDigits(s string) int64 {
	m := numberText.FindStringSubmatch(s)
	if m == nil || m[1]+m[2] == "" {
		return 1
	}
	d := int64(len(m[1]) + len(m[2]))
	if m[3] != "" {
		e, err := strconv.ParseInt(m[3], 10, 64)
		if err != nil {
			return boundCap
		}
		d = add(d, min(max(e, -e), boundCap))
	}
	return max(d, 1)
}
