package review

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/render"
)

// Comment size limits, in characters, as the platforms document them.
const (
	GitHubLimit = 65536
	GitLabLimit = 1000000
)

// Limit is the platform's comment size limit in characters.
func (p Platform) Limit() int {
	if p == GitLab {
		return GitLabLimit
	}
	return GitHubLimit
}

// Marker is the hidden line that identifies enrolctl's comment for a site, so that
// later pushes edit it instead of adding another.
func Marker(site string) string {
	site = cmp.Or(site, "default")
	return "<!-- enrolctl:site=" + site + " -->"
}

// BodyOptions tune a comment.
type BodyOptions struct {
	// Site names the comment's marker (one comment per site).
	Site string
	// MaskUsernames hides usernames (see Masker).
	MaskUsernames bool
	// Limit is the platform's size limit in characters (0: GitHub's, the smaller).
	Limit int
	// ArtifactsURL is where the full plan is when the comment only summarises it.
	ArtifactsURL string
	// Header is markdown shown under the title (approvals, what apply will refuse);
	// usernames in it are masked too.
	Header string
	// ShowUnmanaged lists the objects left alone instead of counting them.
	ShowUnmanaged bool
	// SummaryOnly writes the summary even when the whole plan would fit.
	SummaryOnly bool
}

// CommentBody builds the comment for a plan: the marker, then the plan in markdown, or
// a summary of it when the markdown does not fit in the limit. The result always fits
// and never ends in the middle of a line.
func CommentBody(p diff.Plan, o BodyOptions) (string, error) {
	limit := o.Limit
	if limit <= 0 {
		limit = GitHubLimit
	}
	if o.MaskUsernames {
		masker := NewMasker(PlanUsernames(p))
		p = masker.Plan(p)
		o.Header = masker.Markdown(o.Header) // the caller's own markdown
	}
	finish := func(md string) string { return Marker(o.Site) + "\n" + md }
	var full bytes.Buffer
	if err := render.ReviewMarkdown(&full, p, render.ReviewOptions{Header: o.Header, ShowUnmanaged: o.ShowUnmanaged}); err != nil {
		return "", err
	}
	body := finish(full.String())
	if !o.SummaryOnly && utf8.RuneCountInString(body) <= limit {
		return body, nil
	}
	return summaryBody(p, o, finish, limit), nil
}

// kindCount is one row of the summary: a course's changes of one kind.
type kindCount struct {
	course                     string
	kind                       diff.Kind
	add, change, remove, unman int
}

// summaryBody is the comment when the full plan is too long: the counts per course and
// kind, the problems, and where the full plan is. Rows that do not fit are counted in a
// last line, whole rows only.
func summaryBody(p diff.Plan, o BodyOptions, finish func(string) string, limit int) string {
	rows := countRows(p)
	var head strings.Builder
	head.WriteString("### enrolctl plan (summary)\n\n")
	if o.Header != "" {
		head.WriteString(strings.TrimRight(o.Header, "\n") + "\n\n")
	}
	s := p.Summary()
	fmt.Fprintf(&head, "**Plan: %d to add, %d to change, %d to remove, %d unmanaged.**\n\n", s.Add, s.Change, s.Remove, s.Unmanaged)
	// What blocks or will be refused comes first; a long list is cut at whole lines
	// (the artifact has every one).
	headBudget := limit / 2
	var notes []string
	for _, d := range p.Diagnostics {
		line := render.MarkdownText(d.Text())
		if where := d.At().String(); where != "" {
			line = render.MarkdownCode(where) + ": " + line
		}
		label := "Error"
		if d.Severity == diag.Warning {
			label = "Warning"
		}
		notes = append(notes, "- **"+label+":** "+line)
	}
	for _, r := range p.Refusals {
		notes = append(notes, "- **Apply will refuse:** "+render.MarkdownText(render.RefusalText(r, p.Limits)))
	}
	if len(p.Drift) > 0 {
		notes = append(notes, "- **Drift:** "+render.DriftLine(p)+"; the artifact names them.")
	}
	if p.Approvals.Removals {
		notes = append(notes, "- **Removals approved at plan time** (`plan --allow-removals`): apply makes them with no further flag; protected courses stay refused.")
	}
	used := utf8.RuneCountInString(head.String())
	for i, n := range notes {
		if used+utf8.RuneCountInString(n)+1 > headBudget {
			fmt.Fprintf(&head, "- …and %d more, in the artifact.\n", len(notes)-i)
			break
		}
		head.WriteString(n + "\n")
		used += utf8.RuneCountInString(n) + 1
	}
	if len(notes) > 0 {
		head.WriteString("\n")
	}
	where := "the plan job's artifacts (plan.json, plan.txt)"
	if o.ArtifactsURL != "" {
		where = "[the plan job's artifacts](" + o.ArtifactsURL + ") (plan.json, plan.txt)"
	}
	fmt.Fprintf(&head, "The full plan is too long for a comment; it is in %s. Changes per course and kind:\n\n", where)
	head.WriteString("| Course | Kind | Add | Change | Remove | Unmanaged |\n| --- | --- | ---: | ---: | ---: | ---: |\n")

	budget := limit - utf8.RuneCountInString(finish(head.String())) - 200 // room for the last line
	var table strings.Builder
	shown, size := 0, 0
	for _, r := range rows {
		row := fmt.Sprintf("| %s | %s | %d | %d | %d | %d |\n", strings.ReplaceAll(render.MarkdownCode(r.course), "|", `\|`), r.kind, r.add, r.change, r.remove, r.unman)
		n := utf8.RuneCountInString(row)
		if size+n > budget {
			break
		}
		table.WriteString(row)
		size += n
		shown++
	}
	if shown < len(rows) {
		fmt.Fprintf(&table, "\n…and %d more rows, in the artifact.\n", len(rows)-shown)
	}
	return finish(head.String() + table.String())
}

func countRows(p diff.Plan) []kindCount {
	idx := map[[2]string]int{}
	var rows []kindCount
	row := func(course string, kind diff.Kind) *kindCount {
		k := [2]string{course, string(kind)}
		i, ok := idx[k]
		if !ok {
			i = len(rows)
			idx[k] = i
			rows = append(rows, kindCount{course: course, kind: kind})
		}
		return &rows[i]
	}
	for _, c := range p.Changes {
		r := row(c.Course, c.Kind)
		switch c.Action {
		case diff.Create:
			r.add++
		case diff.Update:
			r.change++
		case diff.Delete:
			r.remove++
		}
	}
	for _, u := range p.Unmanaged {
		row(u.Course, u.Kind).unman++
	}
	rows = slices.DeleteFunc(rows, func(r kindCount) bool { return r.add+r.change+r.remove+r.unman == 0 }) // no-ops
	slices.SortStableFunc(rows, func(a, b kindCount) int {
		return cmp.Or(strings.Compare(a.course, b.course), strings.Compare(string(a.kind), string(b.kind)))
	})
	return rows
}
