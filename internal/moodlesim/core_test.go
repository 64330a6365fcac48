package moodlesim

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUsersByField(t *testing.T) {
	st := newSite(t)
	st.s.AddUser(User{Username: "gone", Deleted: true})
	var got []userDetails
	st.admin.ok(&got, "core_user_get_users_by_field", "field", "username", "values[0]", "u2", "values[1]", "nobody", "values[2]", "u1", "values[3]", "gone")
	var names []string
	for _, u := range got {
		names = append(names, u.Username)
	}
	if diff := cmp.Diff([]string{"u1", "u2"}, names); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	e := st.admin.fail("core_user_get_users_by_field", "field", "username", "values[0]", "U1")
	if e.ErrorCode != "invalidparameter" || e.DebugInfo != "The field 'username' value is invalid: U1(cleaned value: u1)" {
		t.Errorf("uppercase username: %+v", e)
	}
	if e := st.admin.fail("core_user_get_users_by_field", "field", "city", "values[0]", "x"); e.ErrorCode != "codingerror" {
		t.Errorf("bad field: %+v", e)
	}
	st.admin.ok(&got, "core_user_get_users_by_field", "field", "id", "values[0]", id(st.u[3]))
	if len(got) != 1 || got[0].Username != "u3" || got[0].Fullname != "User 3" {
		t.Errorf("by id: %+v", got)
	}
}

func TestCohortReads(t *testing.T) {
	st := newSite(t)
	st.s.AddCohort(Cohort{IDNumber: "ABC", Name: "Another", Visible: true})
	var res struct {
		Cohorts []cohortInfo `json:"cohorts"`
	}
	st.admin.ok(&res, "core_cohort_search_cohorts", "query", "", "context[contextlevel]", "system", "context[instanceid]", "0",
		"includes", "all", "limitfrom", "0", "limitnum", "0")
	if len(res.Cohorts) != 2 || res.Cohorts[0].IDNumber != "ABC" || res.Cohorts[1].IDNumber != "COH" {
		t.Errorf("search: %+v", res.Cohorts)
	}
	st.admin.ok(&res, "core_cohort_search_cohorts", "query", "coh", "context[contextlevel]", "system", "includes", "all")
	if len(res.Cohorts) != 1 || res.Cohorts[0].ID != st.cohort {
		t.Errorf("search coh: %+v", res.Cohorts)
	}
	var members []struct {
		CohortID int64   `json:"cohortid"`
		UserIDs  []int64 `json:"userids"`
	}
	st.all.ok(&members, "core_cohort_get_cohort_members", "cohortids[0]", id(st.cohort))
	if len(members) != 1 || len(members[0].UserIDs) != 3 {
		t.Errorf("members %+v", members)
	}
	if e := st.all.fail("core_cohort_get_cohort_members", "cohortids[0]", "99"); e.ErrorCode != "invalidrecord" {
		t.Errorf("missing cohort: %+v", e)
	}
	var all []cohortInfo
	st.all.ok(&all, "core_cohort_get_cohorts")
	if len(all) != 2 {
		t.Errorf("get_cohorts: %+v", all)
	}
}

func TestGroups(t *testing.T) {
	st := newSite(t)
	s := st.s
	var created []groupInfo
	st.admin.ok(&created, "core_group_create_groups", "groups[0][courseid]", id(st.courseA), "groups[0][name]", "TP1", "groups[0][description]", "")
	if len(created) != 1 || created[0].Name != "TP1" || !created[0].Participation {
		t.Fatalf("created %+v", created)
	}
	g := created[0].ID
	if e := st.admin.fail("core_group_create_groups", "groups[0][courseid]", id(st.courseA), "groups[0][name]", "TP1", "groups[0][description]", ""); e.DebugInfo != "Group with the same name already exists in the course" {
		t.Errorf("duplicate name: %+v", e)
	}
	if e := st.admin.fail("core_group_create_groups", "groups[0][courseid]", "999", "groups[0][name]", "X", "groups[0][description]", ""); e.ErrorCode != "errorcoursecontextnotvalid" {
		t.Errorf("unknown course: %+v", e)
	}
	e := st.admin.fail("core_group_add_group_members", "members[0][groupid]", id(g), "members[0][userid]", id(st.u[4]))
	if e.ErrorCode != "invalidparameter" || e.DebugInfo != "Only enrolled users may be members of groups" {
		t.Errorf("not enrolled: %+v", e)
	}
	s.Enrol(st.manualA, st.u[4], 5, 0, 0, true) // any status counts as enrolled
	st.admin.ok(nil, "core_group_add_group_members", "members[0][groupid]", id(g), "members[0][userid]", id(st.u[4]))
	st.admin.ok(nil, "core_group_add_group_members", "members[0][groupid]", id(g), "members[0][userid]", id(st.u[4]))
	if m := s.GroupMembers(st.courseA); len(m) != 1 {
		t.Errorf("members %+v", m)
	}
	// Cohort-owned memberships cannot be removed; manual ones can.
	s.AddInstance(Instance{Enrol: "cohort", CourseID: st.courseA, RoleID: 5, CustomInt1: st.cohort, CustomInt2: g})
	e = st.admin.fail("core_group_delete_group_members", "members[0][groupid]", id(g), "members[0][userid]", id(st.u[1]))
	if e.ErrorCode != "errorremovenotpermitted" || e.Message != "You do not have permission to remove automatically-added group member User 1" {
		t.Errorf("cohort member: %+v", e)
	}
	st.admin.ok(nil, "core_group_delete_group_members", "members[0][groupid]", id(g), "members[0][userid]", id(st.u[4]))
	if m := s.GroupMembers(st.courseA); len(m) != 3 {
		t.Errorf("members after removal %+v", m)
	}
	var groups []groupInfo
	st.all.ok(&groups, "core_group_get_course_groups", "courseid", id(st.courseA))
	if len(groups) != 1 || groups[0].ID != g {
		t.Errorf("course groups %+v", groups)
	}
}

func TestManualEnrolUsers(t *testing.T) {
	st := newSite(t)
	s := st.s
	s.Enrol(st.manualA, st.u[4], 5, 100, 200, true)
	s.AssignRole(st.courseA, st.u[4], 4)
	// Omitted timestart, timeend and suspend reset the row; the role is added, not replaced.
	st.testing.ok(nil, "enrol_manual_enrol_users", "enrolments[0][roleid]", "3", "enrolments[0][userid]", id(st.u[4]),
		"enrolments[0][courseid]", id(st.courseA))
	ue, _ := st.ue(st.manualA, st.u[4])
	if ue.TimeStart != 0 || ue.TimeEnd != 0 || ue.Status != UserActive {
		t.Errorf("row not reset: %+v", ue)
	}
	var roles []int64
	for _, ra := range s.RoleAssignments(st.courseA) {
		roles = append(roles, ra.RoleID)
	}
	if diff := cmp.Diff([]int64{3, 4, 5}, roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	// Site-suspended users are accepted.
	u5 := User{ID: st.u[5], Username: "u5", Firstname: "User", Lastname: "5", Email: "u5@example.invalid", Suspended: true}
	s.UpdateUser(u5)
	st.testing.ok(nil, "enrol_manual_enrol_users", "enrolments[0][roleid]", "5", "enrolments[0][userid]", id(st.u[5]),
		"enrolments[0][courseid]", id(st.courseA), "enrolments[0][timeend]", "500", "enrolments[0][suspend]", "1")
	if ue, _ := st.ue(st.manualA, st.u[5]); ue.TimeEnd != 500 || ue.Status != UserSuspended {
		t.Errorf("u5 row %+v", ue)
	}

	before := saveString(t, s)
	for _, tt := range []struct {
		name, code, msg string
		args            []string
	}{
		{"no manual instance", "wsnoinstance", "Manual enrolment plugin instance doesn't exist or is disabled for the course (id = 4)",
			[]string{"enrolments[0][roleid]", "5", "enrolments[0][userid]", id(st.u[1]), "enrolments[0][courseid]", id(st.cours)}},
		{"role not assignable", "wsusercannotassign", "You don't have the permission to assign this role (7) to this user (3) in this course (2).",
			[]string{"enrolments[0][roleid]", "7", "enrolments[0][userid]", id(st.u[1]), "enrolments[0][courseid]", id(st.courseA)}},
		{"unknown course", "invalidparameter", "Invalid parameter value detected (Context does not exist)",
			[]string{"enrolments[0][roleid]", "5", "enrolments[0][userid]", id(st.u[1]), "enrolments[0][courseid]", "999"}},
		{"unknown user after a good item", "invaliduser", "Invalid user (SELECT * FROM {user} WHERE id = ?\n[array (\n  0 => 999,\n)])",
			[]string{"enrolments[0][roleid]", "5", "enrolments[0][userid]", id(st.u[6]), "enrolments[0][courseid]", id(st.courseA),
				"enrolments[1][roleid]", "5", "enrolments[1][userid]", "999", "enrolments[1][courseid]", id(st.courseA)}},
	} {
		e := st.testing.fail("enrol_manual_enrol_users", tt.args...)
		if e.ErrorCode != tt.code || e.Message != tt.msg {
			t.Errorf("%s: got %s %q", tt.name, e.ErrorCode, e.Message)
		}
	}
	if diff := cmp.Diff(before, saveString(t, s)); diff != "" {
		t.Errorf("failed calls changed the site:\n%s", diff)
	}

	// Unenrol: roleid ignored, a user without a row is a no-op, the last enrolment cleans up.
	st.all.ok(nil, "enrol_manual_unenrol_users", "enrolments[0][userid]", id(st.u[4]), "enrolments[0][courseid]", id(st.courseA),
		"enrolments[0][roleid]", "5", "enrolments[1][userid]", id(st.u[6]), "enrolments[1][courseid]", id(st.courseA))
	for _, ra := range s.RoleAssignments(st.courseA) {
		if ra.UserID == st.u[4] {
			t.Errorf("u4 keeps role %+v after the last unenrol", ra)
		}
	}
}

func TestEnrolledUsers(t *testing.T) {
	st := newSite(t)
	s := st.s
	s.Enrol(st.manualA, st.u[4], 5, 0, 0, true)
	s.Enrol(st.manualA, st.u[5], 5, 0, 100, false) // ended long ago
	s.Enrol(st.manualA, st.u[6], 3, 0, 0, false)
	s.AddInstance(Instance{Enrol: "cohort", CourseID: st.courseA, RoleID: 5, CustomInt1: st.cohort})
	s.AssignRole(st.courseA, st.u[2], 5) // also a plain student: get_user_roles lists both
	var all []enrolledUser
	st.testing.ok(&all, "core_enrol_get_enrolled_users", "courseid", id(st.courseA))
	if len(all) != 6 {
		t.Fatalf("%d users, want every row's user (6)", len(all))
	}
	if r := *all[0].Roles; len(r) != 1 || r[0].Shortname != "student" {
		t.Errorf("roles of u1 %+v", r)
	}
	if r := *all[1].Roles; len(r) != 2 || r[1].Shortname != "student" {
		t.Errorf("roles of u2 %+v, want student twice", r)
	}
	var active []enrolledUser
	st.testing.ok(&active, "core_enrol_get_enrolled_users", "courseid", id(st.courseA),
		"options[0][name]", "onlyactive", "options[0][value]", "1", "options[1][name]", "userfields", "options[1][value]", "id,username")
	var names []string
	for _, u := range active {
		names = append(names, *u.Username)
		if u.Roles != nil || u.Email != nil {
			t.Errorf("userfields not honoured: %+v", u)
		}
	}
	if diff := cmp.Diff([]string{"u1", "u2", "u3", "u6"}, names); diff != "" {
		t.Errorf("active users (-want +got):\n%s", diff)
	}
	if e := st.testing.fail("core_enrol_get_enrolled_users", "courseid", "999"); e.ErrorCode != "invalidrecord" {
		t.Errorf("unknown course: %+v", e)
	}
}

func TestFixtureFunctions(t *testing.T) {
	st := newSite(t)
	var cats []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	st.testing.ok(&cats, "core_course_create_categories", "categories[0][name]", "E2E", "categories[0][parent]", "0")
	var courses []struct {
		ID        int64  `json:"id"`
		Shortname string `json:"shortname"`
	}
	st.testing.ok(&courses, "core_course_create_courses", "courses[0][fullname]", "E2E course", "courses[0][shortname]", "E2E-1",
		"courses[0][categoryid]", id(cats[0].ID))
	insts := st.s.Instances(courses[0].ID)
	var kinds []string
	for _, e := range insts {
		kinds = append(kinds, e.Enrol+":"+itoa(int64(e.Status)))
	}
	if diff := cmp.Diff([]string{"manual:0", "guest:1", "self:1"}, kinds); diff != "" {
		t.Errorf("default instances (-want +got):\n%s", diff)
	}
	if e := st.testing.fail("core_course_create_courses", "courses[0][fullname]", "x", "courses[0][shortname]", "E2E-1",
		"courses[0][categoryid]", id(cats[0].ID)); e.ErrorCode != "shortnametaken" {
		t.Errorf("duplicate shortname: %+v", e)
	}
	var users []struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
	}
	st.testing.ok(&users, "core_user_create_users", "users[0][username]", "e2e1", "users[0][password]", "Secret-123",
		"users[0][firstname]", "E", "users[0][lastname]", "Two", "users[0][email]", "e2e1@example.invalid")
	if len(users) != 1 || users[0].Username != "e2e1" {
		t.Errorf("users %+v", users)
	}
	e := st.testing.fail("core_user_create_users", "users[0][username]", "e2e2", "users[0][password]", "secret",
		"users[0][firstname]", "E", "users[0][lastname]", "Two", "users[0][email]", "e2e2@example.invalid")
	if !strings.Contains(e.ErrorCode, "Passwords must be at least 8 characters long.") || !strings.HasPrefix(e.Message, "error/<div>") {
		t.Errorf("weak password: %+v", e)
	}
	if e := st.testing.fail("core_user_create_users", "users[0][username]", "e2e1", "users[0][password]", "x",
		"users[0][firstname]", "E", "users[0][lastname]", "Two", "users[0][email]", "other@example.invalid"); e.DebugInfo != "Username already exists: e2e1" {
		t.Errorf("duplicate user: %+v", e)
	}
	var cohorts []cohortInfo
	st.testing.ok(&cohorts, "core_cohort_create_cohorts", "cohorts[0][categorytype][type]", "system", "cohorts[0][categorytype][value]", "",
		"cohorts[0][name]", "E2E", "cohorts[0][idnumber]", "E2E-COH")
	if len(cohorts) != 1 || st.s.CohortID("E2E-COH") != cohorts[0].ID {
		t.Errorf("cohorts %+v", cohorts)
	}
	var metas []struct {
		MetaCourseID int64  `json:"metacourseid"`
		CourseID     string `json:"courseid"`
		Status       bool   `json:"status"`
	}
	st.all.ok(&metas, "enrol_meta_add_instances", "instances[0][metacourseid]", id(st.courseA), "instances[0][courseid]", id(st.courseB),
		"instances[1][metacourseid]", id(st.courseA), "instances[1][courseid]", id(st.courseB))
	if len(metas) != 2 || !metas[0].Status || metas[1].Status || metas[1].CourseID != id(st.courseB) {
		t.Errorf("meta add %+v", metas)
	}
	// Not transactional: the first item stays when the second fails.
	st.all.fail("enrol_meta_add_instances", "instances[0][metacourseid]", id(st.cours), "instances[0][courseid]", id(st.courseB),
		"instances[1][metacourseid]", id(st.cours), "instances[1][courseid]", "999")
	if insts := st.s.Instances(st.cours); len(insts) != 1 || insts[0].Enrol != "meta" {
		t.Errorf("course C instances %+v", insts)
	}
}

func TestSiteInfo(t *testing.T) {
	st := newSite(t)
	var info struct {
		Username  string `json:"username"`
		SiteURL   string `json:"siteurl"`
		Functions []struct {
			Name string `json:"name"`
		} `json:"functions"`
		UserIsSiteAdmin bool `json:"userissiteadmin"`
	}
	st.admin.ok(&info, "core_webservice_get_site_info")
	if info.Username != "admin" || !info.UserIsSiteAdmin || len(info.Functions) != len(enrolctlFunctions) || info.SiteURL != "http://moodle.test" {
		t.Errorf("site info %+v", info)
	}
	st.testing.ok(&info, "core_webservice_get_site_info")
	if n := len(info.Functions); n != len(enrolctlFunctions)+8 || info.Functions[n-1].Name != "core_enrol_get_enrolled_users" {
		t.Errorf("testing service functions %+v", info.Functions)
	}
	if e := st.testing.fail("enrol_meta_add_instances", "instances[0][metacourseid]", "2", "instances[0][courseid]", "3"); e.ErrorCode != "accessexception" {
		t.Errorf("a sim-only function through enrolctl_testing: %+v", e)
	}
}

// topKeys returns the keys of a JSON object in the order they were sent.
func topKeys(t *testing.T, body string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", body)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// The keys and advanced features of core_webservice_get_site_info as a Moodle 5.1 site
// sends them to an admin (get_site_info_returns order).
func TestSiteInfoMatchesMoodle(t *testing.T) {
	st := newSite(t)
	_, body := st.admin.post("core_webservice_get_site_info")
	wantKeys := []string{"sitename", "username", "firstname", "lastname", "fullname", "lang", "userid", "siteurl",
		"userpictureurl", "functions", "downloadfiles", "uploadfiles", "release", "version", "mobilecssurl",
		"advancedfeatures", "usercanmanageownfiles", "userquota", "usermaxuploadfilesize", "userhomepage",
		"userprivateaccesskey", "siteid", "sitecalendartype", "usercalendartype", "userissiteadmin", "theme",
		"limitconcurrentlogins", "policyagreed"}
	if diff := cmp.Diff(wantKeys, topKeys(t, body)); diff != "" {
		t.Errorf("site info keys (-want +got):\n%s", diff)
	}
	type feature struct {
		Name  string `json:"name"`
		Value int    `json:"value"`
	}
	var info struct {
		AdvancedFeatures      []feature `json:"advancedfeatures"`
		UserQuota             int64     `json:"userquota"`
		UserPrivateAccessKey  string    `json:"userprivateaccesskey"`
		LimitConcurrentLogins int       `json:"limitconcurrentlogins"`
		PolicyAgreed          int       `json:"policyagreed"`
	}
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	wantFeatures := []feature{{"usecomments", 1}, {"usetags", 1}, {"enablenotes", 1}, {"messaging", 1}, {"enableblogs", 1},
		{"enablecompletion", 1}, {"enablebadges", 1}, {"messagingallusers", 0}, {"enablecustomreports", 1},
		{"enableglobalsearch", 0}, {"mnet_dispatcher_mode", 0}, {"enablecompetencies", 1}}
	if diff := cmp.Diff(wantFeatures, info.AdvancedFeatures); diff != "" {
		t.Errorf("advanced features (-want +got):\n%s", diff)
	}
	if info.UserQuota != 0 || info.LimitConcurrentLogins != 0 || info.PolicyAgreed != 0 {
		t.Errorf("userquota %d limitconcurrentlogins %d policyagreed %d; want 0 0 0", info.UserQuota, info.LimitConcurrentLogins, info.PolicyAgreed)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{32}$`).MatchString(info.UserPrivateAccessKey) {
		t.Errorf("userprivateaccesskey %q is not 32 alphanumerics", info.UserPrivateAccessKey)
	}
	first := info.UserPrivateAccessKey
	st.testing.ok(&info, "core_webservice_get_site_info")
	if info.UserPrivateAccessKey != first {
		t.Errorf("userprivateaccesskey changed between calls")
	}
}

// user_get_user_details leaves out description and descriptionformat when the user's
// description is NULL, as it is for users created by web services and for the admin;
// the guest has the installer's description.
func TestUserDetailsOmitNullDescription(t *testing.T) {
	st := newSite(t)
	_, body := st.admin.post("core_user_get_users_by_field", "field", "id", "values[0]", "1", "values[1]", "2", "values[2]", id(st.u[1]))
	var got []map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got) != 3 {
		t.Fatalf("users: %s", body)
	}
	if got[0]["description"] != "This user is a special user that allows read-only access to some courses." || got[0]["descriptionformat"] != float64(1) {
		t.Errorf("guest description %v format %v", got[0]["description"], got[0]["descriptionformat"])
	}
	for _, u := range got[1:] {
		_, d := u["description"]
		_, f := u["descriptionformat"]
		if d || f {
			t.Errorf("user %v has a NULL description but got description %v, descriptionformat %v", u["username"], d, f)
		}
	}
	st.s.Enrol(st.manualA, st.u[1], 5, 0, 0, false)
	_, body = st.testing.post("core_enrol_get_enrolled_users", "courseid", id(st.courseA))
	if strings.Contains(body, `"description"`) || strings.Contains(body, `"descriptionformat"`) {
		t.Errorf("enrolled users with NULL descriptions: %s", body)
	}
}

// cohort_add_cohort stores theme ” when cohort themes are off, and the cohort
// functions send it as "theme":"".
func TestCohortThemeIsEmpty(t *testing.T) {
	st := newSite(t)
	_, body := st.admin.post("core_cohort_search_cohorts", "query", "", "context[contextlevel]", "system", "includes", "all")
	var res struct {
		Cohorts []map[string]any `json:"cohorts"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || len(res.Cohorts) == 0 {
		t.Fatalf("search: %s", body)
	}
	for _, co := range res.Cohorts {
		if theme, ok := co["theme"]; !ok || theme != "" {
			t.Errorf("searched cohort %v: theme %v (present %v); want \"\"", co["idnumber"], theme, ok)
		}
	}
	_, body = st.testing.post("core_cohort_create_cohorts", "cohorts[0][categorytype][type]", "system", "cohorts[0][categorytype][value]", "",
		"cohorts[0][name]", "New", "cohorts[0][idnumber]", "NEW")
	if !strings.Contains(body, `"visible":true,"theme":""}`) {
		t.Errorf("created cohort: %s; want \"theme\":\"\" after visible", body)
	}
}
