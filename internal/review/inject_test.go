package review

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// The names of the attack: markdown, HTML, a mention and an image in a group
// name; one that tries to close a code span and a fence.
const (
	evilGroup = "TP2 </details> @all ![b](https://evil.example/b.png)"
	evilFence = "x` @all\n```\n</details> ![c](https://evil.example/c.png) @all\n```"
)

// evilPlan names the attacks everywhere a name reaches the comment: a course, groups
// with members enough to be collapsed, a self method, an unmanaged method, an unknown
// course and user in the diagnostics with their suggestions, a refusal.
func evilPlan(t *testing.T) diff.Plan {
	t.Helper()
	course := "L1 " + evilGroup
	dir := state.Directory{Users: map[string]int64{}, Roles: map[string]int64{"student": 5}, Courses: map[string]int64{course: 1},
		EnabledPlugins: []string{"manual", "self"}}
	d := state.Course{Shortname: course, Methods: []state.Method{{Type: state.Manual, Enabled: true}, {Type: state.Self, Name: evilGroup, Enabled: true, Role: "student"}}}
	o := state.Course{Shortname: course, ID: 1, Methods: []state.Method{{Type: state.Manual, Enabled: true, ID: 1}, {Type: state.Self, Name: evilFence, Enabled: true, ID: 2}}}
	users := append([]string{"jean+test", "o'brien", "josé.müller", "21009539"}, func() (us []string) {
		for i := range 6 {
			us = append(us, fmt.Sprintf("2200000%d", i))
		}
		return us
	}()...)
	var members []state.Member
	for _, u := range users {
		dir.Users[u] = int64(len(dir.Users) + 1)
		d.Enrolments = append(d.Enrolments, state.Enrolment{Username: u, Method: "manual", Roles: []string{"student"}})
		members = append(members, state.Member{Username: u})
	}
	d.Groups = []state.Group{{Name: evilGroup, Members: members}, {Name: evilFence, Members: members[:1]}}
	p := diff.ComputeWithOptions(state.Snapshot{Courses: []state.Course{d}}, state.Snapshot{Directory: dir, Courses: []state.Course{o}}, diff.Options{})
	p.Site, p.Commit = "ecampus", "4f9c2e1"
	p.Diagnostics = append(p.Diagnostics,
		diag.Diagnostic{File: "specs/a.yaml", Line: 3, Col: 9, Severity: diag.Warning, Message: fmt.Sprintf("unknown course %q", evilGroup), Suggestion: evilFence},
		diag.Diagnostic{File: "specs/a.yaml", Line: 4, Col: 9, Severity: diag.Warning, Message: `unknown user "o'brian": no user has this username on the site`, Suggestion: "o'brien"}.About(diag.UnknownUser, diag.Subject{User: "o'brian"}),
		diag.Diagnostic{File: "specs/a.yaml", Line: 5, Col: 9, Severity: diag.Warning, Message: `unknown user "jean+tset": no user has this username on the site`, Suggestion: "jean+test"}.About(diag.UnknownUser, diag.Subject{User: "jean+tset"}),
		diag.Diagnostic{File: "specs/a.yaml", Line: 6, Col: 9, Severity: diag.Warning, Message: `unknown user "jose.muller": no user has this username on the site`, Suggestion: "josé.müller"}.About(diag.UnknownUser, diag.Subject{User: "jose.muller"}),
	)
	p.Refusals = append(p.Refusals, diff.Refusal{Code: diff.RefuseProtected, Course: evilGroup, Changes: 1, Enrolments: 1})
	if len(p.Changes) < 10 || len(p.Unmanaged) == 0 {
		t.Fatalf("fixture: %d changes, %d unmanaged", len(p.Changes), len(p.Unmanaged))
	}
	return p
}

// prose is what a markdown renderer interprets in md: everything outside fenced code
// blocks and code spans, following CommonMark's rules (a fence closes only with as many
// backticks or more at the start of a line; a code span closes only with a run of
// exactly as many backticks). A name that breaks out of its code shows up here.
func prose(md string) string {
	var out strings.Builder
	fence := ""
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if fence != "" {
			if run := backtickRun(trimmed); len(run) >= len(fence) && strings.TrimSpace(trimmed[len(run):]) == "" {
				fence = ""
			}
			continue
		}
		if run := backtickRun(trimmed); len(run) >= 3 && len(line)-len(trimmed) <= 3 {
			fence = run
			continue
		}
		out.WriteString(stripCodeSpans(line) + "\n")
	}
	return out.String()
}

func backtickRun(s string) string { return s[:len(s)-len(strings.TrimLeft(s, "`"))] }

func stripCodeSpans(line string) string {
	var out strings.Builder
	for i := 0; i < len(line); {
		if line[i] == '\\' && i+1 < len(line) {
			out.WriteString(line[i : i+2])
			i += 2
			continue
		}
		if line[i] != '`' {
			out.WriteByte(line[i])
			i++
			continue
		}
		run := backtickRun(line[i:])
		closeAt := -1
		for j := i + len(run); j < len(line); {
			if line[j] != '`' {
				j++
				continue
			}
			r := backtickRun(line[j:])
			if len(r) == len(run) {
				closeAt = j
				break
			}
			j += len(r)
		}
		if closeAt < 0 { // not a code span: the backticks are literal
			out.WriteString(run)
			i += len(run)
			continue
		}
		out.WriteString("CODE")
		i = closeAt + len(run)
	}
	return out.String()
}

var (
	// escaped is a backslash escape: the character is text.
	escaped = regexp.MustCompile(`\\[!-/:-@\[-` + "`" + `{-~]`)
	// rawMention is an @ that GitLab or GitHub would read as a mention.
	rawMention = regexp.MustCompile(`(^|[^\w])@[A-Za-z]`)
	// ourTags are the only HTML tags the comment may hold.
	ourTags = regexp.MustCompile(`^(<details>|<summary>|</summary>|</details>|<!-- enrolctl:site=[a-z]+ -->)`)
)

// checkProse fails when the interpreted part of a comment holds anything a name
// brought: an image, a link, a mention, an HTML tag other than the comment's own.
func checkProse(t *testing.T, body string) {
	t.Helper()
	text := escaped.ReplaceAllString(prose(body), "E")
	opened := 0
	for i := 0; i < len(text); i++ {
		switch {
		case strings.HasPrefix(text[i:], "!["), strings.HasPrefix(text[i:], "]("):
			t.Errorf("an image or link in the prose: %q", around(text, i))
		case text[i] == '<':
			tag := ourTags.FindString(text[i:])
			if tag == "" {
				t.Errorf("an HTML tag in the prose: %q", around(text, i))
				continue
			}
			switch tag {
			case "<details>":
				opened++
			case "</details>":
				opened--
				if opened < 0 {
					t.Errorf("a </details> closes a block the comment did not open: %q", around(text, i))
				}
			}
		}
	}
	if m := rawMention.FindStringIndex(text); m != nil {
		t.Errorf("a mention in the prose: %q", around(text, m[0]))
	}
	if opened != 0 {
		t.Errorf("%d <details> left open", opened)
	}
}

func around(s string, i int) string {
	return s[max(0, i-40):min(len(s), i+60)]
}

// Names from specs and Moodle render as text: no tag closes the comment's details,
// no mention pings, no image loads; on both platforms, whole and summarised, masked
// or not.
func TestAttackNamesCannotInjectMarkdown(t *testing.T) {
	p := evilPlan(t)
	for _, o := range []BodyOptions{
		{Site: "ecampus"},
		{Site: "ecampus", MaskUsernames: true},
		{Site: "ecampus", MaskUsernames: true, SummaryOnly: true},
		{Site: "ecampus", ShowUnmanaged: true},
	} {
		body, err := CommentBody(p, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("%+v", o), func(t *testing.T) {
			checkProse(t, body)
			if !o.SummaryOnly && !strings.Contains(body, "<details>") {
				t.Error("the fixture's comment has no folded block to break out of")
			}
		})
	}
}

// The checker itself finds each attack when a name goes in raw.
func TestCheckProseFindsRawNames(t *testing.T) {
	for _, md := range []string{
		"<details><summary>x</summary>\n\n- group " + evilGroup + "\n\n</details>\n",
		"- `" + evilFence + "`\n",
		"```\n" + evilFence + "\n```\n",
	} {
		ft := &testing.T{}
		func() { defer func() { recover() }(); checkProse(ft, md) }()
		if !ft.Failed() {
			t.Errorf("checkProse accepts %q", md)
		}
	}
}

// Every username is masked, in every field: changes, addresses, diagnostics and their
// did-you-mean suggestions, whatever characters the username holds.
func TestAttackMaskingCoversEveryField(t *testing.T) {
	p := evilPlan(t)
	for _, summary := range []bool{false, true} {
		body, err := CommentBody(p, BodyOptions{Site: "ecampus", MaskUsernames: true, SummaryOnly: summary, ShowUnmanaged: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"jean+test", "o'brien", "josé.müller", "21009539", "22000003", "o'brian", "jean+tset", "jose.muller"} {
			for _, form := range []string{u, strings.ReplaceAll(u, "'", "&#39;"), strings.ReplaceAll(u, "+", `\+`), strings.ReplaceAll(u, ".", `\.`)} {
				if strings.Contains(body, form) {
					t.Errorf("summary=%v: username %q shown as %q:\n%s", summary, u, form, around(body, strings.Index(body, form)))
				}
			}
		}
	}
}
