package review

import (
	"regexp"
	"strings"
	"testing"
)

// Whatever the markdown around them, masked usernames never appear as whole tokens.
func FuzzMaskerMarkdown(f *testing.F) {
	f.Add("21009539", "- user 21009539 renewed.\n```diff\n! enrolment manual/21009539\n```\n")
	f.Add("dumontj01", "<summary>dumontj01</summary> `x/dumontj01` dumontj01.")
	f.Add("a.b-c", "a.b-c. -a.b-c- `a.b-c`")
	f.Fuzz(func(t *testing.T, user, md string) {
		if user == "" || strings.Trim(user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-") != "" ||
			strings.Trim(user, ".-") != user {
			t.Skip() // not a username the masker handles
		}
		out := NewMasker([]string{user}).Markdown(md)
		for _, tok := range regexp.MustCompile(`[A-Za-z0-9_.@-]+`).FindAllString(out, -1) {
			if strings.Trim(tok, ".-") == user {
				t.Fatalf("%q still shows %q:\n%s", md, user, out)
			}
		}
	})
}

// The Link header parser never returns a negative page, whatever GitHub (or a proxy)
// sends.
func FuzzNextPage(f *testing.F) {
	f.Add(`<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=5>; rel="last"`)
	f.Add(`<>; rel="next"`)
	f.Add(`<https://api.github.com/x?page=-3>; rel="next"`)
	f.Fuzz(func(t *testing.T, link string) {
		// Never a negative page; 0 means the last page.
		if n := nextPage(link); n < 0 {
			t.Fatalf("nextPage(%q) = %d", link, n)
		}
	})
}
