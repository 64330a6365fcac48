package moodlesim

// tx is one unit of work on the site: the enrol_plugin API of public/lib/enrollib.php
// (here), the cohort sync (enrol_cohort.go), the meta sync and observers
// (enrol_meta.go) and the groups API (group.go), applied to d. It queues the events the enrol_meta
// observers (public/enrol/meta/classes/observer.php) listen to, so settle can run them
// before the call returns (Moodle's observers run synchronously too).
type tx struct {
	d     *db
	now   int64
	actor int64
	// userEvents are user_enrolment_created/updated/deleted of a non-meta plugin and
	// role_assigned/unassigned of a component other than enrol_meta, as (course, user)
	// in the order they happened; instanceEvents are the courses where an
	// enrol_instance_updated fired.
	userEvents     []courseUser
	instanceEvents map[int64]bool
	// muted drops events, like enrol_meta_handler's $preventrecursion while it syncs a
	// user.
	muted bool
}

type courseUser struct{ courseID, userID int64 }

// enrolmentChanged records a user_enrolment_* event; the meta observers ignore those
// of meta instances.
func (t *tx) enrolmentChanged(e Instance, userID int64) {
	if e.Enrol != "meta" {
		t.userChanged(e.CourseID, userID)
	}
}

// roleChanged records a role_assigned/role_unassigned event at course level; the meta
// observers ignore enrol_meta roles.
func (t *tx) roleChanged(ra RoleAssignment) {
	if ra.Component != "enrol_meta" {
		t.userChanged(ra.CourseID, ra.UserID)
	}
}

func (t *tx) userChanged(courseID, userID int64) {
	if !t.muted {
		t.userEvents = append(t.userEvents, courseUser{courseID, userID})
	}
}

// instanceUpdated records an enrol_instance_updated event (update_instance,
// update_status).
func (t *tx) instanceUpdated(courseID int64) {
	if t.muted {
		return
	}
	if t.instanceEvents == nil {
		t.instanceEvents = map[int64]bool{}
	}
	t.instanceEvents[courseID] = true
}

// putInstance writes an enrol row.
func (t *tx) putInstance(e Instance) { t.d.putInstance(e) }

// unassign is role_unassign of one assignment, with its event.
func (t *tx) unassign(ra RoleAssignment) {
	t.d.deleteRA(ra)
	t.roleChanged(ra)
}

func component(plugin string) string {
	if plugin == "manual" || plugin == "self" {
		return "" // roles_protected() is false: plain roles
	}
	return "enrol_" + plugin
}

// removeFromSource applies enrol_<plugin>/unenrolaction to a user who left the source
// of a cohort or meta instance (the cohort, the linked course): unenrol, suspend, or
// suspend and remove the instance's roles (ENROL_EXT_REMOVED_KEEP does nothing).
func (t *tx) removeFromSource(e Instance, ue UserEnrolment, action int) {
	switch action {
	case ExtRemovedUnenrol:
		t.unenrolUser(e, ue.UserID)
	case ExtRemovedSuspend, ExtRemovedSuspendNoRoles:
		if ue.Status != UserSuspended {
			s := UserSuspended
			t.updateUserEnrol(e, ue.UserID, &s, nil, nil)
		}
		if action == ExtRemovedSuspendNoRoles {
			t.roleUnassignAll(e.CourseID, ue.UserID, component(e.Enrol), e.ID)
		}
	}
}

// addInstance is enrol_plugin::add_instance plus the cohort and meta overrides, which
// sync the course at once.
func (t *tx) addInstance(e Instance) int64 {
	e.ID = t.d.next("enrol")
	e.SortOrder = 0
	for _, o := range t.d.courseInstances(e.CourseID) {
		if o.SortOrder >= e.SortOrder {
			e.SortOrder = o.SortOrder + 1
		}
	}
	e.TimeCreated, e.TimeModified = t.now, t.now
	t.d.putInstance(e)
	t.syncCourse(e)
	return e.ID
}

// syncCourse runs the plugin's course sync after add, update or status change (the
// cohort and meta overrides of add_instance, update_instance and update_status).
func (t *tx) syncCourse(e Instance) {
	switch e.Enrol {
	case "cohort":
		t.cohortSync(e.CourseID)
	case "meta":
		t.metaSync(e.CourseID)
	}
}

// updateStatus is enrol_plugin::update_status.
func (t *tx) updateStatus(e Instance, status int) {
	if e.Status == status {
		return
	}
	e.Status = status
	e.TimeModified = t.now
	t.d.putInstance(e)
	t.instanceUpdated(e.CourseID)
	t.syncCourse(e)
}

// enrolUser is enrol_plugin::enrol_user: insert the row, or update it when timestart,
// timeend or status differ; then assign roleid (0: none) with the plugin's component.
func (t *tx) enrolUser(e Instance, userID, roleID, timestart, timeend int64, status int) {
	if _, ok := t.d.ue(e.ID, userID); ok {
		t.updateUserEnrol(e, userID, &status, &timestart, &timeend)
	} else {
		t.d.putUE(UserEnrolment{ID: t.d.next("user_enrolments"), EnrolID: e.ID, UserID: userID, Status: status,
			TimeStart: timestart, TimeEnd: timeend, ModifierID: t.actor, TimeCreated: t.now, TimeModified: t.now})
		t.enrolmentChanged(e, userID)
	}
	if roleID != 0 {
		itemID := int64(0)
		if component(e.Enrol) != "" {
			itemID = e.ID
		}
		t.roleAssign(roleID, e.CourseID, userID, component(e.Enrol), itemID)
	}
}

// updateUserEnrol is enrol_plugin::update_user_enrol: nil leaves a field alone; nothing
// is written when nothing differs.
func (t *tx) updateUserEnrol(e Instance, userID int64, status *int, timestart, timeend *int64) bool {
	ue, ok := t.d.ue(e.ID, userID)
	if !ok {
		return false
	}
	changed := false
	if status != nil && ue.Status != *status {
		ue.Status, changed = *status, true
	}
	if timestart != nil && ue.TimeStart != *timestart {
		ue.TimeStart, changed = *timestart, true
	}
	if timeend != nil && ue.TimeEnd != *timeend {
		ue.TimeEnd, changed = *timeend, true
	}
	if !changed {
		return false
	}
	ue.ModifierID, ue.TimeModified = t.actor, t.now
	t.d.putUE(ue)
	t.enrolmentChanged(e, userID)
	return true
}

// unenrolUser is enrol_plugin::unenrol_user, with the last-enrolment cleanup: when the
// user has no other enrolment in the course, every course role, every group
// membership and the grades go too.
func (t *tx) unenrolUser(e Instance, userID int64) {
	ue, ok := t.d.ue(e.ID, userID)
	if !ok {
		return
	}
	t.d.deleteUE(ue)
	t.enrolmentChanged(e, userID)
	comp := component(e.Enrol)
	if comp != "" {
		for _, m := range t.d.userCourseMembers(e.CourseID, userID) {
			if m.Component == comp && m.ItemID == e.ID {
				t.d.delMember(m)
			}
		}
		t.roleUnassignAll(e.CourseID, userID, comp, e.ID)
	}
	if t.d.isEnrolled(e.CourseID, userID) {
		return
	}
	for _, ra := range t.d.userCourseRAs(e.CourseID, userID) {
		t.unassign(ra)
	}
	for _, m := range t.d.userCourseMembers(e.CourseID, userID) {
		t.d.delMember(m)
	}
	t.d.addGrade(GradeDeletion{CourseID: e.CourseID, UserID: userID, Time: t.now})
}

// deleteInstance is enrol_plugin::delete_instance: every participant is unenrolled,
// leftover plugin roles and memberships go, then the row.
func (t *tx) deleteInstance(e Instance) {
	for _, ue := range t.d.instanceUEs(e.ID) {
		t.unenrolUser(e, ue.UserID)
	}
	if comp := component(e.Enrol); comp != "" {
		for _, ra := range t.d.courseRAs(e.CourseID) {
			if ra.Component == comp && ra.ItemID == e.ID {
				t.unassign(ra)
			}
		}
		for _, m := range t.d.courseMembers(e.CourseID) {
			if m.Component == comp && m.ItemID == e.ID {
				t.d.delMember(m)
			}
		}
	}
	t.d.delInstance(e)
}

// roleAssign is role_assign(): idempotent per (role, context, user, component, item).
func (t *tx) roleAssign(roleID, courseID, userID int64, comp string, itemID int64) {
	ra := RoleAssignment{RoleID: roleID, CourseID: courseID, UserID: userID, Component: comp, ItemID: itemID, TimeModified: t.now}
	if t.d.hasRA(ra) {
		return
	}
	ra.ID = t.d.next("role_assignments")
	t.d.putRA(ra)
	t.roleChanged(ra)
}

// roleUnassignAll removes the user's roles of one component and item in the course.
func (t *tx) roleUnassignAll(courseID, userID int64, comp string, itemID int64) {
	for _, ra := range t.d.userCourseRAs(courseID, userID) {
		if ra.Component == comp && ra.ItemID == itemID {
			t.unassign(ra)
		}
	}
}
