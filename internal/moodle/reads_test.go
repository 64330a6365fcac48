package moodle_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"reflect"
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
	if calls := callsOf(sim); calls["local_enrolctl_get_user_ids"] != 1 || calls["core_user_get_users_by_field"] != 0 {
		t.Errorf("calls %v, want 1 user lookup (for u0009 and nobody only) through the plugin", calls)
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
	if calls := callsOf(sim); calls["local_enrolctl_get_user_ids"]+calls["core_user_get_users_by_field"] != 0 {
		t.Errorf("calls %v: user lookups for users the course names, want none", calls)
	}
}

// Before get_site_status tells the plugin version, usernames are looked up through
// core_user_get_users_by_field, 500 a call; after it, through get_user_ids, 5,000 a
// call. Both must find the same ids, but for the guest, whom only the plugin leaves
// out (it is never a user enrolctl may enrol).
func TestUserIDsThroughThePluginOnceItHasIt(t *testing.T) {
	sim, c := simSite(t, 0, 0, 12001)
	gone := sim.AddUser(moodlesim.User{Username: "gone"})
	sim.UpdateUser(moodlesim.User{ID: gone, Username: "gone", Deleted: true})
	var names []string
	for i := range 12001 {
		names = append(names, fmt.Sprintf("u%04d", i))
	}
	names = append(names, "nobody", "gone", "guest", "u0001")
	ctx := context.Background()
	for _, tc := range []struct {
		status          bool // call get_site_status first
		plugin, byField int
		absent          []string
	}{
		// ceil(12,003 / 500): nobody, gone and guest go too
		{status: false, plugin: 0, byField: 25, absent: []string{"nobody", "gone"}},
		{status: true, plugin: 3, byField: 0, absent: []string{"nobody", "gone", "guest"}}, // ceil(12,003 / 5,000)
	} {
		if tc.status {
			if _, err := c.SiteStatus(ctx); err != nil {
				t.Fatal(err)
			}
		}
		sim.ResetLog()
		ids, err := c.UserIDs(ctx, names)
		if err != nil {
			t.Fatal(err)
		}
		calls := callsOf(sim)
		if calls["local_enrolctl_get_user_ids"] != tc.plugin || calls["core_user_get_users_by_field"] != tc.byField {
			t.Errorf("site status read %v: calls %v, want %d get_user_ids and %d get_users_by_field", tc.status, calls, tc.plugin, tc.byField)
		}
		if want := 12004 - len(tc.absent); len(ids) != want {
			t.Errorf("site status read %v: %d ids, want %d", tc.status, len(ids), want)
		}
		for _, u := range []string{"u0000", "u0001", "u6543", "u12000"} {
			if ids[u] != sim.UserID(u) || ids[u] == 0 {
				t.Errorf("site status read %v: %s has id %d, want %d", tc.status, u, ids[u], sim.UserID(u))
			}
		}
		for _, u := range tc.absent {
			if id, ok := ids[u]; ok {
				t.Errorf("site status read %v: %s has id %d, want none", tc.status, u, id)
			}
		}
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
	if n, v1 := calls["local_enrolctl_get_course_state_json"], calls["local_enrolctl_get_course_state"]; n < 1 || n > 8 || v1 != 0 {
		t.Errorf("%d course-state (JSON string) calls and %d v1 calls for %d courses, want 1 to 8 and none", n, v1, courses)
	}
}

// Before get_site_status tells the plugin version, course states come from the v1
// function; after it, from get_course_state_json. Both must read the same states.
func TestCourseStatesJSONStringMatchesV1(t *testing.T) {
	sim, c := simSite(t, 5, 4, 7)
	sim.AddGroup(sim.CourseID("C00001"), `G/1 \ "é"`)
	ids := []int64{sim.CourseID("C00003"), sim.CourseID("C00001")}
	ctx := context.Background()
	sim.ResetLog()
	v1, err := c.CourseStates(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	before := callsOf(sim)
	if _, err := c.SiteStatus(ctx); err != nil {
		t.Fatal(err)
	}
	sim.ResetLog()
	v2, err := c.CourseStates(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	after := callsOf(sim)
	if before["local_enrolctl_get_course_state"] == 0 || before["local_enrolctl_get_course_state_json"] != 0 ||
		after["local_enrolctl_get_course_state"] != 0 || after["local_enrolctl_get_course_state_json"] == 0 {
		t.Errorf("calls before get_site_status %v, after %v; want v1 before, the JSON string after", before, after)
	}
	if !reflect.DeepEqual(v1, v2) {
		t.Errorf("v1 read %+v\nJSON-string read %+v", v1, v2)
	}
	if len(v2) != 2 || v2[1].Shortname != "C00001" || len(v2[1].Groups) != 1 || v2[1].Groups[0].Name != `G/1 \ "é"` {
		t.Errorf("JSON-string read %+v, want C00003 then C00001 with its group", v2)
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
