package diff

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/state"
)

// TestDrift holds the ownership rules of docs/spec.md: only what was made by hand where
// the specs say who belongs is drift; what no spec manages stays unmanaged, and what
// the specs act on (prune, renew, methods_prune) is a change.
func TestDrift(t *testing.T) {
	selfM := state.Method{Type: state.Self, Name: "Open", Role: "student", Enabled: true, ID: 7}
	selfOff := state.Method{Type: state.Self, Name: "Closed", Role: "student", ID: 8}
	guestOn := state.Method{Type: state.Guest, Enabled: true, ID: 9}
	paypal := state.Method{Type: "paypal", Enabled: true, ID: 10}
	specCohort, policyCohort := cohortM("L1-2026", "student"), cohortM("L1-2026", "student")
	specCohort.Source, policyCohort.Source = state.Source{File: "c.yaml", Line: 3, Col: 5}, state.Source{File: "policies/l1.yaml", Line: 6, Col: 5}
	tests := []struct {
		name              string
		desired, observed state.Course
		want              []string
	}{
		{
			name:     "a manual enrolment the spec does not list, where it lists its users",
			desired:  state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", 0, "student")}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", 0, "student"), manual("u2", 0, "student")}},
			want:     []string{"?! course/C/enrolment/manual/u2 (unlisted-manual-enrolment)"},
		},
		{
			name:     "a course no spec lists users of (a policy's methods only): unmanaged",
			desired:  state.Course{Shortname: "C", Methods: []state.Method{cohortM("L1-2026", "student")}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM, cohortM("L1-2026", "student")}, Enrolments: []state.Enrolment{manual("u2", 0, "student")}},
			want:     []string{"? course/C/enrolment/manual/u2", "? course/C/method/manual [1]"},
		},
		{
			name: "an enrolment a renew selects counts as listed",
			desired: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", end2027, "student")},
				Renewals: []state.Renewal{{Policy: "renew", End: end2027}}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", end2027, "student"), manual("u2", end2027, "student")}},
			want:     nil,
		},
		{
			name: "prune suspend acts on the unlisted: a change, not drift",
			desired: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", 0, "student")},
				Options: state.Options{ManualPrune: state.PruneSuspend}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", 0, "student"), manual("u2", 0, "student")}},
			want:     []string{"~ course/C/enrolment/manual/u2 suspended=false>true [1/0] (manual-prune-suspend)"},
		},
		{
			name:    "an enabled method nobody declares where the specs declare methods; disabled, database, unknown plugins and duplicates are not drift",
			desired: state.Course{Shortname: "C", Spec: "c.yaml", Methods: []state.Method{specCohort}},
			observed: state.Course{Shortname: "C",
				Methods:    []state.Method{manualM, cohortM("L1-2026", "student"), selfM, selfOff, guestOn, dbM, paypal},
				Enrolments: []state.Enrolment{enrol("self:Open", "u3")}},
			want: []string{
				"? course/C/method/database [0]", "? course/C/method/manual [0]", "? course/C/method/paypal#10 [0]",
				"? course/C/method/self:Closed [0]",
				"?! course/C/method/guest (undeclared-method)",
				"?! course/C/method/self:Open (undeclared-method)",
			},
		},
		{
			name:     "a spec listing users only says nothing of the other methods",
			desired:  state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", 0, "student")}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM, selfM}, Enrolments: []state.Enrolment{manual("u1", 0, "student")}},
			want:     []string{"? course/C/method/self:Open [0]"},
		},
		{
			name:     "a policy's methods do not claim the course's others",
			desired:  state.Course{Shortname: "C", Spec: "c.yaml", Methods: []state.Method{policyCohort}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{cohortM("L1-2026", "student"), selfM}},
			want:     []string{"? course/C/method/self:Open [0]"},
		},
		{
			name:     "methods_prune deletes what drift would name",
			desired:  state.Course{Shortname: "C", Spec: "c.yaml", Methods: []state.Method{specCohort}, Options: state.Options{MethodsPrune: true}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{cohortM("L1-2026", "student"), selfM}},
			want:     []string{"- course/C/method/self:Open [0/0] (methods-prune)"},
		},
		{
			name: "a manual member the spec does not list in a group whose members it lists; synced members and groups without members are not drift",
			desired: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", 0, "student"), manual("u2", 0, "student")},
				Groups: []state.Group{{Name: "TP1", Members: []state.Member{{Username: "u1"}}}, {Name: "TP2"}}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM},
				Enrolments: []state.Enrolment{manual("u1", 0, "student"), manual("u2", 0, "student")},
				Groups: []state.Group{
					{Name: "TP1", Members: []state.Member{{Username: "u1"}, {Username: "u2"}, {Username: "u3", Component: "enrol_cohort"}}},
					{Name: "TP2", Members: []state.Member{{Username: "u2"}}},
				}},
			want: []string{"?! course/C/group/TP1/member/u2 (undeclared-member)"},
		},
		{
			name: "a member whom prune_members removes is a change",
			desired: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", 0, "student"), manual("u2", 0, "student")},
				Groups: []state.Group{{Name: "TP1", PruneMembers: true, Members: []state.Member{{Username: "u1"}}}}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM},
				Enrolments: []state.Enrolment{manual("u1", 0, "student"), manual("u2", 0, "student")},
				Groups:     []state.Group{{Name: "TP1", Members: []state.Member{{Username: "u1"}, {Username: "u2"}}}}},
			want: []string{"- course/C/group/TP1/member/u2 [0/0] (prune-members)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Compute(snap(tt.desired), snap(tt.observed))
			if diff := cmp.Diff(tt.want, brief(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if got, want := p.Summary().Drift, len(p.Drift); got != want || p.HasDrift() != (want > 0) {
				t.Errorf("Summary().Drift = %d, HasDrift %v; want %d", got, p.HasDrift(), want)
			}
		})
	}
}

// Undeclared members are counted before they are listed: a user Moodle lists twice
// in a group is drift once, synced and unenrolled members are not drift, and each
// drift names its own user.
func TestDriftMembersOnceEach(t *testing.T) {
	desired := state.Course{Shortname: "C", Methods: []state.Method{manualM}, Options: state.Options{ManualPrune: state.PruneUnenrol},
		Enrolments: []state.Enrolment{manual("u1", 0, "student"), manual("u2", 0, "student"), manual("t1", 0, "student")},
		Groups:     []state.Group{{Name: "TP1", Members: []state.Member{{Username: "u1"}}}}}
	observed := state.Course{Shortname: "C", Methods: []state.Method{manualM},
		Enrolments: []state.Enrolment{manual("u1", 0, "student"), manual("u2", 0, "student"), manual("u4", 0, "student"), manual("t1", 0, "student")},
		Groups: []state.Group{{Name: "TP1", Members: []state.Member{
			{Username: "u1"}, {Username: "u2"}, {Username: "u2"}, {Username: "u3", Component: "enrol_cohort"}, {Username: "u4"}, {Username: "t1"},
		}}}}
	p := Compute(snap(desired), snap(observed))
	var got []string
	for _, d := range p.Drift {
		if d.Member == nil || d.Address != state.MemberAddress("C", d.GroupName, d.Member.Username) {
			t.Errorf("drift %+v does not name its own member", d)
		}
		got = append(got, d.Address)
	}
	want := []string{"course/C/group/TP1/member/t1", "course/C/group/TP1/member/u2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
}

// The planner reads a spec's enrolments in place when they are sorted by username:
// in any other order, the plan is the same.
func TestPlanIgnoresSpecEnrolmentOrder(t *testing.T) {
	observed := state.Course{Shortname: "C", Methods: []state.Method{manualM},
		Enrolments: []state.Enrolment{manual("u1", end2026, "student"), manual("u2", 0, "student"), manual("u9", 0, "student")}}
	sorted := state.Course{Shortname: "C", Methods: []state.Method{manualM},
		Enrolments: []state.Enrolment{manual("u1", end2027, "student"), manual("u2", 0, "teacher"), manual("u3", end2027, "student")}}
	reversed := sorted
	reversed.Enrolments = slices.Clone(sorted.Enrolments)
	slices.Reverse(reversed.Enrolments)
	want := Compute(snap(sorted), snap(observed))
	if len(want.Changes) < 3 {
		t.Fatalf("the plan has %d changes, want a renewal, a role change and a new enrolment: %v", len(want.Changes), brief(want))
	}
	for _, d := range []state.Course{reversed, sorted} {
		if diff := cmp.Diff(brief(want), brief(Compute(snap(d), snap(observed)))); diff != "" {
			t.Errorf("plan (-sorted +this order):\n%s", diff)
		}
	}
}
