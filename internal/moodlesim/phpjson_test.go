package moodlesim

import (
	"bytes"
	"encoding/json"
	"testing"
)

// genericPHPJSON is phpJSON without the course-state fast path.
func genericPHPJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return phpEscape(bytes.TrimRight(buf.Bytes(), "\n"))
}

// The hand-written encoder of get_course_state must write exactly what the generic
// one writes: on a whole generated site and on strings with every escaping case.
func TestCourseStateJSON(t *testing.T) {
	s := GenerateSite(SiteSize{Courses: 120})
	kv := []string{}
	for i, id := range s.CourseIDs() {
		kv = append(kv, "courseids["+itoa(int64(i))+"]", itoa(id))
	}
	var states []courseState
	client{t, s, "bench"}.ok(&states, "local_enrolctl_get_course_state", kv...)
	odd := "a\"b\\c/d\n\t\r\b\f\x01\x1f é€😀 \u2028 <>& \xff"
	states = append(states, courseState{CourseID: 7, Shortname: odd,
		Instances: []stateInstance{{ID: 1, Name: odd, GroupName: odd}},
		Users:     []stateUser{{ID: 3, Firstname: odd, Lastname: "Ünal", Email: "o'neil@x.fr", Suspended: 1}}})
	for _, v := range [][]courseState{states, nil, {}} {
		if got, want := phpJSON(v), genericPHPJSON(v); !bytes.Equal(got, want) {
			i := 0
			for i < min(len(got), len(want)) && got[i] == want[i] {
				i++
			}
			t.Errorf("course states differ at byte %d:\n got …%.120s\nwant …%.120s", i, got[max(0, i-40):], want[max(0, i-40):])
		}
	}
}

// The course-state cache must never answer a stale state: after every kind of write,
// each course's cached answer equals one computed afresh.
func TestCourseStateCacheFollowsWrites(t *testing.T) {
	st := newSite(t)
	s := st.s
	check := func(step string) {
		t.Helper()
		kv := []string{}
		for i, id := range s.CourseIDs() {
			kv = append(kv, "courseids["+itoa(int64(i))+"]", itoa(id))
		}
		_, body := st.admin.post("local_enrolctl_get_course_state", kv...) // fills the cache
		ids := s.CourseIDs()
		s.mu.RLock()
		var fresh []courseState
		for _, id := range ids {
			fresh = append(fresh, s.d.courseState(id))
		}
		s.mu.RUnlock()
		if want := string(appendCourseStates(nil, fresh)); body != want {
			t.Fatalf("after %s the cached state differs:\n got %.300s\nwant %.300s", step, body, want)
		}
	}
	check("nothing")
	g := s.AddGroup(st.courseA, "G")
	check("a new group")
	st.admin.write("add_instances", item{"courseid": st.courseA, "enrol": "cohort", "cohortid": st.cohort, "roleid": 5, "groupid": g})
	check("a cohort instance")
	st.admin.write("add_instances", item{"courseid": st.courseB, "enrol": "meta", "linkedcourseid": st.courseA})
	check("a meta instance")
	s.AddCohortMembers(st.cohort, st.u[4])
	check("a cohort member")
	st.admin.write("set_enrolments", item{"courseid": st.courseA, "instanceid": st.manualA, "userid": st.u[5], "roleid": 3, "timestart": 0, "timeend": 0, "suspended": 0})
	check("an enrolment")
	st.admin.write("add_members", item{"courseid": st.courseA, "groupid": g, "userid": st.u[5]})
	check("a membership")
	// A failed course rolls back: the cache must drop what the rollback undid.
	st.admin.write("set_enrolments",
		item{"courseid": st.courseA, "instanceid": st.manualA, "userid": st.u[6], "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0},
		item{"courseid": st.courseA, "instanceid": st.manualA, "userid": 999, "roleid": 5, "timestart": 0, "timeend": 0, "suspended": 0})
	check("a rolled back course")
	s.UpdateUser(User{ID: st.u[5], Username: "renamed", Firstname: "Re", Lastname: "Named", Email: "r@x.fr", Auth: "manual"})
	check("a renamed user")
	s.SetLastCourseAccess(st.courseA, st.u[5], 1700000000)
	check("a last access")
	s.AssignRole(st.courseA, st.u[1], 4)
	check("a role alone")
	st.testing.ok(nil, "core_course_create_courses", "courses[0][fullname]", "New", "courses[0][shortname]", "NEW", "courses[0][categoryid]", id(st.catA))
	check("a new course")
	s.mu.Lock()
	co := s.d.Courses[st.courseA]
	co.Shortname = "A-RENAMED"
	s.d.putCourse(co)
	s.mu.Unlock()
	check("a renamed linked course")
	st.admin.ok(nil, "local_enrolctl_delete_instances", "instanceids[0]", id(s.Instances(st.courseA)[1].ID))
	check("a deleted cohort instance")
	s.RunMetaSyncTask()
	check("the meta task")
}
