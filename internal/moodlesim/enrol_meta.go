package moodlesim

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// enrol_meta: enrol_meta_add_instances, enrol_meta_sync and the enrol_meta observers.

// metaAddInstances is enrol_meta_add_instances: no transaction, every failure is
// invalidparameter, duplicates are status false, courseid echoed as sent.
func metaAddInstances(c *ctx, a args) (any, *wsError) {
	d := c.d()
	items := a.list("instances")
	if len(items) == 0 {
		return nil, invalidParam("No instances specified")
	}
	type res struct {
		MetaCourseID int64  `json:"metacourseid"`
		CourseID     string `json:"courseid"`
		Status       bool   `json:"status"`
	}
	out := make([]res, 0, len(items))
	for _, it := range items {
		meta := it.int("metacourseid")
		if _, ok := d.Courses[meta]; !ok || meta == SiteCourseID {
			return nil, invalidParam(fmt.Sprintf("Meta course ID = %d doesn't exist or you don't have permission to add an enrolment instance.", meta))
		}
		linkedRaw := it.str("courseid")
		n, perr := cleanValue(pInt, linkedRaw)
		linked, _ := n.(int64)
		if _, ok := d.Courses[linked]; perr != nil || !ok || linked == SiteCourseID || linked == meta {
			return nil, invalidParam(fmt.Sprintf("Course ID = %s doesn't exist or you don't have permission to link it to a meta course.", linkedRaw))
		}
		dup := false
		for _, e := range d.courseInstances(meta) {
			if e.Enrol == "meta" && e.CustomInt1 == linked {
				dup = true
			}
		}
		if !dup {
			groupID := int64(0)
			if it.bool("creategroup") {
				g := Group{ID: d.next("groups"), CourseID: meta, Name: d.Courses[linked].Fullname + " course"}
				for i := 2; ; i++ {
					if _, taken := d.groupByName(meta, g.Name); !taken {
						break
					}
					g.Name = fmt.Sprintf("%s course (%d)", d.Courses[linked].Fullname, i)
				}
				d.putGroup(g)
				groupID = g.ID
			}
			c.t.addInstance(Instance{Enrol: "meta", CourseID: meta, CustomInt1: linked, CustomInt2: groupID})
			c.t.settle()
		}
		out = append(out, res{meta, linkedRaw, !dup})
	}
	return out, nil
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
				end := cmp.Or(pue.TimeEnd, 1<<31-1)
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
