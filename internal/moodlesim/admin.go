package moodlesim

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The admin API builds fixtures directly, as an administrator would through the web
// UI, with the same side effects (cohort and meta syncs). Fixtures are code, so a
// reference to a record that does not exist panics.

// admin runs f as the admin user, then the meta observers.
func (s *Sim) admin(f func(t *tx)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &tx{d: s.d, now: s.now().Unix(), actor: 2}
	f(t)
	t.settle()
}

// AddCategory creates the categories of path ("Ecampus / Sciences / L1 Informatique")
// that do not exist yet and returns the id of the last one.
func (s *Sim) AddCategory(path string) int64 {
	var id int64
	s.admin(func(t *tx) {
		for _, name := range strings.Split(path, "/") {
			name = strings.TrimSpace(name)
			found := int64(0)
			for _, child := range t.d.ix.catChildren.sorted(id) {
				if t.d.Categories[child].Name == name {
					found = child
				}
			}
			if found == 0 {
				found = t.d.next("course_categories")
				t.d.putCategory(Category{ID: found, Parent: id, Name: name})
			}
			id = found
		}
	})
	return id
}

// AddCourse creates a course (c.ID is ignored) without any enrolment instance and
// returns its id. Visible is taken as given.
func (s *Sim) AddCourse(c Course) int64 {
	s.admin(func(t *tx) {
		if _, ok := t.d.courseByShortname(c.Shortname); ok {
			panic(fmt.Sprintf("moodlesim: course %q exists", c.Shortname))
		}
		if _, ok := t.d.Categories[c.Category]; !ok {
			panic(fmt.Sprintf("moodlesim: no category %d", c.Category))
		}
		c.ID = t.d.next("course")
		t.d.putCourse(c)
	})
	return c.ID
}

// AddUser creates a user (u.ID is ignored; the username is lowercased; the e-mail
// defaults to <username>@example.invalid) and returns its id.
func (s *Sim) AddUser(u User) int64 {
	s.admin(func(t *tx) {
		u.Username = strings.ToLower(u.Username)
		if _, ok := t.d.userByUsername(u.Username); ok {
			panic(fmt.Sprintf("moodlesim: user %q exists", u.Username))
		}
		u.Email = cmp.Or(u.Email, u.Username+"@example.invalid")
		u.Auth = cmp.Or(u.Auth, "manual")
		u.ID = t.d.next("user")
		t.d.putUser(u)
	})
	return u.ID
}

// UpdateUser replaces a user record (suspend or delete a user in tests).
func (s *Sim) UpdateUser(u User) {
	s.admin(func(t *tx) {
		if _, ok := t.d.Users[u.ID]; !ok {
			panic(fmt.Sprintf("moodlesim: no user %d", u.ID))
		}
		t.d.putUser(u)
	})
}

// AddCohort creates a cohort (c.ID is ignored; CategoryID 0 is the system context)
// and returns its id.
func (s *Sim) AddCohort(c Cohort) int64 {
	s.admin(func(t *tx) {
		c.ID = t.d.next("cohort")
		t.d.putCohort(c)
	})
	return c.ID
}

// AddCohortMembers adds users to a cohort; cohort instances enrol them at once.
func (s *Sim) AddCohortMembers(cohortID int64, userIDs ...int64) {
	s.admin(func(t *tx) {
		if _, ok := t.d.Cohorts[cohortID]; !ok {
			panic(fmt.Sprintf("moodlesim: no cohort %d", cohortID))
		}
		for _, uid := range userIDs {
			if !t.d.cohortMember(cohortID, uid) {
				id := t.d.next("cohort_members")
				t.d.putCohortMember(CohortMember{ID: id, CohortID: cohortID, UserID: uid, TimeAdded: t.now})
			}
		}
		t.cohortMembershipChanged(cohortID)
	})
}

// AddInstance creates an enrolment instance through add_instance (e.ID and SortOrder
// are assigned; cohort and meta instances sync the course at once) and returns its id.
// Unlike local_enrolctl_add_instances it accepts any plugin, database included.
func (s *Sim) AddInstance(e Instance) int64 {
	var id int64
	s.admin(func(t *tx) {
		if _, ok := t.d.Courses[e.CourseID]; !ok {
			panic(fmt.Sprintf("moodlesim: no course %d", e.CourseID))
		}
		id = t.addInstance(e)
	})
	return id
}

// Enrol is enrol_user() on an instance: it creates or updates the user's row and
// assigns roleID (0: none) with the instance plugin's component.
func (s *Sim) Enrol(instanceID, userID, roleID, timestart, timeend int64, suspended bool) {
	s.admin(func(t *tx) {
		e, ok := t.d.Instances[instanceID]
		if !ok {
			panic(fmt.Sprintf("moodlesim: no instance %d", instanceID))
		}
		if _, ok := t.d.Users[userID]; !ok {
			panic(fmt.Sprintf("moodlesim: no user %d", userID))
		}
		status := UserActive
		if suspended {
			status = UserSuspended
		}
		t.enrolUser(e, userID, roleID, timestart, timeend, status)
	})
}

// SetCapabilities gives a non-admin user exactly these capabilities everywhere (as a
// system role would), e.g. "webservice/rest:use", "moodle/course:view",
// "moodle/course:enrolreview", "moodle/role:assign". Without webservice/rest:use
// every call of the user's tokens is an accessexception.
func (s *Sim) SetCapabilities(username string, capabilities ...string) {
	s.admin(func(t *tx) {
		u, ok := t.d.userByUsername(strings.ToLower(username))
		if !ok {
			panic(fmt.Sprintf("moodlesim: no user %q", username))
		}
		u.Capabilities = slices.Clone(capabilities)
		t.d.putUser(u)
	})
}

// ManagerCapabilities are the capabilities a site manager holds that moodlesim
// checks (webservice/rest:use and local/enrolctl:manage included), sorted.
func ManagerCapabilities() []string {
	caps := slices.Collect(maps.Keys(capabilityNames))
	caps = append(caps, "webservice/rest:use", "enrol/cohort:unenrol", "enrol/meta:unenrol")
	slices.Sort(caps)
	return slices.Compact(caps)
}

// AddTokenWithout registers a token for a non-admin manager lacking the given
// capabilities, so tests and the end-to-end suite can check refusals (e.g. without
// "local/enrolctl:manage", the services' required capability, every call is accessexception). The user
// is created (firstname "Restricted", e-mail <username>@example.invalid) when it does
// not exist; it holds ManagerCapabilities minus without.
func (s *Sim) AddTokenWithout(tok, service, username string, without ...string) {
	if s.UserID(username) == 0 {
		s.AddUser(User{Username: username, Firstname: "Restricted", Lastname: "Manager"})
	}
	caps := slices.DeleteFunc(ManagerCapabilities(), func(c string) bool { return slices.Contains(without, c) })
	s.SetCapabilities(username, caps...)
	s.AddToken(tok, service, username)
}

// SetLastCourseAccess records when a user last opened a course (user_lastaccess),
// as course/view.php does; t is Unix seconds.
func (s *Sim) SetLastCourseAccess(courseID, userID, t int64) {
	s.admin(func(tx *tx) { tx.d.setLastAccess(courseID, userID, t) })
}

// AssignRole gives a plain (component ”) role in a course, like the participants page.
func (s *Sim) AssignRole(courseID, userID, roleID int64) {
	s.admin(func(t *tx) { t.roleAssign(roleID, courseID, userID, "", 0) })
}

// AddGroup creates a group in a course and returns its id.
func (s *Sim) AddGroup(courseID int64, name string) int64 {
	var id int64
	s.admin(func(t *tx) {
		if _, ok := t.d.groupByName(courseID, name); ok {
			panic(fmt.Sprintf("moodlesim: group %q exists in course %d", name, courseID))
		}
		id = t.addGroup(Group{CourseID: courseID, Name: name})
	})
	return id
}

// AddMember adds a manual group membership. Like groups_add_member it returns false,
// doing nothing, when the user is not enrolled in the course.
func (s *Sim) AddMember(groupID, userID int64) bool {
	var ok bool
	s.admin(func(t *tx) {
		g, found := t.d.Groups[groupID]
		if !found {
			panic(fmt.Sprintf("moodlesim: no group %d", groupID))
		}
		ok = t.addMember(g, userID, "", 0)
	})
	return ok
}

// SetPluginEnabled enables (appended to $CFG->enrol_plugins_enabled) or disables an
// enrolment plugin site-wide.
func (s *Sim) SetPluginEnabled(name string, enabled bool) {
	s.admin(func(t *tx) {
		list := slices.DeleteFunc(t.d.Config.EnabledPlugins, func(p string) bool { return p == name })
		if enabled {
			list = append(list, name)
		}
		t.d.Config.EnabledPlugins = list
	})
}

// SetWebServicesEnabled turns web services and the REST protocol on or off (off: every
// request gets an empty 403).
func (s *Sim) SetWebServicesEnabled(on bool) {
	s.admin(func(t *tx) { t.d.Config.WebServicesEnabled = on })
}

// SetDebug sets the site's debug level: on adds debuginfo and table names to errors.
func (s *Sim) SetDebug(on bool) { s.admin(func(t *tx) { t.d.Config.Debug = on }) }

// SetUnenrolAction sets enrol_cohort/unenrolaction, enrol_meta/unenrolaction or
// enrol_database/unenrolaction (ExtRemovedUnenrol, ExtRemovedKeep, ExtRemovedSuspend,
// ExtRemovedSuspendNoRoles).
func (s *Sim) SetUnenrolAction(plugin string, action int) {
	s.admin(func(t *tx) {
		switch plugin {
		case "cohort":
			t.d.Config.CohortUnenrolAction = action
		case "meta":
			t.d.Config.MetaUnenrolAction = action
		case "database":
			t.d.Config.DatabaseUnenrolAction = action
		default:
			panic("moodlesim: unenrolaction is a cohort, meta or database setting")
		}
	})
}

// CourseID returns the id of the course with that shortname, or 0.
func (s *Sim) CourseID(shortname string) int64 {
	return view(s, func(d *db) int64 { return d.ix.courseByShort[shortname] })
}

// UserID returns the id of the (non-deleted) user with that username, or 0.
func (s *Sim) UserID(username string) int64 {
	return view(s, func(d *db) int64 { return d.ix.userByName[username] })
}

// CohortID returns the id of the cohort with that idnumber, or 0.
func (s *Sim) CohortID(idnumber string) int64 {
	return view(s, func(d *db) int64 { return d.ix.cohortByIDNumber[idnumber] })
}

// GroupID returns the id of the group of a course with that name, or 0.
func (s *Sim) GroupID(courseID int64, name string) int64 {
	return view(s, func(d *db) int64 { return d.ix.groupByName[groupKey{courseID, name}] })
}

// Instances returns a course's instances ordered by sortorder, id.
func (s *Sim) Instances(courseID int64) []Instance {
	return view(s, func(d *db) []Instance { return d.courseInstances(courseID) })
}

// UserEnrolments returns the user_enrolments rows of a course, by instance then user.
func (s *Sim) UserEnrolments(courseID int64) []UserEnrolment {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []UserEnrolment
	for _, e := range s.d.courseInstances(courseID) {
		out = append(out, s.d.instanceUEs(e.ID)...)
	}
	return out
}

// RoleAssignments returns the role assignments of a course, by user, role, component.
func (s *Sim) RoleAssignments(courseID int64) []RoleAssignment {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := s.d.courseRAs(courseID)
	for i := range out {
		out[i].ID, out[i].TimeModified = 0, 0
	}
	slices.SortFunc(out, func(a, b RoleAssignment) int {
		return cmp.Or(cmpID(a.UserID, b.UserID), cmpID(a.RoleID, b.RoleID), strings.Compare(a.Component, b.Component), cmpID(a.ItemID, b.ItemID))
	})
	return out
}

// GroupMembers returns the memberships of a course's groups, by group then user.
func (s *Sim) GroupMembers(courseID int64) []GroupMember {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := s.d.courseMembers(courseID)
	for i := range out {
		out[i].ID, out[i].TimeAdded = 0, 0
	}
	slices.SortFunc(out, func(a, b GroupMember) int { return cmp.Or(cmpID(a.GroupID, b.GroupID), cmpID(a.UserID, b.UserID)) })
	return out
}

// GradeDeletions returns every "grades deleted" event so far (last-enrolment unenrols).
func (s *Sim) GradeDeletions() []GradeDeletion {
	return view(s, func(d *db) []GradeDeletion { return slices.Clone(d.Grades) })
}

// SetClock replaces the clock (Load starts with time.Now).
func (s *Sim) SetClock(now func() time.Time) { s.locked(func() { s.now = now }) }

// RunMetaSyncTask runs the hourly \enrol_meta\task\enrol_meta_sync: the bulk sync of
// every course with a meta instance, which (unlike the per-user observers) also resets
// the dates of suspended meta enrolments.
func (s *Sim) RunMetaSyncTask() {
	s.admin(func(t *tx) {
		courses := map[int64]bool{}
		for _, e := range t.d.Instances { // the task reads the whole enrol table too
			if e.Enrol == "meta" {
				courses[e.CourseID] = true
			}
		}
		ids := slices.Sorted(maps.Keys(courses))
		for _, id := range ids {
			t.metaSync(id)
		}
	})
}
