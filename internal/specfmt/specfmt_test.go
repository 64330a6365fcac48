package specfmt

import (
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{name: "a.yaml", in: "course: X\nmanual:\n    users:\n    - a   # first\n", want: "course: X\nmanual:\n  users:\n    - a # first\n"},
		{name: "two.yaml", in: "course: X\n---\ncourse:   Y\n", want: "course: X\n---\ncourse: Y\n"},
		{name: "quotes.yaml", in: "users: ['0123', \"21009539\", 2027-06-30]\n", want: "users: ['0123', \"21009539\", 2027-06-30]\n"},
		{name: "comments.yaml", in: "# nothing yet\n", want: "# nothing yet\n"},
		{name: "bad.yaml", in: "course: [x\n", err: "did not find expected"},
		{name: "a.hcl", in: "course \"X\" {\nprotect=true\n}\n", want: "course \"X\" {\n  protect = true\n}\n"},
		{name: "bad.hcl", in: "course \"X\" {\n", err: "Unclosed configuration block"},
	} {
		got, err := Format(tc.name, []byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: Format = %q, %v; want %q", tc.name, got, err, tc.want)
			continue
		}
		// The layout is a fixed point.
		if again, err := Format(tc.name, got); err != nil || string(again) != string(got) {
			t.Errorf("%s: formatting twice gives %q, %v", tc.name, again, err)
		}
	}
}
