package diag

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		d    Diagnostic
		want string
	}{
		{Diagnostic{File: "a.yaml", Line: 3, Col: 5, Message: "unknown field \"rle\"", Suggestion: "role"}, `a.yaml:3:5: unknown field "rle" (did you mean "role"?)`},
		{Diagnostic{File: "a.yaml", Line: 1, Col: 1, Severity: Warning, Message: "odd"}, `a.yaml:1:1: warning: odd`},
		{Diagnostic{File: "a.yaml", Message: "cannot read"}, `a.yaml: cannot read`},
	}
	for _, tt := range tests {
		if got := tt.d.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestSortAndHasErrors(t *testing.T) {
	ds := Diagnostics{
		{File: "b.yaml", Line: 1, Col: 1, Message: "x"},
		{File: "a.yaml", Line: 9, Col: 1, Message: "y", Severity: Warning},
		{File: "a.yaml", Line: 2, Col: 7, Message: "z"},
		{File: "a.yaml", Line: 2, Col: 7, Message: "z"},
	}
	got := ds.Sort()
	want := Diagnostics{
		{File: "a.yaml", Line: 2, Col: 7, Message: "z"},
		{File: "a.yaml", Line: 9, Col: 1, Message: "y", Severity: Warning},
		{File: "b.yaml", Line: 1, Col: 1, Message: "x"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Sort (-want +got):\n%s", d)
	}
	if !got.HasErrors() || (Diagnostics{{Severity: Warning}}).HasErrors() {
		t.Error("HasErrors wrong")
	}
	if (Diagnostics{{Severity: Warning}}).Err() != nil {
		t.Error("Err of warnings only must be nil")
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"role", "until", "from", "username", "suspended", "groups"}
	tests := map[string]string{"rol": "role", "untill": "until", "Role": "role", "frm": "from", "zzzzzz": "", "group": "groups"}
	for in, want := range tests {
		if got := Suggest(in, known); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWithSourceAndPretty(t *testing.T) {
	files := map[string]string{
		"a.yaml":    "course: A\nmanual:\n  until: 31/08/2027\n  users: [\"2100953\", x]\n",
		"conf.yaml": "sites:\n  prod:\n    token: f00df00df00df00df00df00df00df00d\n",
	}
	read := func(f string) ([]byte, error) {
		if s, ok := files[f]; ok {
			return []byte(s), nil
		}
		return nil, errors.New("no such file")
	}
	ds := Diagnostics{
		Errorf(Pos{"a.yaml", 3, 10}, "until: bad date").WithSuggestion("2027-08-31"),
		Errorf(Pos{"a.yaml", 4, 11}, "unknown user"),
		Errorf(Pos{"conf.yaml", 3, 5}, "tokens are never written in files"),
		Errorf(Pos{"gone.yaml", 1, 1}, "cannot read"),
		Warnf(Pos{File: "a.yaml"}, "whole file"),
	}.WithSource(read)
	want := []string{
		"a.yaml:3:10: until: bad date (did you mean \"2027-08-31\"?)\n    3 |   until: 31/08/2027\n      |          ^^^^^^^^^^",
		"a.yaml:4:11: unknown user\n    4 |   users: [\"2100953\", x]\n      |           ^^^^^^^^^",
		"conf.yaml:3:5: tokens are never written in files", // the line holds a token: never shown
		"gone.yaml:1:1: cannot read",
		"a.yaml: warning: whole file",
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Pretty())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Pretty (-want +got):\n%s", diff)
	}
	if ds[0].EndLine != 3 || ds[0].EndCol != 20 {
		t.Errorf("range end = %d:%d, want 3:20", ds[0].EndLine, ds[0].EndCol)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	in := Diagnostics{
		{File: "a.yaml", Line: 3, Col: 10, EndLine: 3, EndCol: 20, Severity: Error, Message: "bad date", Suggestion: "2027-08-31", Snippet: "  until: 31/08/2027"},
		{Severity: Warning, Message: "no file"},
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"severity":"error","file":"a.yaml","line":3,"column":10,"end_line":3,"end_column":20,"message":"bad date","suggestion":"2027-08-31","snippet":"  until: 31/08/2027"},{"severity":"warning","message":"no file"}]`
	if string(b) != want {
		t.Errorf("JSON:\n%s\nwant:\n%s", b, want)
	}
	var out Diagnostics
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("round trip (-in +out):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`[{"severity":"fatal","message":"x"}]`), &out); err == nil {
		t.Error("severity fatal was accepted")
	}
}

// A diagnostic on a very long line shows a window around its column, with the caret
// still under the token, never the whole line.
func TestPrettyLongLine(t *testing.T) {
	bad := "31/08/2027"
	tests := []struct {
		name   string
		before int // bytes before the bad token
		after  int // bytes after it
	}{
		{"near the start", 5, 100000},
		{"in the middle", 50000, 50000},
		{"at the end", 100000, 0},
		{"accents before", 3000, 3000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fill := "x"
			if tt.name == "accents before" {
				fill = "é"
			}
			prefix := strings.Repeat(fill, tt.before/len(fill))
			line := prefix + bad + strings.Repeat("y", tt.after)
			d := Diagnostic{File: "a.yaml", Line: 1, Col: len(prefix) + 1, EndLine: 1,
				EndCol: len(prefix) + 1 + len(bad), Message: "bad date", Snippet: line}
			out := d.Pretty()
			if len(out) > 3*maxSnippet+100 {
				t.Fatalf("Pretty printed %d bytes for a %d-byte line", len(out), len(line))
			}
			lines := strings.Split(out, "\n")
			src, carets := lines[1], lines[2]
			i := strings.Index(carets, "^")
			if i < 0 {
				t.Fatalf("no caret:\n%s", out)
			}
			// Columns of the caret line are characters of the shown line.
			shown := []rune(src)
			if got := string(shown[i : i+len(bad)]); got != bad {
				t.Errorf("caret under %q, want %q:\n%s", got, bad, out)
			}
			if n := strings.Count(carets, "^"); n != len(bad) {
				t.Errorf("%d carets, want %d", n, len(bad))
			}
		})
	}
}

// Text is the one wording of a suggestion, which Error and every renderer use.
func TestText(t *testing.T) {
	d := Errorf(Pos{"a.yaml", 3, 5}, "unknown role %q", "studnet")
	if got := d.Text(); got != `unknown role "studnet"` {
		t.Errorf("Text without a suggestion = %s", got)
	}
	d = d.WithSuggestion(`stu"dent`)
	if got, want := d.Text(), `unknown role "studnet" (did you mean "stu\"dent"?)`; got != want {
		t.Errorf("Text = %s, want %s", got, want)
	}
	if got := d.Error(); got != "a.yaml:3:5: "+d.Text() {
		t.Errorf("Error = %s, not the place and Text", got)
	}
}
