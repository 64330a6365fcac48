package render

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// renewalPlan renews n manual enrolments of one course from 2026-06-30 to 2027-06-30,
// the first `suspended` of them suspended until now, and leaves alone 3 self methods
// no spec manages (a spec listing users only says nothing of other methods).
func renewalPlan(t *testing.T, n, suspended int) diff.Plan {
	end26, end27 := until(t, 2026, 6, 30), until(t, 2027, 6, 30)
	manual := []state.Method{{Type: state.Manual, Enabled: true}}
	d := state.Course{Shortname: "L1-INFO-ALGO", Methods: manual}
	o := state.Course{Shortname: "L1-INFO-ALGO", ID: 1, Methods: []state.Method{{Type: state.Manual, Enabled: true, ID: 10}}}
	dir := directory
	dir.Users = map[string]int64{}
	for i := range n {
		u := fmt.Sprintf("21%06d", i)
		dir.Users[u] = int64(i + 1)
		d.Enrolments = append(d.Enrolments, man(u, end27, "student"))
		e := man(u, end26, "student")
		e.Suspended = i < suspended
		o.Enrolments = append(o.Enrolments, e)
	}
	for i := range 3 {
		o.Methods = append(o.Methods, state.Method{Type: state.Self, Name: fmt.Sprintf("Open%d", i), Role: "student", ID: int64(20 + i)})
	}
	p := diff.ComputeWithOptions(state.Snapshot{Courses: []state.Course{d}},
		state.Snapshot{Directory: dir, Courses: []state.Course{o}}, diff.Options{Location: paris(t)})
	p.Site, p.Commit = "ecampus", "4f9c2e1"
	return p
}

// visibleLines are the non-blank lines a reader sees before unfolding anything: the
// content of <details> blocks is hidden, their <summary> shows.
func visibleLines(md string) []string {
	var out []string
	depth := 0
	for _, line := range strings.Split(md, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "<details>"):
			if depth == 0 {
				out = append(out, t)
			}
			depth++
			continue
		case t == "</details>":
			depth--
			continue
		}
		if depth == 0 && t != "" {
			out = append(out, t)
		}
	}
	return out
}

func TestReviewRenewalReadsAsOneLine(t *testing.T) {
	p := renewalPlan(t, 1108, 160)
	var b bytes.Buffer
	if err := ReviewMarkdown(&b, p, ReviewOptions{}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	visible := visibleLines(md)
	if len(visible) >= 20 {
		t.Errorf("%d visible lines, want fewer than 20:\n%s", len(visible), strings.Join(visible, "\n"))
	}
	want := "! 1,108 manual enrolments: end 2026-06-30 → 2027-06-30, 160 reactivated"
	if !strings.Contains(strings.Join(visible, "\n"), want) {
		t.Errorf("no visible line %q in:\n%s", want, strings.Join(visible, "\n"))
	}
	// Every renewed user is named once, in the folded list; the reactivated ones say so.
	for _, c := range p.Changes {
		u := c.Enrolment.Username
		if n := len(regexp.MustCompile(`(?m)^`+u+`( \(reactivated\))?$`).FindAllString(md, -1)); n != 1 {
			t.Fatalf("%s is listed %d times", u, n)
		}
	}
	if n := strings.Count(md, " (reactivated)\n"); n != 160 {
		t.Errorf("%d users marked reactivated, want 160", n)
	}
	// Unmanaged objects are counted, not listed, unless asked.
	if !strings.Contains(md, "Left alone: 3 unmanaged objects in 1 course") || strings.Contains(md, "self:Open1") {
		t.Error("unmanaged objects are not reduced to a count")
	}
	b.Reset()
	if err := ReviewMarkdown(&b, p, ReviewOptions{ShowUnmanaged: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "self:Open1") {
		t.Error("ShowUnmanaged does not list the unmanaged objects")
	}
}

// nonBlank are the lines of s that show something.
func nonBlank(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return out
}

// The terminal plan is a reader's form too: the same renewal is one line there, and
// the unmanaged objects a count, until asked for each.
func TestTextRenewalReadsAsOneLine(t *testing.T) {
	p := renewalPlan(t, 1108, 160)
	var b bytes.Buffer
	if err := Text(&b, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	if lines := nonBlank(text); len(lines) >= 20 {
		t.Errorf("%d non-blank lines, want fewer than 20:\n%s", len(lines), text)
	}
	want := "  ~ 1,108 manual enrolments: end 2026-06-30 → 2027-06-30, 160 reactivated\n"
	if !strings.Contains(text, want) {
		t.Errorf("no line %q in:\n%s", want, text)
	}
	for _, w := range []string{"  3 unmanaged objects left alone\n", "(--show-unmanaged lists them)", "(--expand lists each one)",
		"Plan: 0 to add, 1108 to change, 0 to remove, 3 unmanaged.\n"} {
		if !strings.Contains(text, w) {
			t.Errorf("no %q in:\n%s", w, text)
		}
	}
	if regexp.MustCompile(`\b(21|55)\d{6}\b`).MatchString(text) {
		t.Errorf("a username shows in the short text:\n%s", text)
	}

	b.Reset()
	if err := Text(&b, p, TextOptions{ShowUnmanaged: true}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if u := fmt.Sprintf("    method self:Open%d  self enrolment \"Open%d\" → student, 0 enrolments, disabled", i, i); !strings.Contains(b.String(), u) {
			t.Errorf("ShowUnmanaged does not list %q:\n%s", u, b.String())
		}
	}
	if strings.Contains(b.String(), "--show-unmanaged") || !strings.Contains(b.String(), "1,108 manual enrolments") {
		t.Errorf("ShowUnmanaged changes more than the unmanaged objects:\n%s", b.String())
	}

	b.Reset()
	if err := Text(&b, p, TextOptions{Expand: true}); err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Changes {
		u := c.Enrolment.Username
		if n := len(regexp.MustCompile(`(?m)^  ~ enrolment manual/`+u+`  end: `).FindAllString(b.String(), -1)); n != 1 {
			t.Fatalf("Expand shows %s %d times", u, n)
		}
	}
	if strings.Contains(b.String(), "1,108") {
		t.Error("Expand still collapses")
	}
}

// A collapsed removal still names each user it removes, in the text as in the markdown.
func TestTextCollapsedRemovalNamesUsers(t *testing.T) {
	p := refusedPlan(t)
	var b bytes.Buffer
	if err := Text(&b, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	if !strings.Contains(text, "  - 12 manual enrolments unenrolled") {
		t.Fatalf("the 12 unenrolments are not collapsed:\n%s", text)
	}
	for _, c := range p.Changes {
		u := c.Enrolment.Username
		if n := len(regexp.MustCompile(`\b`+u+`\b`).FindAllString(text, -1)); n != 1 {
			t.Errorf("%s is named %d times:\n%s", u, n, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "      ") && len(line) > namesWidth {
			t.Errorf("names line of %d characters, want at most %d: %q", len(line), namesWidth, line)
		}
	}
}

func TestGroupLines(t *testing.T) {
	renew := func(u string, fields ...diff.FieldChange) diff.Change {
		return diff.Change{Course: "C", Kind: diff.KindEnrolment, Action: diff.Update, Enrolment: &state.Enrolment{Username: u, Method: "manual"}, Fields: fields}
	}
	end26, end27 := until(t, 2026, 6, 30), until(t, 2027, 6, 30)
	end := diff.FieldChange{Field: diff.FieldEnd, Old: &diff.Value{Int: end26}, New: &diff.Value{Int: end27}}
	react := diff.FieldChange{Field: diff.FieldSuspended, Old: &diff.Value{Bool: true}, New: &diff.Value{}}
	susp := diff.FieldChange{Field: diff.FieldSuspended, Old: &diff.Value{}, New: &diff.Value{Bool: true}}
	method := diff.Change{Course: "C", Kind: diff.KindMethod, Action: diff.Create, Method: &state.Method{Type: state.Cohort, Cohort: "X", Role: "student"}}
	never := diff.FieldChange{Field: diff.FieldEnd, Old: &diff.Value{Int: end26}, New: &diff.Value{}}
	fromNever := diff.FieldChange{Field: diff.FieldEnd, Old: &diff.Value{}, New: &diff.Value{Int: end27}}
	create := func(u string, roles ...string) diff.Change {
		return diff.Change{Course: "C", Kind: diff.KindEnrolment, Action: diff.Create, Enrolment: &state.Enrolment{Username: u, Method: "manual"},
			Fields: []diff.FieldChange{{Field: diff.FieldRole, New: &diff.Value{Roles: roles}}, {Field: diff.FieldStart, New: &diff.Value{}},
				{Field: diff.FieldEnd, New: &diff.Value{Int: end27}}, {Field: diff.FieldSuspended, New: &diff.Value{}}}}
	}
	suspend := func(u string) diff.Change {
		c := renew(u, susp)
		c.Removes = &diff.Removal{Enrolments: 1}
		return c
	}
	tests := []struct {
		name    string
		changes []diff.Change
		want    []string // collapsed text, or "1" for a single change
	}{
		{"two renewals stay lines", []diff.Change{renew("a", end), renew("b", end)}, []string{"1", "1"}},
		{"three collapse, reactivations counted", []diff.Change{renew("a", end), renew("b", end, react), renew("c", end)},
			[]string{"3 manual enrolments: end 2026-06-30 → 2027-06-30, 1 reactivated"}},
		{"other dates, other line", []diff.Change{renew("a", end), method, renew("b", end), renew("c", end),
			renew("d", diff.FieldChange{Field: diff.FieldEnd, Old: &diff.Value{Int: end26}, New: &diff.Value{}})},
			[]string{"3 manual enrolments: end 2026-06-30 → 2027-06-30", "1", "1"}},
		{"suspensions apart from reactivations", []diff.Change{suspend("a"), suspend("b"), suspend("c"), renew("d", react), renew("e", react), renew("f", react)},
			[]string{"3 manual enrolments suspended", "3 manual enrolments reactivated"}},
		// The wording of alike fields is remembered by their values: alternating
		// dates, roles or a role of "" never take another line's text.
		{"alternating dates", []diff.Change{renew("a", end), renew("b", never), renew("c", end), renew("d", never), renew("e", end), renew("f", never)},
			[]string{"3 manual enrolments: end 2026-06-30 → 2027-06-30", "3 manual enrolments: end 2026-06-30 → never"}},
		{"alternating old dates", []diff.Change{renew("a", end), renew("b", fromNever), renew("c", end), renew("d", fromNever), renew("e", end), renew("f", fromNever)},
			[]string{"3 manual enrolments: end 2026-06-30 → 2027-06-30", "3 manual enrolments: end never → 2027-06-30"}},
		{"alternating roles", []diff.Change{create("a", "student"), create("b", "editingteacher"), create("c", "student"),
			create("d", "editingteacher"), create("e", "student"), create("f", "editingteacher"), create("g"), create("h"), create("i"),
			create("j", ""), create("k", ""), create("l", "")},
			[]string{"3 manual enrolments (role student, end 2027-06-30)", "3 manual enrolments (role editingteacher, end 2027-06-30)",
				"3 manual enrolments (end 2027-06-30)", `3 manual enrolments (role "", end 2027-06-30)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			total := 0
			for _, g := range groupLines(tt.changes, paris(t), true) {
				total += len(g.Changes)
				if g.Collapsed() {
					got = append(got, g.Text)
				} else {
					got = append(got, fmt.Sprint(len(g.Changes)))
				}
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("groups %q, want %q", got, tt.want)
			}
			if total != len(tt.changes) {
				t.Errorf("groups hold %d changes, want %d", total, len(tt.changes))
			}
			// Uncollapsed (text --expand), every change is a line, in plan order.
			single := groupLines(tt.changes, paris(t), false)
			if len(single) != len(tt.changes) {
				t.Fatalf("%d lines uncollapsed, want %d", len(single), len(tt.changes))
			}
			for i, g := range single {
				if g.Collapsed() || g.Changes[0].Address != tt.changes[i].Address || g.Changes[0].Enrolment != tt.changes[i].Enrolment {
					t.Errorf("line %d is %+v, want change %d alone", i, g, i)
				}
			}
		})
	}
}

// A policy's renewal that also reactivates some keeps its reason on the collapsed line;
// changes with other reasons give none.
func TestSharedReason(t *testing.T) {
	renewed := &diff.Reason{Code: diff.ReasonPolicyRenewal, Subject: "renew-fc"}
	reactivated := &diff.Reason{Code: diff.ReasonReactivate, RenewedBy: "renew-fc"}
	plain := &diff.Reason{Code: diff.ReasonReactivate}
	change := func(r *diff.Reason) *diff.Change { return &diff.Change{Reason: r} }
	tests := []struct {
		reasons []*diff.Reason
		want    string
	}{
		{[]*diff.Reason{renewed, reactivated, renewed}, "renewed by policy renew-fc"},
		{[]*diff.Reason{nil, plain, nil}, ""},
		{[]*diff.Reason{plain, plain}, ""},
		{[]*diff.Reason{renewed, nil}, ""},
		{[]*diff.Reason{{Code: diff.ReasonManualPruneUnenrol}, {Code: diff.ReasonManualPruneUnenrol}}, "not listed in the specs and manual.prune is unenrol"},
	}
	for _, tt := range tests {
		var cs []*diff.Change
		for _, r := range tt.reasons {
			cs = append(cs, change(r))
		}
		if got := sharedReason(cs); got != tt.want {
			t.Errorf("sharedReason(%v) = %q, want %q", tt.reasons, got, tt.want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1108: "1,108", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestReviewGolden(t *testing.T) {
	for name, p := range plans(t) {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := ReviewMarkdown(&b, p, ReviewOptions{}); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name+".review.md", b.Bytes())
		})
	}
}
