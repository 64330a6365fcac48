package moodlesim

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSiteStatusAndCourses(t *testing.T) {
	st := newSite(t)
	var status struct {
		PluginRelease  string   `json:"pluginrelease"`
		MoodleVersion  string   `json:"moodleversion"`
		EnabledPlugins []string `json:"enabledplugins"`
		TimeZone       string   `json:"timezone"`
		Roles          []struct {
			ID        int64  `json:"id"`
			Shortname string `json:"shortname"`
		} `json:"roles"`
	}
	st.s.SetPluginEnabled("guest", false)
	st.admin.ok(&status, "local_enrolctl_get_site_status")
	if diff := cmp.Diff([]string{"manual", "self", "cohort", "meta", "database"}, status.EnabledPlugins); diff != "" {
		t.Errorf("enabled plugins (-want +got):\n%s", diff)
	}
	if status.TimeZone != "Europe/Paris" || status.MoodleVersion != "2025100600.02" || len(status.Roles) != 8 || status.Roles[4].Shortname != "student" {
		t.Errorf("status %+v", status)
	}

	var page struct {
		Total   int         `json:"total"`
		Courses []courseRef `json:"courses"`
	}
	st.admin.ok(&page, "local_enrolctl_get_courses", "page", "1", "perpage", "2")
	want := []courseRef{{ID: st.cours, Shortname: "C", Fullname: "Course C", CategoryID: st.catB, CategoryPath: "Santé / IFSI", Visible: false}}
	if diff := cmp.Diff(want, page.Courses); diff != "" || page.Total != 3 {
		t.Errorf("page 1 total %d (-want +got):\n%s", page.Total, diff)
	}
	if e := st.admin.fail("local_enrolctl_get_courses", "perpage", "5001"); e.ErrorCode != "invalidparameter" {
		t.Errorf("perpage 5001: %+v", e)
	}
}

func TestCourseStateShape(t *testing.T) {
	st := newSite(t)
	s := st.s
	g := s.AddGroup(st.courseA, "TP1")
	s.Enrol(st.manualA, st.u[4], 5, 100, 200, true)
	s.AddMember(g, st.u[4])
	coh := s.AddInstance(Instance{Enrol: "cohort", CourseID: st.courseA, RoleID: 5, CustomInt1: st.cohort, CustomInt2: g})
	meta := s.AddInstance(Instance{Enrol: "meta", CourseID: st.courseA, CustomInt1: st.courseB})
	self := s.AddInstance(Instance{Enrol: "self", CourseID: st.courseA, Name: "Libre", RoleID: 5, CustomInt3: 30, Status: 1})
	var got []courseState
	st.admin.ok(&got, "local_enrolctl_get_course_state", "courseids[0]", id(st.courseB), "courseids[1]", id(st.courseA))
	if len(got) != 2 || got[0].CourseID != st.courseB || got[1].Shortname != "A" {
		t.Fatalf("order: %+v", got)
	}
	a := got[1]
	wantInstances := []stateInstance{
		{ID: st.manualA, Enrol: "manual", RoleID: 5, RoleShortname: "student"},
		{ID: coh, Enrol: "cohort", SortOrder: 1, RoleID: 5, RoleShortname: "student", CohortID: st.cohort, CohortIDNumber: "COH", GroupID: g, GroupName: "TP1"},
		{ID: meta, Enrol: "meta", SortOrder: 2, LinkedCourseID: st.courseB, LinkedCourseShortname: "B"},
		{ID: self, Enrol: "self", Status: 1, Name: "Libre", SortOrder: 3, RoleID: 5, RoleShortname: "student", MaxEnrolled: 30},
	}
	if diff := cmp.Diff(wantInstances, a.Instances); diff != "" {
		t.Errorf("instances (-want +got):\n%s", diff)
	}
	var users []string
	for _, e := range a.Enrolments {
		users = append(users, e.Username+"@"+itoa(e.InstanceID))
	}
	wantUsers := []string{"u4@" + id(st.manualA), "u1@" + id(coh), "u2@" + id(coh), "u3@" + id(coh)}
	if diff := cmp.Diff(wantUsers, users); diff != "" {
		t.Errorf("enrolments (-want +got):\n%s", diff)
	}
	if a.Enrolments[0].Status != 1 || a.Enrolments[0].TimeStart != 100 || a.Enrolments[0].TimeEnd != 200 {
		t.Errorf("manual row %+v", a.Enrolments[0])
	}
	wantRoles := []stateRole{
		{st.u[1], 5, "student", "enrol_cohort", coh}, {st.u[2], 5, "student", "enrol_cohort", coh},
		{st.u[3], 5, "student", "enrol_cohort", coh}, {st.u[4], 5, "student", "", 0},
	}
	if diff := cmp.Diff(wantRoles, a.Roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	wantMembers := []stateMember{
		{g, st.u[1], "u1", "enrol_cohort", coh}, {g, st.u[2], "u2", "enrol_cohort", coh},
		{g, st.u[3], "u3", "enrol_cohort", coh}, {g, st.u[4], "u4", "", 0},
	}
	if diff := cmp.Diff(wantMembers, a.Members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]stateGroup{{g, "TP1", ""}}, a.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

func TestAddInstancesErrors(t *testing.T) {
	item := func(kv ...string) []string {
		var out []string
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, "instances[0]["+kv[i]+"]", kv[i+1])
		}
		return out
	}
	tests := []struct {
		name  string
		setup func(st *site)
		args  func(st *site) []string
		code  string
		msg   string
	}{
		{name: "database", args: func(st *site) []string { return item("courseid", id(st.courseA), "enrol", "database") },
			code: "databaseinstance", msg: "Instance new belongs to the external database sync; enrolctl never changes it."},
		{name: "unsupported", args: func(st *site) []string { return item("courseid", id(st.courseA), "enrol", "lti") },
			code: "unsupportedmethod", msg: "enrolctl cannot manage enrolment method lti."},
		{name: "unknown course", args: func(st *site) []string { return item("courseid", "999", "enrol", "self") },
			code: "unknowncourse", msg: "Course 999 does not exist."},
		{name: "site course", args: func(st *site) []string { return item("courseid", "1", "enrol", "self") },
			code: "unknowncourse", msg: "Course 1 does not exist."},
		{name: "plugin disabled", setup: func(st *site) { st.s.SetPluginEnabled("self", false) },
			args: func(st *site) []string { return item("courseid", id(st.courseA), "enrol", "self") },
			code: "plugindisabled", msg: "The enrolment plugin self is disabled on this site."},
		{name: "second manual", args: func(st *site) []string { return item("courseid", id(st.courseA), "enrol", "manual") },
			code: "cannotaddinstance", msg: "Cannot add a manual instance to course " + "2" + ": the course already has one or the plugin refuses it."},
		{name: "unknown cohort", args: func(st *site) []string {
			return item("courseid", id(st.courseA), "enrol", "cohort", "cohortid", "77", "roleid", "5")
		}, code: "unknowncohort", msg: "Cohort 77 does not exist."},
		{name: "cohort of another category", setup: func(st *site) {
			st.s.AddCohort(Cohort{IDNumber: "CAT", Name: "Cat", CategoryID: st.catB})
		}, args: func(st *site) []string {
			return item("courseid", id(st.courseA), "enrol", "cohort", "cohortid", id(st.s.CohortID("CAT")))
		}, code: "cohortnotavailable", msg: "Cohort 2 is not available in course 2."},
		{name: "duplicate cohort and role", setup: func(st *site) {
			st.s.AddInstance(Instance{Enrol: "cohort", CourseID: st.courseA, RoleID: 5, CustomInt1: st.cohort})
		}, args: func(st *site) []string {
			return item("courseid", id(st.courseA), "enrol", "cohort", "cohortid", id(st.cohort), "roleid", "5")
		}, code: "duplicateinstance", msg: "Course 2 already has an equivalent cohort instance (3)."},
		{name: "meta unknown linked course", args: func(st *site) []string {
			return item("courseid", id(st.courseA), "enrol", "meta", "linkedcourseid", "999")
		}, code: "unknowncourse", msg: "Course 999 does not exist."},
		{name: "meta to itself", args: func(st *site) []string {
			return item("courseid", id(st.courseA), "enrol", "meta", "linkedcourseid", id(st.courseA))
		}, code: "invalidlink", msg: "A course cannot be linked to itself (course 2)."},
		{name: "meta twice", setup: func(st *site) {
			st.s.AddInstance(Instance{Enrol: "meta", CourseID: st.courseA, CustomInt1: st.courseB})
		}, args: func(st *site) []string {
			return item("courseid", id(st.courseA), "enrol", "meta", "linkedcourseid", id(st.courseB))
		}, code: "duplicateinstance", msg: "Course 2 already has an equivalent meta instance (3)."},
		{name: "self same name", setup: func(st *site) {
			st.s.AddInstance(Instance{Enrol: "self", CourseID: st.courseA, Name: "Libre"})
		}, args: func(st *site) []string { return item("courseid", id(st.courseA), "enrol", "self", "name", "Libre") },
			code: "duplicateinstance", msg: "Course 2 already has an equivalent self instance (3)."},
		{name: "role not assignable in a course", args: func(st *site) []string {
			return item("courseid", id(st.courseA), "enrol", "self", "roleid", "7")
		}, code: "invalidrole", msg: "Role 7 cannot be assigned in course 2."},
		{name: "group of another course", setup: func(st *site) { st.s.AddGroup(st.courseB, "G") },
			args: func(st *site) []string {
				return item("courseid", id(st.courseA), "enrol", "cohort", "cohortid", id(st.cohort), "groupid", id(st.s.GroupID(st.courseB, "G")))
			}, code: "invalidgroup", msg: "Group 1 is not a group of course 2."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newSite(t)
			if tt.setup != nil {
				tt.setup(st)
			}
			e := st.admin.fail("local_enrolctl_add_instances", tt.args(st)...)
			if e.ErrorCode != tt.code || e.Message != tt.msg || e.Exception != exMoodle {
				t.Errorf("got %s %q (%s), want %s %q", e.ErrorCode, e.Message, e.Exception, tt.code, tt.msg)
			}
		})
	}
}

func TestAddInstancesHappyPath(t *testing.T) {
	st := newSite(t)
	var got []struct {
		CourseID int64 `json:"courseid"`
		ID       int64 `json:"id"`
	}
	st.admin.ok(&got, "local_enrolctl_add_instances",
		"instances[0][courseid]", id(st.cours), "instances[0][enrol]", "manual", "instances[0][roleid]", "5",
		"instances[1][courseid]", id(st.courseA), "instances[1][enrol]", "self", "instances[1][name]", "Libre",
		"instances[1][status]", "1", "instances[1][roleid]", "5", "instances[1][maxenrolled]", "25",
		"instances[2][courseid]", id(st.courseA), "instances[2][enrol]", "guest")
	if len(got) != 3 || got[0].CourseID != st.cours || got[1].CourseID != st.courseA {
		t.Fatalf("got %+v", got)
	}
	insts := st.s.Instances(st.courseA)
	if len(insts) != 3 || insts[1].Enrol != "self" || insts[1].Status != 1 || insts[1].CustomInt3 != 25 || insts[1].SortOrder != 1 ||
		insts[2].Enrol != "guest" || insts[2].SortOrder != 2 {
		t.Errorf("instances %+v", insts)
	}
}

func TestUpdateAndDeleteInstances(t *testing.T) {
	st := newSite(t)
	s := st.s
	g := s.AddGroup(st.courseA, "G")
	coh := s.AddInstance(Instance{Enrol: "cohort", CourseID: st.courseA, RoleID: 5, CustomInt1: st.cohort})
	db := s.AddInstance(Instance{Enrol: "database", CourseID: st.courseA})

	// Role change: the old enrol_cohort roles go, the new ones come; the group fills.
	st.admin.ok(nil, "local_enrolctl_update_instances", "instances[0][id]", id(coh), "instances[0][roleid]", "4", "instances[0][groupid]", id(g))
	roles := s.RoleAssignments(st.courseA)
	if len(roles) != 3 || roles[0].RoleID != 4 || roles[0].Component != "enrol_cohort" {
		t.Errorf("roles after role change: %+v", roles)
	}
	if m := s.GroupMembers(st.courseA); len(m) != 3 || m[0].Component != "enrol_cohort" {
		t.Errorf("members after group change: %+v", m)
	}
	// Disabling a cohort instance removes its roles and keeps the enrolments.
	st.admin.ok(nil, "local_enrolctl_update_instances", "instances[0][id]", id(coh), "instances[0][status]", "1")
	if roles := s.RoleAssignments(st.courseA); len(roles) != 0 {
		t.Errorf("roles after disabling: %+v", roles)
	}
	if ues := s.UserEnrolments(st.courseA); len(ues) != 3 {
		t.Errorf("enrolments after disabling: %+v", ues)
	}
	// Enabling again restores them.
	st.admin.ok(nil, "local_enrolctl_update_instances", "instances[0][id]", id(coh), "instances[0][status]", "0")
	if roles := s.RoleAssignments(st.courseA); len(roles) != 3 {
		t.Errorf("roles after enabling: %+v", roles)
	}

	for _, fn := range []string{"local_enrolctl_update_instances", "local_enrolctl_delete_instances"} {
		args := []string{"instances[0][id]", id(db), "instances[0][name]", "x"}
		if fn == "local_enrolctl_delete_instances" {
			args = []string{"instanceids[0]", id(db)}
		}
		if e := st.admin.fail(fn, args...); e.ErrorCode != "databaseinstance" || !strings.Contains(e.Message, "Instance "+id(db)+" ") {
			t.Errorf("%s on database: %+v", fn, e)
		}
	}
	if e := st.admin.fail("local_enrolctl_delete_instances", "instanceids[0]", "999"); e.ErrorCode != "unknowninstance" {
		t.Errorf("delete unknown: %+v", e)
	}

	// Deleting the cohort instance unenrols everyone: their last enrolment, so grades go.
	st.admin.ok(nil, "local_enrolctl_delete_instances", "instanceids[0]", id(coh), "instanceids[1]", id(coh))
	if ues := s.UserEnrolments(st.courseA); len(ues) != 0 {
		t.Errorf("enrolments after delete: %+v", ues)
	}
	if m := s.GroupMembers(st.courseA); len(m) != 0 {
		t.Errorf("members after delete: %+v", m)
	}
	if gd := s.GradeDeletions(); len(gd) != 3 || gd[0].CourseID != st.courseA {
		t.Errorf("grade deletions %+v", gd)
	}
}

func TestSetEnrolments(t *testing.T) {
	st := newSite(t)
	s := st.s
	s.AssignRole(st.courseA, st.u[4], 4)
	set := func(user int64, role, start, end, suspended string) []string {
		return []string{"enrolments[0][instanceid]", id(st.manualA), "enrolments[0][userid]", id(user), "enrolments[0][roleid]", role,
			"enrolments[0][timestart]", start, "enrolments[0][timeend]", end, "enrolments[0][suspended]", suspended}
	}
	st.admin.ok(nil, "local_enrolctl_set_enrolments", set(st.u[4], "5", "10", "20", "1")...)
	ue, ok := st.ue(st.manualA, st.u[4])
	if !ok || ue.TimeStart != 10 || ue.TimeEnd != 20 || ue.Status != 1 {
		t.Fatalf("row %+v", ue)
	}
	if roles := s.RoleAssignments(st.courseA); len(roles) != 1 || roles[0].RoleID != 5 {
		t.Errorf("plain roles must become exactly {student}: %+v", roles)
	}
	// An identical call writes nothing.
	before := ue.TimeModified
	s.SetClock(func() time.Time { return testNow.Add(time.Hour) })
	st.admin.ok(nil, "local_enrolctl_set_enrolments", set(st.u[4], "5", "10", "20", "1")...)
	if ue, _ := st.ue(st.manualA, st.u[4]); ue.TimeModified != before {
		t.Errorf("identical row rewritten: %+v", ue)
	}
	// Role 0 leaves roles alone.
	st.admin.ok(nil, "local_enrolctl_set_enrolments", set(st.u[4], "0", "10", "30", "0")...)
	if ue, _ := st.ue(st.manualA, st.u[4]); ue.TimeEnd != 30 || ue.Status != 0 {
		t.Errorf("row %+v", ue)
	}
	if roles := s.RoleAssignments(st.courseA); len(roles) != 1 || roles[0].RoleID != 5 {
		t.Errorf("roles %+v", roles)
	}

	coh := s.AddInstance(Instance{Enrol: "cohort", CourseID: st.courseA, RoleID: 5, CustomInt1: st.cohort})
	deleted := s.AddUser(User{Username: "gone", Deleted: true})
	for _, tt := range []struct {
		name, code string
		args       []string
	}{
		{"unknown instance", "unknowninstance", []string{"enrolments[0][instanceid]", "999", "enrolments[0][userid]", "3", "enrolments[0][roleid]", "5",
			"enrolments[0][timestart]", "0", "enrolments[0][timeend]", "0", "enrolments[0][suspended]", "0"}},
		{"cohort instance", "instancenotmanual", []string{"enrolments[0][instanceid]", id(coh), "enrolments[0][userid]", "3", "enrolments[0][roleid]", "5",
			"enrolments[0][timestart]", "0", "enrolments[0][timeend]", "0", "enrolments[0][suspended]", "0"}},
		{"unknown user", "unknownuser", set(999, "5", "0", "0", "0")},
		{"deleted user", "unknownuser", set(deleted, "5", "0", "0", "0")},
		{"bad role", "invalidrole", set(st.u[5], "8", "0", "0", "0")},
	} {
		if e := st.admin.fail("local_enrolctl_set_enrolments", tt.args...); e.ErrorCode != tt.code {
			t.Errorf("%s: got %+v, want %s", tt.name, e, tt.code)
		}
	}
}

func TestAllOrNothing(t *testing.T) {
	st := newSite(t)
	before := saveString(t, st.s)
	tests := []struct {
		fn   string
		args []string
	}{
		{"local_enrolctl_add_instances", []string{
			"instances[0][courseid]", id(st.courseA), "instances[0][enrol]", "cohort", "instances[0][cohortid]", id(st.cohort), "instances[0][roleid]", "5",
			"instances[1][courseid]", id(st.courseA), "instances[1][enrol]", "meta", "instances[1][linkedcourseid]", id(st.courseA)}},
		{"local_enrolctl_set_enrolments", []string{
			"enrolments[0][instanceid]", id(st.manualA), "enrolments[0][userid]", id(st.u[1]), "enrolments[0][roleid]", "5",
			"enrolments[0][timestart]", "0", "enrolments[0][timeend]", "0", "enrolments[0][suspended]", "0",
			"enrolments[1][instanceid]", id(st.manualA), "enrolments[1][userid]", "999", "enrolments[1][roleid]", "5",
			"enrolments[1][timestart]", "0", "enrolments[1][timeend]", "0", "enrolments[1][suspended]", "0"}},
		{"core_group_create_groups", []string{
			"groups[0][courseid]", id(st.courseA), "groups[0][name]", "G1", "groups[0][description]", "",
			"groups[1][courseid]", id(st.courseA), "groups[1][name]", "G1", "groups[1][description]", ""}},
	}
	for _, tt := range tests {
		st.admin.fail(tt.fn, tt.args...)
		if diff := cmp.Diff(before, saveString(t, st.s)); diff != "" {
			t.Errorf("%s changed the site although it failed (-before +after):\n%s", tt.fn, diff)
		}
	}
}

func TestUnenrolUsersLastEnrolmentCleanup(t *testing.T) {
	st := newSite(t)
	s := st.s
	self := s.AddInstance(Instance{Enrol: "self", CourseID: st.courseA, RoleID: 5})
	g := s.AddGroup(st.courseA, "G")
	// u4: manual and self; u5: manual only, with an extra plain role and a group.
	s.Enrol(st.manualA, st.u[4], 5, 0, 0, false)
	s.Enrol(self, st.u[4], 5, 0, 0, false)
	s.AddMember(g, st.u[4])
	s.Enrol(st.manualA, st.u[5], 5, 0, 0, false)
	s.AssignRole(st.courseA, st.u[5], 4)
	s.AddMember(g, st.u[5])

	st.admin.ok(nil, "local_enrolctl_unenrol_users",
		"enrolments[0][instanceid]", id(st.manualA), "enrolments[0][userid]", id(st.u[4]),
		"enrolments[1][instanceid]", id(st.manualA), "enrolments[1][userid]", id(st.u[5]),
		"enrolments[2][instanceid]", id(st.manualA), "enrolments[2][userid]", id(st.u[6])) // no row: no-op
	want := []RoleAssignment{{RoleID: 5, CourseID: st.courseA, UserID: st.u[4]}}
	if diff := cmp.Diff(want, s.RoleAssignments(st.courseA)); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	wantMembers := []GroupMember{{GroupID: g, UserID: st.u[4]}}
	if diff := cmp.Diff(wantMembers, s.GroupMembers(st.courseA)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]GradeDeletion{{CourseID: st.courseA, UserID: st.u[5], Time: testNow.Unix()}}, s.GradeDeletions()); diff != "" {
		t.Errorf("grade deletions (-want +got):\n%s", diff)
	}
}

func saveString(t testing.TB, s *Sim) string {
	t.Helper()
	var b strings.Builder
	if err := s.Save(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The catalogue pages through the course id index: it must follow courses created,
// those a failed call rolled back, and a saved and loaded site.
func TestCatalogueFollowsCourses(t *testing.T) {
	st := newSite(t)
	catalogue := func(s *Sim) []string {
		t.Helper()
		var names []string
		for p := 0; ; p++ {
			var page struct {
				Total   int         `json:"total"`
				Courses []courseRef `json:"courses"`
			}
			client{t, s, "tok"}.ok(&page, "local_enrolctl_get_courses", "page", itoa(int64(p)), "perpage", "2")
			for _, c := range page.Courses {
				names = append(names, c.Shortname)
			}
			if len(page.Courses) < 2 {
				if page.Total != len(names) {
					t.Errorf("total %d, listed %v", page.Total, names)
				}
				return names
			}
		}
	}
	st.testing.ok(nil, "core_course_create_courses", "courses[0][fullname]", "D", "courses[0][shortname]", "D", "courses[0][categoryid]", id(st.catA))
	// The second course's shortname is taken: the call fails whole, E is not kept.
	st.testing.fail("core_course_create_courses", "courses[0][fullname]", "E", "courses[0][shortname]", "E",
		"courses[0][categoryid]", id(st.catA), "courses[1][fullname]", "A again", "courses[1][shortname]", "A", "courses[1][categoryid]", id(st.catA))
	if diff := cmp.Diff([]string{"A", "B", "C", "D"}, catalogue(st.s)); diff != "" {
		t.Errorf("catalogue (-want +got):\n%s", diff)
	}
	var saved bytes.Buffer
	if err := st.s.Save(&saved); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(&saved)
	if err != nil {
		t.Fatal(err)
	}
	loaded.AddToken("tok", ServiceEnrolctl, "admin")
	if diff := cmp.Diff([]string{"A", "B", "C", "D"}, catalogue(loaded)); diff != "" {
		t.Errorf("loaded catalogue (-want +got):\n%s", diff)
	}
}
