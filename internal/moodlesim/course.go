package moodlesim

import "strings"

// core_course: categories and courses (fixture functions).

func createCategories(c *ctx, a args) (any, *wsError) {
	d := c.d()
	if err := c.require("moodle/category:manage"); err != nil {
		return nil, err
	}
	type created struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	out := make([]created, 0)
	for _, it := range a.list("categories") {
		parent := it.int("parent")
		if _, ok := d.Categories[parent]; parent != 0 && !ok {
			return nil, c.s.missingByID("course_categories", parent)
		}
		name := strings.TrimSpace(it.str("name"))
		if name == "" {
			return nil, &wsError{Exception: exMoodle, ErrorCode: "categorynamerequired", Message: "The category name is required"}
		}
		idnumber := it.str("idnumber")
		if idnumber != "" {
			for _, cat := range d.Categories {
				if cat.IDNumber == idnumber {
					return nil, moodleErr("categoryidnumbertaken", nil)
				}
			}
		}
		cat := Category{ID: d.next("course_categories"), Parent: parent, Name: name, IDNumber: idnumber}
		d.putCategory(cat)
		out = append(out, created{cat.ID, name})
	}
	return out, nil
}

func createCourses(c *ctx, a args) (any, *wsError) {
	d := c.d()
	type created struct {
		ID        int64  `json:"id"`
		Shortname string `json:"shortname"`
	}
	out := make([]created, 0)
	for _, it := range a.list("courses") {
		cat := it.int("categoryid")
		if _, ok := d.Categories[cat]; !ok {
			return nil, c.s.missingByID("course_categories", cat)
		}
		if err := c.require("moodle/course:create"); err != nil {
			return nil, err
		}
		shortname := it.str("shortname")
		if _, ok := d.courseByShortname(shortname); ok {
			return nil, moodleErr("shortnametaken", shortname)
		}
		idnumber := it.str("idnumber")
		if idnumber != "" {
			for _, co := range d.Courses {
				if co.IDNumber == idnumber {
					return nil, moodleErr("courseidnumbertaken", idnumber)
				}
			}
		}
		visible := true
		if it.has("visible") {
			visible = it.int("visible") != 0
		}
		co := Course{ID: d.next("course"), Shortname: shortname, Fullname: it.str("fullname"), IDNumber: idnumber, Category: cat, Visible: visible}
		d.putCourse(co)
		c.t.addDefaultInstances(co.ID)
		out = append(out, created{co.ID, shortname})
	}
	return out, nil
}

// addDefaultInstances is enrol_course_updated() for a new course: manual, guest and
// self (defaultenrol=1) get their default instance, in the enabled-plugins order.
func (t *tx) addDefaultInstances(courseID int64) {
	for _, p := range t.d.Config.EnabledPlugins {
		switch p {
		case "manual":
			t.addInstance(Instance{Enrol: "manual", CourseID: courseID, RoleID: 5, CustomInt1: 0})
		case "guest":
			t.addInstance(Instance{Enrol: "guest", CourseID: courseID, Status: InstanceDisabled})
		case "self":
			t.addInstance(Instance{Enrol: "self", CourseID: courseID, Status: InstanceDisabled, RoleID: 5, CustomInt6: 1})
		}
	}
}
