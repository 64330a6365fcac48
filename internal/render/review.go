package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
)

// reviewFoldAfter is the number of diff lines above which the reviewer's block is
// folded: collapsed lines are each worth reading, so more of them stay in view than a
// one-line-per-change block could keep.
const reviewFoldAfter = 60

// ReviewOptions tune the reviewer's markdown.
type ReviewOptions struct {
	// ShowUnmanaged lists the objects left alone instead of counting them.
	ShowUnmanaged bool
	// Header is markdown the caller puts right under the summary: what apply will
	// refuse, the approvals recorded in the plan.
	Header string
}

// ReviewMarkdown writes the plan for the people who review a merge request: what
// blocks or will be refused comes first (errors, warnings, the caller's header), then a
// table of the courses that change, then the changes with identical ones collapsed to
// one line and their users listed in a folded block, then a count of what is left
// alone. Renewing 1,108 enrolments reads as one line.
func ReviewMarkdown(w io.Writer, p diff.Plan, o ReviewOptions) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("### enrolctl plan\n\n")
	if p.Site != "" || p.Commit != "" {
		var parts []string
		if p.Site != "" {
			parts = append(parts, "site "+MarkdownCode(p.Site))
		}
		if p.Commit != "" {
			parts = append(parts, "commit "+MarkdownCode(p.Commit))
		}
		bw.WriteString("Planned for " + strings.Join(parts, ", ") + ".\n\n")
	}
	sum := p.Summary()
	bw.WriteString("**" + summaryLine(sum, p.HasChanges(), len(p.Diagnostics.Errors())) + "**\n")
	if o.Header != "" {
		bw.WriteString("\n" + strings.TrimRight(o.Header, "\n") + "\n")
	}
	if errs := p.Diagnostics.Errors(); len(errs) > 0 {
		fmt.Fprintf(bw, "\n#### Errors (%d): nothing can be applied until they are fixed\n\n", len(errs))
		writeDiagnostics(bw, errs)
	}
	writeRefusals(bw, p)
	if warns := p.Diagnostics.Warnings(); len(warns) > 0 {
		fmt.Fprintf(bw, "\n#### Warnings (%d)\n\n", len(warns))
		writeDiagnostics(bw, warns)
	}

	courses, sums := courseSummaries(p)
	var changed []string
	for _, c := range courses {
		if s := sums[c]; s.Add+s.Change+s.Remove > 0 {
			changed = append(changed, c)
		}
	}
	if len(changed) > 0 {
		bw.WriteString("\n| Course | Add | Change | Remove | Unmanaged |\n| --- | ---: | ---: | ---: | ---: |\n")
		for _, c := range changed {
			s := sums[c]
			fmt.Fprintf(bw, "| %s | %d | %d | %d | %d |\n", cell(MarkdownCode(c)), s.Add, s.Change, s.Remove, s.Unmanaged)
		}
	}

	if p.HasChanges() {
		writeReviewChanges(bw, p)
	}
	writeDriftMarkdown(bw, p)
	writeUnmanaged(bw, p, o.ShowUnmanaged)
	return bw.Flush()
}

// writeReviewChanges writes the ```diff block of line groups (folded when long) and
// one folded block naming the users of the collapsed lines.
func writeReviewChanges(bw *bufio.Writer, p diff.Plan) {
	loc := location(p)
	groups := groupLines(p.Changes, loc, true)
	var lines []string
	var collapsed []lineGroup
	course := ""
	for _, g := range groups {
		if g.Course != course {
			course = g.Course
			lines = append(lines, "@@ course "+oneLine(course)+" @@")
		}
		sym := g.Symbol
		if sym == "~" {
			sym = "!" // the marker GitHub and GitLab highlight
		}
		lines = append(lines, sym+" "+oneLine(withReason(g.line(loc))))
		if g.Collapsed() {
			collapsed = append(collapsed, g)
		}
	}
	bw.WriteString("\n")
	fold := len(lines) > reviewFoldAfter
	if fold {
		fmt.Fprintf(bw, "<details><summary>Show the %d lines of changes</summary>\n\n", len(lines))
	}
	block := strings.Join(lines, "\n")
	fence := markdownFence(block) // a name's backticks cannot close it
	bw.WriteString(fence + "diff\n" + block + "\n" + fence + "\n")
	if fold {
		bw.WriteString("\n</details>\n")
	}
	if len(collapsed) == 0 {
		return
	}
	n := 0
	for _, g := range collapsed {
		n += len(g.Changes)
	}
	what := "the collapsed line"
	if len(collapsed) > 1 {
		what = fmt.Sprintf("the %d collapsed lines", len(collapsed))
	}
	fmt.Fprintf(bw, "\n<details><summary>Who: the %s changes of %s</summary>\n\n", thousands(n), what)
	for _, g := range collapsed {
		fmt.Fprintf(bw, "%s %s: %s\n\n", g.Symbol, MarkdownCode(g.Course), MarkdownText(withReason(g.Text, g.Reason)))
		users := make([]string, len(g.Changes))
		for i, c := range g.Changes {
			users[i] = oneLine(who(c))
		}
		block := strings.Join(users, "\n")
		fence := markdownFence(block)
		bw.WriteString(fence + "\n" + block + "\n" + fence + "\n\n")
	}
	bw.WriteString("</details>\n")
}

// writeUnmanaged counts what is left alone, or lists it when asked.
func writeUnmanaged(bw *bufio.Writer, p diff.Plan, list bool) {
	if len(p.Unmanaged) == 0 {
		return
	}
	if !list {
		bw.WriteString("\n" + leftAloneLine(p, "`enrolctl plan --show-unmanaged`") + "\n")
		return
	}
	fmt.Fprintf(bw, "\n<details><summary>Unmanaged objects left alone (%d)</summary>\n\n", len(p.Unmanaged))
	loc := location(p) // loads the zone from disk: once, not per object
	for _, u := range p.Unmanaged {
		fmt.Fprintf(bw, "- %s %s: %s\n", MarkdownCode(u.Course), MarkdownCode(unmanagedName(u)), MarkdownText(unmanagedText(u, loc)))
	}
	bw.WriteString("\n</details>\n")
}

// writeRefusals says what apply will refuse, why, and how the removals can be approved
// so that the approval is reviewed; or which removals the plan approves.
func writeRefusals(bw *bufio.Writer, p diff.Plan) {
	if len(p.Refusals) > 0 {
		fmt.Fprintf(bw, "\n#### Apply will refuse this plan (%d)\n\n", len(p.Refusals))
		limits := false
		for _, r := range p.Refusals {
			fmt.Fprintf(bw, "- %s\n", MarkdownText(RefusalText(r, p.Limits)))
			limits = limits || r.Code != diff.RefuseProtected
		}
		if limits {
			bw.WriteString("\nIf these removals are intended, approve them in the plan: plan again with `--allow-removals` " +
				"(CI: `ENROLCTL_PLAN_ARGS=--allow-removals`), so that the approval is reviewed here and the merged plan applies as it is.\n")
		}
	}
	if !p.Approvals.Removals {
		return
	}
	changes, enrolments := 0, 0
	for _, c := range p.Changes {
		if c.IsRemoval() {
			changes++
			enrolments += c.Removes.Enrolments
		}
	}
	fmt.Fprintf(bw, "\n> **Removals approved at plan time** (`plan --allow-removals`): apply makes this plan's %s (%s) "+
		"above the limits of %d per course, %.0f%% of a course and %d per apply, with no further flag. Protected courses stay refused.\n",
		plural(changes, "removal", "removals"), plural(enrolments, "enrolment removed or suspended", "enrolments removed or suspended"),
		p.Limits.MaxRemovals, p.Limits.MaxShare*100, p.Limits.MaxSiteRemovals)
}

// cell keeps a value from breaking a Markdown table row.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func writeDiagnostics(bw *bufio.Writer, ds diag.Diagnostics) {
	for _, d := range ds {
		if where := d.At().String(); where != "" {
			fmt.Fprintf(bw, "- %s: %s\n", MarkdownCode(where), MarkdownText(d.Text()))
		} else {
			fmt.Fprintf(bw, "- %s\n", MarkdownText(d.Text()))
		}
	}
}
