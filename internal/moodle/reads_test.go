package moodle_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

const simToken = "reads-test-token-0123456789abcdef"

// simSite is a moodlesim site of n courses in one category, each with a manual
// instance enrolling users u0000..u(perCourse-1) of a pool of users.
func simSite(t testing.TB, courses, perCourse, pool int) (*moodlesim.Sim, *moodle.Client) {
	t.Helper()
	sim := moodlesim.New(moodlesim.Options{})
	sim.AddToken(simToken, "enrolctl", "admin")
	cat := sim.AddCategory("Fac / Dept")
	ids := make([]int64, pool)
	for i := range ids {
		u := fmt.Sprintf("u%04d", i)
		ids[i] = sim.AddUser(moodlesim.User{Username: u, Firstname: "F" + u, Lastname: "L", Email: u + "@example.edu", IDNumber: "N" + u})
	}
	for c := range courses {
		short := fmt.Sprintf("C%05d", c)
		cid := sim.AddCourse(moodlesim.Course{Shortname: short, Fullname: short, Category: cat, Visible: true})
		inst := sim.AddInstance(moodlesim.Instance{Enrol: "manual", CourseID: cid, RoleID: 5})
		for k := range perCourse {
			sim.Enrol(inst, ids[(c+k)%pool], 5, 0, 0, false)
		}
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	client, err := moodle.New(moodle.Config{URL: srv.URL, Token: simToken})
	if err != nil {
		t.Fatal(err)
	}
	return sim, client
}

func callsOf(sim *moodlesim.Sim) map[string]int {
	n := map[string]int{}
	for _, r := range sim.Requests() {
		n[r.Function]++
	}
	return n
}

func TestObserveLooksUpOnlyUsersTheCoursesDoNotName(t *testing.T) {
	sim, c := simSite(t, 3, 2, 10) // courses enrol u0000..u0004
	ctx := context.Background()
	site, err := c.ReadSite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sim.ResetLog()
	want := []string{"u0000", "u0001", "u0003", "u0009", "nobody"}
	obs, err := c.Observe(ctx, site, []string{"C00000", "C00001", "C00002"}, want)
	if err != nil {
		t.Fatal(err)
	}
	if n := callsOf(sim)["core_user_get_users_by_field"]; n != 1 {
		t.Errorf("%d user lookups, want 1 (for u0009 and nobody only)", n)
	}
	for _, u := range want[:4] {
		if obs.Directory.Users[u] != sim.UserID(u) {
			t.Errorf("user %s: id %d, want %d", u, obs.Directory.Users[u], sim.UserID(u))
		}
	}
	if _, ok := obs.Directory.Users["nobody"]; ok {
		t.Error("an unknown user has an id")
	}

	// Only enrolled users: no lookup at all.
	sim.ResetLog()
	if _, err := c.Observe(ctx, site, []string{"C00000"}, []string{"u0000", "u0001"}); err != nil {
		t.Fatal(err)
	}
	if n := callsOf(sim)["core_user_get_users_by_field"]; n != 0 {
		t.Errorf("%d user lookups for users the course names, want 0", n)
	}
}

func TestObserveReadsCohortsOnlyWhenNeeded(t *testing.T) {
	sim, c := simSite(t, 1, 1, 1)
	sim.AddCohort(moodlesim.Cohort{Name: "L1", IDNumber: "coh-l1"})
	ctx := context.Background()
	site, err := c.ReadSite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, need := range []bool{false, true} {
		sim.ResetLog()
		obs, err := c.Observe(ctx, site, []string{"C00000"}, nil, moodle.NeedCohorts(need))
		if err != nil {
			t.Fatal(err)
		}
		n := callsOf(sim)["core_cohort_search_cohorts"]
		_, known := obs.Directory.Cohorts["coh-l1"]
		if need != (n == 1) || need != known {
			t.Errorf("NeedCohorts(%v): %d cohort searches, cohort known %v", need, n, known)
		}
	}
}

func TestObserveManyCoursesInParallelBatches(t *testing.T) {
	const courses = 1100
	sim, c := simSite(t, courses, 3, 50)
	ctx := context.Background()
	sim.ResetLog()
	site, err := c.ReadSite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(site.Catalogue) != courses {
		t.Fatalf("catalogue has %d courses, want %d", len(site.Catalogue), courses)
	}
	var names []string
	for _, r := range site.Catalogue {
		names = append(names, r.Shortname)
	}
	obs, err := c.Observe(ctx, site, names, nil, moodle.NeedCohorts(false))
	if err != nil {
		t.Fatal(err)
	}
	if len(obs.Courses) != courses {
		t.Fatalf("%d courses observed, want %d", len(obs.Courses), courses)
	}
	for i, co := range obs.Courses {
		if co.Shortname != fmt.Sprintf("C%05d", i) || len(co.Enrolments) != 3 || co.Category != "Fac / Dept" || co.ID != sim.CourseID(co.Shortname) {
			t.Fatalf("course %d = %s with %d enrolments in %q, want C%05d with 3 in Fac / Dept", i, co.Shortname, len(co.Enrolments), co.Category, i)
		}
		if got, ok := obs.Course(co.Shortname); !ok || got.ID != co.ID {
			t.Fatalf("Course(%s) = %v, %v", co.Shortname, got, ok)
		}
	}
	calls := callsOf(sim)
	if n := calls["local_enrolctl_get_course_state"]; n > 8 {
		t.Errorf("%d course-state calls for %d courses, want at most 8", n, courses)
	}
}

func TestCourseStatesListTheUsers(t *testing.T) {
	sim, c := simSite(t, 1, 3, 3)
	states, err := c.CourseStates(context.Background(), []int64{sim.CourseID("C00000")})
	if err != nil {
		t.Fatal(err)
	}
	users := states[0].Users
	if len(users) != 3 || len(states[0].Enrolments) != 3 {
		t.Fatalf("%d users, %d enrolments; want 3 and 3", len(users), len(states[0].Enrolments))
	}
	for i, u := range users {
		name := fmt.Sprintf("u%04d", i)
		want := moodle.CourseUser{ID: sim.UserID(name), Username: name, Firstname: "F" + name, Lastname: "L", Email: name + "@example.edu", IDNumber: "N" + name}
		if u != want {
			t.Errorf("user %d = %+v, want %+v", i, u, want)
		}
	}
}
