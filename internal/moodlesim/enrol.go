package moodlesim

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// tx is one unit of work on the site: the enrol_plugin API of public/lib/enrollib.php
// and the cohort and meta syncs, applied to d. It queues the events the enrol_meta
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

// addGroup inserts a groups row and returns its id.
func (t *tx) addGroup(g Group) int64 {
	g.ID = t.d.next("groups")
	t.d.putGroup(g)
	return g.ID
}

// removeMember deletes a groups_members row.
func (t *tx) removeMember(m GroupMember) { t.d.delMember(m) }

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

// addMember is groups_add_member: false when the user is not enrolled; an existing
// membership (any component) is left as it is.
func (t *tx) addMember(g Group, userID int64, comp string, itemID int64) bool {
	if !t.d.isEnrolled(g.CourseID, userID) {
		return false
	}
	if _, ok := t.d.groupMember(g.ID, userID); ok {
		return true
	}
	id := t.d.next("groups_members")
	t.d.putMember(GroupMember{ID: id, GroupID: g.ID, UserID: userID, Component: comp, ItemID: itemID, TimeAdded: t.now})
	return true
}

// cohortSync is enrol_cohort_sync($trace, $courseid).
func (t *tx) cohortSync(courseID int64) {
	d := t.d
	var insts []Instance
	for _, e := range d.courseInstances(courseID) {
		if e.Enrol == "cohort" {
			insts = append(insts, e)
		}
	}
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

// syncGroups is groups_sync_with_enrolment($plugin, $courseid, 'customint2'): every
// user of an instance is in its group; plugin memberships that no longer match go.
func (t *tx) syncGroups(courseID int64, plugin string) {
	d := t.d
	comp := "enrol_" + plugin
	for _, e := range d.courseInstances(courseID) {
		if e.Enrol != plugin || e.CustomInt2 <= 0 {
			continue
		}
		g, ok := d.Groups[e.CustomInt2]
		if !ok || g.CourseID != courseID {
			continue
		}
		for _, ue := range d.instanceUEs(e.ID) {
			t.addMember(g, ue.UserID, comp, e.ID)
		}
	}
	for _, m := range d.courseMembers(courseID) {
		if m.Component != comp {
			continue
		}
		e, ok := d.Instances[m.ItemID]
		_, enrolled := d.ue(m.ItemID, m.UserID)
		if !ok || e.CustomInt2 != m.GroupID || !enrolled {
			d.delMember(m)
		}
	}
}

// metaSync is enrol_meta_sync($courseid), the bulk sync run by add_instance,
// update_instance, update_status, the enrol_instance_updated observer and the hourly
// task: each meta instance of the course mirrors the enrolments and roles of its
// linked (parent) course. Unlike the per-user observer (metaSyncUser) it gives a
// suspended row the dates of the parent's active enrolments, none when there are none.
func (t *tx) metaSync(courseID int64) {
	d := t.d
	if !d.pluginEnabled("meta") {
		for _, ra := range d.courseRAs(courseID) {
			if ra.Component == "enrol_meta" {
				t.unassign(ra)
			}
		}
		return
	}
	action := d.Config.MetaUnenrolAction
	for _, e := range d.courseInstances(courseID) {
		if e.Enrol != "meta" {
			continue
		}
		parent := e.CustomInt1
		type agg struct {
			active       bool
			aStart, aEnd int64 // over active rows; aEnd 1<<31-1 is "no end"
		}
		users := map[int64]*agg{}
		for _, pe := range d.courseInstances(parent) {
			if pe.Enrol == "meta" || !d.pluginEnabled(pe.Enrol) {
				continue
			}
			for _, pue := range d.instanceUEs(pe.ID) {
				if d.Users[pue.UserID].Deleted {
					continue
				}
				a := users[pue.UserID]
				if a == nil {
					a = &agg{}
					users[pue.UserID] = a
				}
				active := pue.Status == UserActive && pe.Status == InstanceEnabled
				end := pue.TimeEnd
				if end == 0 {
					end = 1<<31 - 1
				}
				if active {
					if !a.active || pue.TimeStart < a.aStart {
						a.aStart = pue.TimeStart
					}
					if !a.active || end > a.aEnd {
						a.aEnd = end
					}
					a.active = true
				}
			}
		}
		// New rows only for enabled instances; status and dates of existing rows follow
		// the parent whatever the instance status (enrol_meta_sync's update step).
		ids := slices.Sorted(maps.Keys(users))
		for _, uid := range ids {
			a := users[uid]
			status, start, end := UserSuspended, int64(0), int64(0)
			if a.active {
				status, start, end = UserActive, a.aStart, a.aEnd
			}
			if end == 1<<31-1 {
				end = 0
			}
			if _, ok := d.ue(e.ID, uid); ok {
				t.updateUserEnrol(e, uid, &status, &start, &end)
			} else if e.Status == InstanceEnabled {
				t.enrolUser(e, uid, 0, start, end, status)
			}
		}
		// Users gone from the parent, per enrol_meta/unenrolaction, in any instance.
		for _, ue := range d.instanceUEs(e.ID) {
			if users[ue.UserID] != nil {
				continue
			}
			t.removeFromSource(e, ue, action)
		}
		// Roles: the parent's plain and enabled-plugin roles are given to active rows of an
		// enabled instance; they are kept on suspended rows only with SUSPEND.
		parentRoles := map[[2]int64]bool{}
		for _, pra := range d.courseRAs(parent) {
			if pra.Component == "enrol_meta" {
				continue
			}
			if pra.Component != "" && !d.pluginEnabled(strings.TrimPrefix(pra.Component, "enrol_")) {
				continue
			}
			parentRoles[[2]int64{pra.UserID, pra.RoleID}] = true
		}
		if e.Status == InstanceEnabled {
			keys := slices.SortedFunc(maps.Keys(parentRoles), func(a, b [2]int64) int {
				return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
			})
			for _, k := range keys {
				if ue, ok := d.ue(e.ID, k[0]); ok && ue.Status == UserActive && !d.Users[k[0]].Deleted {
					t.roleAssign(k[1], courseID, k[0], "enrol_meta", e.ID)
				}
			}
		}
		for _, ra := range d.courseRAs(courseID) {
			if ra.Component != "enrol_meta" || ra.ItemID != e.ID {
				continue
			}
			ue, ok := d.ue(e.ID, ra.UserID)
			keep := e.Status == InstanceEnabled && parentRoles[[2]int64{ra.UserID, ra.RoleID}] && ok &&
				(ue.Status == UserActive || action == ExtRemovedSuspend)
			if !keep {
				t.unassign(ra)
			}
		}
	}
	// Roles of meta instances that no longer exist.
	for _, ra := range d.courseRAs(courseID) {
		if ra.Component == "enrol_meta" {
			if e, ok := d.Instances[ra.ItemID]; !ok || e.Enrol != "meta" {
				t.unassign(ra)
			}
		}
	}
	t.syncGroups(courseID, "meta")
}

// metaSyncUser is enrol_meta_handler::sync_with_parent_course($instance, $userid), what
// the observers run for a user whose enrolments or roles changed in the linked course.
// It differs from the bulk sync: a user whose parent enrolments are all inactive is
// suspended with their dates kept; a missing row is created even in a disabled
// instance; roles follow the parent's roles of any component but enrol_meta, and go
// while the parent's active dates exclude now.
func (t *tx) metaSyncUser(e Instance, userID int64) {
	d := t.d
	parent := e.CustomInt1
	if parent == e.CourseID {
		return
	}
	// The user's enrolments in the parent, meta and disabled plugins ignored.
	var parentUEs []struct {
		ue     UserEnrolment
		active bool
	}
	for _, pe := range d.courseInstances(parent) {
		if pe.Enrol == "meta" || !d.pluginEnabled(pe.Enrol) {
			continue
		}
		if pue, ok := d.ue(pe.ID, userID); ok {
			parentUEs = append(parentUEs, struct {
				ue     UserEnrolment
				active bool
			}{pue, pue.Status == UserActive && pe.Status == InstanceEnabled})
		}
	}
	ue, enrolled := d.ue(e.ID, userID)
	action := d.Config.MetaUnenrolAction
	if len(parentUEs) == 0 {
		// user_not_supposed_to_be_here
		if !enrolled {
			return
		}
		t.removeFromSource(e, ue, action)
		return
	}
	if _, ok := d.Courses[parent]; !ok {
		return
	}
	parentRoles := map[int64]bool{}
	for _, ra := range d.userCourseRAs(parent, userID) {
		if ra.Component != "enrol_meta" {
			parentRoles[ra.RoleID] = true
		}
	}
	roles := map[int64]bool{}
	for _, ra := range d.userCourseRAs(e.CourseID, userID) {
		if ra.Component == "enrol_meta" && ra.ItemID == e.ID {
			roles[ra.RoleID] = true
		}
	}
	// Minimum timestart and maximum timeend (0 wins: no end) of the active enrolments.
	status := UserSuspended
	var start, end *int64
	for _, p := range parentUEs {
		if !p.active {
			continue
		}
		status = UserActive
		if end == nil || p.ue.TimeEnd == 0 || (*end != 0 && *end < p.ue.TimeEnd) {
			end = &p.ue.TimeEnd
		}
		if start == nil || *start > p.ue.TimeStart {
			start = &p.ue.TimeStart
		}
	}
	startV, endV := int64(0), int64(0)
	if start != nil {
		startV, endV = *start, *end
	}
	if enrolled {
		if status != ue.Status || (status == UserActive && (startV != ue.TimeStart || endV != ue.TimeEnd)) {
			// update_user_enrol with null dates when no parent enrolment is active.
			t.updateUserEnrol(e, userID, &status, start, end)
		}
	} else {
		t.enrolUser(e, userID, 0, startV, endV, status)
		if g, ok := d.Groups[e.CustomInt2]; ok && e.CustomInt2 > 0 {
			t.addMember(g, userID, "enrol_meta", e.ID)
		}
	}
	// Only active users in enabled instances within the parent's dates keep roles.
	if status != UserActive || e.Status != InstanceEnabled || (endV != 0 && endV < t.now) || startV > t.now {
		if action != ExtRemovedSuspend && len(roles) > 0 {
			t.roleUnassignAll(e.CourseID, userID, "enrol_meta", e.ID)
		}
		return
	}
	for _, rid := range slices.Sorted(maps.Keys(parentRoles)) {
		if !roles[rid] {
			t.roleAssign(rid, e.CourseID, userID, "enrol_meta", e.ID)
		}
	}
	if action == ExtRemovedSuspend {
		return
	}
	for _, ra := range t.d.userCourseRAs(e.CourseID, userID) {
		if ra.Component == "enrol_meta" && ra.ItemID == e.ID && !parentRoles[ra.RoleID] {
			t.unassign(ra)
		}
	}
}

// settle runs the enrol_meta observers on the queued events before the call returns:
// enrol_instance_updated runs the bulk sync of every course linked to that course,
// a user's enrolment or role change runs metaSyncUser for every meta instance linked
// to that course (in id order). Events raised by a bulk sync are observed in turn;
// those raised inside metaSyncUser are dropped, as $preventrecursion drops them in
// Moodle. The round limit guards against link cycles. With the meta plugin disabled
// the observers do nothing.
func (t *tx) settle() {
	for round := 0; round < 20 && (len(t.userEvents) > 0 || len(t.instanceEvents) > 0); round++ {
		users, courses := t.userEvents, t.instanceEvents
		t.userEvents, t.instanceEvents = nil, nil
		if !t.d.pluginEnabled("meta") {
			continue
		}
		children := map[int64]bool{}
		for parent := range courses {
			for _, e := range t.d.linkedInstances("meta", parent) {
				children[e.CourseID] = true
			}
		}
		for _, id := range slices.Sorted(maps.Keys(children)) {
			t.metaSync(id)
		}
		seen := map[courseUser]bool{}
		for _, cu := range users {
			if seen[cu] {
				continue
			}
			seen[cu] = true
			linked := t.d.linkedInstances("meta", cu.courseID) // by id
			t.muted = true
			for _, e := range linked {
				t.metaSyncUser(t.d.Instances[e.ID], cu.userID)
			}
			t.muted = false
		}
	}
	t.userEvents, t.instanceEvents = nil, nil
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
