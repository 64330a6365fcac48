package moodle_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"reflect"
	"slices"
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

// Before get_site_status tells the plugin version, course states come from the v1
// function; from a plugin of 2026113001 to 2026113003, from get_course_state_json; from
// 2026113004, from get_course_rows. All three must read the same states.
func TestCourseStatesOfEveryContractMatch(t *testing.T) {
	sim, c := simSite(t, 5, 4, 7)
	course1 := sim.CourseID("C00001")
	sim.AddGroup(course1, `G/1 \ "é"`)
	ids := []int64{sim.CourseID("C00003"), course1}
	ctx := context.Background()
	read := func(want string) []moodle.CourseState {
		t.Helper()
		sim.ResetLog()
		states, err := c.CourseStates(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if calls := callsOf(sim); len(calls) != 1 || calls[want] == 0 {
			t.Errorf("calls %v, want %s only", calls, want)
		}
		return states
	}
	v1 := read("local_enrolctl_get_course_state")
	if _, err := c.SiteStatus(ctx); err != nil {
		t.Fatal(err)
	}
	rows := read("local_enrolctl_get_course_rows")
	moodle.SetPluginVersion(c, 2026113003)
	asString := read("local_enrolctl_get_course_state_json")
	if !reflect.DeepEqual(v1, asString) {
		t.Errorf("v1 read %+v\nJSON-string read %+v", v1, asString)
	}
	if !reflect.DeepEqual(v1, rows) {
		t.Errorf("v1 read %+v\nrows read %+v", v1, rows)
	}
	if len(rows) != 2 || rows[1].Shortname != "C00001" || len(rows[1].Groups) != 1 || rows[1].Groups[0].Name != `G/1 \ "é"` {
		t.Errorf("rows read %+v, want C00003 then C00001 with its group", rows)
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

// The generated university has every kind of row get_course_rows rebuilds: cohort,
// meta, database and self instances, plugin roles and memberships, suspended and
// ended enrolments, last accesses. Every contract reads it the same.
func TestCourseRowsMatchV1OnAGeneratedSite(t *testing.T) {
	sim := moodlesim.GenerateSite(moodlesim.SiteSize{Courses: 150})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := moodle.New(moodle.Config{URL: srv.URL, Token: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ids := sim.CourseIDs()
	v1, err := c.CourseStates(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SiteStatus(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := c.CourseStates(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, cs := range rows {
		for _, in := range cs.Instances {
			kinds[in.Enrol] = true
		}
		for _, m := range cs.Members {
			kinds["member "+m.Component] = true
		}
		for _, r := range cs.Roles {
			kinds["role "+r.Component] = true
		}
	}
	for _, k := range []string{"cohort", "meta", "database", "self", "manual", "member ", "member enrol_cohort", "role ", "role enrol_meta"} {
		if !kinds[k] {
			t.Errorf("the generated site has no %q: the test covers less than it says (%v)", k, kinds)
		}
	}
	// v1 has no metalinks: the courses linking to each, from the meta instances it read
	// (every course of the site), are what the rows must say.
	linkedFrom := map[int64][]string{}
	for _, cs := range v1 {
		for _, in := range cs.Instances {
			if in.Enrol == "meta" {
				linkedFrom[in.LinkedCourseID] = append(linkedFrom[in.LinkedCourseID], cs.Shortname)
			}
		}
	}
	if len(linkedFrom) == 0 {
		t.Fatal("no course of the generated site is linked to by meta: the test covers less than it says")
	}
	for i := range v1 {
		v1[i].LinkedFrom = linkedFrom[v1[i].CourseID]
		slices.Sort(v1[i].LinkedFrom)
		if !reflect.DeepEqual(v1[i], rows[i]) {
			t.Fatalf("course %d: v1 read %+v\nrows read %+v", ids[i], v1[i], rows[i])
		}
	}
}

// A list argument goes in the order of its items: url.Values sorted the keys, so PHP
// got courseids[10] before courseids[2] and get_course_state answered in that order,
// which CourseStates took for the order asked.
func TestCourseStatesOfMoreThanTenCoursesInRequestOrder(t *testing.T) {
	sim, c := simSite(t, 12, 1, 12)
	var ids []int64
	for i := range 12 {
		ids = append(ids, sim.CourseID(fmt.Sprintf("C%05d", i)))
	}
	states, err := moodle.EachCourseStateInOneCall(c, context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, cs := range states {
		if cs.CourseID != ids[i] {
			t.Fatalf("course %d of the answer is %d, want %d", i, cs.CourseID, ids[i])
		}
	}
}
