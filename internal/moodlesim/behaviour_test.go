package moodlesim

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Real Moodle behaviours doc.go names, checked one by one.

// delete_instance unenrols every participant (unenrol_user removes the memberships the
// plugin made) and then removes what is left of them; manual memberships of users
// still enrolled otherwise stay.
func TestDeletingSyncedInstanceDeletesItsGroupMemberships(t *testing.T) {
	for _, plugin := range []string{"cohort", "meta"} {
		t.Run(plugin, func(t *testing.T) {
			st := newSite(t)
			s := st.s
			// The meta parent: course B with u1..u3 enrolled manually.
			for _, u := range st.u[1:4] {
				s.Enrol(st.manualB, u, 5, 0, 0, false)
			}
			g := s.AddGroup(st.courseA, "Synced")
			manualGroup := s.AddGroup(st.courseA, "Manual")
			e := Instance{Enrol: plugin, CourseID: st.courseA, CustomInt2: g}
			switch plugin {
			case "cohort":
				e.CustomInt1, e.RoleID = st.cohort, 5
			case "meta":
				e.CustomInt1 = st.courseB
			}
			inst := s.AddInstance(e)
			// u1 is also enrolled manually in A and is a manual member of another group.
			s.Enrol(st.manualA, st.u[1], 5, 0, 0, false)
			s.AddMember(manualGroup, st.u[1])
			comp := "enrol_" + plugin
			var synced []string
			for _, m := range s.GroupMembers(st.courseA) {
				synced = append(synced, fmt.Sprintf("%d:%d:%s", m.GroupID, m.UserID, m.Component))
			}
			want := []string{fmt.Sprintf("%d:%d:%s", g, st.u[1], comp), fmt.Sprintf("%d:%d:%s", g, st.u[2], comp),
				fmt.Sprintf("%d:%d:%s", g, st.u[3], comp), fmt.Sprintf("%d:%d:", manualGroup, st.u[1])}
			if diff := cmp.Diff(want, synced); diff != "" {
				t.Fatalf("before delete (-want +got):\n%s", diff)
			}
			st.admin.ok(nil, "local_enrolctl_delete_instances", "instanceids[0]", id(inst))
			var left []string
			for _, m := range s.GroupMembers(st.courseA) {
				left = append(left, fmt.Sprintf("%d:%d:%s", m.GroupID, m.UserID, m.Component))
			}
			if diff := cmp.Diff([]string{fmt.Sprintf("%d:%d:", manualGroup, st.u[1])}, left); diff != "" {
				t.Errorf("after delete (-want +got):\n%s", diff)
			}
			for _, ra := range s.RoleAssignments(st.courseA) {
				if ra.Component == comp {
					t.Errorf("role left: %+v", ra)
				}
			}
		})
	}
}

func TestDatabaseSyncTask(t *testing.T) {
	st := newSite(t)
	s := st.s
	a := s.AddCourse(Course{Shortname: "DB-A", Fullname: "A", IDNumber: "2026-DB-A", Category: st.catA, Visible: true})
	for i, u := range st.u[1:5] {
		s.UpdateUser(User{ID: u, Username: "u" + itoa(int64(i+1)), Firstname: "User", Lastname: itoa(int64(i + 1)),
			Email: "u" + itoa(int64(i+1)) + "@example.invalid", IDNumber: fmt.Sprintf("E%d", i+1), Auth: "manual"})
	}
	state := func() []string {
		var out []string
		for _, ue := range s.UserEnrolments(a) {
			roles := ""
			for _, ra := range s.RoleAssignments(a) {
				if ra.UserID == ue.UserID && ra.Component == "enrol_database" {
					roles += roleShortname(ra.RoleID) + " "
				}
			}
			out = append(out, fmt.Sprintf("u%d status %d roles %s", ue.UserID-st.u[1]+1, ue.Status, roles))
		}
		return out
	}
	s.SetExternalEnrolments([]ExternalEnrolment{{"2026-DB-A", "E1", "student"}, {"2026-DB-A", "E2", ""},
		{"2026-DB-A", "E3", "editingteacher"}, {"2026-DB-A", "nobody", "student"}, {"UNKNOWN-COURSE", "E1", "student"}})
	s.RunDatabaseSyncTask()
	insts := s.Instances(a)
	if len(insts) != 1 || insts[0].Enrol != "database" {
		t.Fatalf("instances %+v", insts)
	}
	want := []string{"u1 status 0 roles student ", "u2 status 0 roles student ", "u3 status 0 roles editingteacher "}
	if diff := cmp.Diff(want, state()); diff != "" {
		t.Fatalf("first sync (-want +got):\n%s", diff)
	}
	// u3 changes role, u2 leaves, u4 arrives; unenrolaction suspend keeps u2 suspended.
	s.SetUnenrolAction("database", ExtRemovedSuspendNoRoles)
	s.SetExternalEnrolments([]ExternalEnrolment{{"2026-DB-A", "E1", "student"}, {"2026-DB-A", "E3", "teacher"}, {"2026-DB-A", "E4", "student"}})
	s.RunDatabaseSyncTask()
	want = []string{"u1 status 0 roles student ", "u2 status 1 roles ", "u3 status 0 roles teacher ", "u4 status 0 roles student "}
	if diff := cmp.Diff(want, state()); diff != "" {
		t.Errorf("second sync (-want +got):\n%s", diff)
	}
	// Back in the table: reactivated with the role again.
	s.SetExternalEnrolments([]ExternalEnrolment{{"2026-DB-A", "E1", "student"}, {"2026-DB-A", "E2", "student"}})
	s.SetUnenrolAction("database", ExtRemovedUnenrol)
	s.RunDatabaseSyncTask()
	want = []string{"u1 status 0 roles student ", "u2 status 0 roles student "}
	if diff := cmp.Diff(want, state()); diff != "" {
		t.Errorf("third sync (-want +got):\n%s", diff)
	}
	// An empty table unenrols nobody (the plugin prevents a full unenrol).
	s.SetExternalEnrolments(nil)
	s.RunDatabaseSyncTask()
	if diff := cmp.Diff(want, state()); diff != "" {
		t.Errorf("empty table (-want +got):\n%s", diff)
	}
}
