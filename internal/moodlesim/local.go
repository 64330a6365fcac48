package moodlesim

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The local_enrolctl functions of docs/contract.md.

const (
	pluginVersion = 2026113000
	pluginRelease = "2.0.0"
	moodleVersion = "2025100600.02"
	moodleRelease = "5.1+ (Build: 20251017)"
)

// managedPlugins are the methods local_enrolctl can add, change and delete.
var managedPlugins = []string{"manual", "self", "guest", "cohort", "meta"}

func getSiteStatus(c *ctx, _ args) (any, *wsError) {
	type role struct {
		ID        int64  `json:"id"`
		Shortname string `json:"shortname"`
	}
	roles := make([]role, 0, len(standardRoles))
	for _, r := range standardRoles {
		roles = append(roles, role{r.ID, r.Shortname})
	}
	return struct {
		PluginVersion  int64    `json:"pluginversion"`
		PluginRelease  string   `json:"pluginrelease"`
		MoodleVersion  string   `json:"moodleversion"`
		MoodleRelease  string   `json:"moodlerelease"`
		EnabledPlugins []string `json:"enabledplugins"`
		TimeZone       string   `json:"timezone"`
		Roles          []role   `json:"roles"`
	}{pluginVersion, pluginRelease, moodleVersion, moodleRelease, append([]string{}, c.d().Config.EnabledPlugins...), c.d().Config.TimeZone, roles}, nil
}

type courseRef struct {
	ID           int64  `json:"id"`
	Shortname    string `json:"shortname"`
	Fullname     string `json:"fullname"`
	IDNumber     string `json:"idnumber"`
	CategoryID   int64  `json:"categoryid"`
	CategoryPath string `json:"categorypath"`
	Visible      bool   `json:"visible"`
}

func getCourses(c *ctx, a args) (any, *wsError) {
	if err := c.require("moodle/course:view"); err != nil {
		return nil, err
	}
	page, perpage := a.int("page"), a.int("perpage")
	if page < 0 {
		return nil, invalidParam("page must be 0 or more")
	}
	if perpage < 1 || perpage > 5000 {
		return nil, invalidParam("perpage must be between 1 and 5000")
	}
	d := c.d()
	// Hidden courses are listed only to those who may see them.
	seeHidden := c.has("moodle/course:viewhiddencourses")
	ids := make([]int64, 0, len(d.Courses))
	for id, co := range d.Courses {
		if id != SiteCourseID && (co.Visible || seeHidden) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]courseRef, 0, min(perpage, int64(len(ids))))
	for i := page * perpage; page < 1<<31 && i < int64(len(ids)) && i < (page+1)*perpage; i++ {
		co := d.Courses[ids[i]]
		out = append(out, courseRef{co.ID, co.Shortname, co.Fullname, co.IDNumber, co.Category, d.categoryPath(co.Category), co.Visible})
	}
	return struct {
		Total   int         `json:"total"`
		Courses []courseRef `json:"courses"`
	}{len(ids), out}, nil
}

type stateInstance struct {
	ID                    int64  `json:"id"`
	Enrol                 string `json:"enrol"`
	Status                int    `json:"status"`
	Name                  string `json:"name"`
	SortOrder             int    `json:"sortorder"`
	RoleID                int64  `json:"roleid"`
	RoleShortname         string `json:"roleshortname"`
	CohortID              int64  `json:"cohortid"`
	CohortIDNumber        string `json:"cohortidnumber"`
	LinkedCourseID        int64  `json:"linkedcourseid"`
	LinkedCourseShortname string `json:"linkedcourseshortname"`
	GroupID               int64  `json:"groupid"`
	GroupName             string `json:"groupname"`
	MaxEnrolled           int64  `json:"maxenrolled"`
	EnrolPeriod           int64  `json:"enrolperiod"`
}

type stateEnrolment struct {
	ID         int64  `json:"id"`
	InstanceID int64  `json:"instanceid"`
	UserID     int64  `json:"userid"`
	Username   string `json:"username"`
	Status     int    `json:"status"`
	TimeStart  int64  `json:"timestart"`
	TimeEnd    int64  `json:"timeend"`
}

type stateRole struct {
	UserID        int64  `json:"userid"`
	RoleID        int64  `json:"roleid"`
	RoleShortname string `json:"roleshortname"`
	Component     string `json:"component"`
	ItemID        int64  `json:"itemid"`
}

type stateGroup struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	IDNumber string `json:"idnumber"`
}

type stateMember struct {
	GroupID   int64  `json:"groupid"`
	UserID    int64  `json:"userid"`
	Username  string `json:"username"`
	Component string `json:"component"`
	ItemID    int64  `json:"itemid"`
}

type courseState struct {
	CourseID   int64            `json:"courseid"`
	Shortname  string           `json:"shortname"`
	Instances  []stateInstance  `json:"instances"`
	Enrolments []stateEnrolment `json:"enrolments"`
	Roles      []stateRole      `json:"roles"`
	Groups     []stateGroup     `json:"groups"`
	Members    []stateMember    `json:"members"`
	Users      []stateUser      `json:"users"`
}

// stateUser is a user appearing in a course's enrolments, roles or members.
type stateUser struct {
	ID               int64  `json:"id"`
	Username         string `json:"username"`
	Firstname        string `json:"firstname"`
	Lastname         string `json:"lastname"`
	Email            string `json:"email"`
	IDNumber         string `json:"idnumber"`
	LastCourseAccess int64  `json:"lastcourseaccess"`
	Suspended        int    `json:"suspended"`
}

// getCourseState answers the state of up to 500 courses.
func getCourseState(c *ctx, a args) (any, *wsError) {
	d := c.d()
	ids := a.ints("courseids")
	if len(ids) < 1 || len(ids) > 500 {
		return nil, invalidParam("courseids must hold 1 to 500 course ids")
	}
	want := map[int64]*courseState{}
	for _, id := range ids {
		co, ok := d.Courses[id]
		if !ok || id == SiteCourseID {
			return nil, c.s.missingRecord("course", fmt.Sprintf("SELECT * FROM {course} WHERE id = ?\n[array (\n  0 => %d,\n)]", id))
		}
		want[id] = &courseState{CourseID: id, Shortname: co.Shortname, Instances: []stateInstance{},
			Enrolments: []stateEnrolment{}, Roles: []stateRole{}, Groups: []stateGroup{}, Members: []stateMember{}, Users: []stateUser{}}
	}
	for _, id := range ids {
		if err := c.require("moodle/course:enrolreview"); err != nil {
			return nil, err
		}
		if !d.Courses[id].Visible {
			if err := c.require("moodle/course:viewhiddencourses"); err != nil {
				return nil, err
			}
		}
	}
	// Each table through its course index: the cost is the size of the courses asked
	// for, not of the site (the plugin's queries join on the course ids too).
	for id, cs := range want {
		for _, e := range d.courseInstances(id) {
			si := stateInstance{ID: e.ID, Enrol: e.Enrol, Status: e.Status, Name: e.Name, SortOrder: e.SortOrder,
				RoleID: e.RoleID, RoleShortname: roleShortname(e.RoleID), EnrolPeriod: e.EnrolPeriod}
			switch e.Enrol {
			case "cohort":
				si.CohortID, si.GroupID = e.CustomInt1, e.CustomInt2
				si.CohortIDNumber = d.Cohorts[e.CustomInt1].IDNumber
			case "meta":
				si.LinkedCourseID, si.GroupID = e.CustomInt1, e.CustomInt2
				si.LinkedCourseShortname = d.Courses[e.CustomInt1].Shortname
			case "self":
				si.MaxEnrolled = e.CustomInt3
			}
			if si.GroupID < 0 {
				si.GroupID = 0
			}
			if g, ok := d.Groups[si.GroupID]; ok && g.CourseID == e.CourseID {
				si.GroupName = g.Name
			}
			cs.Instances = append(cs.Instances, si)
			for _, ue := range d.instanceUEs(e.ID) {
				cs.Enrolments = append(cs.Enrolments, stateEnrolment{ue.ID, ue.EnrolID, ue.UserID, d.Users[ue.UserID].Username,
					ue.Status, ue.TimeStart, ue.TimeEnd})
			}
		}
		for _, ra := range d.courseRAs(id) {
			cs.Roles = append(cs.Roles, stateRole{ra.UserID, ra.RoleID, roleShortname(ra.RoleID), ra.Component, ra.ItemID})
		}
		for _, g := range d.courseGroups(id) {
			cs.Groups = append(cs.Groups, stateGroup{g.ID, g.Name, g.IDNumber})
		}
		for _, m := range d.courseMembers(id) {
			cs.Members = append(cs.Members, stateMember{m.GroupID, m.UserID, d.Users[m.UserID].Username, m.Component, m.ItemID})
		}
	}
	out := make([]courseState, 0, len(ids))
	for _, id := range ids {
		cs := want[id]
		slices.SortFunc(cs.Instances, func(x, y stateInstance) int {
			if x.SortOrder != y.SortOrder {
				return x.SortOrder - y.SortOrder
			}
			return cmpID(x.ID, y.ID)
		})
		slices.SortFunc(cs.Enrolments, func(x, y stateEnrolment) int {
			if x.InstanceID != y.InstanceID {
				return cmpID(x.InstanceID, y.InstanceID)
			}
			return cmpID(x.UserID, y.UserID)
		})
		slices.SortFunc(cs.Roles, func(x, y stateRole) int {
			if x.UserID != y.UserID {
				return cmpID(x.UserID, y.UserID)
			}
			if x.RoleID != y.RoleID {
				return cmpID(x.RoleID, y.RoleID)
			}
			if x.Component != y.Component {
				return strings.Compare(x.Component, y.Component)
			}
			return cmpID(x.ItemID, y.ItemID)
		})
		slices.SortFunc(cs.Groups, func(x, y stateGroup) int {
			if x.Name != y.Name {
				return strings.Compare(x.Name, y.Name)
			}
			return cmpID(x.ID, y.ID)
		})
		slices.SortFunc(cs.Members, func(x, y stateMember) int {
			if x.GroupID != y.GroupID {
				return cmpID(x.GroupID, y.GroupID)
			}
			return cmpID(x.UserID, y.UserID)
		})
		cs.Users = d.stateUsers(cs)
		out = append(out, *cs)
	}
	return out, nil
}

// stateUsers lists, by id, every user of a course's enrolments, roles and members.
func (d *db) stateUsers(cs *courseState) []stateUser {
	seen := map[int64]bool{}
	for _, e := range cs.Enrolments {
		seen[e.UserID] = true
	}
	for _, r := range cs.Roles {
		seen[r.UserID] = true
	}
	for _, m := range cs.Members {
		seen[m.UserID] = true
	}
	out := make([]stateUser, 0, len(seen))
	for _, id := range slices.Sorted(maps.Keys(seen)) {
		u := d.Users[id]
		su := stateUser{ID: u.ID, Username: u.Username, Firstname: u.Firstname, Lastname: u.Lastname, Email: u.Email,
			IDNumber: u.IDNumber, LastCourseAccess: d.LastAccess[courseUser{cs.CourseID, id}]}
		if u.Suspended {
			su.Suspended = 1
		}
		out = append(out, su)
	}
	return out
}

// uniqueInOrder drops repeated ids, keeping the first of each (array_unique).
func uniqueInOrder(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

type addedInstance struct {
	CourseID int64 `json:"courseid"`
	ID       int64 `json:"id"`
}

func addInstances(c *ctx, a args) (any, *wsError) {
	out := make([]addedInstance, 0)
	for _, it := range a.list("instances") {
		id, err := addInstance(c, it, false)
		if err != nil {
			return nil, err
		}
		out = append(out, addedInstance{it.int("courseid"), id})
	}
	return out, nil
}

// addInstance is one item of local_enrolctl_add_instances. With idempotent (the
// write function) an equivalent instance answers its id instead of duplicateinstance
// or cannotaddinstance, so a resent item changes nothing.
func addInstance(c *ctx, it args, idempotent bool) (int64, *wsError) {
	d := c.d()
	courseID, enrol := it.int("courseid"), it.str("enrol")
	if enrol == "database" {
		return 0, localErr("databaseinstance", "new")
	}
	if !slices.Contains(managedPlugins, enrol) {
		return 0, localErr("unsupportedmethod", enrol)
	}
	if _, ok := d.Courses[courseID]; !ok || courseID == SiteCourseID {
		return 0, localErr("unknowncourse", courseID)
	}
	if !d.pluginEnabled(enrol) {
		return 0, localErr("plugindisabled", enrol)
	}
	if err := c.requireConfig(enrol); err != nil {
		return 0, err
	}
	existing := d.courseInstances(courseID)
	roleID, cohortID, linkedID, groupID := it.int("roleid"), it.int("cohortid"), it.int("linkedcourseid"), it.int("groupid")
	// equivalent finds the instance a new one would duplicate.
	equivalent := func(match func(Instance) bool) (Instance, bool) {
		for _, e := range existing {
			if e.Enrol == enrol && match(e) {
				return e, true
			}
		}
		return Instance{}, false
	}
	dup := func(match func(Instance) bool) (int64, *wsError) {
		if e, ok := equivalent(match); ok {
			if idempotent {
				return e.ID, nil
			}
			return e.ID, localErr("duplicateinstance", map[string]any{"courseid": courseID, "enrol": enrol, "id": e.ID})
		}
		return 0, nil
	}
	switch enrol {
	case "manual", "guest":
		if e, ok := equivalent(func(Instance) bool { return true }); ok {
			if idempotent {
				return e.ID, nil
			}
			return 0, localErr("cannotaddinstance", map[string]any{"enrol": enrol, "courseid": courseID})
		}
	case "cohort":
		co, ok := d.Cohorts[cohortID]
		if !ok {
			return 0, localErr("unknowncohort", cohortID)
		}
		if !d.cohortAvailable(co, courseID) {
			return 0, localErr("cohortnotavailable", map[string]any{"cohortid": cohortID, "courseid": courseID})
		}
		if id, err := dup(func(e Instance) bool { return e.CustomInt1 == cohortID && e.RoleID == roleID }); id != 0 || err != nil {
			return id, err
		}
	case "meta":
		if _, ok := d.Courses[linkedID]; !ok || linkedID == SiteCourseID {
			return 0, localErr("unknowncourse", linkedID)
		}
		if linkedID == courseID {
			return 0, localErr("invalidlink", courseID)
		}
		if id, err := dup(func(e Instance) bool { return e.CustomInt1 == linkedID }); id != 0 || err != nil {
			return id, err
		}
		if !d.Courses[linkedID].Visible {
			if err := c.require("moodle/course:viewhiddencourses"); err != nil {
				return 0, err
			}
		}
		if err := c.require("enrol/meta:selectaslinked"); err != nil {
			return 0, err
		}
	case "self":
		name := it.str("name")
		if id, err := dup(func(e Instance) bool { return e.Name == name }); id != 0 || err != nil {
			return id, err
		}
	}
	if roleID != 0 && !c.assignable(roleID) {
		return 0, localErr("invalidrole", map[string]any{"roleid": roleID, "courseid": courseID})
	}
	if groupID != 0 {
		if g, ok := d.Groups[groupID]; !ok || g.CourseID != courseID {
			return 0, localErr("invalidgroup", map[string]any{"groupid": groupID, "courseid": courseID})
		}
	}
	// roleid is stored for manual, self and cohort only (validated for every method).
	e := Instance{Enrol: enrol, CourseID: courseID, Name: it.str("name")}
	if enrol == "manual" || enrol == "self" || enrol == "cohort" {
		e.RoleID = roleID
	}
	if it.int("status") != 0 {
		e.Status = InstanceDisabled
	}
	switch enrol {
	case "cohort":
		e.CustomInt1, e.CustomInt2 = cohortID, groupID
	case "meta":
		e.CustomInt1, e.CustomInt2 = linkedID, groupID
	case "self":
		// The self plugin's instance defaults: welcome e-mail, new enrolments allowed.
		e.CustomInt3, e.CustomInt4, e.CustomInt6 = it.int("maxenrolled"), 1, 1
	case "manual":
		e.CustomInt1 = 1 // sendcoursewelcomemessage
	}
	return c.t.addInstance(e), nil
}

// requireConfig is the instance pages' check: moodle/course:enrolconfig and
// enrol/<plugin>:config.
func (c *ctx) requireConfig(plugin string) *wsError {
	if err := c.require("moodle/course:enrolconfig"); err != nil {
		return err
	}
	return c.require("enrol/" + plugin + ":config")
}

// managedInstance finds an instance local_enrolctl may change.
func managedInstance(c *ctx, id int64) (Instance, *wsError) {
	e, ok := c.d().Instances[id]
	if !ok {
		return e, localErr("unknowninstance", id)
	}
	if e.Enrol == "database" {
		return e, localErr("databaseinstance", id)
	}
	if !slices.Contains(managedPlugins, e.Enrol) {
		return e, localErr("unsupportedmethod", e.Enrol)
	}
	return e, nil
}

func updateInstances(c *ctx, a args) (any, *wsError) {
	for _, it := range a.list("instances") {
		e, err := managedInstance(c, it.int("id"))
		if err != nil {
			return nil, err
		}
		if err := updateInstance(c, e, it); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// updateInstance is one item of local_enrolctl_update_instances: only the keys given
// change.
func updateInstance(c *ctx, e Instance, it args) *wsError {
	d := c.d()
	if !d.pluginEnabled(e.Enrol) {
		return localErr("plugindisabled", e.Enrol)
	}
	if err := c.requireConfig(e.Enrol); err != nil {
		return err
	}
	changed := false
	if it.has("name") && it.str("name") != e.Name {
		e.Name, changed = it.str("name"), true
	}
	roleChanged := false
	if it.has("roleid") && e.Enrol != "guest" && e.Enrol != "meta" && it.int("roleid") != e.RoleID {
		roleID := it.int("roleid")
		if roleID != 0 && !c.assignable(roleID) {
			return localErr("invalidrole", map[string]any{"roleid": roleID, "courseid": e.CourseID})
		}
		e.RoleID, changed, roleChanged = roleID, true, true
	}
	if it.has("groupid") && (e.Enrol == "cohort" || e.Enrol == "meta") && it.int("groupid") != e.CustomInt2 {
		groupID := it.int("groupid")
		if groupID != 0 {
			if g, ok := d.Groups[groupID]; !ok || g.CourseID != e.CourseID {
				return localErr("invalidgroup", map[string]any{"groupid": groupID, "courseid": e.CourseID})
			}
		}
		e.CustomInt2, changed = groupID, true
	}
	if it.has("maxenrolled") && e.Enrol == "self" && it.int("maxenrolled") != e.CustomInt3 {
		e.CustomInt3, changed = it.int("maxenrolled"), true
	}
	if changed {
		// update_instance: cohort unassigns the old role at once, then cohort and
		// meta re-sync the course.
		if roleChanged && e.Enrol == "cohort" {
			for _, ra := range d.courseRAs(e.CourseID) {
				if ra.Component == "enrol_cohort" && ra.ItemID == e.ID {
					c.t.unassign(ra)
				}
			}
		}
		e.TimeModified = c.t.now
		c.t.putInstance(e)
		c.t.instanceUpdated(e.CourseID)
		c.t.syncCourse(e)
	}
	if it.has("status") {
		status := InstanceEnabled
		if it.int("status") != 0 {
			status = InstanceDisabled
		}
		c.t.updateStatus(d.Instances[e.ID], status)
	}
	return nil
}

func deleteInstances(c *ctx, a args) (any, *wsError) {
	for _, id := range uniqueInOrder(a.ints("instanceids")) {
		e, err := managedInstance(c, id)
		if err != nil {
			return nil, err
		}
		if err := deleteInstance(c, e); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// deleteInstance is one item of local_enrolctl_delete_instances.
func deleteInstance(c *ctx, e Instance) *wsError {
	if err := c.requireConfig(e.Enrol); err != nil {
		return err
	}
	c.t.deleteInstance(e)
	return nil
}

// enrolInstance finds a manual or self instance for set_enrolments and unenrol_users.
func enrolInstance(c *ctx, id int64) (Instance, *wsError) {
	e, ok := c.d().Instances[id]
	if !ok {
		return e, localErr("unknowninstance", id)
	}
	if e.Enrol == "database" {
		return e, localErr("databaseinstance", id)
	}
	if e.Enrol != "manual" && e.Enrol != "self" {
		return e, localErr("instancenotmanual", id)
	}
	return e, nil
}

// guestUserID is $CFG->siteguest: never enrolled by enrolctl.
const guestUserID int64 = 1

// realUser is a user enrolctl may enrol: it exists, is not deleted, is not the guest.
func realUser(d *db, userID int64) *wsError {
	if u, ok := d.Users[userID]; !ok || u.Deleted || userID == guestUserID {
		return localErr("unknownuser", userID)
	}
	return nil
}

func setEnrolments(c *ctx, a args) (any, *wsError) {
	for _, it := range a.list("enrolments") {
		e, err := enrolInstance(c, it.int("instanceid"))
		if err != nil {
			return nil, err
		}
		if err := setEnrolment(c, e, it); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// setEnrolment is one item of local_enrolctl_set_enrolments: the full desired state of
// one user's enrolment in a manual or self instance.
func setEnrolment(c *ctx, e Instance, it args) *wsError {
	d := c.d()
	userID, roleID := it.int("userid"), it.int("roleid")
	if err := realUser(d, userID); err != nil {
		return err
	}
	if !d.pluginEnabled(e.Enrol) {
		return localErr("plugindisabled", e.Enrol)
	}
	status, ts, te := UserActive, it.int("timestart"), it.int("timeend")
	if ts < 0 || te < 0 || (te != 0 && te < ts) {
		return localErr("invalidtimes", userID)
	}
	if roleID != 0 && !c.assignable(roleID) {
		return localErr("invalidrole", map[string]any{"roleid": roleID, "courseid": e.CourseID})
	}
	if it.int("suspended") != 0 {
		status = UserSuspended
	}
	if ue, exists := d.ue(e.ID, userID); !exists {
		// Self has no :enrol capability: enrolling someone else is managing it.
		capability := "enrol/manual:enrol"
		if e.Enrol == "self" {
			capability = "enrol/self:manage"
		}
		if err := c.require(capability); err != nil {
			return err
		}
		c.t.enrolUser(e, userID, 0, ts, te, status)
	} else if ue.Status != status || ue.TimeStart != ts || ue.TimeEnd != te {
		if err := c.require("enrol/" + e.Enrol + ":manage"); err != nil {
			return err
		}
		c.t.updateUserEnrol(e, userID, &status, &ts, &te)
	}
	if roleID != 0 {
		for _, ra := range d.userCourseRAs(e.CourseID, userID) {
			if ra.Component == "" && ra.RoleID != roleID {
				if !c.assignable(ra.RoleID) {
					// Removing a role needs the right to give it.
					return localErr("invalidrole", map[string]any{"roleid": ra.RoleID, "courseid": e.CourseID})
				}
				c.t.unassign(ra)
			}
		}
		c.t.roleAssign(roleID, e.CourseID, userID, "", 0)
	}
	return nil
}

func unenrolUsers(c *ctx, a args) (any, *wsError) {
	for _, it := range a.list("enrolments") {
		e, err := enrolInstance(c, it.int("instanceid"))
		if err != nil {
			return nil, err
		}
		if err := unenrolUser(c, e, it.int("userid")); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// unenrolUser is one item of local_enrolctl_unenrol_users: the plugin must be enabled
// and allow_unenrol_user() must allow it; a user without a row is a no-op.
func unenrolUser(c *ctx, e Instance, userID int64) *wsError {
	if !c.d().pluginEnabled(e.Enrol) {
		return localErr("plugindisabled", e.Enrol)
	}
	if err := c.require("enrol/" + e.Enrol + ":unenrol"); err != nil {
		return err
	}
	ue, ok := c.d().ue(e.ID, userID)
	if !ok {
		return nil
	}
	if !allowUnenrolUser(e, ue) {
		return localErr("cannotunenrol", e.Enrol)
	}
	c.t.unenrolUser(e, userID)
	return nil
}

// allowUnenrolUser is enrol_plugin::allow_unenrol_user: enrol_manual and enrol_self
// override allow_unenrol() to true; the base class (guest, cohort, meta, database
// through their own rules) answers false, but enrolctl only reaches manual and self.
func allowUnenrolUser(e Instance, _ UserEnrolment) bool {
	return e.Enrol == "manual" || e.Enrol == "self"
}
