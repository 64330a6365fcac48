package moodlesim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCohortSync(t *testing.T) {
	tests := []struct {
		name   string
		action int
		// after u1 leaves the cohort: u1's row status (-1 = gone) and whether u1 keeps the role
		wantStatus int
		wantRole   bool
	}{
		{"unenrol", ExtRemovedUnenrol, -1, false},
		{"suspend", ExtRemovedSuspend, UserSuspended, true},
		{"suspend without roles", ExtRemovedSuspendNoRoles, UserSuspended, false},
		{"keep", ExtRemovedKeep, UserActive, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newSite(t)
			s := st.s
			s.SetUnenrolAction("cohort", tt.action)
			g := s.AddGroup(st.courseA, "Promo")
			var added []struct{ ID int64 }
			st.admin.ok(&added, "local_enrolctl_add_instances", "instances[0][courseid]", id(st.courseA), "instances[0][enrol]", "cohort",
				"instances[0][cohortid]", id(st.cohort), "instances[0][roleid]", "5", "instances[0][groupid]", id(g))
			coh := added[0].ID
			for _, u := range st.u[1:4] {
				if ue, ok := st.ue(coh, u); !ok || ue.Status != UserActive {
					t.Fatalf("member %d not enrolled at once: %+v", u, ue)
				}
			}
			if n := len(s.GroupMembers(st.courseA)); n != 3 {
				t.Errorf("%d group members, want 3", n)
			}
			// A new member is enrolled at once through the fixture function.
			var res struct {
				Warnings []struct {
					WarningCode string `json:"warningcode"`
					Message     string `json:"message"`
				} `json:"warnings"`
			}
			st.testing.ok(&res, "core_cohort_add_cohort_members",
				"members[0][cohorttype][type]", "idnumber", "members[0][cohorttype][value]", "COH",
				"members[0][usertype][type]", "username", "members[0][usertype][value]", "u4",
				"members[1][cohorttype][type]", "idnumber", "members[1][cohorttype][value]", "COH",
				"members[1][usertype][type]", "username", "members[1][usertype][value]", "u1",
				"members[2][cohorttype][type]", "idnumber", "members[2][cohorttype][value]", "NOPE",
				"members[2][usertype][type]", "username", "members[2][usertype][value]", "u1")
			if len(res.Warnings) != 2 || res.Warnings[0].WarningCode != "3" || res.Warnings[1].WarningCode != "2" ||
				res.Warnings[1].Message != "cohort idnumber=NOPE not exists" {
				t.Errorf("warnings %+v", res.Warnings)
			}
			if _, ok := st.ue(coh, st.u[4]); !ok {
				t.Errorf("u4 not enrolled after joining the cohort")
			}
			st.testing.ok(nil, "core_cohort_delete_cohort_members", "members[0][cohortid]", id(st.cohort), "members[0][userid]", id(st.u[1]))
			ue, ok := st.ue(coh, st.u[1])
			gotStatus := -1
			if ok {
				gotStatus = ue.Status
			}
			hasRole := false
			for _, ra := range s.RoleAssignments(st.courseA) {
				hasRole = hasRole || ra.UserID == st.u[1]
			}
			if gotStatus != tt.wantStatus || hasRole != tt.wantRole {
				t.Errorf("u1 after leaving: status %d role %v, want %d %v", gotStatus, hasRole, tt.wantStatus, tt.wantRole)
			}
		})
	}
}

func TestCohortSyncReactivatesAndOverridesSuspension(t *testing.T) {
	st := newSite(t)
	s := st.s
	coh := s.AddInstance(Instance{Enrol: "cohort", CourseID: st.courseA, RoleID: 5, CustomInt1: st.cohort})
	s.Enrol(coh, st.u[1], 0, 0, 0, true) // someone suspended a cohort enrolment by hand
	st.admin.ok(nil, "local_enrolctl_update_instances", "instances[0][id]", id(coh), "instances[0][name]", "Promo")
	if ue, _ := st.ue(coh, st.u[1]); ue.Status != UserActive {
		t.Errorf("the sync must reactivate cohort members: %+v", ue)
	}
}

func TestMetaSync(t *testing.T) {
	st := newSite(t)
	s := st.s
	// Parent B: u1 manual active until 2000, u1 also self active until 3000, u2 suspended, u3 active teacher.
	selfB := s.AddInstance(Instance{Enrol: "self", CourseID: st.courseB, RoleID: 5})
	s.Enrol(st.manualB, st.u[1], 5, 100, 2000, false)
	s.Enrol(selfB, st.u[1], 5, 50, 3000, false)
	s.Enrol(st.manualB, st.u[2], 5, 10, 20, true) // no active row: the child row gets no dates
	s.Enrol(st.manualB, st.u[3], 3, 0, 0, false)
	var added []struct{ ID int64 }
	st.admin.ok(&added, "local_enrolctl_add_instances", "instances[0][courseid]", id(st.courseA), "instances[0][enrol]", "meta",
		"instances[0][linkedcourseid]", id(st.courseB), "instances[0][roleid]", "5")
	meta := added[0].ID
	if in := s.Instances(st.courseA); in[len(in)-1].RoleID != 0 {
		t.Errorf("meta instances store no role: %+v", in[len(in)-1])
	}
	want := map[int64]UserEnrolment{
		st.u[1]: {Status: UserActive, TimeStart: 50, TimeEnd: 3000},
		st.u[2]: {Status: UserSuspended},
		st.u[3]: {Status: UserActive},
	}
	for u, w := range want {
		ue, ok := st.ue(meta, u)
		if !ok || ue.Status != w.Status || ue.TimeStart != w.TimeStart || ue.TimeEnd != w.TimeEnd {
			t.Errorf("user %d: got %+v, want %+v", u, ue, w)
		}
	}
	wantRoles := []RoleAssignment{
		{RoleID: 5, CourseID: st.courseA, UserID: st.u[1], Component: "enrol_meta", ItemID: meta},
		{RoleID: 3, CourseID: st.courseA, UserID: st.u[3], Component: "enrol_meta", ItemID: meta},
	}
	if diff := cmp.Diff(wantRoles, s.RoleAssignments(st.courseA)); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}

	// A change in the parent reaches the child before the call returns.
	st.admin.ok(nil, "local_enrolctl_set_enrolments", "enrolments[0][instanceid]", id(st.manualB), "enrolments[0][userid]", id(st.u[3]),
		"enrolments[0][roleid]", "3", "enrolments[0][timestart]", "0", "enrolments[0][timeend]", "0", "enrolments[0][suspended]", "1")
	if ue, _ := st.ue(meta, st.u[3]); ue.Status != UserSuspended {
		t.Errorf("u3 not suspended in the child: %+v", ue)
	}
	for _, ra := range s.RoleAssignments(st.courseA) {
		if ra.UserID == st.u[3] {
			t.Errorf("suspended u3 keeps role %+v (SUSPENDNOROLES is the default)", ra)
		}
	}
	// A disabled link still follows the parent's status, but holds no roles.
	st.admin.ok(nil, "local_enrolctl_update_instances", "instances[0][id]", id(meta), "instances[0][status]", "1")
	st.admin.ok(nil, "local_enrolctl_set_enrolments", "enrolments[0][instanceid]", id(st.manualB), "enrolments[0][userid]", id(st.u[3]),
		"enrolments[0][roleid]", "3", "enrolments[0][timestart]", "0", "enrolments[0][timeend]", "0", "enrolments[0][suspended]", "0")
	if ue, _ := st.ue(meta, st.u[3]); ue.Status != UserActive {
		t.Errorf("u3 not reactivated through the disabled link: %+v", ue)
	}
	if roles := s.RoleAssignments(st.courseA); len(roles) != 0 {
		t.Errorf("a disabled link keeps roles: %+v", roles)
	}
	st.admin.ok(nil, "local_enrolctl_update_instances", "instances[0][id]", id(meta), "instances[0][status]", "0")
	// Unenrolled from the parent: suspended in the child (enrol_meta/unenrolaction default).
	st.admin.ok(nil, "local_enrolctl_unenrol_users", "enrolments[0][instanceid]", id(st.manualB), "enrolments[0][userid]", id(st.u[2]))
	if ue, ok := st.ue(meta, st.u[2]); !ok || ue.Status != UserSuspended {
		t.Errorf("u2 after leaving the parent: %+v %v", ue, ok)
	}
	// Deleting the link unenrols everyone from the child.
	st.admin.ok(nil, "local_enrolctl_delete_instances", "instanceids[0]", id(meta))
	if ues := s.UserEnrolments(st.courseA); len(ues) != 0 {
		t.Errorf("child enrolments after delete: %+v", ues)
	}
	if roles := s.RoleAssignments(st.courseA); len(roles) != 0 {
		t.Errorf("child roles after delete: %+v", roles)
	}
}

func TestMetaChains(t *testing.T) {
	st := newSite(t)
	s := st.s
	// C mirrors A, which mirrors B. Meta sync copies only the parent's non-meta
	// enrolments (pe.enrol <> 'meta'), so B's users reach A but never C.
	s.AddInstance(Instance{Enrol: "meta", CourseID: st.courseA, CustomInt1: st.courseB})
	metaC := s.AddInstance(Instance{Enrol: "meta", CourseID: st.cours, CustomInt1: st.courseA})
	st.admin.ok(nil, "local_enrolctl_set_enrolments", "enrolments[0][instanceid]", id(st.manualB), "enrolments[0][userid]", id(st.u[6]),
		"enrolments[0][roleid]", "5", "enrolments[0][timestart]", "0", "enrolments[0][timeend]", "0", "enrolments[0][suspended]", "0")
	if ues := s.UserEnrolments(st.courseA); len(ues) != 1 || ues[0].UserID != st.u[6] {
		t.Errorf("A: %+v, want u6 through the link", ues)
	}
	if _, ok := st.ue(metaC, st.u[6]); ok {
		t.Errorf("u6 reached course C through a meta enrolment")
	}
}

func TestCohortThenMetaInOneCall(t *testing.T) {
	st := newSite(t)
	s := st.s
	// B syncs the cohort; A mirrors B. A new cohort member reaches A in the same call.
	s.AddInstance(Instance{Enrol: "cohort", CourseID: st.courseB, RoleID: 5, CustomInt1: st.cohort})
	meta := s.AddInstance(Instance{Enrol: "meta", CourseID: st.courseA, CustomInt1: st.courseB})
	if n := len(s.UserEnrolments(st.courseA)); n != 3 {
		t.Fatalf("A has %d enrolments after linking, want the 3 cohort members", n)
	}
	st.testing.ok(nil, "core_cohort_add_cohort_members",
		"members[0][cohorttype][type]", "id", "members[0][cohorttype][value]", id(st.cohort),
		"members[0][usertype][type]", "id", "members[0][usertype][value]", id(st.u[5]))
	ue, ok := st.ue(meta, st.u[5])
	if !ok || ue.Status != UserActive {
		t.Fatalf("u5 not in A: %+v", ue)
	}
	want := RoleAssignment{RoleID: 5, CourseID: st.courseA, UserID: st.u[5], Component: "enrol_meta", ItemID: meta}
	found := false
	for _, ra := range s.RoleAssignments(st.courseA) {
		found = found || ra == want
	}
	if !found {
		t.Errorf("u5 has no enrol_meta student role in A: %+v", s.RoleAssignments(st.courseA))
	}
	// Leaving the cohort unenrols from B (cohort UNENROL) and suspends in A (meta SUSPENDNOROLES).
	st.testing.ok(nil, "core_cohort_delete_cohort_members", "members[0][cohortid]", id(st.cohort), "members[0][userid]", id(st.u[5]))
	if ue, ok := st.ue(meta, st.u[5]); !ok || ue.Status != UserSuspended {
		t.Errorf("u5 in A after leaving the cohort: %+v %v", ue, ok)
	}
	for _, ra := range s.RoleAssignments(st.courseA) {
		if ra.UserID == st.u[5] {
			t.Errorf("u5 keeps %+v", ra)
		}
	}
}

// On Moodle 5.1 the per-user meta observer only suspends a child enrolment whose parent
// enrolments all went inactive, keeping its dates; the hourly bulk sync resets them.
func TestMetaObserverKeepsDatesUntilTheTask(t *testing.T) {
	st := newSite(t)
	s := st.s
	s.Enrol(st.manualB, st.u[1], 5, 100, 5000000000, false)
	var added []struct{ ID int64 }
	st.admin.ok(&added, "local_enrolctl_add_instances", "instances[0][courseid]", id(st.courseA), "instances[0][enrol]", "meta",
		"instances[0][linkedcourseid]", id(st.courseB))
	meta := added[0].ID
	if ue, _ := st.ue(meta, st.u[1]); ue.TimeStart != 100 || ue.TimeEnd != 5000000000 {
		t.Fatalf("child row after the link: %+v", ue)
	}
	st.admin.ok(nil, "local_enrolctl_set_enrolments", "enrolments[0][instanceid]", id(st.manualB), "enrolments[0][userid]", id(st.u[1]),
		"enrolments[0][roleid]", "5", "enrolments[0][timestart]", "100", "enrolments[0][timeend]", "5000000000", "enrolments[0][suspended]", "1")
	ue, _ := st.ue(meta, st.u[1])
	if ue.Status != UserSuspended || ue.TimeStart != 100 || ue.TimeEnd != 5000000000 {
		t.Errorf("after the parent suspension the child row is %+v; want suspended with its dates kept", ue)
	}
	s.RunMetaSyncTask()
	ue, _ = st.ue(meta, st.u[1])
	if ue.Status != UserSuspended || ue.TimeStart != 0 || ue.TimeEnd != 0 {
		t.Errorf("after the hourly task the child row is %+v; want suspended with no dates", ue)
	}
}

// metaRoles lists the enrol_meta role ids of a user in a course.
func metaRoles(s *Sim, course, user int64) []int64 {
	var out []int64
	for _, ra := range s.RoleAssignments(course) {
		if ra.UserID == user && ra.Component == "enrol_meta" {
			out = append(out, ra.RoleID)
		}
	}
	return out
}

// The enrol_instance_updated observer runs the bulk enrol_meta_sync of the linked
// courses: disabling the parent's instance suspends the child row and resets its dates,
// where a user-level change (TestMetaObserverKeepsDatesUntilTheTask) keeps them.
func TestMetaParentInstanceDisabledRunsTheBulkSync(t *testing.T) {
	st := newSite(t)
	s := st.s
	s.Enrol(st.manualB, st.u[1], 5, 100, 5000000000, false)
	meta := s.AddInstance(Instance{Enrol: "meta", CourseID: st.courseA, CustomInt1: st.courseB})
	st.admin.ok(nil, "local_enrolctl_update_instances", "instances[0][id]", id(st.manualB), "instances[0][status]", "1")
	ue, _ := st.ue(meta, st.u[1])
	if ue.Status != UserSuspended || ue.TimeStart != 0 || ue.TimeEnd != 0 {
		t.Errorf("after disabling the parent instance the child row is %+v; want suspended with no dates", ue)
	}
	if r := metaRoles(s, st.courseA, st.u[1]); len(r) != 0 {
		t.Errorf("suspended child row keeps meta roles %v", r)
	}
}

// sync_with_parent_course, unlike the bulk sync, takes away the meta roles of a user
// whose active parent enrolment has ended (or not started), though the child row stays
// active with the parent's dates; the hourly task gives them back (it does not look at
// dates).
func TestMetaObserverRolesFollowParentDates(t *testing.T) {
	st := newSite(t)
	s := st.s
	meta := s.AddInstance(Instance{Enrol: "meta", CourseID: st.courseA, CustomInt1: st.courseB})
	past := testNow.Unix() - 86400
	s.Enrol(st.manualB, st.u[1], 5, 100, past, false)
	ue, ok := st.ue(meta, st.u[1])
	if !ok || ue.Status != UserActive || ue.TimeStart != 100 || ue.TimeEnd != past {
		t.Fatalf("child row %+v (found %v); want active from 100 to %d", ue, ok, past)
	}
	if r := metaRoles(s, st.courseA, st.u[1]); len(r) != 0 {
		t.Errorf("observer gave meta roles %v to an ended enrolment", r)
	}
	s.Enrol(st.manualB, st.u[2], 5, testNow.Unix()+86400, 0, false)
	if r := metaRoles(s, st.courseA, st.u[2]); len(r) != 0 {
		t.Errorf("observer gave meta roles %v to a future enrolment", r)
	}
	s.Enrol(st.manualB, st.u[3], 5, 0, 0, false)
	if diff := cmp.Diff([]int64{5}, metaRoles(s, st.courseA, st.u[3])); diff != "" {
		t.Errorf("meta roles of a current enrolment (-want +got):\n%s", diff)
	}
	s.RunMetaSyncTask()
	if diff := cmp.Diff([]int64{5}, metaRoles(s, st.courseA, st.u[1])); diff != "" {
		t.Errorf("meta roles after the hourly task (-want +got):\n%s", diff)
	}
}

// The observers sync every meta instance linked to the course, disabled ones too: a
// new parent enrolment creates the child row (without roles); the bulk sync only
// creates rows in enabled instances.
func TestMetaObserverEnrolsIntoDisabledInstance(t *testing.T) {
	st := newSite(t)
	s := st.s
	meta := s.AddInstance(Instance{Enrol: "meta", CourseID: st.courseA, CustomInt1: st.courseB, Status: InstanceDisabled})
	s.Enrol(st.manualB, st.u[1], 5, 0, 0, false)
	ue, ok := st.ue(meta, st.u[1])
	if !ok || ue.Status != UserActive {
		t.Errorf("child row in the disabled instance: %+v (found %v); want active", ue, ok)
	}
	if r := metaRoles(s, st.courseA, st.u[1]); len(r) != 0 {
		t.Errorf("disabled instance gave meta roles %v", r)
	}
}

// A user-level change syncs only that user: another user's child row that the
// observer left with stale dates keeps them until the hourly task.
func TestMetaObserverSyncsOnlyTheChangedUser(t *testing.T) {
	st := newSite(t)
	s := st.s
	meta := s.AddInstance(Instance{Enrol: "meta", CourseID: st.courseA, CustomInt1: st.courseB})
	s.Enrol(st.manualB, st.u[1], 5, 100, 5000000000, false)
	s.Enrol(st.manualB, st.u[1], 5, 100, 5000000000, true) // u1 suspended: child keeps dates
	s.Enrol(st.manualB, st.u[2], 5, 0, 0, false)
	if ue, _ := st.ue(meta, st.u[1]); ue.Status != UserSuspended || ue.TimeStart != 100 || ue.TimeEnd != 5000000000 {
		t.Errorf("u1's child row after u2's enrolment: %+v; want suspended with its dates", ue)
	}
	if ue, ok := st.ue(meta, st.u[2]); !ok || ue.Status != UserActive {
		t.Errorf("u2's child row: %+v (found %v)", ue, ok)
	}
}
