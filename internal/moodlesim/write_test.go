package moodlesim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// write calls local_enrolctl_write with items marshalled to JSON.
func (c client) write(op string, items ...map[string]any) []writeResult {
	c.t.Helper()
	raw, err := json.Marshal(items)
	if err != nil {
		c.t.Fatal(err)
	}
	var out []writeResult
	c.ok(&out, "local_enrolctl_write", "operation", op, "items", string(raw))
	return out
}

type item = map[string]any

func TestWritePayloadValidation(t *testing.T) {
	st := newSite(t)
	good := fmt.Sprintf(`{"courseid":%d,"instanceid":%d,"userid":%d,"roleid":5,"timestart":0,"timeend":0,"suspended":0}`,
		st.courseA, st.manualA, st.u[1])
	many := "[" + strings.Repeat(good+",", 5000) + good + "]"
	for _, tc := range []struct{ name, op, items, want string }{
		{"not JSON", "set_enrolments", "{", "items is not a JSON array"},
		{"not an array", "set_enrolments", "{}", "items is not a JSON array"},
		{"unknown operation", "enrol_everyone", "[]", `unknown operation "enrol_everyone"`},
		{"missing field", "set_enrolments", fmt.Sprintf(`[%s,{"courseid":%d,"userid":1}]`, good, st.courseA), "item 1: missing field instanceid"},
		{"missing courseid", "create_groups", `[{"name":"G"}]`, "item 0: missing field courseid"},
		{"wrong type", "unenrol_users", `[{"courseid":"2","instanceid":1,"userid":1}]`, "item 0: courseid must be an integer"},
		{"float", "unenrol_users", `[{"courseid":2.5,"instanceid":1,"userid":1}]`, "item 0: courseid must be an integer"},
		{"unknown field", "add_members", `[{"courseid":2,"groupid":1,"userid":1,"role":5}]`, "item 0: unknown field role"},
		{"negative time", "set_enrolments", strings.Replace("["+good+"]", `"timestart":0`, `"timestart":-1`, 1), "item 0: timestart and timeend must be 0 or more and timeend 0 or at least timestart"},
		{"inverted times", "set_enrolments", strings.Replace("["+good+"]", `"timestart":0,"timeend":0`, `"timestart":200,"timeend":100`, 1), "item 0: timestart and timeend must be 0 or more and timeend 0 or at least timestart"},
		{"suspended 2", "set_enrolments", strings.Replace("["+good+"]", `"suspended":0`, `"suspended":2`, 1), "item 0: suspended must be 0 or 1"},
		{"empty group name", "create_groups", fmt.Sprintf(`[{"courseid":%d,"name":"  "}]`, st.courseA), "item 0: name is empty"},
		{"too many items", "set_enrolments", many, "5001 items, at most 5000 per call"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := st.admin.fail("local_enrolctl_write", "operation", tc.op, "items", tc.items)
			if e.ErrorCode != "invalidpayload" || e.Message != "Invalid payload: "+tc.want {
				t.Errorf("got %+v, want invalidpayload %q", e, tc.want)
			}
		})
	}
	// Nothing was written, not even the valid first items.
	if got := st.state(t, st.courseA); len(got.Enrolments) != 0 {
		t.Errorf("enrolments after refused payloads: %+v", got.Enrolments)
	}
}

func TestWritePerCourseTransactions(t *testing.T) {
	st := newSite(t)
	res := st.admin.write("set_enrolments",
		item{"courseid": st.courseA, "instanceid": st.manualA, "userid": st.u[1], "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0},
		item{"courseid": st.courseB, "instanceid": st.manualB, "userid": st.u[1], "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0},
		item{"courseid": st.courseA, "instanceid": st.manualA, "userid": st.u[2], "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0},
		// The manual instance of B used with courseid A: not an instance of that course.
		item{"courseid": st.courseA, "instanceid": st.manualB, "userid": st.u[3], "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0},
		item{"courseid": st.courseB, "instanceid": st.manualB, "userid": guestUserID, "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0},
		item{"courseid": 999, "instanceid": st.manualB, "userid": st.u[4], "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0},
	)
	want := []writeResult{
		{CourseID: st.courseA, Status: "error", Index: 3, ErrorCode: "unknowninstance", Message: fmt.Sprintf("Enrolment instance %d does not exist.", st.manualB), IDs: []int64{}},
		{CourseID: st.courseB, Status: "error", Index: 4, ErrorCode: "unknownuser", Message: "User 1 does not exist or is deleted.", IDs: []int64{}},
		{CourseID: 999, Status: "error", Index: 5, ErrorCode: "unknowncourse", Message: "Course 999 does not exist.", IDs: []int64{}},
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("results (-want +got):\n%s", diff)
	}
	// Both failing courses rolled back their first items.
	for _, c := range []int64{st.courseA, st.courseB} {
		if got := st.state(t, c); len(got.Enrolments) != 0 || len(got.Roles) != 0 {
			t.Errorf("course %d kept %+v %+v", c, got.Enrolments, got.Roles)
		}
	}
	res = st.admin.write("set_enrolments",
		item{"courseid": st.courseA, "instanceid": st.manualA, "userid": st.u[1], "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0},
		item{"courseid": st.courseB, "instanceid": st.manualB, "userid": st.u[1], "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0},
		item{"courseid": st.courseB, "instanceid": st.manualB, "userid": 4242, "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0},
	)
	if res[0].Status != "ok" || res[0].Index != -1 || res[1].Status != "error" || res[1].Index != 2 {
		t.Fatalf("results %+v", res)
	}
	if got := st.state(t, st.courseA); len(got.Enrolments) != 1 {
		t.Errorf("course A did not commit: %+v", got.Enrolments)
	}
	if got := st.state(t, st.courseB); len(got.Enrolments) != 0 {
		t.Errorf("course B did not roll back: %+v", got.Enrolments)
	}
}

func TestWriteOperationsAreIdempotent(t *testing.T) {
	st := newSite(t)
	a := st.courseA
	add := []item{
		{"courseid": a, "enrol": "cohort", "cohortid": st.cohort, "roleid": 5},
		{"courseid": a, "enrol": "self", "name": "Libre", "maxenrolled": 10},
		{"courseid": a, "enrol": "manual"},
	}
	first := st.admin.write("add_instances", add...)
	if first[0].Status != "ok" || len(first[0].IDs) != 3 || first[0].IDs[2] != st.manualA {
		t.Fatalf("add_instances: %+v", first)
	}
	again := st.admin.write("add_instances", add...)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("resent add_instances (-first +again):\n%s", diff)
	}
	cohortInst, selfInst := first[0].IDs[0], first[0].IDs[1]
	groups := []item{{"courseid": a, "name": "TP1"}, {"courseid": a, "name": "TP2"}}
	g1 := st.admin.write("create_groups", groups...)
	g2 := st.admin.write("create_groups", groups...)
	if len(g1[0].IDs) != 2 || cmp.Diff(g1, g2) != "" {
		t.Errorf("create_groups %+v then %+v", g1, g2)
	}
	tp1 := g1[0].IDs[0]
	writes := []struct {
		op    string
		items []item
	}{
		{"set_enrolments", []item{{"courseid": a, "instanceid": st.manualA, "userid": st.u[4], "roleid": 3, "timestart": 100, "timeend": 0, "suspended": 0},
			{"courseid": a, "instanceid": selfInst, "userid": st.u[5], "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 1}}},
		{"update_instances", []item{{"courseid": a, "id": cohortInst, "groupid": tp1}, {"courseid": a, "id": selfInst, "name": "Auditeurs"}}},
		{"add_members", []item{{"courseid": a, "groupid": g1[0].IDs[1], "userid": st.u[4]}, {"courseid": a, "groupid": tp1, "userid": st.u[1]}}},
		{"remove_members", []item{{"courseid": a, "groupid": g1[0].IDs[1], "userid": st.u[4]}}},
		{"unenrol_users", []item{{"courseid": a, "instanceid": selfInst, "userid": st.u[5]}}},
		{"delete_instances", []item{{"courseid": a, "id": selfInst}}},
	}
	for _, w := range writes {
		res := st.admin.write(w.op, w.items...)
		if res[0].Status != "ok" {
			t.Fatalf("%s: %+v", w.op, res)
		}
		before := st.state(t, a)
		if res := st.admin.write(w.op, w.items...); res[0].Status != "ok" {
			t.Errorf("resent %s: %+v", w.op, res)
		}
		if diff := cmp.Diff(before, st.state(t, a)); diff != "" {
			t.Errorf("resent %s changed the course (-before +after):\n%s", w.op, diff)
		}
	}
	got := st.state(t, a)
	var members []string
	for _, m := range got.Members {
		members = append(members, fmt.Sprintf("%d:%s:%s", m.GroupID, m.Username, m.Component))
	}
	// The cohort's members went into TP1 through the sync; u1 already was, so add_members
	// left that membership as the sync made it.
	wantMembers := []string{fmt.Sprintf("%d:u1:enrol_cohort", tp1), fmt.Sprintf("%d:u2:enrol_cohort", tp1), fmt.Sprintf("%d:u3:enrol_cohort", tp1)}
	if diff := cmp.Diff(wantMembers, members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if len(got.Instances) != 2 {
		t.Errorf("instances after delete: %+v", got.Instances)
	}
	res := st.admin.write("remove_members", item{"courseid": a, "groupid": tp1, "userid": st.u[1]})
	if res[0].ErrorCode != "notmanualmember" || res[0].Message != fmt.Sprintf("User %d is not a manual member of group %d.", st.u[1], tp1) {
		t.Errorf("removing a cohort membership: %+v", res)
	}
	res = st.admin.write("add_members", item{"courseid": a, "groupid": tp1, "userid": st.u[6]})
	if res[0].ErrorCode != "notenrolled" {
		t.Errorf("adding a user not enrolled: %+v", res)
	}
	res = st.admin.write("add_members", item{"courseid": st.courseB, "groupid": tp1, "userid": st.u[4]})
	if res[0].ErrorCode != "invalidgroup" {
		t.Errorf("a group of another course: %+v", res)
	}
}

func TestGetCourseStateUsers(t *testing.T) {
	st := newSite(t)
	st.s.UpdateUser(User{ID: st.u[2], Username: "u2", Firstname: "Léa", Lastname: "Martin", Email: "lea.martin@example.fr",
		IDNumber: "26001234", Auth: "manual", Suspended: true})
	st.s.Enrol(st.manualA, st.u[2], 5, 0, 0, false)
	st.s.AssignRole(st.courseA, st.u[1], 4) // a role without enrolment still lists the user
	st.s.SetLastCourseAccess(st.courseA, st.u[2], 1764000000)
	got := st.state(t, st.courseA).Users
	want := []stateUser{
		{ID: st.u[1], Username: "u1", Firstname: "User", Lastname: "1", Email: "u1@example.invalid"},
		{ID: st.u[2], Username: "u2", Firstname: "Léa", Lastname: "Martin", Email: "lea.martin@example.fr", IDNumber: "26001234",
			LastCourseAccess: 1764000000, Suspended: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	// core_enrol_get_enrolled_users reads the same user_lastaccess.
	var enrolled []enrolledUser
	st.testing.ok(&enrolled, "core_enrol_get_enrolled_users", "courseid", id(st.courseA))
	if len(enrolled) != 1 || enrolled[0].LastCourseAccess == nil || *enrolled[0].LastCourseAccess != 1764000000 {
		t.Errorf("enrolled users: %+v", enrolled)
	}
	ids := []string{}
	for i := range 501 {
		ids = append(ids, fmt.Sprintf("courseids[%d]", i), id(st.courseA))
	}
	if e := st.admin.fail("local_enrolctl_get_course_state", ids...); e.ErrorCode != "invalidparameter" {
		t.Errorf("501 courses: %+v", e)
	}
	var out []courseState
	st.admin.ok(&out, "local_enrolctl_get_course_state", ids[:1000]...)
	if len(out) != 500 {
		t.Errorf("500 courses: %d answers", len(out))
	}
}

func TestLeases(t *testing.T) {
	st := newSite(t)
	now := testNow
	st.s.SetClock(func() time.Time { return now })
	acquire := func(holder, ttl string) leaseAnswer {
		var l leaseAnswer
		st.admin.ok(&l, "local_enrolctl_acquire_lease", "name", "apply", "holder", holder, "ttl", ttl)
		return l
	}
	t0 := testNow.Unix()
	if got := acquire("ci-1", "60"); got != (leaseAnswer{Acquired: true, Holder: "ci-1", Expires: t0 + 60}) {
		t.Errorf("first acquire: %+v", got)
	}
	if got := acquire("laptop", "60"); got != (leaseAnswer{Holder: "ci-1", Expires: t0 + 60}) {
		t.Errorf("second holder: %+v", got)
	}
	now = now.Add(30 * time.Second)
	if got := acquire("ci-1", "60"); got != (leaseAnswer{Acquired: true, Holder: "ci-1", Expires: t0 + 90}) {
		t.Errorf("renewal: %+v", got)
	}
	st.admin.ok(nil, "local_enrolctl_release_lease", "name", "apply", "holder", "laptop") // not the holder: no-op
	if got := acquire("laptop", "60"); got.Acquired {
		t.Errorf("after a foreign release: %+v", got)
	}
	now = now.Add(61 * time.Second)
	// An expired lease is taken over, and the answer names whose it was.
	if got := acquire("laptop", "600"); got != (leaseAnswer{Acquired: true, Holder: "laptop", Expires: now.Unix() + 600, Previous: "ci-1", PreviousExpires: t0 + 90}) {
		t.Errorf("after expiry: %+v", got)
	}
	st.admin.ok(nil, "local_enrolctl_release_lease", "name", "apply", "holder", "laptop")
	if got := acquire("ci-2", "10"); !got.Acquired {
		t.Errorf("after release: %+v", got)
	}
	for _, ttl := range []string{"9", "3601"} {
		if e := st.admin.fail("local_enrolctl_acquire_lease", "name", "apply", "holder", "x", "ttl", ttl); e.ErrorCode != "invalidparameter" {
			t.Errorf("ttl %s: %+v", ttl, e)
		}
	}
	if e := st.admin.fail("local_enrolctl_acquire_lease", "name", "apply", "holder", strings.Repeat("h", 256), "ttl", "60"); e.ErrorCode != "invalidparameter" {
		t.Errorf("long holder: %+v", e)
	}
	// Concurrent acquires: exactly one wins.
	st.admin.ok(nil, "local_enrolctl_release_lease", "name", "apply", "holder", "ci-2")
	var wg sync.WaitGroup
	won := make(chan string, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l := acquire(fmt.Sprintf("h%d", i), "60"); l.Acquired {
				won <- l.Holder
			}
		}()
	}
	wg.Wait()
	close(won)
	if n := len(won); n != 1 {
		t.Errorf("%d concurrent acquires won", n)
	}
}

func TestV2Hardening(t *testing.T) {
	st := newSite(t)
	st.s.AddTokenWithout("nomanage", ServiceEnrolctl, "mgr1", "local/enrolctl:manage")
	st.s.AddTokenWithout("nohidden", ServiceEnrolctl, "mgr2", "moodle/course:viewhiddencourses")
	nomanage, nohidden := client{t, st.s, "nomanage"}, client{t, st.s, "nohidden"}
	for _, fn := range []string{"local_enrolctl_get_site_status", "local_enrolctl_get_courses", "local_enrolctl_release_lease", "local_enrolctl_write"} {
		var kv []string
		switch fn {
		case "local_enrolctl_release_lease":
			kv = []string{"name", "apply", "holder", "x"}
		case "local_enrolctl_write":
			kv = []string{"operation", "create_groups", "items", "[]"}
		}
		if e := nomanage.fail(fn, kv...); e.ErrorCode != "accessexception" {
			t.Errorf("%s without local/enrolctl:manage: %+v", fn, e)
		}
	}
	var page struct {
		Total   int         `json:"total"`
		Courses []courseRef `json:"courses"`
	}
	nohidden.ok(&page, "local_enrolctl_get_courses", "perpage", "5000")
	if page.Total != 2 || len(page.Courses) != 2 {
		t.Errorf("without viewhiddencourses: %+v", page)
	}
	if e := nohidden.fail("local_enrolctl_get_course_state", "courseids[0]", id(st.cours)); e.ErrorCode != "nopermissions" {
		t.Errorf("hidden course state: %+v", e)
	}
	set := func(user int64, ts, te string) wsError {
		return st.admin.fail("local_enrolctl_set_enrolments", "enrolments[0][instanceid]", id(st.manualA), "enrolments[0][userid]", id(user),
			"enrolments[0][roleid]", "5", "enrolments[0][timestart]", ts, "enrolments[0][timeend]", te, "enrolments[0][suspended]", "0")
	}
	if e := set(st.u[1], "200", "100"); e.ErrorCode != "invalidtimes" || e.Message != fmt.Sprintf("Invalid enrolment times for user %d.", st.u[1]) {
		t.Errorf("inverted times: %+v", e)
	}
	if e := set(st.u[1], "-5", "0"); e.ErrorCode != "invalidtimes" {
		t.Errorf("negative start: %+v", e)
	}
	if e := set(guestUserID, "0", "0"); e.ErrorCode != "unknownuser" {
		t.Errorf("guest: %+v", e)
	}
	st.s.Enrol(st.manualA, st.u[1], 5, 0, 0, false)
	st.s.SetPluginEnabled("manual", false)
	e := st.admin.fail("local_enrolctl_unenrol_users", "enrolments[0][instanceid]", id(st.manualA), "enrolments[0][userid]", id(st.u[1]))
	if e.ErrorCode != "plugindisabled" {
		t.Errorf("unenrol with manual disabled: %+v", e)
	}
	if _, ok := st.ue(st.manualA, st.u[1]); !ok {
		t.Error("the refused unenrol removed the enrolment")
	}
}

func TestDeadlockFault(t *testing.T) {
	st := newSite(t)
	st.s.SetDeadlockFaults(500 * time.Millisecond)
	enrol := func(course, instance int64, users ...int64) []item {
		var out []item
		for _, u := range users {
			out = append(out, item{"courseid": course, "instanceid": instance, "userid": u, "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0})
		}
		return out
	}
	// Concurrent: both calls touch u1; the later one loses course B, keeps course A's u5.
	results := make([][]writeResult, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		results[0] = st.admin.write("set_enrolments", enrol(st.courseA, st.manualA, st.u[1], st.u[2])...)
	}()
	waitForTransaction(st.s)
	go func() {
		defer wg.Done()
		results[1] = st.admin.write("set_enrolments", append(enrol(st.courseA, st.manualA, st.u[5]), enrol(st.courseB, st.manualB, st.u[4], st.u[1])...)...)
	}()
	wg.Wait()
	if results[0][0].Status != "ok" {
		t.Errorf("first call: %+v", results[0])
	}
	want := []writeResult{
		{CourseID: st.courseA, Status: "ok", Index: -1, IDs: []int64{}},
		{CourseID: st.courseB, Status: "error", Index: 2, ErrorCode: "dmlwriteexception",
			Message: "Error writing to database (ERROR:  deadlock detected\nDETAIL:  Process 4242 waits for ShareLock on transaction 8119; blocked by process 4243.)", IDs: []int64{}},
	}
	if diff := cmp.Diff(want, results[1]); diff != "" {
		t.Errorf("second call (-want +got):\n%s", diff)
	}
	if st.s.Deadlocks() != 1 {
		t.Errorf("deadlocks %d", st.s.Deadlocks())
	}
	// Serialised, the same writes all succeed.
	for _, r := range st.admin.write("set_enrolments", enrol(st.courseB, st.manualB, st.u[4], st.u[1])...) {
		if r.Status != "ok" {
			t.Errorf("serialised retry: %+v", r)
		}
	}
	// A v1 write that loses fails whole.
	var e wsError
	wg.Add(1)
	go func() { defer wg.Done(); st.admin.write("set_enrolments", enrol(st.courseA, st.manualA, st.u[3])...) }()
	waitForTransaction(st.s)
	e = st.admin.fail("local_enrolctl_unenrol_users", "enrolments[0][instanceid]", id(st.manualA), "enrolments[0][userid]", id(st.u[3]))
	wg.Wait()
	if e.ErrorCode != "dmlwriteexception" {
		t.Errorf("v1 victim: %+v", e)
	}
	if _, ok := st.ue(st.manualA, st.u[3]); !ok {
		t.Error("the v1 victim wrote")
	}
}

func TestSaveLoadV2Tables(t *testing.T) {
	st := newSite(t)
	st.s.SetLastCourseAccess(st.courseA, st.u[1], 1764000000)
	var l leaseAnswer
	st.admin.ok(&l, "local_enrolctl_acquire_lease", "name", "apply", "holder", "ci", "ttl", "600")
	var buf bytes.Buffer
	if err := st.s.Save(&buf); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got := loaded.Leases(); len(got) != 1 || got[0] != (Lease{"apply", "ci", testNow.Unix() + 600}) {
		t.Errorf("leases %+v", got)
	}
	var again bytes.Buffer
	if err := loaded.Save(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("save → load → save changed the file")
	}
	// A format 1 file (before leases and user_lastaccess) still loads.
	v1 := strings.Replace(buf.String(), `"format": 2`, `"format": 1`, 1)
	v1 = v1[:strings.Index(v1, `,
 "user_lastaccess"`)] + "\n}\n"
	if _, err := Load(strings.NewReader(v1)); err != nil {
		t.Errorf("format 1: %v", err)
	}
	if _, err := Load(strings.NewReader(strings.Replace(buf.String(), `"format": 2`, `"format": 3`, 1))); err == nil {
		t.Error("format 3 loaded")
	}
}

// waitForTransaction waits until a write call holds its transaction open (the
// deadlock fault's window), so the next call overlaps it.
func waitForTransaction(s *Sim) {
	for {
		s.mu.RLock()
		n := len(s.userLocks)
		s.mu.RUnlock()
		if n > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
