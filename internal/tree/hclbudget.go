package tree

import (
	"sync/atomic"
	"unsafe"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Limits of all the HCL files one load reads together. Each file is bounded on its own
// (MaxHCLValue, MaxHCLWork), but a folder may hold any number of files: 400 small
// files that each double a local 15 times took validate to 1.49 GB and minutes of CPU.
// These bounds are many times what a real site's specs evaluate (35,000 enrolments in
// HCL keep about 2 MiB).
const (
	// MaxHCLLoadWork is what the HCL files of one load may evaluate in all, in
	// MaxHCLValue's units: four files at their own MaxHCLWork.
	MaxHCLLoadWork = 4 * MaxHCLWork
	// MaxHCLLoadValues is the memory, in bytes, of the tree nodes the HCL files of one
	// load may make from what their attributes evaluate to, in all: about 180,000
	// values (a list item or a field is a node of about 180 bytes).
	MaxHCLLoadValues = 32 << 20
)

// Budget is what the HCL files of one load may still evaluate and keep, shared by the
// files a load parses in parallel. The zero value is ready; nil means no shared budget.
type Budget struct {
	work, kept atomic.Int64
}

// spend adds n to a shared counter and reports whether the total stays within limit.
func spend(c *atomic.Int64, n, limit int64) bool { return c.Add(n) <= limit }

// loadGuard charges an expression's work to the load's budget before it is evaluated;
// once either budget has run out, no file evaluates anything more.
func (h *hclConv) loadGuard(at hcl.Pos, work int64) bool {
	if h.budget == nil {
		return true
	}
	if h.budget.kept.Load() > MaxHCLLoadValues {
		return h.overLoad(at, keptMsg)
	}
	if !spend(&h.budget.work, work, MaxHCLLoadWork) {
		return h.overLoad(at, workMsg)
	}
	return true
}

// keep charges a value the file keeps in its tree to the load's budget.
func (h *hclConv) keep(at hcl.Pos, v cty.Value) bool {
	if h.budget == nil || spend(&h.budget.kept, nodeBytes(v, MaxHCLLoadValues), MaxHCLLoadValues) {
		return true
	}
	return h.overLoad(at, keptMsg)
}

var (
	workMsg = "the HCL files of this load need more than " + units(MaxHCLLoadWork) + " of work together (MaxHCLLoadWork, the budget of all HCL spec files)"
	keptMsg = "the HCL files of this load evaluate to more than " + units(MaxHCLLoadValues) + " of values together (MaxHCLLoadValues, the budget of all HCL spec files)"
)

// overLoad reports, once per file, that the load's budget ran out here.
func (h *hclConv) overLoad(at hcl.Pos, msg string) bool {
	h.overBudget = true
	h.errorf(at, "%s; stopped here (look for locals that multiply values)", msg)
	return false
}

// nodeSize is what one node of a tree costs, with the field that holds it.
const nodeSize = int64(unsafe.Sizeof(Node{}) + unsafe.Sizeof(Field{}))

// nodeBytes is about the memory of the nodes fromCty makes of v, walking no further
// than limit.
func nodeBytes(v cty.Value, limit int64) int64 { return sizeOf(v, limit, nodeSize, 0) }
