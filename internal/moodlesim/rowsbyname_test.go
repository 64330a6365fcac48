package moodlesim

import (
	"encoding/json"
	"testing"

	"github.com/enrolctl/enrolctl/internal/contract"
)

// get_course_rows by shortname (plugin 2.2.0) answers what it answers by id for the
// courses the site has, in the order named, once each; it leaves out the names the
// site lacks, the site course, and hidden courses for a user the catalogue hides them
// from. A site on an older plugin refuses the names as Moodle refuses an unknown key.
func TestCourseRowsByShortname(t *testing.T) {
	st := newSite(t)
	st.s.AddTokenWithout("nohidden", ServiceEnrolctl, "mgr2", "moodle/course:viewhiddencourses")
	admin, nohidden := st.admin, client{t, st.s, "nohidden"}
	rows := func(cl client, key string, v any) string {
		t.Helper()
		list, _ := json.Marshal(v)
		var got string
		cl.ok(&got, "local_enrolctl_get_course_rows", key, string(list))
		return got
	}
	for _, tc := range []struct {
		name  string
		cl    client
		names []string
		ids   []int64
	}{
		{"in the order named", admin, []string{"B", "C", "A"}, []int64{st.courseB, st.cours, st.courseA}},
		{"unknown names, repeats and the site course left out", admin, []string{"NOPE", "A", "moodle", "A", "a"}, []int64{st.courseA}},
		{"hidden courses left out without viewhiddencourses", nohidden, []string{"C", "B"}, []int64{st.courseB}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := rows(tc.cl, "shortnames", tc.names), rows(tc.cl, "courseids", tc.ids); got != want {
				t.Errorf("by name %s\n   by id %s", got, want)
			}
		})
	}
	var none struct {
		Roles   [][]any `json:"roles"`
		Users   []any   `json:"users"`
		Courses []any   `json:"courses"`
	}
	if err := json.Unmarshal([]byte(rows(admin, "shortnames", []string{"NOPE"})), &none); err != nil || len(none.Roles) == 0 || none.Users == nil || none.Courses == nil || len(none.Courses) != 0 {
		t.Errorf("no course found: %+v %v", none, err)
	}
	for _, kv := range [][]string{
		{},
		{"courseids", "[" + itoa(st.courseA) + "]", "shortnames", `["A"]`},
		{"shortnames", `[]`},
		{"shortnames", `[1]`},
		{"shortnames", `"A"`},
		{"shortnames", `["A",null]`},              // PHP: null is not is_string
		{"courseids", " ", "shortnames", `["A"]`}, // PHP: " " is a courseids given
	} {
		if e := admin.fail("local_enrolctl_get_course_rows", kv...); e.ErrorCode != "invalidpayload" {
			t.Errorf("%q: %+v, want invalidpayload", kv, e)
		}
	}
	st.s.SetPlugin(contract.Plugin{Version: contract.PluginAccountsByID, Release: "2.1.2"})
	if e := admin.fail("local_enrolctl_get_course_rows", "shortnames", `["A"]`); e.ErrorCode != "invalidparameter" {
		t.Errorf("plugin 2.1.2, by name: %+v, want invalidparameter", e)
	}
	// get_site_info lists only the functions the plugin it plays has.
	st.s.SetPlugin(contract.Plugin{Version: contract.PluginReadService, Release: "2.0.2"})
	var info struct {
		Functions []struct{ Name string } `json:"functions"`
	}
	admin.ok(&info, "core_webservice_get_site_info")
	for _, f := range info.Functions {
		if f.Name == "local_enrolctl_get_course_rows" {
			t.Error("plugin 2.0.2's site info lists get_course_rows, which it lacks")
		}
	}
	st.s.SetPlugin(contract.Plugin{Version: contract.PluginAccountsByID, Release: "2.1.2"})
	var status struct {
		Version int64  `json:"pluginversion"`
		Release string `json:"pluginrelease"`
	}
	admin.ok(&status, "local_enrolctl_get_site_status")
	if status.Version != contract.PluginAccountsByID || status.Release != "2.1.2" {
		t.Errorf("plugin 2.1.2's status: %+v", status)
	}
	if rows(admin, "courseids", []int64{st.courseA}) == "" {
		t.Error("plugin 2.1.2 by id: empty")
	}
}

// get_courses with shortnames (plugin 2.4.0) answers, under rows, what get_course_rows
// answers for those names, beside the status and the catalogue; its checks are
// get_course_rows' (a payload that is not a list of names is invalidpayload). A site
// on plugin 2.3.0 refuses the key as Moodle refuses an unknown one.
func TestCoursesWithRows(t *testing.T) {
	st := newSite(t)
	admin := st.admin
	names := `["B","NOPE","A"]`
	var withRows struct {
		Total   int               `json:"total"`
		Courses []json.RawMessage `json:"courses"`
		Status  *struct {
			Version int64 `json:"pluginversion"`
		} `json:"status"`
		Rows *string `json:"rows"`
	}
	admin.ok(&withRows, "local_enrolctl_get_courses", "withstatus", "1", "shortnames", names)
	var rows string
	admin.ok(&rows, "local_enrolctl_get_course_rows", "shortnames", names)
	if withRows.Rows == nil || *withRows.Rows != rows {
		t.Errorf("get_courses' rows %v\nget_course_rows' %s", withRows.Rows, rows)
	}
	if withRows.Status == nil || withRows.Status.Version != contract.Newest().Version || withRows.Total == 0 || len(withRows.Courses) != withRows.Total {
		t.Errorf("get_courses with rows: status %+v, %d of %d courses", withRows.Status, len(withRows.Courses), withRows.Total)
	}
	var plain map[string]json.RawMessage
	admin.ok(&plain, "local_enrolctl_get_courses")
	if _, ok := plain["rows"]; ok {
		t.Error("get_courses without shortnames answers rows")
	}
	if e := admin.fail("local_enrolctl_get_courses", "shortnames", `"A"`); e.ErrorCode != "invalidpayload" {
		t.Errorf("shortnames not a list: %+v, want invalidpayload", e)
	}
	st.s.SetPlugin(contract.Plugin{Version: contract.PluginCoursesWithStatus, Release: "2.3.0"})
	if e := admin.fail("local_enrolctl_get_courses", "withstatus", "1", "shortnames", names); e.ErrorCode != "invalidparameter" {
		t.Errorf("plugin 2.3.0, with rows: %+v, want invalidparameter", e)
	}
	admin.ok(&plain, "local_enrolctl_get_courses", "withstatus", "1")
}
