package apply

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
)

func TestReport(t *testing.T) {
	partial := Result{Changes: []ChangeResult{
		{Address: "course/A/group/TP1", Course: "A", Kind: diff.KindGroup, Action: diff.Create, Outcome: Applied},
		{Address: "course/B/enrolment/manual/u1", Course: "B", Kind: diff.KindEnrolment, Action: diff.Update, User: "u1", Outcome: Failed, ErrorCode: "invalidrole", Error: "no"},
		{Address: "course/A/enrolment/manual/u2", Course: "A", Kind: diff.KindEnrolment, Action: diff.Create, User: "u2", Outcome: Unknown, ErrorCode: "transport"},
		{Address: "course/B/group/TP2", Course: "B", Kind: diff.KindGroup, Action: diff.Create, Outcome: NotAttempted},
	}}
	tests := []struct {
		name string
		res  Result
		want Status
	}{
		{"nothing", Result{}, StatusNoChanges},
		{"all applied", Result{Changes: partial.Changes[:1]}, StatusCompleted},
		{"some failed", partial, StatusIncomplete},
		{"interrupted", Result{Changes: partial.Changes, Interrupted: true}, StatusInterrupted},
	}
	for _, tt := range tests {
		if got := StatusOf(tt.res); got != tt.want {
			t.Errorf("%s: StatusOf = %s, want %s", tt.name, got, tt.want)
		}
	}

	r := NewReport(StatusOf(partial), partial, FailureDiagnostics(diff.Plan{}, partial, false))
	if r.Summary != (Summary{Applied: 1, Failed: 1, Unknown: 1, NotAttempted: 1}) {
		t.Errorf("summary %+v", r.Summary)
	}
	wantCourses := []CourseOutcome{
		{Course: "A", Summary: Summary{Applied: 1, Unknown: 1}, Changes: []ChangeResult{partial.Changes[0], partial.Changes[2]}},
		{Course: "B", Summary: Summary{Failed: 1, NotAttempted: 1}, Changes: []ChangeResult{partial.Changes[1], partial.Changes[3]}},
	}
	if d := cmp.Diff(wantCourses, r.Courses); d != "" {
		t.Errorf("courses (-want +got):\n%s", d)
	}
	if len(r.Diagnostics) != 2 || r.Diagnostics[0].Message != "course B, user u1: update course/B/enrolment/manual/u1 failed (Moodle errorcode invalidrole): no" {
		t.Errorf("diagnostics %v", r.Diagnostics)
	}

	// The document: versioned, never null lists, reads back.
	var b bytes.Buffer
	if err := NewReport(StatusRefused, Result{}, nil).Encode(&b); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["format_version"] != ReportFormat || doc["status"] != "refused" || doc["courses"] == nil || doc["diagnostics"] == nil {
		t.Errorf("refused report: %s", b.String())
	}
	b.Reset()
	if err := r.Encode(&b); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r, back, cmp.Comparer(func(a, b diag.Diagnostic) bool { return a == b })); d != "" {
		t.Errorf("report does not read back (-want +got):\n%s", d)
	}
}
