package moodlesim

import (
	"maps"
	"slices"
)

// enrol_cohort: enrol_cohort_sync and its observers (public/enrol/cohort/locallib.php).

// cohortSync is enrol_cohort_sync($trace, $courseid).
func (t *tx) cohortSync(courseID int64) {
	d := t.d
	insts := slices.DeleteFunc(d.courseInstances(courseID), func(e Instance) bool { return e.Enrol != "cohort" })
	if !d.pluginEnabled("cohort") {
		// A disabled plugin loses every role it gave; enrolments stay.
		for _, ra := range d.courseRAs(courseID) {
			if ra.Component == "enrol_cohort" {
				t.unassign(ra)
			}
		}
		return
	}
	action := d.Config.CohortUnenrolAction
	// Enrol or reactivate cohort members in enabled instances.
	for _, e := range insts {
		if e.Status != InstanceEnabled {
			continue
		}
		for _, uid := range d.cohortMemberIDs(e.CustomInt1) {
			if ue, ok := d.ue(e.ID, uid); !ok {
				t.enrolUser(e, uid, 0, 0, 0, UserActive)
			} else if ue.Status == UserSuspended {
				active := UserActive
				t.updateUserEnrol(e, uid, &active, nil, nil)
			}
		}
	}
	// Users no longer in the cohort, per unenrolaction.
	for _, e := range insts {
		for _, ue := range d.instanceUEs(e.ID) {
			if d.cohortMember(e.CustomInt1, ue.UserID) {
				continue
			}
			t.removeFromSource(e, ue, action)
		}
	}
	// Roles: the instance role for active rows of enabled instances, nothing else.
	for _, e := range insts {
		if e.Status == InstanceEnabled && e.RoleID != 0 {
			for _, ue := range d.instanceUEs(e.ID) {
				if ue.Status == UserActive {
					t.roleAssign(e.RoleID, courseID, ue.UserID, "enrol_cohort", e.ID)
				}
			}
		}
	}
	for _, ra := range d.courseRAs(courseID) {
		if ra.Component != "enrol_cohort" {
			continue
		}
		e, ok := d.Instances[ra.ItemID]
		ue, enrolled := d.ue(ra.ItemID, ra.UserID)
		keep := ok && e.Enrol == "cohort" && e.CourseID == courseID && e.Status == InstanceEnabled && enrolled && e.RoleID == ra.RoleID &&
			(ue.Status == UserActive || action == ExtRemovedSuspend)
		if !keep {
			t.unassign(ra)
		}
	}
	t.syncGroups(courseID, "cohort")
}

// cohortMembershipChanged runs the enrol_cohort observers for a cohort: every course
// with a cohort instance of that cohort is synced (same end state as the observers).
func (t *tx) cohortMembershipChanged(cohortID int64) {
	if !t.d.pluginEnabled("cohort") {
		return
	}
	courses := map[int64]bool{}
	for _, e := range t.d.linkedInstances("cohort", cohortID) {
		courses[e.CourseID] = true
	}
	ids := slices.Sorted(maps.Keys(courses))
	for _, id := range ids {
		t.cohortSync(id)
	}
}
