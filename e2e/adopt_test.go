package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/adopt"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/render"
	"github.com/enrolctl/enrolctl/internal/spec"
	"github.com/enrolctl/enrolctl/internal/state"
)

// variedCourse puts a course in a state with a bit of everything a spec can say: a
// cohort sync into a group, a disabled named self method, manual teachers without end,
// students ending on one day, one ending on another, one suspended, manual groups.
func variedCourse(t *testing.T, w *world) (course string, users []string) {
	t.Helper()
	users = w.users(t, 8)
	cohort := w.cohort(t, users[5:])
	course = w.course(t)
	want := state.Course{Shortname: course,
		Methods: []state.Method{{Type: state.Manual, Enabled: true},
			{Type: state.Cohort, Cohort: cohort, Role: "student", Group: "Promo 2026", Enabled: true},
			{Type: state.Self, Name: "Auditeurs libres", Role: "student", MaxUsers: 20}},
		Enrolments: []state.Enrolment{
			manual(users[0], "editingteacher", 0),
			manual(users[1], "student", endOf(2027, time.June, 30)),
			manual(users[2], "student", endOf(2027, time.June, 30)),
			manual(users[3], "student", endOf(2027, time.August, 31)),
			{Username: users[4], Method: "manual", Roles: []string{"student"}, End: endOf(2027, time.June, 30), Suspended: true},
		},
		Groups: []state.Group{{Name: "TP1", Members: []state.Member{{Username: users[1]}, {Username: users[2]}}}, {Name: "TP 2"}},
	}
	w.converge(t, []state.Course{want})
	return course, users
}

// A course written as a spec by import moodle and planned right away plans nothing.
func TestImportedSpecPlansNothing(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		course, _ := variedCourse(t, w)
		obs, site := w.observe(t, []string{course}, nil)
		res := adopt.Render(obs.Courses[0], adopt.Options{Location: paris})
		for _, n := range res.Notes {
			// New courses get Moodle's default self instance, which has no name.
			if !strings.Contains(n, "has no name") {
				t.Errorf("note: %s", n)
			}
		}
		p := planSpec(t, w, site, res.YAML)
		if p.HasChanges() || len(p.Diagnostics) > 0 {
			t.Fatalf("plan after import:\n%+v\n%v\nspec:\n%s", p.Changes, p.Diagnostics, res.YAML)
		}
	})
}

// import moodle --as-manual cohort --remove-converted on a live course: the plan adds
// the manual enrolments, deletes the cohort method saying which memberships go and
// that they come back, and apply keeps every member of the cohort's group.
func TestImportConversionKeepsGroups(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		course, users := variedCourse(t, w)
		obs, site := w.observe(t, []string{course}, nil)
		res := adopt.Render(obs.Courses[0], adopt.Options{Location: paris, AsManual: []state.MethodType{state.Cohort},
			Until: "2027-08-31", RemoveConverted: true})
		if res.Converted != 3 {
			t.Fatalf("converted %d users, want the 3 cohort members", res.Converted)
		}
		p := planSpec(t, w, site, res.YAML)
		var del *diff.Change
		for i, c := range p.Changes {
			if c.Kind == diff.KindMethod && c.Action == diff.Delete {
				del = &p.Changes[i]
			}
		}
		if del == nil || del.Removes.Memberships != 3 || del.Removes.MembershipsKept != 3 {
			t.Fatalf("cohort deletion: %+v", del)
		}
		desired := resolve(t, site, res.YAML)
		_, after := w.converge(t, desired)
		g, _ := after.Courses[0].Group("Promo 2026")
		var members []string
		for _, m := range g.Members {
			if m.Component != "" {
				t.Errorf("%s is still a %s member", m.Username, m.Component)
			}
			members = append(members, m.Username)
		}
		slices.Sort(members)
		if !slices.Equal(members, users[5:]) {
			t.Errorf("Promo 2026 members after the conversion: %v, want %v", members, users[5:])
		}
	})
}

// participants shows what Moodle's own participant list says: names, email, ID
// number, roles, groups and last course access per user, and Active exactly for the
// users core_enrol_get_enrolled_users lists with onlyactive.
func TestParticipantsMatchMoodle(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		course, _ := variedCourse(t, w)
		ctx := context.Background()
		site, err := tg.client.ReadSite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := site.CourseByName(course)
		states, err := tg.client.CourseStates(ctx, []int64{ref.ID})
		if err != nil {
			t.Fatal(err)
		}
		users := map[string]render.UserInfo{}
		for _, u := range states[0].Users {
			users[u.Username] = render.UserInfo{Firstname: u.Firstname, Lastname: u.Lastname, Email: u.Email,
				IDNumber: u.IDNumber, LastCourseAccess: u.LastCourseAccess}
		}
		ours := render.ParticipantsOf(moodle.ToCourse(states[0]), users, render.Filter{}, time.Now(), paris)

		type moodleUser struct {
			Username         string `json:"username"`
			Fullname         string `json:"fullname"`
			Email            string `json:"email"`
			IDNumber         string `json:"idnumber"`
			LastCourseAccess int64  `json:"lastcourseaccess"`
			Roles            []struct {
				Shortname string `json:"shortname"`
			} `json:"roles"`
			Groups []struct {
				Name string `json:"name"`
			} `json:"groups"`
		}
		enrolled := func(onlyActive bool) map[string]moodleUser {
			f := &moodle.Form{}
			f.Int("courseid", ref.ID)
			if onlyActive {
				f.Set("options[0][name]", "onlyactive")
				f.Set("options[0][value]", "1")
			}
			var list []moodleUser
			w.call(t, "core_enrol_get_enrolled_users", f, &list)
			out := map[string]moodleUser{}
			for _, u := range list {
				out[u.Username] = u
			}
			return out
		}
		all, active := enrolled(false), enrolled(true)
		if len(ours) != len(all) {
			t.Fatalf("participants lists %d users, Moodle %d", len(ours), len(all))
		}
		for _, p := range ours {
			m, ok := all[p.Username]
			if !ok {
				t.Errorf("%s is not a participant for Moodle", p.Username)
				continue
			}
			var roles, groups []string
			for _, r := range m.Roles {
				roles = append(roles, r.Shortname)
			}
			for _, g := range m.Groups {
				groups = append(groups, g.Name)
			}
			slices.Sort(roles)
			slices.Sort(groups)
			access := "never"
			if m.LastCourseAccess > 0 {
				access = time.Unix(m.LastCourseAccess, 0).In(paris).Format("2006-01-02 15:04")
			}
			got := []string{p.Fullname, p.Email, p.IDNumber, strings.Join(p.Roles, ","), strings.Join(p.Groups, ","), p.LastAccess}
			want := []string{m.Fullname, m.Email, m.IDNumber, strings.Join(roles, ","), strings.Join(groups, ","), access}
			if !slices.Equal(got, want) {
				t.Errorf("%s: participants says %q, Moodle %q", p.Username, got, want)
			}
			if _, isActive := active[p.Username]; isActive != (p.Status == render.Active) {
				t.Errorf("%s: participants says %s, Moodle's onlyactive list %v", p.Username, p.Status, isActive)
			}
		}
	})
}

// resolve reads a spec written by adopt and resolves it over the site's catalogue.
func resolve(t *testing.T, site *moodle.Site, src []byte) []state.Course {
	t.Helper()
	set := spec.LoadBytes("imported.yaml", src, spec.Options{Location: paris})
	var cat []spec.CourseRef
	for _, r := range site.Catalogue {
		cat = append(cat, spec.CourseRef{Shortname: r.Shortname, Category: r.CategoryPath})
	}
	courses, ds := spec.Resolve(set, cat)
	if ds.HasErrors() {
		t.Fatalf("the imported spec has errors: %v\n%s", ds, src)
	}
	return courses
}

// planSpec plans an imported spec against the live site.
func planSpec(t *testing.T, w *world, site *moodle.Site, src []byte) diff.Plan {
	t.Helper()
	p, _ := w.plan(t, resolve(t, site, src))
	return p
}

// A renew policy's selection (every manual student, suspended ones reactivated) on a
// live course: ends and statuses change, roles stay as Moodle has them (no role is
// sent), teachers and users the spec lists are untouched.
func TestRenewWithoutListingUsers(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		course, users := variedCourse(t, w)
		obs, site := w.observe(t, []string{course}, nil)
		// The spec import writes, plus a renew policy selecting the course.
		res := adopt.Render(obs.Courses[0], adopt.Options{Location: paris})
		desired := resolve(t, site, append(res.YAML, []byte("---\npolicy: renew\ncourses:\n  list: ["+course+"]\nrenew:\n  role: student\n  until: 2028-08-31\n  reactivate: true\n")...))
		// The spec lists every manual user, so nothing is left to renew: drop them.
		desired[0].Enrolments = nil
		for i := range desired[0].Groups {
			desired[0].Groups[i].Members = nil
		}
		p, after := w.converge(t, desired)
		renewed := 0
		for _, c := range p.Changes {
			if c.Kind == diff.KindEnrolment {
				renewed++
			}
		}
		if renewed != 4 {
			t.Errorf("%d enrolments renewed, want the 4 manual students", renewed)
		}
		c := after.Courses[0]
		for _, u := range users[1:5] {
			e := enrolmentOf(t, c, "manual", u)
			if e.End != endOf(2028, time.August, 31) || e.Suspended || !slices.Equal(e.Roles, []string{"student"}) {
				t.Errorf("%s after the renewal: %+v", u, e)
			}
		}
		if e := enrolmentOf(t, c, "manual", users[0]); e.End != 0 || !slices.Equal(e.Roles, []string{"editingteacher"}) {
			t.Errorf("the teacher was touched: %+v", e)
		}
	})
}
