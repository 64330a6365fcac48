package render

import (
	"bufio"
	"io"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/spec/diag"
)

// TextOptions tune the human plan.
type TextOptions struct {
	// Color writes ANSI colours; set it only when writing to a terminal.
	Color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// Text writes the human plan: the errors, warnings and refusals first, then the changes
// and unmanaged objects course by course, and one summary line.
func Text(w io.Writer, p diff.Plan, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	paint := func(code, s string) string {
		if !opts.Color || s == "" {
			return s
		}
		return code + s + ansiReset
	}
	symbolColor := map[string]string{"+": ansiGreen, "~": ansiYellow, "-": ansiRed}

	loc := location(p)
	courses, _ := courseSummaries(p)
	changes := map[string][]diff.Change{}
	for _, c := range p.Changes {
		changes[c.Course] = append(changes[c.Course], c)
	}
	unmanaged := map[string][]diff.Unmanaged{}
	for _, u := range p.Unmanaged {
		unmanaged[u.Course] = append(unmanaged[u.Course], u)
	}

	// What blocks or will be refused comes first, before the changes it concerns.
	for _, d := range p.Diagnostics {
		label := paint(ansiBold+ansiRed, "Error:")
		if d.Severity == diag.Warning {
			label = paint(ansiBold+ansiYellow, "Warning:")
		}
		if where := d.At().String(); where != "" {
			label += " " + where + ":"
		}
		bw.WriteString(label + " " + diagnosticLine(d) + "\n")
	}
	if len(p.Refusals) > 0 {
		if len(p.Diagnostics) > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString(paint(ansiBold+ansiRed, "Apply will refuse these removals:") + "\n")
		for _, r := range p.Refusals {
			bw.WriteString("  " + RefusalText(r, p.Limits) + "\n")
		}
	}
	if (len(p.Diagnostics) > 0 || len(p.Refusals) > 0) && len(courses) > 0 {
		bw.WriteString("\n")
	}

	for i, course := range courses {
		if i > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString(paint(ansiBold, "course "+course) + "\n")
		for _, c := range changes[course] {
			if c.Action == diff.NoOp {
				continue
			}
			l := lineOf(c, loc)
			bw.WriteString("  " + paint(symbolColor[l.Symbol], l.Symbol) + " " + l.text())
			if l.Reason != "" {
				bw.WriteString("  " + paint(ansiDim, "# "+l.Reason))
			}
			bw.WriteString("\n")
		}
		if us := unmanaged[course]; len(us) > 0 {
			if len(changes[course]) > 0 {
				bw.WriteString("\n")
			}
			bw.WriteString("  " + paint(ansiDim, "unmanaged (left alone):") + "\n")
			for _, u := range us {
				bw.WriteString("    " + paint(ansiDim, unmanagedName(u)+"  "+unmanagedText(u, loc)) + "\n")
			}
		}
	}

	if len(courses) > 0 || len(p.Diagnostics) > 0 || len(p.Refusals) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString(paint(ansiBold, summaryLine(p.Summary(), p.HasChanges(), len(p.Diagnostics.Errors()))) + "\n")
	return bw.Flush()
}
