package moodlesim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// testNow is the clock of the test sites: 2026-11-23 09:00 Paris.
var testNow = time.Date(2026, 11, 23, 9, 0, 0, 0, paris())

// form builds an ordered urlencoded body from key, value pairs.
func form(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]) + "=" + url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

type client struct {
	t     testing.TB
	s     *Sim
	token string
}

// post calls fn through the real handler and returns the status and body.
func (c client) post(fn string, kv ...string) (int, string) {
	c.t.Helper()
	body := form(append([]string{"wstoken", c.token, "wsfunction", fn, "moodlewsrestformat", "json"}, kv...)...)
	req := httptest.NewRequest(http.MethodPost, "http://moodle.test/webservice/rest/server.php", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	c.s.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// ok calls fn, fails the test on a Moodle error, and decodes the result into out.
func (c client) ok(out any, fn string, kv ...string) {
	c.t.Helper()
	code, body := c.post(fn, kv...)
	if code != 200 || strings.Contains(body, `"exception"`) {
		c.t.Fatalf("%s: HTTP %d %s", fn, code, body)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(body), out); err != nil {
			c.t.Fatalf("%s: decoding %s: %v", fn, body, err)
		}
	}
}

// fail calls fn and returns the Moodle error it must answer.
func (c client) fail(fn string, kv ...string) wsError {
	c.t.Helper()
	code, body := c.post(fn, kv...)
	var e wsError
	if code != 200 || json.Unmarshal([]byte(body), &e) != nil || e.ErrorCode == "" {
		c.t.Fatalf("%s: want a Moodle error, got HTTP %d %s", fn, code, body)
	}
	return e
}

// site is a small fixture: two categories, courses A, B, C (A and B with a manual
// instance), users u1..u6, cohort COH with u1..u3.
type site struct {
	s                       *Sim
	admin, testing, all     client
	catA, catB              int64
	courseA, courseB, cours int64
	manualA, manualB        int64
	u                       [7]int64 // u[1]..u[6]
	cohort                  int64
}

func newSite(t testing.TB) *site {
	s := New(Options{Now: func() time.Time { return testNow }, Debug: true})
	s.AddToken("tok", ServiceEnrolctl, "admin")
	s.AddToken("tst", ServiceTesting, "admin")
	s.AddToken("all", ServiceAll, "admin")
	st := &site{s: s, admin: client{t, s, "tok"}, testing: client{t, s, "tst"}, all: client{t, s, "all"}}
	st.catA = s.AddCategory("Ecampus / Sciences")
	st.catB = s.AddCategory("Santé / IFSI")
	st.courseA = s.AddCourse(Course{Shortname: "A", Fullname: "Course A", Category: st.catA, Visible: true})
	st.courseB = s.AddCourse(Course{Shortname: "B", Fullname: "Course B", Category: st.catA, Visible: true})
	st.cours = s.AddCourse(Course{Shortname: "C", Fullname: "Course C", Category: st.catB, Visible: false})
	st.manualA = s.AddInstance(Instance{Enrol: "manual", CourseID: st.courseA, RoleID: 5})
	st.manualB = s.AddInstance(Instance{Enrol: "manual", CourseID: st.courseB, RoleID: 5})
	for i := 1; i <= 6; i++ {
		st.u[i] = s.AddUser(User{Username: "u" + itoa(int64(i)), Firstname: "User", Lastname: itoa(int64(i))})
	}
	st.cohort = s.AddCohort(Cohort{IDNumber: "COH", Name: "Cohort", Visible: true})
	s.AddCohortMembers(st.cohort, st.u[1], st.u[2], st.u[3])
	return st
}

func id(v int64) string { return itoa(v) }

// state reads one course through local_enrolctl_get_course_state.
func (st *site) state(t testing.TB, course int64) courseState {
	t.Helper()
	var out []courseState
	st.admin.ok(&out, "local_enrolctl_get_course_state", "courseids[0]", id(course))
	return out[0]
}

// ue returns the user's row in an instance, if any.
func (st *site) ue(instance, user int64) (UserEnrolment, bool) {
	st.s.mu.Lock()
	defer st.s.mu.Unlock()
	return st.s.d.ue(instance, user)
}
