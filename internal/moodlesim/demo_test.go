package moodlesim

import (
	"testing"
)

func TestDemoSite(t *testing.T) {
	s := DemoSite()
	s.AddToken("sandbox", ServiceEnrolctl, "admin")
	c := client{t, s, "sandbox"}
	var page struct {
		Total   int         `json:"total"`
		Courses []courseRef `json:"courses"`
	}
	c.ok(&page, "local_enrolctl_get_courses")
	if page.Total != len(demoCourses) || page.Total < 28 {
		t.Errorf("%d courses", page.Total)
	}
	paths := map[string]string{}
	for _, co := range page.Courses {
		paths[co.Shortname] = co.CategoryPath
	}
	for short, path := range map[string]string{
		"L1-INFO-ALGO": "Ecampus / Sciences / L1 Informatique", "L2-INFO-BDD": "Ecampus / Sciences / L2 Informatique",
		"IFSI-S1-ANAT": "Santé / IFSI", "FC-EXCEL-INIT": "Formation continue",
	} {
		if paths[short] != path {
			t.Errorf("%s in %q, want %q", short, paths[short], path)
		}
	}
	learners := 0
	for _, u := range s.d.Users {
		if len(u.Username) == 8 && u.Username[0] >= '0' && u.Username[0] <= '9' {
			learners++
		}
	}
	if learners < 1150 || learners > 1250 || s.UserID("21009539") == 0 || s.UserID("dumontj01") == 0 {
		t.Errorf("%d learners; 21009539 %d; dumontj01 %d", learners, s.UserID("21009539"), s.UserID("dumontj01"))
	}
	var cohorts struct {
		Cohorts []cohortInfo `json:"cohorts"`
	}
	c.ok(&cohorts, "core_cohort_search_cohorts", "query", "", "context[contextlevel]", "system", "context[instanceid]", "0",
		"includes", "all", "limitfrom", "0", "limitnum", "0")
	if len(cohorts.Cohorts) != 5 {
		t.Errorf("cohorts %+v", cohorts.Cohorts)
	}

	ids := []string{}
	for i, co := range page.Courses {
		ids = append(ids, "courseids["+itoa(int64(i))+"]", id(co.ID))
	}
	var states []courseState
	c.ok(&states, "local_enrolctl_get_course_state", ids...)
	byName := map[string]courseState{}
	for _, cs := range states {
		byName[cs.Shortname] = cs
	}
	// Database-synced students with enrol_database roles in the Sciences courses.
	algo := byName["L1-INFO-ALGO"]
	dbRoles, expired := 0, 0
	for _, r := range algo.Roles {
		if r.Component == "enrol_database" {
			dbRoles++
		}
	}
	end := endOfDay(2026, 6, 30)
	for _, e := range algo.Enrolments {
		if e.TimeEnd == end {
			expired++
		}
	}
	if dbRoles < 400 || expired != 12 {
		t.Errorf("L1-INFO-ALGO: %d database roles, %d manual enrolments ended 2026-06-30", dbRoles, expired)
	}
	// Cohort-synced students in the IFSI S1 courses, in the group Promo 2026.
	anat := byName["IFSI-S1-ANAT"]
	cohortMembers := 0
	for _, m := range anat.Members {
		if m.Component == "enrol_cohort" {
			cohortMembers++
		}
	}
	if cohortMembers != 150 {
		t.Errorf("IFSI-S1-ANAT: %d cohort group members, want 150", cohortMembers)
	}
	// Continuing education: expired and suspended manual enrolments, a self instance.
	excel := byName["FC-EXCEL-INIT"]
	suspended, methods := 0, map[string]bool{}
	for _, e := range excel.Enrolments {
		suspended += e.Status
	}
	for _, in := range excel.Instances {
		methods[in.Enrol] = true
	}
	if suspended != 3 || !methods["self"] || methods["database"] || methods["cohort"] {
		t.Errorf("FC-EXCEL-INIT: %d suspended, methods %v", suspended, methods)
	}
	// IFSI-2027 has members but no course syncs it yet: the policy's work.
	for _, cs := range states {
		for _, in := range cs.Instances {
			if in.CohortIDNumber == "IFSI-2027" {
				t.Errorf("%s already syncs IFSI-2027", cs.Shortname)
			}
		}
	}
}

// BenchmarkCourseStateDemo reads every course of the demo site in batches of 200
// through the handler, as enrolctl's observe step does.
func BenchmarkCourseStateDemo(b *testing.B) {
	s := DemoSite()
	s.AddToken("tok", ServiceEnrolctl, "admin")
	c := client{b, s, "tok"}
	var ids []int64
	for _, co := range demoCourses {
		ids = append(ids, s.CourseID(co.shortname))
	}
	b.ResetTimer()
	for b.Loop() {
		for start := 0; start < len(ids); start += 200 {
			var args []string
			for i, cid := range ids[start:min(start+200, len(ids))] {
				args = append(args, "courseids["+itoa(int64(i))+"]", id(cid))
			}
			code, body := c.post("local_enrolctl_get_course_state", args...)
			if code != 200 || len(body) < 1000 {
				b.Fatalf("HTTP %d %.200s", code, body)
			}
		}
	}
}

func BenchmarkDemoSite(b *testing.B) {
	for b.Loop() {
		DemoSite()
	}
}

// BenchmarkMetaParentWrite is one set_enrolments call in a course that a meta link
// mirrors (420 users): the meta observers re-sync the child before the call returns.
func BenchmarkMetaParentWrite(b *testing.B) {
	s := DemoSite()
	s.AddInstance(Instance{Enrol: "meta", CourseID: s.CourseID("L1-INFO-ALGO"), CustomInt1: s.CourseID("L1-INFO-TRONC-COMMUN")})
	c := client{b, s, "sandbox"}
	manual := s.Instances(s.CourseID("L1-INFO-TRONC-COMMUN"))[0].ID
	i := 0
	for b.Loop() {
		i++
		c.ok(nil, "local_enrolctl_set_enrolments", "enrolments[0][instanceid]", id(manual), "enrolments[0][userid]", id(s.UserID("21009539")),
			"enrolments[0][roleid]", "5", "enrolments[0][timestart]", "0", "enrolments[0][timeend]", id(int64(1000+i)), "enrolments[0][suspended]", "0")
	}
}

// DemoSite makes room for the demo's rows before it builds them: the sizes it assumes
// are the site's (too small a guess costs the rehashing it avoids; too large, memory).
func TestDemoSiteSizes(t *testing.T) {
	d := DemoSite().d
	if users := len(d.Users) - 2; users != demoUsers { // less guest and admin, made by New
		t.Errorf("demoUsers = %d, the demo site has %d", demoUsers, users)
	}
	if len(d.UEs) != demoEnrolments || len(d.RAs) != demoEnrolments {
		t.Errorf("demoEnrolments = %d, the demo site has %d enrolments and %d role assignments", demoEnrolments, len(d.UEs), len(d.RAs))
	}
	if len(d.CohortMembers) != demoCohortMembers {
		t.Errorf("demoCohortMembers = %d, the demo site has %d", demoCohortMembers, len(d.CohortMembers))
	}
}
