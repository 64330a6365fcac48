package moodlesim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// get_course_rows must answer exactly what get_course_state's course states hold, in
// rows: on a generated university, then with names needing every escape, users the
// site does not hold (rows of a hand-edited file), and in XML.
func TestCourseRowsAsStates(t *testing.T) {
	s := GenerateSite(SiteSize{Courses: 150})
	ids := s.CourseIDs()
	cl := client{t, s, "bench"}
	check := func(step string, ids []int64) {
		t.Helper()
		list, _ := json.Marshal(ids)
		var got string
		cl.ok(&got, "local_enrolctl_get_course_rows", "courseids", string(list))
		s.mu.RLock()
		states := make([]courseState, len(ids))
		for i, id := range ids {
			states[i] = s.d.courseState(id)
		}
		want := string(referenceCourseRows(nil, states, referenceMetaLinks(s)))
		s.mu.RUnlock()
		if got != want {
			i := 0
			for i < min(len(got), len(want)) && got[i] == want[i] {
				i++
			}
			t.Fatalf("%s: the rows differ from the states at byte %d:\n got …%.200s\nwant …%.200s", step, i, got[max(0, i-60):], want[max(0, i-60):])
		}
	}
	check("every course", ids)
	if got := s.d.courseRows(ids, false, true); !bytes.Contains(got.head, []byte(`"metalinks":[[`)) {
		t.Errorf("the generated site's courses have no meta links: the test covers less than it says")
	}
	// Request order, not id order; a course asked twice is answered twice.
	rev := slices.Clone(ids[:40])
	slices.Reverse(rev)
	check("reversed", append(rev, ids[3]))

	odd := "a\"b\\c/d\n\t\r\b\f\x01\x1f é€😀 \u2028 <>& \xff"
	c := ids[7]
	s.UpdateUser(User{ID: s.UserEnrolments(c)[0].UserID, Username: "odd/ú", Firstname: odd, Lastname: odd, Email: "o'neil@x.fr",
		IDNumber: odd, Auth: "manual", Suspended: true})
	g := s.AddGroup(c, odd)
	s.mu.Lock()
	inst := s.d.ix.instByCourse[c][0]
	// Two enrolments and a membership of users the site does not hold.
	s.d.putUE(UserEnrolment{ID: 1 << 40, EnrolID: inst, UserID: 1 << 41})
	s.d.putUE(UserEnrolment{ID: 1<<40 + 1, EnrolID: inst, UserID: 1<<41 + 1})
	s.d.putMember(GroupMember{ID: 1 << 40, GroupID: g, UserID: 1<<41 + 1, Component: "enrol_odd/x"})
	s.d.setLastAccess(c, 1<<41, 1700000000)
	s.mu.Unlock()
	check("odd names, missing users", ids[:20])

	// XML: the string's text is the same JSON.
	list, _ := json.Marshal(ids[:20])
	req := httptest.NewRequest(http.MethodPost, "http://moodle.test/webservice/rest/server.php", strings.NewReader(
		form("wstoken", "bench", "wsfunction", "local_enrolctl_get_course_rows", "courseids", string(list))))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	code, body := rec.Code, rec.Body.String()
	var rows string
	cl.ok(&rows, "local_enrolctl_get_course_rows", "courseids", string(list))
	if want := string(xmlResponse(rows)); code != 200 || body != want {
		t.Errorf("XML: HTTP %d\n got %.300s\nwant %.300s", code, body, want)
	}

	// JSON: the rows, written escaped, are the string json_encode makes of them, byte
	// for byte (odd names included), alone and after get_courses' catalogue.
	s.mu.RLock()
	states := make([]courseState, 20)
	for i, id := range ids[:20] {
		states[i] = s.d.courseState(id)
	}
	var enc bytes.Buffer
	e := json.NewEncoder(&enc)
	e.SetEscapeHTML(false)
	if err := e.Encode(string(referenceCourseRows(nil, states, referenceMetaLinks(s)))); err != nil {
		t.Fatal(err)
	}
	s.mu.RUnlock()
	want := string(phpEscape(bytes.TrimSuffix(enc.Bytes(), []byte("\n"))))
	for _, call := range []string{
		form("wstoken", "bench", "wsfunction", "local_enrolctl_get_course_rows", "moodlewsrestformat", "json", "courseids", string(list)),
		form("wstoken", "bench", "wsfunction", "local_enrolctl_get_courses", "moodlewsrestformat", "json", "page", "0", "perpage", "1",
			"shortnames", string(mustJSON(t, names(s, ids[:20])))),
	} {
		req := httptest.NewRequest(http.MethodPost, "http://moodle.test/webservice/rest/server.php", strings.NewReader(call))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		got := rec.Body.String()
		if i := strings.Index(got, `"rows":`); i >= 0 { // get_courses: the rows last
			got = strings.TrimSuffix(got[i+len(`"rows":`):], "}")
		}
		if got != want {
			t.Errorf("JSON: HTTP %d\n got %.300s\nwant %.300s", rec.Code, got, want)
		}
	}
}

// names are the shortnames of the courses ids.
func names(s *Sim, ids []int64) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for _, id := range ids {
		out = append(out, s.d.Courses[id].Shortname)
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// referenceCourseRows is get_course_rows's answer written from the course states of
// get_course_state: what the simulator answered before it read the rows straight from
// its tables.
// referenceMetaLinks are, by course id, the shortnames of the courses whose meta
// instance links to it, sorted: found by a walk over every instance, not the index.
func referenceMetaLinks(s *Sim) map[int64][]string {
	links := map[int64][]string{}
	for _, e := range s.d.Instances {
		if e.Enrol == "meta" {
			links[e.CustomInt1] = append(links[e.CustomInt1], s.d.Courses[e.CourseID].Shortname)
		}
	}
	for _, names := range links {
		slices.Sort(names)
	}
	return links
}

func referenceCourseRows(b []byte, states []courseState, links map[int64][]string) []byte {
	b = append(b, `{"roles":[`...)
	for i, r := range standardRoles {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, "[", r.ID)
		b = appendStr(b, ",", r.Shortname)
		b = append(b, ']')
	}
	// Every user of the answer once, by id.
	var users []stateUser
	for _, cs := range states {
		users = append(users, cs.Users...)
	}
	slices.SortFunc(users, func(a, b stateUser) int { return cmp.Compare(a.ID, b.ID) })
	users = slices.CompactFunc(users, func(a, b stateUser) bool { return a.ID == b.ID })
	b = append(b, `],"users":[`...)
	for i, u := range users {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, "[", u.ID)
		b = appendStr(b, ",", u.Username)
		b = appendStr(b, ",", u.Firstname)
		b = appendStr(b, ",", u.Lastname)
		b = appendStr(b, ",", u.Email)
		b = appendStr(b, ",", u.IDNumber)
		b = appendInt(b, ",", int64(u.Suspended))
		b = append(b, ']')
	}
	b = append(b, `],"metalinks":[`...)
	ids := make([]int64, len(states))
	for i, cs := range states {
		ids[i] = cs.CourseID
	}
	n := 0
	for _, id := range slices.Compact(slices.Sorted(slices.Values(ids))) {
		for _, name := range links[id] {
			if n++; n > 1 {
				b = append(b, ',')
			}
			b = appendInt(b, "[", id)
			b = appendStr(b, ",", name)
			b = append(b, ']')
		}
	}
	b = append(b, `],"courses":[`...)
	for i, cs := range states {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, "[", cs.CourseID)
		b = appendStr(b, ",", cs.Shortname)
		b = refRows(b, cs.Instances, func(b []byte, e stateInstance) []byte {
			b = appendInt(b, "[", e.ID)
			b = appendStr(b, ",", e.Enrol)
			b = appendInt(b, ",", int64(e.Status))
			b = appendStr(b, ",", e.Name)
			b = appendInt(b, ",", int64(e.SortOrder))
			b = appendInt(b, ",", e.RoleID)
			b = appendInt(b, ",", e.CohortID)
			b = appendStr(b, ",", e.CohortIDNumber)
			b = appendInt(b, ",", e.LinkedCourseID)
			b = appendStr(b, ",", e.LinkedCourseShortname)
			b = appendInt(b, ",", e.GroupID)
			b = appendStr(b, ",", e.GroupName)
			b = appendInt(b, ",", e.MaxEnrolled)
			b = appendInt(b, ",", e.EnrolPeriod)
			return append(b, ']')
		})
		b = refRows(b, cs.Enrolments, func(b []byte, e stateEnrolment) []byte {
			b = appendInt(b, "[", e.ID)
			b = appendInt(b, ",", e.InstanceID)
			b = appendInt(b, ",", e.UserID)
			b = appendInt(b, ",", int64(e.Status))
			b = appendInt(b, ",", e.TimeStart)
			b = appendInt(b, ",", e.TimeEnd)
			return append(b, ']')
		})
		b = refRows(b, cs.Roles, func(b []byte, r stateRole) []byte {
			b = appendInt(b, "[", r.UserID)
			b = appendInt(b, ",", r.RoleID)
			b = appendStr(b, ",", r.Component)
			b = appendInt(b, ",", r.ItemID)
			return append(b, ']')
		})
		b = refRows(b, cs.Groups, func(b []byte, g stateGroup) []byte {
			b = appendInt(b, "[", g.ID)
			b = appendStr(b, ",", g.Name)
			b = appendStr(b, ",", g.IDNumber)
			return append(b, ']')
		})
		b = refRows(b, cs.Members, func(b []byte, m stateMember) []byte {
			b = appendInt(b, "[", m.GroupID)
			b = appendInt(b, ",", m.UserID)
			b = appendStr(b, ",", m.Component)
			b = appendInt(b, ",", m.ItemID)
			return append(b, ']')
		})
		b = refRows(b, cs.Users, func(b []byte, u stateUser) []byte {
			b = appendInt(b, "[", u.ID)
			b = appendInt(b, ",", u.LastCourseAccess)
			return append(b, ']')
		})
		b = append(b, ']')
	}
	return append(b, "]}"...)
}

// refRows writes ",[row,row,...]".
func refRows[T any](b []byte, rows []T, one func([]byte, T) []byte) []byte {
	b = append(b, ",["...)
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = one(b, r)
	}
	return append(b, ']')
}
