// Package diag holds the diagnostics every enrolctl file loader reports: a message tied
// to file:line:col, an optional did-you-mean suggestion, and a sorted list of them.
//
// Entry points:
//   - Diagnostic and its Error() "file:line:col: message (did you mean "x"?)".
//   - Diagnostics: HasErrors, Sort, Err (nil when there is no error).
//   - Suggest: the closest known name to a misspelt one, or "".
package diag

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
)

// Severity says whether a diagnostic stops a plan.
type Severity int

const (
	Error   Severity = iota // stops plan and apply
	Warning                 // reported, does not stop anything
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem found in a file. Line and Col are 1-based; 0 means unknown
// (a problem with the file as a whole).
type Diagnostic struct {
	File       string
	Line, Col  int
	Severity   Severity
	Message    string
	Suggestion string // a replacement value; shown as (did you mean "x"?)
}

// Pos is a position in a file, the place a diagnostic points at.
type Pos struct {
	File      string
	Line, Col int
}

// String renders p as file:line:col, the form state.Source uses.
func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// At is the position the diagnostic points at.
func (d Diagnostic) At() Pos { return Pos{d.File, d.Line, d.Col} }

// Error renders the diagnostic as "file:line:col: message (did you mean "x"?)";
// warnings carry a "warning: " prefix before the message.
func (d Diagnostic) Error() string {
	var b strings.Builder
	b.WriteString(d.At().String())
	b.WriteString(": ")
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Message)
	if d.Suggestion != "" {
		fmt.Fprintf(&b, " (did you mean %q?)", d.Suggestion)
	}
	return b.String()
}

// Errorf builds an error diagnostic at p.
func Errorf(p Pos, format string, args ...any) Diagnostic {
	return Diagnostic{File: p.File, Line: p.Line, Col: p.Col, Message: fmt.Sprintf(format, args...)}
}

// Diagnostics is a list of diagnostics from one or many files.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error (warnings do not count).
func (ds Diagnostics) HasErrors() bool {
	return slices.ContainsFunc(ds, func(d Diagnostic) bool { return d.Severity == Error })
}

// Errors returns only the error diagnostics.
func (ds Diagnostics) Errors() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == Error {
			out = append(out, d)
		}
	}
	return out
}

// Sort orders diagnostics by file, line, column, then message, and drops exact
// duplicates, so output is the same from run to run.
func (ds Diagnostics) Sort() Diagnostics {
	slices.SortStableFunc(ds, compare)
	return slices.CompactFunc(ds, func(a, b Diagnostic) bool { return a == b })
}

func compare(a, b Diagnostic) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Col, b.Col),
		cmp.Compare(a.Severity, b.Severity),
		cmp.Compare(a.Message, b.Message),
		cmp.Compare(a.Suggestion, b.Suggestion),
	)
}

// Error renders every diagnostic, one a line, sorted.
func (ds Diagnostics) Error() string {
	sorted := slices.Clone(ds).Sort()
	lines := make([]string, len(sorted))
	for i, d := range sorted {
		lines[i] = d.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns the diagnostics as an error when there is at least one error, else nil.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	return ds
}

// As extracts Diagnostics from err, when err is (or wraps) one.
func As(err error) (Diagnostics, bool) {
	var ds Diagnostics
	ok := errors.As(err, &ds)
	return ds, ok
}

// Suggest returns the candidate closest to name, when it is close enough to be a
// likely typo (edit distance under 3, or the same word in another letter case), or "".
// Ties go to the first candidate in sorted order, so the answer is stable.
func Suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	sorted := slices.Clone(candidates)
	slices.Sort(sorted)
	for _, c := range sorted {
		if c == name {
			continue
		}
		if strings.EqualFold(c, name) {
			return c
		}
		d := levenshtein.Distance(name, c, nil)
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
