package diff

import (
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
)

// With SkipUnknownUsers, a user the site lacks is a warning and out of the plan, the
// rest is planned, and the caller's desired state is left as it was.
func TestSkipUnknownUsers(t *testing.T) {
	desired := state.Snapshot{Courses: []state.Course{{
		Shortname:  "C1",
		Methods:    []state.Method{{Type: state.Manual, Enabled: true}},
		Enrolments: []state.Enrolment{{Username: "known", Method: "manual", Roles: []string{"student"}}, {Username: "ghost", Method: "manual", Roles: []string{"student"}, Source: state.Source{File: "specs/c1.yaml", Line: 5, Col: 7}}},
		Groups:     []state.Group{{Name: "TP1", Members: []state.Member{{Username: "ghost", Source: state.Source{File: "specs/c1.yaml", Line: 6, Col: 16}}, {Username: "known"}}}},
	}}}
	observed := state.Snapshot{
		Courses:   []state.Course{{Shortname: "C1", ID: 1, Methods: []state.Method{{Type: state.Manual, Enabled: true, ID: 1}}}},
		Directory: state.Directory{Users: map[string]int64{"known": 7}},
	}
	strict := ComputeWithOptions(desired, observed, Options{})
	if n := len(strict.Diagnostics); n != 1 || !strict.Diagnostics.HasErrors() || len(strict.Changes) != 0 {
		t.Fatalf("default: %d diagnostic(s) %v and %d change(s); want the one error, no change", n, strict.Diagnostics, len(strict.Changes))
	}
	p := ComputeWithOptions(desired, observed, Options{SkipUnknownUsers: true})
	if p.Diagnostics.HasErrors() || len(p.Diagnostics) != 1 || p.Diagnostics[0].Severity != diag.Warning || !strings.Contains(p.Diagnostics[0].Message, `"ghost"`) {
		t.Fatalf("skip: diagnostics %v; want one warning naming ghost", p.Diagnostics)
	}
	if len(p.Changes) == 0 {
		t.Fatal("skip: nothing planned for the known user")
	}
	for _, c := range p.Changes {
		if strings.Contains(c.Address, "ghost") {
			t.Errorf("skip: planned %s", c.Address)
		}
	}
	if len(desired.Courses[0].Enrolments) != 2 || len(desired.Courses[0].Groups[0].Members) != 2 {
		t.Errorf("the caller's desired state was modified: %+v", desired.Courses[0])
	}
}
