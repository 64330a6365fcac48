package moodlesim

import (
	"fmt"
	"slices"
	"strings"
)

// The local_enrolctl functions of docs/contract.md.

const (
	pluginVersion = 2026112301
	pluginRelease = "1.0.0"
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
	if perpage < 1 || perpage > 1000 {
		return nil, invalidParam("perpage must be between 1 and 1000")
	}
	d := c.d()
	ids := make([]int64, 0, len(d.Courses))
	for id := range d.Courses {
		if id != SiteCourseID {
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
}

// getCourseState reads every table once and buckets the rows by course, the way the
// plugin runs a constant number of queries whatever the number of courses.
func getCourseState(c *ctx, a args) (any, *wsError) {
	d := c.d()
	ids := a.ints("courseids")
	if len(ids) < 1 || len(ids) > 200 {
		return nil, invalidParam("courseids must hold 1 to 200 course ids")
	}
	want := map[int64]*courseState{}
	for _, id := range ids {
		co, ok := d.Courses[id]
		if !ok || id == SiteCourseID {
			return nil, c.s.missingRecord("course", fmt.Sprintf("SELECT * FROM {course} WHERE id = ?\n[array (\n  0 => %d,\n)]", id))
		}
		want[id] = &courseState{CourseID: id, Shortname: co.Shortname, Instances: []stateInstance{},
			Enrolments: []stateEnrolment{}, Roles: []stateRole{}, Groups: []stateGroup{}, Members: []stateMember{}}
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
	for _, e := range d.Instances {
		cs := want[e.CourseID]
		if cs == nil {
			continue
		}
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
	}
	for _, ue := range d.UEs {
		e := d.Instances[ue.EnrolID]
		if cs := want[e.CourseID]; cs != nil {
			cs.Enrolments = append(cs.Enrolments, stateEnrolment{ue.ID, ue.EnrolID, ue.UserID, d.Users[ue.UserID].Username,
				ue.Status, ue.TimeStart, ue.TimeEnd})
		}
	}
	for _, ra := range d.RAs {
		if cs := want[ra.CourseID]; cs != nil {
			cs.Roles = append(cs.Roles, stateRole{ra.UserID, ra.RoleID, roleShortname(ra.RoleID), ra.Component, ra.ItemID})
		}
	}
	for _, g := range d.Groups {
		if cs := want[g.CourseID]; cs != nil {
			cs.Groups = append(cs.Groups, stateGroup{g.ID, g.Name, g.IDNumber})
		}
	}
	for _, m := range d.Members {
		if cs := want[d.Groups[m.GroupID].CourseID]; cs != nil {
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
		out = append(out, *cs)
	}
	return out, nil
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

func addInstances(c *ctx, a args) (any, *wsError) {
	d := c.d()
	type added struct {
		CourseID int64 `json:"courseid"`
		ID       int64 `json:"id"`
	}
	out := make([]added, 0)
	for _, it := range a.list("instances") {
		courseID, enrol := it.int("courseid"), it.str("enrol")
		if enrol == "database" {
			return nil, localErr("databaseinstance", "new")
		}
		if !slices.Contains(managedPlugins, enrol) {
			return nil, localErr("unsupportedmethod", enrol)
		}
		if _, ok := d.Courses[courseID]; !ok || courseID == SiteCourseID {
			return nil, localErr("unknowncourse", courseID)
		}
		if !d.pluginEnabled(enrol) {
			return nil, localErr("plugindisabled", enrol)
		}
		if err := c.requireConfig(enrol); err != nil {
			return nil, err
		}
		existing := d.courseInstances(courseID)
		roleID, cohortID, linkedID, groupID := it.int("roleid"), it.int("cohortid"), it.int("linkedcourseid"), it.int("groupid")
		dup := func(match func(Instance) bool) *wsError {
			for _, e := range existing {
				if e.Enrol == enrol && match(e) {
					return localErr("duplicateinstance", map[string]any{"courseid": courseID, "enrol": enrol, "id": e.ID})
				}
			}
			return nil
		}
		switch enrol {
		case "manual", "guest":
			for _, e := range existing {
				if e.Enrol == enrol {
					return nil, localErr("cannotaddinstance", map[string]any{"enrol": enrol, "courseid": courseID})
				}
			}
		case "cohort":
			co, ok := d.Cohorts[cohortID]
			if !ok {
				return nil, localErr("unknowncohort", cohortID)
			}
			if !d.cohortAvailable(co, courseID) {
				return nil, localErr("cohortnotavailable", map[string]any{"cohortid": cohortID, "courseid": courseID})
			}
			if err := dup(func(e Instance) bool { return e.CustomInt1 == cohortID && e.RoleID == roleID }); err != nil {
				return nil, err
			}
		case "meta":
			if _, ok := d.Courses[linkedID]; !ok || linkedID == SiteCourseID {
				return nil, localErr("unknowncourse", linkedID)
			}
			if linkedID == courseID {
				return nil, localErr("invalidlink", courseID)
			}
			if err := dup(func(e Instance) bool { return e.CustomInt1 == linkedID }); err != nil {
				return nil, err
			}
			if !d.Courses[linkedID].Visible {
				if err := c.require("moodle/course:viewhiddencourses"); err != nil {
					return nil, err
				}
			}
			if err := c.require("enrol/meta:selectaslinked"); err != nil {
				return nil, err
			}
		case "self":
			name := it.str("name")
			if err := dup(func(e Instance) bool { return e.Name == name }); err != nil {
				return nil, err
			}
		}
		if roleID != 0 && !c.assignable(roleID) {
			return nil, localErr("invalidrole", map[string]any{"roleid": roleID, "courseid": courseID})
		}
		if groupID != 0 {
			if g, ok := d.Groups[groupID]; !ok || g.CourseID != courseID {
				return nil, localErr("invalidgroup", map[string]any{"groupid": groupID, "courseid": courseID})
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
		out = append(out, added{courseID, c.t.addInstance(e)})
	}
	return out, nil
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
	d := c.d()
	for _, it := range a.list("instances") {
		e, err := managedInstance(c, it.int("id"))
		if err != nil {
			return nil, err
		}
		if !d.pluginEnabled(e.Enrol) {
			return nil, localErr("plugindisabled", e.Enrol)
		}
		if err := c.requireConfig(e.Enrol); err != nil {
			return nil, err
		}
		changed := false
		if it.has("name") && it.str("name") != e.Name {
			e.Name, changed = it.str("name"), true
		}
		roleChanged := false
		if it.has("roleid") && e.Enrol != "guest" && e.Enrol != "meta" && it.int("roleid") != e.RoleID {
			roleID := it.int("roleid")
			if roleID != 0 && !c.assignable(roleID) {
				return nil, localErr("invalidrole", map[string]any{"roleid": roleID, "courseid": e.CourseID})
			}
			e.RoleID, changed, roleChanged = roleID, true, true
		}
		if it.has("groupid") && (e.Enrol == "cohort" || e.Enrol == "meta") && it.int("groupid") != e.CustomInt2 {
			groupID := it.int("groupid")
			if groupID != 0 {
				if g, ok := d.Groups[groupID]; !ok || g.CourseID != e.CourseID {
					return nil, localErr("invalidgroup", map[string]any{"groupid": groupID, "courseid": e.CourseID})
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
				for _, ra := range d.RAs {
					if ra.Component == "enrol_cohort" && ra.ItemID == e.ID {
						c.t.unassign(ra)
					}
				}
			}
			e.TimeModified = c.t.now
			d.Instances[e.ID] = e
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
	}
	return nil, nil
}

func deleteInstances(c *ctx, a args) (any, *wsError) {
	for _, id := range uniqueInOrder(a.ints("instanceids")) {
		e, err := managedInstance(c, id)
		if err != nil {
			return nil, err
		}
		if err := c.requireConfig(e.Enrol); err != nil {
			return nil, err
		}
		c.t.deleteInstance(e)
	}
	return nil, nil
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

func setEnrolments(c *ctx, a args) (any, *wsError) {
	d := c.d()
	for _, it := range a.list("enrolments") {
		e, err := enrolInstance(c, it.int("instanceid"))
		if err != nil {
			return nil, err
		}
		userID, roleID := it.int("userid"), it.int("roleid")
		if u, ok := d.Users[userID]; !ok || u.Deleted {
			return nil, localErr("unknownuser", userID)
		}
		if !d.pluginEnabled(e.Enrol) {
			return nil, localErr("plugindisabled", e.Enrol)
		}
		if roleID != 0 && !c.assignable(roleID) {
			return nil, localErr("invalidrole", map[string]any{"roleid": roleID, "courseid": e.CourseID})
		}
		status, ts, te := UserActive, it.int("timestart"), it.int("timeend")
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
				return nil, err
			}
			c.t.enrolUser(e, userID, 0, ts, te, status)
		} else if ue.Status != status || ue.TimeStart != ts || ue.TimeEnd != te {
			if err := c.require("enrol/" + e.Enrol + ":manage"); err != nil {
				return nil, err
			}
			c.t.updateUserEnrol(e, userID, &status, &ts, &te)
		}
		if roleID != 0 {
			for _, ra := range d.RAs {
				if ra.CourseID == e.CourseID && ra.UserID == userID && ra.Component == "" && ra.RoleID != roleID {
					if !c.assignable(ra.RoleID) {
						// Removing a role needs the right to give it.
						return nil, localErr("invalidrole", map[string]any{"roleid": ra.RoleID, "courseid": e.CourseID})
					}
					c.t.unassign(ra)
				}
			}
			c.t.roleAssign(roleID, e.CourseID, userID, "", 0)
		}
	}
	return nil, nil
}

func unenrolUsers(c *ctx, a args) (any, *wsError) {
	for _, it := range a.list("enrolments") {
		e, err := enrolInstance(c, it.int("instanceid"))
		if err != nil {
			return nil, err
		}
		if err := c.require("enrol/" + e.Enrol + ":unenrol"); err != nil {
			return nil, err
		}
		c.t.unenrolUser(e, it.int("userid"))
	}
	return nil, nil
}
