package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/spec/diag"
)

// foldAfter is the number of diff lines above which the block is folded in <details>.
const foldAfter = 30

// Markdown writes the plan as a merge-request comment: the summary line, a table per
// course, the changes as a ```diff block (folded when long), the unmanaged objects
// folded, and the problems.
func Markdown(w io.Writer, p diff.Plan) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("### enrolctl plan\n\n")
	if p.Site != "" || p.Commit != "" {
		var parts []string
		if p.Site != "" {
			parts = append(parts, "site `"+p.Site+"`")
		}
		if p.Commit != "" {
			c := "commit `" + p.Commit + "`"
			if p.Dirty {
				c += " with uncommitted changes"
			}
			parts = append(parts, c)
		}
		bw.WriteString("Planned for " + strings.Join(parts, ", ") + ".\n\n")
	}
	loc := location(p)
	sum := p.Summary()
	bw.WriteString("**" + summaryLine(sum, p.HasChanges(), len(p.Diagnostics.Errors())) + "**\n")

	courses, sums := courseSummaries(p)
	if len(courses) > 0 {
		bw.WriteString("\n| Course | Add | Change | Remove | Unmanaged |\n| --- | ---: | ---: | ---: | ---: |\n")
		for _, c := range courses {
			s := sums[c]
			fmt.Fprintf(bw, "| `%s` | %d | %d | %d | %d |\n", cell(c), s.Add, s.Change, s.Remove, s.Unmanaged)
		}
	}

	if p.HasChanges() {
		var lines []string
		course := ""
		for _, c := range p.Changes {
			if c.Action == diff.NoOp {
				continue
			}
			if c.Course != course {
				course = c.Course
				lines = append(lines, "@@ course "+course+" @@")
			}
			l := lineOf(c, loc)
			sym := l.Symbol
			if sym == "~" {
				sym = "!"
			}
			s := sym + " " + l.text()
			if l.Reason != "" {
				s += "  # " + l.Reason
			}
			lines = append(lines, s)
		}
		n := sum.Add + sum.Change + sum.Remove
		fold := len(lines) > foldAfter
		bw.WriteString("\n")
		if fold {
			fmt.Fprintf(bw, "<details><summary>Show the %d changes</summary>\n\n", n)
		}
		bw.WriteString("```diff\n" + strings.Join(lines, "\n") + "\n```\n")
		if fold {
			bw.WriteString("\n</details>\n")
		}
	}

	if len(p.Unmanaged) > 0 {
		fmt.Fprintf(bw, "\n<details><summary>Unmanaged objects left alone (%d)</summary>\n\n", len(p.Unmanaged))
		for _, u := range p.Unmanaged {
			fmt.Fprintf(bw, "- `%s` %s: %s\n", u.Course, unmanagedName(u), unmanagedText(u, loc))
		}
		bw.WriteString("\n</details>\n")
	}

	if len(p.Refusals) > 0 {
		fmt.Fprintf(bw, "\n#### Apply will refuse these removals (%d)\n\n", len(p.Refusals))
		for _, r := range p.Refusals {
			fmt.Fprintf(bw, "- %s\n", RefusalText(r, p.Limits))
		}
	}
	if errs := p.Diagnostics.Errors(); len(errs) > 0 {
		fmt.Fprintf(bw, "\n#### Errors (%d): nothing can be applied until they are fixed\n\n", len(errs))
		writeDiagnostics(bw, errs)
	}
	if warns := p.Diagnostics.Warnings(); len(warns) > 0 {
		fmt.Fprintf(bw, "\n#### Warnings (%d)\n\n", len(warns))
		writeDiagnostics(bw, warns)
	}
	return bw.Flush()
}

// cell keeps a value from breaking a Markdown table row.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func writeDiagnostics(bw *bufio.Writer, ds diag.Diagnostics) {
	for _, d := range ds {
		if where := d.At().String(); where != "" {
			fmt.Fprintf(bw, "- `%s`: %s\n", where, diagnosticLine(d))
		} else {
			fmt.Fprintf(bw, "- %s\n", diagnosticLine(d))
		}
	}
}
