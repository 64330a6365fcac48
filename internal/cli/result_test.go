package cli

import (
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

func TestPrintResultPartialFailure(t *testing.T) {
	res := apply.Result{Changes: []apply.ChangeResult{
		{Address: "course/A/group/TP1", Course: "A", Kind: diff.KindGroup, Action: diff.Create, Outcome: apply.Applied},
		{Address: "course/B/enrolment/manual/21009539", Course: "B", Kind: diff.KindEnrolment, Action: diff.Update, Outcome: apply.Failed,
			User: "21009539", ErrorCode: "invalidrole", Error: "moodle: local_enrolctl_set_enrolments (course B, user 21009539): invalidrole: Role 9 cannot be assigned in course 4."},
		{Address: "course/B/method/cohort:X:student", Course: "B", Kind: diff.KindMethod, Action: diff.Delete, Outcome: apply.NotAttempted},
		{Address: "course/B/group/TP2", Course: "B", Kind: diff.KindGroup, Action: diff.Create, Outcome: apply.Applied},
	}}
	var out strings.Builder
	a := &App{Streams: Streams{Out: &out}}
	a.printResult(res)
	want := `
course A: 1 applied
course B: 1 applied, 1 failed, 1 not attempted
Apply incomplete: 2 applied, 1 failed, 1 not attempted (--expand lists them). Fix the errors reported and run apply again: it converges the rest.
`
	if out.String() != want {
		t.Errorf("printResult:\n%s\nwant:\n%s", out.String(), want)
	}
}

// The failed change of the same result is a diagnostic on stderr, at the spec line
// that declared it, naming the course, the user and Moodle's errorcode.
func TestApplyFailureIsADiagnostic(t *testing.T) {
	res := apply.Result{Changes: []apply.ChangeResult{
		{Address: "course/A/group/TP1", Course: "A", Kind: diff.KindGroup, Action: diff.Create, Outcome: apply.Applied},
		{Address: "course/B/enrolment/manual/21009539", Course: "B", Kind: diff.KindEnrolment, Action: diff.Update, Outcome: apply.Failed,
			User: "21009539", ErrorCode: "invalidrole", Error: "Role 9 cannot be assigned in course 4."},
	}}
	p := diff.Plan{Changes: []diff.Change{
		{Address: "course/A/group/TP1", Course: "A", Kind: diff.KindGroup, Action: diff.Create, Group: &state.Group{Name: "TP1"}},
		{Address: "course/B/enrolment/manual/21009539", Course: "B", Kind: diff.KindEnrolment, Action: diff.Update,
			Enrolment: &state.Enrolment{Username: "21009539", Method: "manual", Source: state.Source{File: "specs/b.yaml", Line: 4, Col: 7}}},
	}}
	var errOut strings.Builder
	a := &App{Streams: Streams{Err: &errOut}}
	a.printDiagnostics(apply.FailureDiagnostics(p, res, false))
	want := "specs/b.yaml:4:7: course B, user 21009539: update course/B/enrolment/manual/21009539 failed (Moodle errorcode invalidrole): Role 9 cannot be assigned in course 4.\n"
	if errOut.String() != want {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", errOut.String(), want)
	}
}
