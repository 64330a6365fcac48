package moodlesim

import (
	"cmp"
	"slices"
	"strings"
)

// core_group: the group web-service functions, and groups_* of group/lib.php.

// courseContext is validate_context() of a course context for the group functions:
// failures are wrapped as errorcoursecontextnotvalid.
func (c *ctx) courseContext(courseID int64) *wsError {
	if _, ok := c.d().Courses[courseID]; !ok {
		return moodleErr("errorcoursecontextnotvalid", map[string]any{"courseid": courseID, "message": "Invalid parameter value detected"})
	}
	return nil
}

type groupInfo struct {
	ID                int64  `json:"id"`
	CourseID          int64  `json:"courseid"`
	Name              string `json:"name"`
	Description       string `json:"description"`
	DescriptionFormat int64  `json:"descriptionformat"`
	EnrolmentKey      string `json:"enrolmentkey"`
	IDNumber          string `json:"idnumber"`
	Visibility        int64  `json:"visibility"`
	Participation     bool   `json:"participation"`
}

func createGroups(c *ctx, a args) (any, *wsError) {
	d := c.d()
	out := make([]groupInfo, 0)
	for _, it := range a.list("groups") {
		courseID := it.int("courseid")
		if err := c.courseContext(courseID); err != nil {
			return nil, err
		}
		if err := c.require("moodle/course:managegroups"); err != nil {
			return nil, err
		}
		name := strings.TrimSpace(it.str("name"))
		if name == "" {
			return nil, invalidParam("Invalid group name")
		}
		if _, ok := d.groupByName(courseID, name); ok {
			return nil, invalidParam("Group with the same name already exists in the course")
		}
		idnumber := it.str("idnumber")
		if idnumber != "" {
			for _, g := range d.courseGroups(courseID) {
				if g.IDNumber == idnumber {
					return nil, moodleErr("idnumbertaken", nil)
				}
			}
		}
		g := Group{ID: d.next("groups"), CourseID: courseID, Name: name, IDNumber: idnumber, Description: it.str("description")}
		d.putGroup(g)
		out = append(out, groupInfo{g.ID, courseID, name, g.Description, it.int("descriptionformat"), it.str("enrolmentkey"),
			idnumber, it.int("visibility"), it.bool("participation")})
	}
	return out, nil
}

func getCourseGroups(c *ctx, a args) (any, *wsError) {
	courseID := a.int("courseid")
	if err := c.courseContext(courseID); err != nil {
		return nil, err
	}
	if err := c.require("moodle/course:managegroups"); err != nil {
		return nil, err
	}
	list := c.d().courseGroups(courseID)
	slices.SortFunc(list, func(x, y Group) int { return cmp.Or(strings.Compare(x.Name, y.Name), cmpID(x.ID, y.ID)) })
	out := make([]groupInfo, 0, len(list))
	for _, g := range list {
		out = append(out, groupInfo{g.ID, g.CourseID, g.Name, g.Description, 1, "", g.IDNumber, 0, true})
	}
	return out, nil
}

// memberArgs resolves {groupid, userid} like the group functions do (MUST_EXIST).
func (c *ctx) memberArgs(it args) (Group, User, *wsError) {
	d := c.d()
	g, ok := d.Groups[it.int("groupid")]
	if !ok {
		return g, User{}, c.s.missingByID("groups", it.int("groupid"))
	}
	u, ok := d.Users[it.int("userid")]
	if !ok || u.Deleted {
		return g, u, c.s.missingByID("user", it.int("userid"))
	}
	if err := c.courseContext(g.CourseID); err != nil {
		return g, u, err
	}
	return g, u, c.require("moodle/course:managegroups")
}

func addGroupMembers(c *ctx, a args) (any, *wsError) {
	for _, it := range a.list("members") {
		g, u, err := c.memberArgs(it)
		if err != nil {
			return nil, err
		}
		if !c.t.addMember(g, u.ID, "", 0) {
			return nil, invalidParam("Only enrolled users may be members of groups")
		}
	}
	return nil, nil
}

func deleteGroupMembers(c *ctx, a args) (any, *wsError) {
	d := c.d()
	for _, it := range a.list("members") {
		g, u, err := c.memberArgs(it)
		if err != nil {
			return nil, err
		}
		m, ok := d.groupMember(g.ID, u.ID)
		if !ok {
			continue
		}
		// enrol_cohort_allow_group_member_remove() refuses; meta has no callback.
		if m.Component == "enrol_cohort" {
			return nil, moodleErr("errorremovenotpermitted", fullname(u))
		}
		d.delMember(m)
	}
	return nil, nil
}

// addGroup inserts a groups row and returns its id.
func (t *tx) addGroup(g Group) int64 {
	g.ID = t.d.next("groups")
	t.d.putGroup(g)
	return g.ID
}

// removeMember deletes a groups_members row.
func (t *tx) removeMember(m GroupMember) { t.d.delMember(m) }

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
