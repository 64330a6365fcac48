package tree

import (
	"maps"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/enrolctl/enrolctl/internal/diag"
)

// SharedFileName is the file at the root of a spec folder whose variables and locals
// every HCL file of the folder can use: the yearly dates live in one place.
const SharedFileName = "variables.hcl"

// Shared are the variables and locals of a spec folder's variables file.
type Shared struct {
	File   string
	vars   map[string]cty.Value
	locals map[string]cty.Value
}

// ParseShared reads a variables file: `variable` and `locals` blocks only.
func ParseShared(file string, src []byte) (*Shared, diag.Diagnostics) {
	body, ds := parseBody(file, src)
	if body == nil {
		return nil, ds
	}
	h := &hclConv{file: file, src: src, ds: &ds, blockNames: map[string]string{}}
	h.ctx = &hcl.EvalContext{Functions: Functions, Variables: map[string]cty.Value{}}
	for _, b := range body.Blocks {
		if b.Type != "variable" && b.Type != "locals" {
			h.errorf(b.TypeRange.Start, "%s holds the values shared by every HCL file (variable and locals blocks); put %s blocks in another file", file, b.Type)
		}
	}
	for _, a := range sortedAttrs(body) {
		h.errorf(a.NameRange.Start, "%s holds variable and locals blocks only; put %s in a locals block", file, a.Name)
	}
	h.variables(body)
	return &Shared{File: file, vars: h.ctx.Variables["var"].AsValueMap(), locals: h.ctx.Variables["local"].AsValueMap()}, ds
}

// copies returns fresh maps of the shared values (empty ones for a nil Shared), for a
// file to add its own to.
func (s *Shared) copies() (vars, locals map[string]cty.Value) {
	vars, locals = map[string]cty.Value{}, map[string]cty.Value{}
	if s != nil {
		maps.Copy(vars, s.vars)
		maps.Copy(locals, s.locals)
	}
	return vars, locals
}

// notShared reports a variable or local a file defines again over a shared one:
// shadowing would make the same name mean two things in one folder.
func (h *hclConv) notShared(kind, name string, at hcl.Pos) {
	if h.shared == nil {
		return
	}
	m := h.shared.vars
	if kind == "local" {
		m = h.shared.locals
	}
	if _, ok := m[name]; ok {
		h.errorf(at, "%s %q is already defined in %s, shared by every HCL file of the folder; use it, or give this one another name", kind, name, h.shared.File)
	}
}
