package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/state"
)

var paris, _ = time.LoadLocation("Europe/Paris")

// endOf is the exclusive end of a whole day in the site zone, as specs write `until`.
func endOf(y int, m time.Month, d int) int64 { return time.Date(y, m, d+1, 0, 0, 0, 0, paris).Unix() }

func manual(u string, role string, end int64) state.Enrolment {
	return state.Enrolment{Username: u, Method: "manual", Roles: []string{role}, End: end}
}

func enrolmentOf(t *testing.T, c state.Course, method, user string) state.Enrolment {
	t.Helper()
	for _, e := range c.Enrolments {
		if e.Method == method && e.Username == user {
			return e
		}
	}
	t.Fatalf("no %s enrolment of %s in %s; have %+v", method, user, c.Shortname, c.Enrolments)
	return state.Enrolment{}
}

func TestMethodsLifecycle(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		users := w.users(t, 3)
		cohort := w.cohort(t, users[:2])
		parent, course := w.course(t), w.course(t)

		// Create one of each method enrolctl manages.
		desired := state.Course{Shortname: course,
			Methods: []state.Method{
				{Type: state.Manual, Enabled: true},
				{Type: state.Cohort, Cohort: cohort, Role: "student", Group: "Promo", Enabled: true},
				{Type: state.Meta, Course: parent, Enabled: true},
				{Type: state.Self, Name: "Accès enseignants", Role: "student", Enabled: false, MaxUsers: 30},
			},
			Groups: []state.Group{{Name: "Promo"}},
		}
		if tg.disabledPlugin != "guest" {
			desired.Methods = append(desired.Methods, state.Method{Type: state.Guest, Enabled: true})
		}
		p, after := w.converge(t, []state.Course{desired})
		// Moodle gives every new course a manual instance, and disabled guest and self
		// ones for enabled plugins: guest is changed, cohort, meta, self and the group added.
		want := 4
		if tg.disabledPlugin != "guest" {
			want++
		}
		if s := p.Summary(); s.Add+s.Change != want {
			t.Errorf("first plan: %+v, want %d adds and changes", s, want)
		}
		c := after.Courses[0]
		// The cohort sync enrolled the cohort's members at once, into the group.
		for _, u := range users[:2] {
			e := enrolmentOf(t, c, "cohort:"+cohort+":student", u)
			if !slices.Equal(e.Roles, []string{"student"}) {
				t.Errorf("cohort member %s roles = %v, want [student]", u, e.Roles)
			}
		}
		g, _ := c.Group("Promo")
		if len(g.Members) != 2 || g.Members[0].Component != "enrol_cohort" {
			t.Errorf("group Promo members = %+v, want the 2 cohort members owned by enrol_cohort", g.Members)
		}

		// Change: disable the cohort sync, enable self with another limit, no group.
		desired.Methods[1].Enabled = false
		desired.Methods[1].Group = ""
		desired.Methods[3].Enabled = true
		desired.Methods[3].MaxUsers = 10
		p, after = w.converge(t, []state.Course{desired})
		if s := p.Summary(); s.Change != 2 {
			t.Errorf("change plan: %+v, want 2 changes", s)
		}
		m, _ := after.Courses[0].Method("self:Accès enseignants")
		if !m.Enabled || m.MaxUsers != 10 {
			t.Errorf("self after update = %+v", m)
		}

		// Remove the cohort, meta and self methods: pruning is opt-in per course.
		desired.Methods = desired.Methods[:1]
		desired.Options.MethodsPrune = true
		p, after = w.converge(t, []state.Course{desired})
		if s := p.Summary(); s.Remove < 3 {
			t.Errorf("prune plan removes %d, want 3 or more", s.Remove)
		}
		for _, m := range after.Courses[0].Methods {
			if m.Type != state.Manual {
				t.Errorf("method %s still there after prune", m.Key())
			}
		}
		if n := len(after.Courses[0].Enrolments); n != 0 {
			t.Errorf("%d enrolments left after the cohort method was removed, want 0", n)
		}
	})
}

func TestManualEnrolmentsLifecycle(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		users := w.users(t, 4)
		course := w.course(t)
		june := endOf(2027, time.June, 30)
		desired := state.Course{Shortname: course,
			Methods: []state.Method{{Type: state.Manual, Enabled: true}},
			Enrolments: []state.Enrolment{
				manual(users[0], "student", june),
				manual(users[1], "student", june),
				manual(users[2], "editingteacher", 0),
				manual(users[3], "student", june),
			},
		}
		_, after := w.converge(t, []state.Course{desired})
		if e := enrolmentOf(t, after.Courses[0], "manual", users[2]); !slices.Equal(e.Roles, []string{"editingteacher"}) || e.End != 0 {
			t.Errorf("teacher enrolment = %+v", e)
		}

		// Renew one, suspend one, change a role.
		sept := endOf(2027, time.September, 1)
		desired.Enrolments[0].End = sept
		desired.Enrolments[1].Suspended = true
		desired.Enrolments[3].Roles = []string{"teacher"}
		p, after := w.converge(t, []state.Course{desired})
		if s := p.Summary(); s.Change != 3 || s.Add != 0 || s.Remove != 0 {
			t.Errorf("renewal plan %+v, want 3 changes", s)
		}
		c := after.Courses[0]
		if e := enrolmentOf(t, c, "manual", users[0]); e.End != sept {
			t.Errorf("renewed end = %d, want %d", e.End, sept)
		}
		if e := enrolmentOf(t, c, "manual", users[1]); !e.Suspended {
			t.Errorf("%s not suspended", users[1])
		}
		if e := enrolmentOf(t, c, "manual", users[3]); !slices.Equal(e.Roles, []string{"teacher"}) {
			t.Errorf("role change: roles = %v, want [teacher]", e.Roles)
		}

		// Reactivate, and unenrol the user no longer listed (prune: unenrol).
		desired.Enrolments[1].Suspended = false
		desired.Enrolments = desired.Enrolments[:3]
		desired.Options.ManualPrune = state.PruneUnenrol
		p, after = w.converge(t, []state.Course{desired})
		var removal *diff.Removal
		for _, ch := range p.Changes {
			if ch.Action == diff.Delete {
				removal = ch.Removes
			}
		}
		if removal == nil || removal.LastEnrolments != 1 {
			t.Errorf("unenrolment removal = %+v, want it to say it is the user's last enrolment", removal)
		}
		if got := len(after.Courses[0].EnrolmentsOf(users[3])); got != 0 {
			t.Errorf("%s still has %d enrolments", users[3], got)
		}
		if e := enrolmentOf(t, after.Courses[0], "manual", users[1]); e.Suspended {
			t.Errorf("%s not reactivated", users[1])
		}
	})
}

func TestGroupsAndMemberships(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		users := w.users(t, 3)
		course := w.course(t)
		desired := state.Course{Shortname: course,
			Methods:    []state.Method{{Type: state.Manual, Enabled: true}},
			Enrolments: []state.Enrolment{manual(users[0], "student", 0), manual(users[1], "student", 0), manual(users[2], "student", 0)},
			Groups: []state.Group{
				{Name: "TP1", Members: []state.Member{{Username: users[0]}, {Username: users[1]}}},
				{Name: "TP2", Members: []state.Member{{Username: users[2]}}, PruneMembers: true},
			},
		}
		_, after := w.converge(t, []state.Course{desired})
		g, _ := after.Courses[0].Group("TP1")
		if len(g.Members) != 2 {
			t.Errorf("TP1 members = %+v", g.Members)
		}
		// Move users[2] from TP2 to TP1: TP2 prunes its undeclared manual members.
		desired.Groups[0].Members = append(desired.Groups[0].Members, state.Member{Username: users[2]})
		desired.Groups[1].Members = nil
		_, after = w.converge(t, []state.Course{desired})
		if g, _ := after.Courses[0].Group("TP2"); len(g.Members) != 0 {
			t.Errorf("TP2 members = %+v, want none", g.Members)
		}
	})
}

func TestFailures(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		ctx := context.Background()
		w := newWorld(t, tg)
		course := w.course(t)

		t.Run("bad token", func(t *testing.T) {
			c, err := moodle.New(moodle.Config{URL: tg.url, Token: "00000000000000000000000000000000"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.SiteStatus(ctx)
			if moodle.Code(err) != "invalidtoken" {
				t.Errorf("bad token: %v, want invalidtoken", err)
			}
		})
		t.Run("unknown course", func(t *testing.T) {
			_, err := tg.client.CourseStates(ctx, []int64{987654321})
			if code := moodle.Code(err); code != "invalidrecord" && code != "invalidrecordunknown" {
				t.Errorf("unknown course: %v, want invalidrecord(unknown)", err)
			}
		})
		t.Run("unknown user", func(t *testing.T) {
			// At plan time, an unknown user is a problem that names the spec line.
			desired := state.Course{Shortname: course, Methods: []state.Method{{Type: state.Manual, Enabled: true}},
				Enrolments: []state.Enrolment{{Username: "nosuchuser-" + tg.prefix, Method: "manual", Roles: []string{"student"}, Source: state.Source{File: "specs/x.yaml", Line: 7, Col: 7}}}}
			p, _ := w.plan(t, []state.Course{desired})
			if len(p.Diagnostics) != 1 || p.Diagnostics[0].At().String() != "specs/x.yaml:7:7" {
				t.Errorf("diagnostics = %+v, want one at specs/x.yaml:7:7", p.Diagnostics)
			}
			// At apply time, Moodle refuses an unknown user id.
			_, obs := w.converge(t, []state.Course{{Shortname: course, Methods: []state.Method{{Type: state.Manual, Enabled: true}}}})
			m, _ := obs.Courses[0].Method("manual")
			res, err := moodle.Write(ctx, tg.client, []moodle.SetEnrolment{{CourseID: obs.Courses[0].ID, InstanceID: m.ID, UserID: 987654321, RoleID: 5}})
			if o, ok := res.Course(obs.Courses[0].ID); err != nil || !ok || o.Outcome != moodle.Failed || o.ErrorCode != "unknownuser" || o.Index != 0 {
				t.Errorf("unknown user at apply: %+v, %v; want unknownuser at item 0 of the course", res, err)
			}
		})
		t.Run("plugin disabled", func(t *testing.T) {
			if tg.disabledPlugin == "" {
				t.Skip("set ENROLCTL_E2E_DISABLED_PLUGIN to a plugin disabled on this site")
			}
			desired := state.Course{Shortname: course, Methods: []state.Method{{Type: state.MethodType(tg.disabledPlugin), Enabled: true}}}
			p, _ := w.plan(t, []state.Course{desired})
			if len(p.Diagnostics) != 1 {
				t.Errorf("plan diagnostics = %+v, want one naming the disabled plugin", p.Diagnostics)
			}
			id := obsCourseID(t, w, course)
			res, err := moodle.Write(ctx, tg.client, []moodle.AddInstance{{CourseID: id, Enrol: tg.disabledPlugin}})
			if o, ok := res.Course(id); err != nil || !ok || o.ErrorCode != "plugindisabled" {
				t.Errorf("adding a %s instance: %+v, %v; want plugindisabled", tg.disabledPlugin, res, err)
			}
		})
	})
}

func obsCourseID(t *testing.T, w *world, course string) int64 {
	t.Helper()
	_, site := w.observe(t, nil, nil)
	r, ok := site.CourseByName(course)
	if !ok {
		t.Fatalf("course %s not in the catalogue", course)
	}
	return r.ID
}
