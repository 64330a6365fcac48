package review

import (
	"regexp"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/diag"
)

func TestMaskOne(t *testing.T) {
	tests := map[string]string{
		"21009539":  "2100****39",
		"dumontj01": "dumo****01",
		"jdoe1":     "jd***1",
		"jdoe":      "j***",
		"a":         "***",
	}
	for in, want := range tests {
		if got := maskOne(in); got != want {
			t.Errorf("maskOne(%q) = %q, want %q", in, got, want)
		}
	}
}

// Two users whose masks would be the same get different ones, the same way every time.
func TestMaskerKeepsUsersApart(t *testing.T) {
	m := NewMasker([]string{"21001239", "21005639", "21009539"})
	a, b := m.Mask("21001239"), m.Mask("21005639")
	if a == b {
		t.Fatalf("two users share the mask %q", a)
	}
	if again := NewMasker([]string{"21005639", "21001239"}); again.Mask("21005639") != b {
		t.Errorf("masks depend on the order of the usernames")
	}
	if m.Mask("L1-INFO") != "L1-INFO" {
		t.Error("a word that is not a username was masked")
	}
}

func TestMaskerMarkdown(t *testing.T) {
	m := NewMasker([]string{"21009539", "dumontj01"})
	in := "- user 21009539 renewed.\n```diff\n! enrolment manual/21009539  end: a → b\n```\n" +
		"<summary>dumontj01</summary>\n`course/X/enrolment/manual/dumontj01` and x21009539 and 210095391\n"
	want := "- user 2100\\*\\*\\*\\*39 renewed.\n```diff\n! enrolment manual/2100****39  end: a → b\n```\n" +
		"<summary>dumo****01</summary>\n`course/X/enrolment/manual/dumo****01` and x21009539 and 210095391\n"
	if got := m.Markdown(in); got != want {
		t.Errorf("Markdown =\n%s\nwant\n%s", got, want)
	}
}

// With masking on, no username of the plan appears in the comment; masked, the same
// user is always shown the same way.
func TestCommentMasksEveryUsername(t *testing.T) {
	p := renewalPlan(t, 3, 40)
	users := PlanUsernames(p)
	if len(users) != 3*41 {
		t.Fatalf("fixture names %d users, want %d", len(users), 3*41)
	}
	for _, limit := range []int{GitLabLimit, 3000} { // the full plan, and the summary
		body, err := CommentBody(p, BodyOptions{Site: "ecampus", MaskUsernames: true, Limit: limit,
			Header: "Approved removals for user 21000001."})
		if err != nil {
			t.Fatal(err)
		}
		tokens := regexp.MustCompile(`[A-Za-z0-9_.@-]+`).FindAllString(body, -1)
		inBody := map[string]bool{}
		for _, tok := range tokens {
			inBody[tok] = true
		}
		for _, u := range users {
			if inBody[u] || strings.Contains(body, u) {
				t.Fatalf("limit %d: username %s appears in the comment", limit, u)
			}
		}
		unmasked, err := CommentBody(p, BodyOptions{Site: "ecampus", Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if limit == GitLabLimit && !strings.Contains(unmasked, users[0]) {
			t.Errorf("without masking the comment does not name %s", users[0])
		}
	}
}

// A plan stopped by errors names users in its diagnostics only; they are masked too,
// with the did-you-mean (another user of the site).
func TestCommentMasksUsersInDiagnostics(t *testing.T) {
	p := renewalPlan(t, 1, 1)
	p.Changes = nil
	p.Diagnostics = diag.Diagnostics{
		{File: "specs/a.yaml", Line: 3, Col: 7, Severity: diag.Error, Message: `unknown user "2100953": no user has this username on the site`, Suggestion: "21009539",
			Code: diag.UnknownUser, Subject: diag.Subject{Course: "C1", User: "2100953"}},
		{File: "specs/a.yaml", Line: 5, Col: 7, Severity: diag.Error, Message: `user "dumontj01" is listed twice in this course (first at specs/a.yaml:4:7)`,
			Code: diag.DuplicateUser, Subject: diag.Subject{User: "dumontj01"}},
	}
	body, err := CommentBody(p, BodyOptions{Site: "ecampus", MaskUsernames: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"2100953", "21009539", "dumontj01"} {
		if strings.Contains(body, u) {
			t.Errorf("%s appears in the comment:\n%s", u, body)
		}
	}
	if !strings.Contains(body, "specs/a.yaml:3:7") {
		t.Errorf("the diagnostic's place is gone:\n%s", body)
	}
}
