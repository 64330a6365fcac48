package diag

import (
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
