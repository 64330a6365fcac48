package moodlesim

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// userIDs calls local_enrolctl_get_user_ids with usernames (a JSON text) and decodes
// the answer: one string holding the object.
func userIDs(t *testing.T, c client, usernames string) map[string]int64 {
	t.Helper()
	var text string
	c.ok(&text, "local_enrolctl_get_user_ids", "usernames", usernames)
	var ids map[string]int64
	if err := json.Unmarshal([]byte(text), &ids); err != nil || ids == nil {
		t.Fatalf("answer %q is not a JSON object: %v", text, err)
	}
	return ids
}

func TestGetUserIDs(t *testing.T) {
	st := newSite(t)
	s := st.s
	gone := s.AddUser(User{Username: "gone"})
	u := s.d.Users[gone]
	u.Deleted = true
	s.UpdateUser(u)
	s.AddUser(User{Username: "wasdeleted", Deleted: true})
	tooMany, _ := json.Marshal(make([]string, 5001))
	atMost, _ := json.Marshal(append([]string{"u1"}, make([]string, 4999)...))

	for _, tc := range []struct {
		name, usernames string
		want            map[string]int64
		err             string // the invalidpayload message, when the call must fail
	}{
		{name: "found", usernames: `["u2","u1","u1"]`, want: map[string]int64{"u1": st.u[1], "u2": st.u[2]}},
		{name: "unknown absent", usernames: `["u3","nobody"]`, want: map[string]int64{"u3": st.u[3]}},
		{name: "exact match only", usernames: `["U1"," u1","u1 "]`, want: map[string]int64{}},
		{name: "none is an empty object", usernames: `[]`, want: map[string]int64{}},
		{name: "deleted absent", usernames: `["gone","wasdeleted","u4"]`, want: map[string]int64{"u4": st.u[4]}},
		{name: "guest absent", usernames: `["guest","admin"]`, want: map[string]int64{"admin": 2}},
		{name: "5000 names", usernames: string(atMost), want: map[string]int64{"u1": st.u[1]}},
		{name: "too many", usernames: string(tooMany), err: "5001 usernames, at most 5000 per call"},
		{name: "not JSON", usernames: `u1,u2`, err: "usernames is not a JSON array of strings"},
		{name: "null", usernames: `null`, err: "usernames is not a JSON array of strings"},
		{name: "an object", usernames: `{"u1":1}`, err: "usernames is not a JSON array of strings"},
		{name: "not strings", usernames: `["u1",2]`, err: "usernames is not a JSON array of strings"},
		{name: "nested", usernames: `[["u1"]]`, err: "usernames is not a JSON array of strings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err != "" {
				e := st.admin.fail("local_enrolctl_get_user_ids", "usernames", tc.usernames)
				if want := "Invalid payload: " + tc.err; e.ErrorCode != "invalidpayload" || e.Message != want {
					t.Errorf("error %s %q, want invalidpayload %q", e.ErrorCode, e.Message, want)
				}
				return
			}
			if diff := cmp.Diff(tc.want, userIDs(t, st.admin, tc.usernames)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetUserIDsAnswerIsOneString(t *testing.T) {
	st := newSite(t)
	_, body := st.admin.post("local_enrolctl_get_user_ids", "usernames", `["u1"]`)
	if want := `"{\"u1\":` + id(st.u[1]) + `}"`; body != want {
		t.Errorf("body %s, want %s", body, want)
	}
	_, body = st.admin.post("local_enrolctl_get_user_ids", "usernames", `["nobody"]`)
	if body != `"{}"` {
		t.Errorf("body %s, want \"{}\"", body)
	}
	if e := st.admin.fail("local_enrolctl_get_user_ids"); e.ErrorCode != "invalidparameter" {
		t.Errorf("without usernames: %+v", e)
	}
}

func TestGetUserIDsCapabilities(t *testing.T) {
	st := newSite(t)
	st.s.AddToken("weak", ServiceEnrolctl, "u1")
	weak := client{t, st.s, "weak"}
	st.s.SetCapabilities("u1", "webservice/rest:use", "local/enrolctl:manage")
	e := weak.fail("local_enrolctl_get_user_ids", "usernames", `["u2"]`)
	if e.ErrorCode != "nopermissions" || !strings.Contains(e.Message, "(View user profiles)") {
		t.Errorf("without moodle/user:viewdetails: %+v", e)
	}
	st.s.SetCapabilities("u1", "webservice/rest:use", "moodle/user:viewdetails")
	if e := weak.fail("local_enrolctl_get_user_ids", "usernames", `["u2"]`); e.ErrorCode != "accessexception" {
		t.Errorf("without local/enrolctl:manage: %+v", e)
	}
	st.s.SetCapabilities("u1", "webservice/rest:use", "local/enrolctl:manage", "moodle/user:viewdetails")
	if diff := cmp.Diff(map[string]int64{"u2": st.u[2]}, userIDs(t, weak, `["u2"]`)); diff != "" {
		t.Errorf("with both capabilities (-want +got):\n%s", diff)
	}
}

func TestGetUserIDsInBothServices(t *testing.T) {
	for _, service := range []string{ServiceEnrolctl, ServiceTesting} {
		if !slices.Contains(serviceFunctions(service), "local_enrolctl_get_user_ids") {
			t.Errorf("service %s lacks local_enrolctl_get_user_ids", service)
		}
	}
}
