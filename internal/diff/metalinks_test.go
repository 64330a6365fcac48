package diff

import (
	"testing"

	"github.com/enrolctl/enrolctl/internal/state"
	"github.com/google/go-cmp/cmp"
)

// A removal that leaves users with no active enrolment in the course (not suspended,
// in an enabled method other than meta) names the courses whose meta method links to
// it, as Moodle's meta sync (sync_with_parent_course) then takes their access there.
func TestRemovalsReachTheCoursesLinkingByMeta(t *testing.T) {
	linked := []string{"L2-A", "L2-B"}
	metaM := state.Method{Type: state.Meta, Course: "PARENT", Enabled: true, ID: 5}
	selfM := state.Method{Type: state.Self, Name: "S", Enabled: true, ID: 6}
	cohort := cohortM("L1-2026", "student")
	cohort.ID = 7
	suspended := func(e state.Enrolment) state.Enrolment { e.Suspended = true; return e }
	type reach struct {
		Address string
		Users   int
		Courses []string
	}
	tests := []struct {
		name           string
		prune          state.Prune
		desiredMethods []state.Method
		methodsPrune   bool
		liveMethods    []state.Method
		live           []state.Enrolment
		linkedFrom     []string
		want           []reach
	}{
		{name: "last enrolment unenrolled", prune: state.PruneUnenrol,
			liveMethods: []state.Method{manualM}, live: []state.Enrolment{manual("u1", 0, "student")},
			linkedFrom: linked, want: []reach{{"course/C/enrolment/manual/u1", 1, linked}}},
		{name: "last enrolment suspended", prune: state.PruneSuspend,
			liveMethods: []state.Method{manualM}, live: []state.Enrolment{manual("u1", 0, "student")},
			linkedFrom: linked, want: []reach{{"course/C/enrolment/manual/u1", 1, linked}}},
		{name: "another active enrolment keeps the access", prune: state.PruneUnenrol,
			desiredMethods: []state.Method{manualM, selfM}, liveMethods: []state.Method{manualM, selfM},
			live:       []state.Enrolment{manual("u1", 0, "student"), enrol("self:S", "u1")},
			linkedFrom: linked, want: []reach{{"course/C/enrolment/manual/u1", 0, nil}}},
		{name: "a suspended enrolment is no access", prune: state.PruneUnenrol,
			desiredMethods: []state.Method{manualM, selfM}, liveMethods: []state.Method{manualM, selfM},
			live:       []state.Enrolment{manual("u1", 0, "student"), suspended(enrol("self:S", "u1"))},
			linkedFrom: linked, want: []reach{{"course/C/enrolment/manual/u1", 1, linked}}},
		{name: "nor is one of a disabled method, or of a meta method", prune: state.PruneUnenrol,
			desiredMethods: []state.Method{manualM, {Type: state.Self, Name: "S", ID: 6}, metaM},
			liveMethods:    []state.Method{manualM, {Type: state.Self, Name: "S", ID: 6}, metaM},
			live:           []state.Enrolment{manual("u1", 0, "student"), enrol("self:S", "u1"), enrol("meta:PARENT", "u1")},
			linkedFrom:     linked, want: []reach{{"course/C/enrolment/manual/u1", 1, linked}}},
		{name: "no course links here", prune: state.PruneUnenrol,
			liveMethods: []state.Method{manualM}, live: []state.Enrolment{manual("u1", 0, "student")},
			want: []reach{{"course/C/enrolment/manual/u1", 0, nil}}},
		{name: "a method deleted: the users it leaves without access", prune: state.PruneKeep,
			desiredMethods: []state.Method{manualM}, methodsPrune: true, liveMethods: []state.Method{manualM, cohort},
			live: []state.Enrolment{enrol("cohort:L1-2026:student", "u1"), enrol("cohort:L1-2026:student", "u2"),
				enrol("cohort:L1-2026:student", "u3"), manual("u2", 0, "student")},
			linkedFrom: linked, want: []reach{{"course/C/method/cohort:L1-2026:student", 2, linked}}},
		{name: "a method disabled", prune: state.PruneKeep,
			desiredMethods: []state.Method{manualM, {Type: state.Cohort, Cohort: "L1-2026", Role: "student"}},
			liveMethods:    []state.Method{manualM, cohort},
			live:           []state.Enrolment{enrol("cohort:L1-2026:student", "u1"), enrol("cohort:L1-2026:student", "u2")},
			linkedFrom:     linked, want: []reach{{"course/C/method/cohort:L1-2026:student", 2, linked}}},
		{name: "two removals of one user count them once, at the last", prune: state.PruneUnenrol,
			desiredMethods: []state.Method{manualM}, methodsPrune: true, liveMethods: []state.Method{manualM, selfM},
			live:       []state.Enrolment{manual("u1", 0, "student"), enrol("self:S", "u1")},
			linkedFrom: linked,
			want:       []reach{{"course/C/enrolment/manual/u1", 0, nil}, {"course/C/method/self:S", 1, linked}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			desired := state.Course{Shortname: "C", Methods: tc.desiredMethods,
				Options: state.Options{ManualPrune: tc.prune, MethodsPrune: tc.methodsPrune}}
			if desired.Methods == nil {
				desired.Methods = []state.Method{manualM}
			}
			observed := state.Course{Shortname: "C", Methods: tc.liveMethods, Enrolments: tc.live, LinkedFrom: tc.linkedFrom}
			plan := Compute(snap(desired), snap(observed)).Changes
			var got []reach
			for _, c := range plan {
				if c.Removes != nil {
					got = append(got, reach{c.Address, c.Removes.MetaUsers, c.Removes.MetaCourses})
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("removals (-want +got):\n%s", diff)
			}
			// A saved plan's removals reassessed on the same course reach the same.
			again := Reassess(plan, observed)
			if diff := cmp.Diff(plan, again); diff != "" {
				t.Errorf("Reassess on the same course (-plan +again):\n%s", diff)
			}
		})
	}
}
