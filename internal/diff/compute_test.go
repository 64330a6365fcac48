package diff

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
)

// brief renders a plan compactly so table tests read like plans:
//
//	"+ course/C/method/cohort:X:student enabled=true group="
//	"- course/C/enrolment/manual/u [1/1] (manual-prune-unenrol)"
//	"? course/C/method/database [2]"
//
// Values are raw (dates as UTC dates or timestamps, roles joined by commas), reasons are
// codes with their subject: the wording is render's.
func brief(p Plan) []string {
	var out []string
	for _, c := range p.Changes {
		s := c.Action.Symbol() + " " + c.Address
		for _, f := range c.Fields {
			if f.Old == nil {
				s += fmt.Sprintf(" %s=%s", f.Field, show(f.Field, f.New))
			} else {
				s += fmt.Sprintf(" %s=%s>%s", f.Field, show(f.Field, f.Old), show(f.Field, f.New))
			}
		}
		if c.Removes != nil {
			s += fmt.Sprintf(" [%d/%d]", c.Removes.Enrolments, c.Removes.LastEnrolments)
		}
		if c.Reason != nil {
			s += " (" + strings.TrimSpace(string(c.Reason.Code)+" "+c.Reason.Subject) + ")"
		}
		out = append(out, s)
	}
	for _, u := range p.Unmanaged {
		s := "? " + u.Address
		if u.Method != nil && !u.Duplicate {
			s += fmt.Sprintf(" [%d]", u.Enrolments)
		}
		out = append(out, s)
	}
	for _, d := range p.Drift {
		out = append(out, "?! "+d.Address+" ("+string(d.Code)+")")
	}
	for _, d := range p.Diagnostics {
		out = append(out, "! "+d.Error())
	}
	return out
}

// show writes a value compactly: dates in UTC as plans show them.
func show(f Field, v *Value) string {
	switch f {
	case FieldEnabled, FieldSuspended:
		return fmt.Sprint(v.Bool)
	case FieldStart:
		return state.FormatStart(v.Int, time.UTC)
	case FieldEnd:
		return state.FormatEnd(v.Int, time.UTC)
	case FieldMaxUsers:
		if v.Int == 0 {
			return "unlimited"
		}
		return fmt.Sprint(v.Int)
	case FieldGroup:
		if v.Text == "" {
			return "none"
		}
		return v.Text
	}
	if len(v.Roles) == 0 {
		return "none"
	}
	return strings.Join(v.Roles, ",")
}

var dir = state.Directory{
	Users:          map[string]int64{"u1": 1, "u2": 2, "u3": 3, "u4": 4, "t1": 10},
	Cohorts:        map[string]state.CohortInfo{"L1-2026": {ID: 1, Members: 100}, "L2-2026": {ID: 2}},
	Roles:          map[string]int64{"student": 5, "editingteacher": 3, "teacher": 4},
	Courses:        map[string]int64{"C": 1, "D": 2, "PARENT": 3},
	EnabledPlugins: []string{"manual", "self", "guest", "cohort", "meta", "database"},
}

func manual(u string, end int64, roles ...string) state.Enrolment {
	return state.Enrolment{Username: u, Method: "manual", Roles: roles, End: end}
}

func enrol(method, u string) state.Enrolment {
	return state.Enrolment{Username: u, Method: method, Roles: []string{"student"}}
}

func cohortM(c, role string) state.Method {
	return state.Method{Type: state.Cohort, Cohort: c, Role: role, Enabled: true}
}

var (
	manualM = state.Method{Type: state.Manual, Enabled: true, ID: 1}
	dbM     = state.Method{Type: state.Database, Enabled: true, ID: 2}
)

const (
	end2026 = 1782864000 // 2026-07-01T00:00:00Z: "until 2026-06-30" in UTC
	end2027 = 1814400000 // 2027-07-01T00:00:00Z
)

func snap(cs ...state.Course) state.Snapshot { return state.Snapshot{Courses: cs, Directory: dir} }

func TestCompute(t *testing.T) {
	tests := []struct {
		name              string
		desired, observed state.Course
		want              []string
	}{
		{
			name:     "in sync",
			desired:  state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", end2027, "student")}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", end2027, "student")}},
			want:     nil,
		},
		{
			name: "method creates, with the group a cohort method needs",
			desired: state.Course{Shortname: "C", Methods: []state.Method{
				{Type: state.Cohort, Cohort: "L1-2026", Role: "student", Group: "Promo 2026", Enabled: true, Source: state.Source{File: "c.yaml", Line: 3, Col: 5}},
				{Type: state.Meta, Course: "PARENT", Enabled: true},
				{Type: state.Self, Name: "Teachers", Role: "editingteacher", MaxUsers: 5, Enabled: false},
				{Type: state.Guest, Enabled: true},
			}},
			observed: state.Course{Shortname: "C"},
			want: []string{
				"+ course/C/group/Promo 2026 (group-of-method cohort:L1-2026:student)",
				"+ course/C/method/cohort:L1-2026:student enabled=true group=Promo 2026",
				"+ course/C/method/guest enabled=true",
				"+ course/C/method/meta:PARENT enabled=true group=none",
				"+ course/C/method/self:Teachers enabled=false role=editingteacher max_users=5",
			},
		},
		{
			name: "method updates compare only managed fields; a disable is a removal",
			desired: state.Course{Shortname: "C", Methods: []state.Method{
				{Type: state.Self, Name: "Open", Role: "student", MaxUsers: 0, Enabled: true},
				{Type: state.Cohort, Cohort: "L1-2026", Role: "student", Enabled: false},
				{Type: state.Meta, Course: "PARENT", Name: "renamed", Enabled: true},
			}},
			observed: state.Course{Shortname: "C",
				Methods: []state.Method{
					{Type: state.Self, Name: "Open", Role: "teacher", MaxUsers: 30, Enabled: true, ID: 7},
					{Type: state.Cohort, Cohort: "L1-2026", Role: "student", Group: "G", Enabled: true, ID: 8},
					{Type: state.Meta, Course: "PARENT", Name: "old name", Enabled: true, ID: 9},
				},
				Enrolments: []state.Enrolment{enrol("cohort:L1-2026:student", "u1"), enrol("cohort:L1-2026:student", "u2")},
				Groups:     []state.Group{{Name: "G"}},
			},
			want: []string{
				"~ course/C/method/self:Open role=teacher>student max_users=30>unlimited",
				"~ course/C/method/cohort:L1-2026:student enabled=true>false group=G>none [2/0]",
			},
		},
		{
			name:     "declared database method present: never compared",
			desired:  state.Course{Shortname: "C", Methods: []state.Method{{Type: state.Database, Enabled: true}}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{{Type: state.Database, Enabled: false, ID: 2}}},
			want:     nil,
		},
		{
			name:     "declared database method absent: an error, never a create",
			desired:  state.Course{Shortname: "C", Methods: []state.Method{{Type: state.Database, Enabled: true, Source: state.Source{File: "c.yaml", Line: 2, Col: 5}}}},
			observed: state.Course{Shortname: "C"},
			want: []string{
				"! c.yaml:2:5: course C has no database method: it is created by the nightly sync from the student-records system; enrolctl cannot create it",
			},
		},
		{
			name:    "undeclared methods are unmanaged without methods_prune",
			desired: state.Course{Shortname: "C"},
			observed: state.Course{Shortname: "C",
				Methods: []state.Method{cohortM("L2-2026", "student"), dbM, {Type: "muprog", ID: 12, Enabled: true}},
				Enrolments: []state.Enrolment{
					enrol("cohort:L2-2026:student", "u1"), enrol("cohort:L2-2026:student", "u2"), enrol("database", "u1"),
				},
			},
			want: []string{
				"? course/C/method/cohort:L2-2026:student [2]",
				"? course/C/method/database [1]",
				"? course/C/method/muprog#12 [0]",
			},
		},
		{
			name:    "methods_prune deletes known methods but never database nor unknown plugins",
			desired: state.Course{Shortname: "C", Options: state.Options{MethodsPrune: true}},
			observed: state.Course{Shortname: "C",
				Methods: []state.Method{cohortM("L2-2026", "student"), dbM, {Type: "muprog", ID: 12, Enabled: true}},
				Enrolments: []state.Enrolment{
					enrol("cohort:L2-2026:student", "u1"), enrol("cohort:L2-2026:student", "u2"), enrol("database", "u1"),
				},
			},
			want: []string{
				"- course/C/method/cohort:L2-2026:student [2/1] (methods-prune)",
				"? course/C/method/database [1]",
				"? course/C/method/muprog#12 [0]",
			},
		},
		{
			name: "enrolment create, renewal, reactivation, role change; other methods untouched",
			desired: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{
				manual("u1", end2027, "student"),
				{Username: "u2", Method: "manual", Roles: []string{"student"}, End: end2027},
				manual("u3", 0, "editingteacher"),
				{Username: "u4", Roles: []string{"student"}, End: end2027, Start: 1788220800},
			}},
			observed: state.Course{Shortname: "C",
				Methods: []state.Method{manualM, dbM},
				Enrolments: []state.Enrolment{
					{Username: "u2", Method: "manual", Roles: []string{"student"}, End: end2026, Suspended: true},
					manual("u3", 0, "student", "teacher"),
					enrol("database", "u1"), enrol("database", "t1"),
				},
			},
			want: []string{
				"+ course/C/enrolment/manual/u1 role=student start=none end=2027-06-30 suspended=false (keep-access-after-database)",
				"~ course/C/enrolment/manual/u2 end=2026-06-30>2027-06-30 suspended=true>false (reactivate)",
				"~ course/C/enrolment/manual/u3 role=student,teacher>editingteacher",
				"+ course/C/enrolment/manual/u4 role=student start=2026-09-01 end=2027-06-30 suspended=false",
				"? course/C/method/database [2]",
			},
		},
		{
			name:     "manual enrolments imply the manual method",
			desired:  state.Course{Shortname: "C", Enrolments: []state.Enrolment{manual("u1", 0, "student")}},
			observed: state.Course{Shortname: "C"},
			want: []string{
				"+ course/C/method/manual enabled=true (implied-manual-method)",
				"+ course/C/enrolment/manual/u1 role=student start=none end=never suspended=false",
			},
		},
		{
			name:     "desired suspension is a removal",
			desired:  state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{{Username: "u1", Roles: []string{"student"}, Suspended: true}}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", 0, "student")}},
			want:     []string{"~ course/C/enrolment/manual/u1 suspended=false>true [1/0]"},
		},
		{
			name:    "manual prune keep (default) reports each user",
			desired: state.Course{Shortname: "C", Methods: []state.Method{manualM}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{
				manual("u1", end2026, "student"), {Username: "u2", Method: "manual", Roles: []string{"student"}, Suspended: true},
			}},
			want: []string{
				"? course/C/enrolment/manual/u1",
				"? course/C/enrolment/manual/u2",
			},
		},
		{
			name:    "manual prune suspend skips those already suspended",
			desired: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Options: state.Options{ManualPrune: state.PruneSuspend}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{
				manual("u1", end2026, "student"), {Username: "u2", Method: "manual", Roles: []string{"student"}, Suspended: true},
			}},
			want: []string{
				"~ course/C/enrolment/manual/u1 suspended=false>true [1/0] (manual-prune-suspend)",
			},
		},
		{
			name:    "manual prune unenrol: last enrolment or not",
			desired: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Options: state.Options{ManualPrune: state.PruneUnenrol}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM, dbM},
				Enrolments: []state.Enrolment{manual("u1", 0, "student"), manual("u2", 0, "student"), enrol("database", "u2")}},
			want: []string{
				"- course/C/enrolment/manual/u1 [1/1] (manual-prune-unenrol)",
				"- course/C/enrolment/manual/u2 [1/0] (manual-prune-unenrol)",
				"? course/C/method/database [1]",
			},
		},
		{
			name: "conversion: users get manual enrolments before their cohort method is deleted",
			desired: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Options: state.Options{MethodsPrune: true},
				Enrolments: []state.Enrolment{manual("u1", end2027, "student"), manual("u2", end2027, "student")}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM, cohortM("L1-2026", "student")},
				Enrolments: []state.Enrolment{enrol("cohort:L1-2026:student", "u1"), enrol("cohort:L1-2026:student", "u2"), enrol("cohort:L1-2026:student", "u3")}},
			want: []string{
				"+ course/C/enrolment/manual/u1 role=student start=none end=2027-06-30 suspended=false (convert-before-method-deletion cohort:L1-2026:student)",
				"+ course/C/enrolment/manual/u2 role=student start=none end=2027-06-30 suspended=false (convert-before-method-deletion cohort:L1-2026:student)",
				"- course/C/method/cohort:L1-2026:student [3/1] (methods-prune)",
			},
		},
		{
			name: "a manual method declared absent takes its enrolments with it",
			desired: state.Course{Shortname: "C", Options: state.Options{ManualPrune: state.PruneUnenrol},
				Methods: []state.Method{{Type: state.Manual, Absent: true, Source: state.Source{File: "c.yaml", Line: 3, Col: 5}}}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM},
				Enrolments: []state.Enrolment{manual("u1", 0, "student"), manual("u2", 0, "student")}},
			want: []string{"- course/C/method/manual [2/2] (declared-absent)"},
		},
		{
			name:    "methods_prune never deletes the manual method",
			desired: state.Course{Shortname: "C", Options: state.Options{MethodsPrune: true}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM, cohortM("L1-2026", "student")},
				Enrolments: []state.Enrolment{manual("t1", 0, "editingteacher")}},
			want: []string{
				"- course/C/method/cohort:L1-2026:student [0/0] (methods-prune)",
				"? course/C/enrolment/manual/t1",
				"? course/C/method/manual [1]",
			},
		},
		{
			name: "an absent method that does not exist plans nothing",
			desired: state.Course{Shortname: "C",
				Methods: []state.Method{{Type: state.Cohort, Cohort: "L1-2026", Role: "student", Absent: true}}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM}},
			want:     []string{"? course/C/method/manual [0]"},
		},
		{
			name: "groups and memberships",
			desired: state.Course{Shortname: "C", Methods: []state.Method{manualM},
				Enrolments: []state.Enrolment{manual("u1", 0, "student"), manual("u2", 0, "student")},
				Groups: []state.Group{
					{Name: "TP1", Members: []state.Member{{Username: "u1"}, {Username: "u2"}}, PruneMembers: true},
					{Name: "TP2", Members: []state.Member{{Username: "u1"}}},
					{Name: "TP3", Members: []state.Member{{Username: "u3"}}},
				}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM, cohortM("L1-2026", "student")},
				Enrolments: []state.Enrolment{manual("u1", 0, "student"), enrol("cohort:L1-2026:student", "u3"), manual("u4", 0, "student")},
				Groups: []state.Group{
					{Name: "TP1", Members: []state.Member{{Username: "u1"}, {Username: "u3", Component: "enrol_cohort"}, {Username: "u4"}}},
					{Name: "TP3", Members: []state.Member{{Username: "u1"}}},
					{Name: "Other", Members: []state.Member{{Username: "u4"}}},
				}},
			want: []string{
				"+ course/C/group/TP2",
				"+ course/C/enrolment/manual/u2 role=student start=none end=never suspended=false",
				"+ course/C/group/TP1/member/u2",
				"+ course/C/group/TP2/member/u1",
				"+ course/C/group/TP3/member/u3",
				"- course/C/group/TP1/member/u4 [0/0] (prune-members)",
				"? course/C/method/cohort:L1-2026:student [1]",
				"?! course/C/enrolment/manual/u4 (unlisted-manual-enrolment)",
				"?! course/C/group/TP3/member/u1 (undeclared-member)",
			},
		},
		{
			name: "a declared membership held through a deleted cohort method is added back after the deletion",
			desired: state.Course{Shortname: "C", Options: state.Options{MethodsPrune: true},
				Methods:    []state.Method{manualM, cohortM("L2-2026", "student")},
				Enrolments: []state.Enrolment{manual("u1", 0, "student")},
				Groups:     []state.Group{{Name: "Promo", Members: []state.Member{{Username: "u1"}, {Username: "u2"}}}}},
			observed: state.Course{Shortname: "C",
				Methods:    []state.Method{manualM, cohortM("L1-2026", "student"), cohortM("L2-2026", "student")},
				Enrolments: []state.Enrolment{enrol("cohort:L1-2026:student", "u1"), enrol("cohort:L2-2026:student", "u2")},
				Groups: []state.Group{{Name: "Promo", Members: []state.Member{
					{Username: "u1", Component: "enrol_cohort"}, {Username: "u2", Component: "enrol_cohort"},
				}}}},
			want: []string{
				"+ course/C/enrolment/manual/u1 role=student start=none end=never suspended=false (convert-before-method-deletion cohort:L1-2026:student)",
				"- course/C/method/cohort:L1-2026:student [1/0] (methods-prune)",
				"+ course/C/group/Promo/member/u1 (readd-after-method-removal enrol_cohort)",
			},
		},
		{
			name: "memberships a deleted cohort method takes are added back for users who stay, declared or not",
			desired: state.Course{Shortname: "C", Options: state.Options{MethodsPrune: true},
				Methods:    []state.Method{manualM},
				Enrolments: []state.Enrolment{manual("u1", 0, "student")}},
			observed: state.Course{Shortname: "C",
				Methods:    []state.Method{manualM, cohortM("L1-2026", "student")},
				Enrolments: []state.Enrolment{enrol("cohort:L1-2026:student", "u1"), enrol("cohort:L1-2026:student", "u2")},
				Groups: []state.Group{{Name: "Promo", Members: []state.Member{
					{Username: "u1", Component: "enrol_cohort"}, {Username: "u2", Component: "enrol_cohort"},
				}}}},
			want: []string{
				"+ course/C/enrolment/manual/u1 role=student start=none end=never suspended=false (convert-before-method-deletion cohort:L1-2026:student)",
				"- course/C/method/cohort:L1-2026:student [2/1] (methods-prune)",
				"+ course/C/group/Promo/member/u1 (restore-synced-membership enrol_cohort)",
			},
		},
		{
			name: "site checks point at the desired object, suggest what the site has, and stop the whole plan",
			desired: state.Course{Shortname: "C", Methods: []state.Method{
				manualM,
				{Type: state.Cohort, Cohort: "L1-2062", Role: "student", Group: "Never created", Enabled: true, Source: state.Source{File: "c.yaml", Line: 3, Col: 5}},
				{Type: state.Cohort, Cohort: "NOPE", Role: "student", Enabled: true, Source: state.Source{File: "c.yaml", Line: 6, Col: 5}},
			},
				Enrolments: []state.Enrolment{
					{Username: "ghost", Roles: []string{"student"}, Source: state.Source{File: "c.yaml", Line: 14, Col: 7}},
					{Username: "u11", Roles: []string{"student"}, Source: state.Source{File: "c.yaml", Line: 15, Col: 7}},
					{Username: "u1", Roles: []string{"student"}, Source: state.Source{File: "c.yaml", Line: 16, Col: 7}},
				},
				Groups: []state.Group{{Name: "TP1", Source: state.Source{File: "c.yaml", Line: 17, Col: 5}, Members: []state.Member{{Username: "nobody", Source: state.Source{File: "c.yaml", Line: 19, Col: 9}}}}},
			},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Groups: []state.Group{{Name: "TP1"}}},
			want: []string{
				`! c.yaml:3:5: unknown cohort "L1-2062": no cohort has this idnumber on the site (did you mean "L1-2026"?)`,
				`! c.yaml:6:5: unknown cohort "NOPE": no cohort has this idnumber on the site`,
				`! c.yaml:14:7: unknown user "ghost": no user has this username on the site`,
				`! c.yaml:15:7: unknown user "u11": no user has this username on the site (did you mean "u1"?)`,
				`! c.yaml:19:9: unknown user "nobody": no user has this username on the site`,
			},
		},
		{
			name: "a group member who is not enrolled stops the plan",
			desired: state.Course{Shortname: "C", Methods: []state.Method{manualM},
				Enrolments: []state.Enrolment{manual("u1", 0, "student")},
				Groups:     []state.Group{{Name: "TP1", Members: []state.Member{{Username: "u1"}, {Username: "u2", Source: state.Source{File: "c.yaml", Line: 18, Col: 9}}}}}},
			observed: state.Course{Shortname: "C", Methods: []state.Method{manualM}, Groups: []state.Group{{Name: "TP1"}}},
			want: []string{
				`! c.yaml:18:9: user "u2" is not enrolled in C, neither now nor by this plan; Moodle only puts enrolled users in groups`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Compute(snap(tt.desired), snap(tt.observed))
			if diff := cmp.Diff(tt.want, brief(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			checkUserSubjects(t, p.Diagnostics)
		})
	}
}

// checkUserSubjects fails when a diagnostic that quotes a user does not name that user
// in its subject: comment masking reads the subject, never the message.
func checkUserSubjects(t *testing.T, ds diag.Diagnostics) {
	t.Helper()
	for _, d := range ds {
		if _, rest, ok := strings.Cut(d.Message, `user "`); ok {
			if user, _, _ := strings.Cut(rest, `"`); d.Subject.User != user || d.Code == "" {
				t.Errorf("%s: code %q, subject %+v; want a code and user %q", d.Message, d.Code, d.Subject, user)
			}
		}
	}
}

func TestComputeDisabledPlugin(t *testing.T) {
	d := dir
	d.EnabledPlugins = []string{"manual", "database"}
	desired := state.Snapshot{Courses: []state.Course{{Shortname: "C", Methods: []state.Method{
		{Type: state.Self, Name: "Open", Enabled: true, Source: state.Source{File: "c.yaml", Line: 4, Col: 5}},
		{Type: state.Guest, Enabled: true, Source: state.Source{File: "c.yaml", Line: 7, Col: 5}},
	}}}}
	observed := state.Snapshot{Directory: d, Courses: []state.Course{{Shortname: "C",
		Methods: []state.Method{{Type: state.Guest, Enabled: false, ID: 3}}}}}
	got := brief(Compute(desired, observed))
	want := []string{
		// An existing instance of a disabled plugin may still be updated (guest has no
		// error); only creates are refused, and the error stops the plan.
		"! c.yaml:4:5: the enrolment plugin self is disabled on this site; enable it before creating this method",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func TestComputeMissingCourse(t *testing.T) {
	desired := state.Snapshot{Courses: []state.Course{
		{Shortname: "GONE", Sources: []string{"specs/gone.yaml"}},
		{Shortname: "C", Methods: []state.Method{{Type: state.Guest, Enabled: true}}},
	}}
	observed := snap(state.Course{Shortname: "C"})
	got := Compute(desired, observed)
	// Nothing is planned while an error stands, not even in the course that exists.
	want := Plan{
		FormatVersion: FormatVersion, Timezone: "UTC", Limits: DefaultLimits(),
		Changes:     []Change{},
		Diagnostics: diag.Diagnostics{{File: "specs/gone.yaml", Message: "course GONE was not read from Moodle; nothing can be planned for it"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

// The full Change of a removal, as apply and the JSON plan see it.
func TestComputeRemovalDetail(t *testing.T) {
	desired := snap(state.Course{Shortname: "C", Options: state.Options{ManualPrune: state.PruneUnenrol}, Methods: []state.Method{manualM}})
	observed := snap(state.Course{Shortname: "C", Methods: []state.Method{manualM},
		Enrolments: []state.Enrolment{{Username: "u1", Method: "manual", Roles: []string{"student"}, UserID: 1}}})
	got := Compute(desired, observed).Changes
	want := []Change{{
		Address: "course/C/enrolment/manual/u1", Course: "C", Kind: KindEnrolment, Action: Delete,
		Reason:    &Reason{Code: ReasonManualPruneUnenrol},
		Enrolment: &state.Enrolment{Username: "u1", Method: "manual", Roles: []string{"student"}, UserID: 1},
		Removes:   &Removal{Effect: EffectUnenrol, Enrolments: 1, LastEnrolments: 1},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestComputeOrdering(t *testing.T) {
	desired := snap(
		state.Course{Shortname: "B", Methods: []state.Method{manualM}, Options: state.Options{MethodsPrune: true, ManualPrune: state.PruneUnenrol},
			Enrolments: []state.Enrolment{manual("u1", 0, "student")},
			Groups:     []state.Group{{Name: "G", PruneMembers: true, Members: []state.Member{{Username: "u1"}}}}},
		state.Course{Shortname: "A", Methods: []state.Method{{Type: state.Guest, Enabled: false}, {Type: state.Self, Name: "S", Enabled: true}}},
	)
	observed := snap(
		state.Course{Shortname: "A", Methods: []state.Method{{Type: state.Guest, Enabled: true}}},
		state.Course{Shortname: "B", Methods: []state.Method{manualM, cohortM("L1-2026", "student")},
			Enrolments: []state.Enrolment{manual("u2", 0, "student"), enrol("cohort:L1-2026:student", "u3"), {Username: "u4", Method: "manual"}},
			Groups:     []state.Group{{Name: "G", Members: []state.Member{{Username: "u2"}}}}},
	)
	type step struct {
		Course  string
		Stage   int
		Address string
	}
	var got []step
	for _, c := range Compute(desired, observed).Changes {
		got = append(got, step{c.Course, Stage(c), c.Address})
	}
	want := []step{
		{"A", StageMethodChanges, "course/A/method/self:S"},
		{"A", StageMethodRemovals, "course/A/method/guest"},
		{"B", StageEnrolmentChanges, "course/B/enrolment/manual/u1"},
		{"B", StageMemberCreates, "course/B/group/G/member/u1"},
		{"B", StageMemberDeletes, "course/B/group/G/member/u2"},
		{"B", StageEnrolmentRemovals, "course/B/enrolment/manual/u2"},
		{"B", StageEnrolmentRemovals, "course/B/enrolment/manual/u4"},
		{"B", StageMethodRemovals, "course/B/method/cohort:L1-2026:student"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// Inputs in any order give the same plan.
func TestComputeDeterministic(t *testing.T) {
	a := state.Course{Shortname: "C", Options: state.Options{ManualPrune: state.PruneSuspend},
		Methods:    []state.Method{cohortM("L1-2026", "student"), manualM, cohortM("L2-2026", "student")},
		Enrolments: []state.Enrolment{manual("u2", 0, "student"), manual("u1", end2027, "teacher")},
		Groups:     []state.Group{{Name: "Z", Members: []state.Member{{Username: "u2"}, {Username: "u1"}}}, {Name: "A"}}}
	b := a
	b.Methods = []state.Method{a.Methods[2], a.Methods[1], a.Methods[0]}
	b.Enrolments = []state.Enrolment{a.Enrolments[1], a.Enrolments[0]}
	b.Groups = []state.Group{a.Groups[1], {Name: "Z", Members: []state.Member{{Username: "u1"}, {Username: "u2"}}}}
	obs := state.Course{Shortname: "C", Methods: []state.Method{manualM},
		Enrolments: []state.Enrolment{manual("u3", 0, "student"), manual("u9", 0)}}
	pa := Compute(snap(a), snap(obs))
	pb := Compute(snap(b), snap(obs))
	// Sources are equal (empty), so the whole plans must be equal.
	if diff := cmp.Diff(pa, pb); diff != "" {
		t.Errorf("plans differ with input order (-a +b):\n%s", diff)
	}
	if len(pa.Changes) == 0 {
		t.Fatal("expected changes")
	}
}

// The site zone reaches the plan's fields (render shows them as days there).
func TestPlanKeepsTheSiteZone(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	midnightParis := time.Date(2027, 7, 1, 0, 0, 0, 0, paris).Unix()
	desired := snap(state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: []state.Enrolment{manual("u1", midnightParis, "student")}})
	observed := snap(state.Course{Shortname: "C", Methods: []state.Method{manualM}})
	p := ComputeWithOptions(desired, observed, Options{Location: paris})
	if got := strings.Join(brief(p), "\n"); !strings.Contains(got, "end=2027-06-30") {
		t.Errorf("plan does not show the end as a site-zone date:\n%s", got)
	}
}

func TestKeepStartLeavesTheLiveStart(t *testing.T) {
	start, oldEnd, newEnd := int64(1756677600), int64(1782856800), int64(1814392800)
	observed := state.Snapshot{Courses: []state.Course{{Shortname: "C",
		Methods:    []state.Method{{Type: state.Manual, Enabled: true, ID: 1}},
		Enrolments: []state.Enrolment{{Username: "u1", Method: "manual", Roles: []string{"student"}, Start: start, End: oldEnd}},
	}}}
	tests := []struct {
		name      string
		keepStart bool
		want      []FieldChange
		wantStart int64
	}{
		{"no from in the spec: only the end changes", true, []FieldChange{{Field: FieldEnd, Old: &Value{Int: oldEnd}, New: &Value{Int: newEnd}}}, start},
		{"from: none declared: the start is cleared", false, []FieldChange{{Field: FieldStart, Old: &Value{Int: start}, New: &Value{}}, {Field: FieldEnd, Old: &Value{Int: oldEnd}, New: &Value{Int: newEnd}}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desired := state.Snapshot{Courses: []state.Course{{Shortname: "C",
				Methods:    []state.Method{{Type: state.Manual, Enabled: true}},
				Enrolments: []state.Enrolment{{Username: "u1", Method: "manual", Roles: []string{"student"}, End: newEnd, KeepStart: tt.keepStart}},
			}}}
			p := Compute(desired, observed)
			if len(p.Changes) != 1 {
				t.Fatalf("changes = %+v, want one update", p.Changes)
			}
			if d := cmp.Diff(tt.want, p.Changes[0].Fields); d != "" {
				t.Errorf("fields (-want +got):\n%s", d)
			}
			if got := p.Changes[0].Enrolment.Start; got != tt.wantStart {
				t.Errorf("the state apply sends has start %d, want %d", got, tt.wantStart)
			}
		})
	}
}

// The plan is whole: fingerprints of the courses it changes, protected courses, and the
// refusals apply will make, judged by Guard with the plan's limits and approvals.
func TestComputeWholePlan(t *testing.T) {
	var live []state.Enrolment
	for i := range 12 {
		live = append(live, state.Enrolment{Username: fmt.Sprintf("u%02d", i), Method: "manual", Roles: []string{"student"}})
	}
	desired := snap(
		state.Course{Shortname: "C", Options: state.Options{ManualPrune: state.PruneUnenrol}, Methods: []state.Method{manualM}},
		state.Course{Shortname: "D", Options: state.Options{Protect: true, ManualPrune: state.PruneSuspend}, Methods: []state.Method{manualM}},
		state.Course{Shortname: "PARENT", Options: state.Options{Protect: true}},
	)
	observed := snap(
		state.Course{Shortname: "C", Methods: []state.Method{manualM}, Enrolments: live},
		state.Course{Shortname: "D", Methods: []state.Method{manualM}, Enrolments: live[:1]},
		state.Course{Shortname: "PARENT"},
	)
	p := Compute(desired, observed)
	c, _ := observed.Course("C")
	d, _ := observed.Course("D")
	if want := map[string]string{"C": c.ManagedFingerprint(), "D": d.ManagedFingerprint()}; !cmp.Equal(p.Fingerprints, want) {
		t.Errorf("fingerprints = %v, want the two changed courses' %v", p.Fingerprints, want)
	}
	if want := []string{"D", "PARENT"}; !slices.Equal(p.Protected, want) {
		t.Errorf("protected = %v, want %v", p.Protected, want)
	}
	want := []Refusal{
		{Code: RefuseCourseLimit, Course: "C", Changes: 12, Enrolments: 12, Total: 12},
		{Code: RefuseProtected, Course: "D", Changes: 1, Enrolments: 1},
	}
	if d := cmp.Diff(want, p.Refusals); d != "" {
		t.Errorf("refusals (-want +got):\n%s", d)
	}
	if d := cmp.Diff(p.Refusals, Guard(p.Changes, p.Protected, observed, p.Limits, p.Approvals)); d != "" {
		t.Errorf("the plan's refusals are not Guard's (-plan +guard):\n%s", d)
	}
	// Approved removals lift the limits, never the protection.
	approved := ComputeWithOptions(desired, observed, Options{Approvals: Approvals{Removals: true}})
	if d := cmp.Diff(want[1:], approved.Refusals); d != "" {
		t.Errorf("approved refusals (-want +got):\n%s", d)
	}
	// Limits are the plan's: a looser limit refuses nothing in C.
	loose := Limits{MaxRemovals: 20, MaxShare: 1, MaxSiteRemovals: 20}
	if got := ComputeWithOptions(desired, observed, Options{Limits: &loose}).Refusals; !cmp.Equal(got, want[1:]) {
		t.Errorf("refusals with loose limits = %+v, want only the protected course", got)
	}
}

// A field's value is written as the field's own JSON type (the plan document's old
// and new), and read back only as that type.
func TestFieldValueJSON(t *testing.T) {
	for _, tt := range []struct {
		field Field
		v     Value
		want  string
	}{
		{FieldEnd, Value{Int: 1782856800}, `1782856800`},
		{FieldEnd, Value{}, `0`},
		{FieldRole, Value{Roles: []string{"student", "teacher"}}, `["student","teacher"]`},
		{FieldRole, Value{}, `[]`},
		{FieldEnabled, Value{Bool: true}, `true`},
		{FieldGroup, Value{Text: "Promo 2026"}, `"Promo 2026"`},
		{FieldMaxUsers, Value{Int: 30}, `30`},
	} {
		b, err := tt.field.Encode(tt.v)
		if err != nil || string(b) != tt.want {
			t.Errorf("%s.Encode(%+v) = %s, %v; want %s", tt.field, tt.v, b, err, tt.want)
		}
		back, err := tt.field.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tt.v, back); d != "" {
			t.Errorf("%s round trip (-want +got):\n%s", tt.field, d)
		}
	}
	for _, bad := range []struct {
		field Field
		data  string
	}{{"colour", `1`}, {FieldEnd, `"2027-06-30"`}, {FieldEnabled, ``}, {FieldRole, `"student"`}} {
		if v, err := bad.field.Decode([]byte(bad.data)); err == nil {
			t.Errorf("%s %s was accepted as %+v", bad.field, bad.data, v)
		}
	}
}

// Several roles (as import writes them) are kept, never set: a renewal leaves them to
// Moodle (no role sent), and a spec asking for roles Moodle does not have is an error.
func TestSeveralRolesAreKeptNotSet(t *testing.T) {
	live := state.Course{Shortname: "C", Methods: []state.Method{manualM},
		Enrolments: []state.Enrolment{manual("u1", 0, "student", "teacher")}}
	renewed := state.Course{Shortname: "C", Methods: []state.Method{manualM},
		Enrolments: []state.Enrolment{manual("u1", end2027, "teacher", "student")}}
	p := Compute(snap(renewed), snap(live))
	if p.Diagnostics.HasErrors() || len(p.Changes) != 1 {
		t.Fatalf("renewing a two-role user: %+v %v", p.Changes, p.Diagnostics)
	}
	c := p.Changes[0]
	if c.Enrolment.Roles != nil || len(c.Fields) != 1 || c.Fields[0].Field != FieldEnd {
		t.Errorf("the renewal must change the end only and send no role (Moodle keeps both): %+v", c)
	}

	other := state.Course{Shortname: "C", Methods: []state.Method{manualM},
		Enrolments: []state.Enrolment{manual("u1", 0, "editingteacher", "student")}}
	p = Compute(snap(other), snap(live))
	if !p.Diagnostics.HasErrors() || p.HasChanges() {
		t.Fatalf("setting two roles must be refused: %+v %v", p.Changes, p.Diagnostics)
	}
	if msg := p.Diagnostics[0].Message; !strings.Contains(msg, `user "u1": roles editingteacher, student: enrolctl gives a manual enrolment one role`) {
		t.Errorf("message: %s", msg)
	}
	checkUserSubjects(t, p.Diagnostics)
}

// Compute finishes the plan document: the caller's provenance as given, the specs'
// diagnostics merged with the site checks' (with their source lines), and nothing
// planned while one of them is an error.
func TestComputeFinishesThePlan(t *testing.T) {
	desired := state.Course{Shortname: "C", Methods: []state.Method{manualM}, Groups: []state.Group{{Name: "TP1"}}}
	live := state.Course{Shortname: "C", Methods: []state.Method{manualM}}
	prov := Provenance{CreatedAt: "2026-12-07T01:00:00Z", Site: "ecampus", Commit: "4f9c2e1", Dirty: true, SpecsDigest: "sha256:ab"}
	read := func(file string) ([]byte, error) { return []byte("course: C\ngroups: [TP1]\n"), nil }
	warn := diag.Warnf(diag.Pos{File: "c.yaml", Line: 2, Col: 1}, "a warning of the specs")
	p := ComputeWithOptions(snap(desired), snap(live), Options{Provenance: prov, SpecDiagnostics: diag.Diagnostics{warn}, Source: read})
	if p.CreatedAt != prov.CreatedAt || p.Site != prov.Site || p.Commit != prov.Commit || !p.Dirty || p.SpecsDigest != prov.SpecsDigest {
		t.Errorf("provenance not recorded: %+v", p)
	}
	if len(p.Changes) != 1 || len(p.Diagnostics) != 1 || p.Diagnostics[0].Snippet != "groups: [TP1]" || len(p.Fingerprints) != 1 {
		t.Fatalf("a warning stops nothing and shows its line: %+v %+v", p.Changes, p.Diagnostics)
	}
	bad := diag.Errorf(diag.Pos{File: "c.yaml", Line: 1, Col: 1}, "an error of the specs")
	p = ComputeWithOptions(snap(desired), snap(live), Options{Provenance: prov, SpecDiagnostics: diag.Diagnostics{bad, warn}})
	if len(p.Changes) != 0 || p.Changes == nil || p.Unmanaged != nil || p.Fingerprints != nil || p.Refusals != nil || len(p.Diagnostics) != 2 || p.Site != "ecampus" {
		t.Errorf("an error of the specs must leave a plan with no changes and both diagnostics: %+v", p)
	}
}
