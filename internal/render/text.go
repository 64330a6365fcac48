package render

import (
	"bufio"
	"fmt"
	"io"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
)

// TextOptions tune the human plan.
type TextOptions struct {
	// Color writes ANSI colours; set it only when writing to a terminal.
	Color bool
	// Expand writes every change on its own line instead of collapsing identical
	// changes of a course into one line with a count (plan --expand).
	Expand bool
	// ShowUnmanaged lists the objects left alone, course by course, instead of
	// counting them (plan --show-unmanaged).
	ShowUnmanaged bool
}

// namesWidth is where the names under a collapsed removal wrap.
const namesWidth = 100

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// Text writes the human plan: the errors, warnings and refusals first, then the courses
// that change, with identical changes collapsed to one line with a count (the same
// groups as the reviewer's markdown, collapse.go) and what is left alone counted, then
// one summary line. Renewing 1,108 enrolments reads as one line; a collapsed removal
// still names whom it removes.
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
	courses, sums := courseSummaries(p)
	var shown []string
	for _, c := range courses {
		if s := sums[c]; s.Add+s.Change+s.Remove > 0 || (opts.ShowUnmanaged && s.Unmanaged > 0) {
			shown = append(shown, c)
		}
	}
	// A course's lines are one run of a plan's (sorted by course): each is a window
	// of them, copied only when a course comes back in an unsorted plan.
	groups := map[string][]lineGroup{}
	lines := groupLines(p.Changes, loc, !opts.Expand)
	for i := 0; i < len(lines); {
		c, j := lines[i].Course, i+1
		for j < len(lines) && lines[j].Course == c {
			j++
		}
		if prev, ok := groups[c]; ok {
			groups[c] = append(prev[:len(prev):len(prev)], lines[i:j]...)
		} else {
			groups[c] = lines[i:j:j]
		}
		i = j
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
		bw.WriteString(label + " " + d.Text() + "\n")
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
	if (len(p.Diagnostics) > 0 || len(p.Refusals) > 0) && len(shown) > 0 {
		bw.WriteString("\n")
	}

	collapsedLines, collapsedChanges := 0, 0
	for i, course := range shown {
		if i > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString(paint(ansiBold, "course "+course) + "\n")
		for _, g := range groups[course] {
			text, reason := g.line(loc)
			bw.WriteString("  ")
			bw.WriteString(paint(symbolColor[g.Symbol], g.Symbol))
			bw.WriteByte(' ')
			bw.WriteString(text)
			if reason != "" {
				bw.WriteString("  " + paint(ansiDim, "# "+reason))
			}
			bw.WriteByte('\n')
			if !g.Collapsed() {
				continue
			}
			collapsedLines++
			collapsedChanges += len(g.Changes)
			if g.Removal() {
				// What is taken away is named even when collapsed: apply never removes
				// anyone the plan did not show.
				writeNames(bw, g.Changes)
			}
		}
		us := unmanaged[course]
		switch {
		case len(us) == 0:
		case !opts.ShowUnmanaged:
			bw.WriteString("  " + paint(ansiDim, plural(len(us), "unmanaged object", "unmanaged objects")+" left alone") + "\n")
		default:
			if len(groups[course]) > 0 {
				bw.WriteString("\n")
			}
			bw.WriteString("  " + paint(ansiDim, "unmanaged (left alone):") + "\n")
			for _, u := range us {
				bw.WriteString("    " + paint(ansiDim, unmanagedName(u)+"  "+unmanagedText(u, loc)) + "\n")
			}
		}
	}

	// Drift is named whatever the flags: finding it is what the drift job is for.
	if len(p.Drift) > 0 {
		if len(shown) > 0 || len(p.Diagnostics) > 0 || len(p.Refusals) > 0 {
			bw.WriteString("\n")
		}
		writeDriftText(bw, p, paint)
	}

	// How to see what the counts stand for.
	var hints []string
	if collapsedLines > 0 {
		hints = append(hints, fmt.Sprintf("Collapsed: %s identical changes shown as %s with a count (--expand lists each one).",
			thousands(collapsedChanges), plural(collapsedLines, "line", "lines")))
	}
	if len(p.Unmanaged) > 0 && !opts.ShowUnmanaged {
		hints = append(hints, leftAloneLine(p, "--show-unmanaged"))
	}
	if (len(shown) > 0 || len(p.Drift) > 0) && len(hints) > 0 {
		bw.WriteString("\n")
	}
	for _, h := range hints {
		bw.WriteString(paint(ansiDim, h) + "\n")
	}

	if len(shown) > 0 || len(hints) > 0 || len(p.Diagnostics) > 0 || len(p.Refusals) > 0 || len(p.Drift) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString(paint(ansiBold, summaryLine(p.Summary(), p.HasChanges(), len(p.Diagnostics.Errors()))) + "\n")
	return bw.Flush()
}

// writeNames lists a collapsed group's users under its line, wrapped at namesWidth.
// The line is written as it goes: a site-wide plan names tens of thousands of users.
func writeNames(bw *bufio.Writer, cs []*diff.Change) {
	const indent = "      "
	bw.WriteString(indent)
	n := len(indent)
	for i, c := range cs {
		name := who(c)
		size := len(name)
		if i < len(cs)-1 {
			size++ // its comma
		}
		if n != len(indent) && n+1+size > namesWidth {
			bw.WriteString("\n" + indent)
			n = len(indent)
		}
		if n != len(indent) {
			bw.WriteByte(' ')
			n++
		}
		bw.WriteString(name)
		if i < len(cs)-1 {
			bw.WriteByte(',')
		}
		n += size
	}
	bw.WriteString("\n")
}
