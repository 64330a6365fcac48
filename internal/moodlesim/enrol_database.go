package moodlesim

import (
	"maps"
	"slices"
)

// enrol_database: the scheduled task \enrol_database\task\sync_enrolments, which runs
// enrol_database_plugin::sync_enrolments (public/enrol/database/lib.php) against the
// external enrolment table, with the plugin's default settings: localcoursefield
// idnumber, localuserfield idnumber, localrolefield shortname, defaultrole student,
// ignorehiddencourses off, unenrolaction ENROL_EXT_REMOVED_UNENROL (SetUnenrolAction
// "database" changes it). enrolctl never writes these instances (databaseinstance);
// the task is what changes them between two plans.

// ExternalEnrolment is one row of the external database's enrolment table: the
// course's idnumber, the user's idnumber and a role shortname ("" or unknown: the
// default role, student).
type ExternalEnrolment struct {
	Course string
	User   string
	Role   string
}

// SetExternalEnrolments replaces the external enrolment table the database sync task
// reads. It is the remote system's data, not Moodle's, so Save does not keep it.
func (s *Sim) SetExternalEnrolments(rows []ExternalEnrolment) {
	s.locked(func() { s.external = slices.Clone(rows) })
}

// RunDatabaseSyncTask runs \enrol_database\task\sync_enrolments once: courses of the
// external table get a database instance if they have none; each database instance's
// enrolments and roles become the table's; users gone from it are handled per
// unenrolaction (an empty table unenrols nobody, as the plugin refuses a full unenrol).
func (s *Sim) RunDatabaseSyncTask() {
	s.mu.RLock()
	rows := slices.Clone(s.external)
	s.mu.RUnlock()
	s.admin(func(t *tx) { t.databaseSync(rows) })
}

func (t *tx) databaseSync(rows []ExternalEnrolment) {
	d := t.d
	external := map[string]bool{}
	for _, r := range rows {
		if r.Course != "" {
			external[r.Course] = true
		}
	}
	preventFullUnenrol := len(external) == 0
	// The courses to sync: those with a database instance and an idnumber, then those
	// of the external table without one, which get an instance.
	existing := map[string]Instance{}
	for _, id := range slices.Sorted(maps.Keys(d.Courses)) {
		co := d.Courses[id]
		if co.IDNumber == "" || id == SiteCourseID {
			continue
		}
		for _, e := range d.courseInstances(id) {
			if e.Enrol == "database" {
				if _, dup := existing[co.IDNumber]; !dup {
					existing[co.IDNumber] = e
				}
				break
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(d.Courses)) {
		co := d.Courses[id]
		if _, done := existing[co.IDNumber]; done || !external[co.IDNumber] || id == SiteCourseID {
			continue
		}
		existing[co.IDNumber] = d.Instances[t.addInstance(Instance{Enrol: "database", CourseID: id})]
	}
	action := d.Config.DatabaseUnenrolAction
	for _, mapping := range slices.Sorted(maps.Keys(existing)) {
		e := existing[mapping]
		currentRoles := map[int64]map[int64]bool{}
		currentStatus := map[int64]int{}
		enrolled := map[int64]bool{}
		for _, ra := range d.courseRAs(e.CourseID) {
			if ra.Component != "enrol_database" || ra.ItemID != e.ID || d.Users[ra.UserID].Deleted {
				continue
			}
			if currentRoles[ra.UserID] == nil {
				currentRoles[ra.UserID] = map[int64]bool{}
			}
			currentRoles[ra.UserID][ra.RoleID] = true
			if ue, ok := d.ue(e.ID, ra.UserID); ok {
				enrolled[ra.UserID] = true
				currentStatus[ra.UserID] = ue.Status
			}
		}
		requested := map[int64]map[int64]bool{}
		for _, r := range rows {
			if r.Course != mapping || r.User == "" {
				continue
			}
			uid := userByIDNumber(d, r.User)
			if uid == 0 {
				continue
			}
			role := int64(5) // defaultrole: student
			for _, sr := range standardRoles {
				if sr.Shortname == r.Role {
					role = sr.ID
				}
			}
			if requested[uid] == nil {
				requested[uid] = map[int64]bool{}
			}
			requested[uid][role] = true
		}
		for _, uid := range slices.Sorted(maps.Keys(requested)) {
			for _, role := range slices.Sorted(maps.Keys(requested[uid])) {
				if !enrolled[uid] {
					t.enrolUser(e, uid, role, 0, 0, UserActive)
					enrolled[uid], currentStatus[uid] = true, UserActive
					if currentRoles[uid] == nil {
						currentRoles[uid] = map[int64]bool{}
					}
					currentRoles[uid][role] = true
				}
			}
			if currentStatus[uid] == UserSuspended {
				active := UserActive
				t.updateUserEnrol(e, uid, &active, nil, nil)
			}
			for _, role := range slices.Sorted(maps.Keys(requested[uid])) {
				if !currentRoles[uid][role] {
					t.roleAssign(role, e.CourseID, uid, "enrol_database", e.ID)
				}
			}
			for _, ra := range d.userCourseRAs(e.CourseID, uid) {
				if ra.Component == "enrol_database" && ra.ItemID == e.ID && !requested[uid][ra.RoleID] {
					t.unassign(ra)
				}
			}
			delete(currentRoles, uid)
		}
		// Roles that exist only in Moodle: their users are handled as removed.
		for uid := range currentRoles {
			if _, ok := currentStatus[uid]; !ok {
				currentStatus[uid] = UserActive
			}
		}
		for _, uid := range slices.Sorted(maps.Keys(currentStatus)) {
			if requested[uid] != nil {
				continue
			}
			switch action {
			case ExtRemovedUnenrol:
				if !preventFullUnenrol {
					t.unenrolUser(e, uid)
				}
			case ExtRemovedSuspend, ExtRemovedSuspendNoRoles:
				if currentStatus[uid] != UserSuspended {
					suspended := UserSuspended
					t.updateUserEnrol(e, uid, &suspended, nil, nil)
				}
				if action == ExtRemovedSuspendNoRoles {
					t.roleUnassignAll(e.CourseID, uid, "enrol_database", e.ID)
				}
			}
		}
	}
}

// userByIDNumber is the plugin's user lookup (localuserfield idnumber, not deleted,
// IGNORE_MULTIPLE: the first by id).
func userByIDNumber(d *db, idnumber string) int64 {
	if id, ok := d.ix.userByIDNumber[idnumber]; ok {
		return id
	}
	return 0
}
