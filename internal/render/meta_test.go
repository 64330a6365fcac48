package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// A removal that reaches the courses linking by meta says so on its own line, and
// alike removals collapsed into one line (fewer than --expand shows) sum their users.
func TestRemovalsThroughMetaLinks(t *testing.T) {
	suspend := func(u string, meta int, courses ...string) diff.Change {
		return diff.Change{Course: "P", Address: state.EnrolmentAddress("P", "manual", u), Kind: diff.KindEnrolment, Action: diff.Update,
			Enrolment: &state.Enrolment{Username: u, Method: "manual", Suspended: true},
			Fields:    []diff.FieldChange{{Field: diff.FieldSuspended, Old: &diff.Value{}, New: &diff.Value{Bool: true}}},
			Removes:   &diff.Removal{Effect: diff.EffectSuspend, Enrolments: 1, MetaUsers: meta, MetaCourses: courses}}
	}
	tests := []struct {
		name    string
		changes []diff.Change
		expand  bool
		want    string
	}{
		{"one course", []diff.Change{suspend("u1", 1, "L2-A")}, false,
			"suspends access; roles and grades are kept; 1 user loses access in L2-A too, which links to this course by meta: suspended there, or unenrolled if enrol_meta's unenrolaction says so"},
		{"two courses, expanded", []diff.Change{suspend("u1", 1, "L2-A", "L2-B"), suspend("u2", 0), suspend("u3", 1, "L2-A", "L2-B")}, true,
			"1 user loses access in L2-A, L2-B too, which link to this course by meta"},
		{"collapsed", []diff.Change{suspend("u1", 1, "L2-A", "L2-B"), suspend("u2", 0), suspend("u3", 1, "L2-A", "L2-B")}, false,
			"(2 lose access in L2-A, L2-B too, which link to this course by meta)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Text(&out, diff.Plan{Timezone: "UTC", Changes: tc.changes}, TextOptions{Expand: tc.expand}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("plan lacks %q:\n%s", tc.want, out.String())
			}
		})
	}
}
