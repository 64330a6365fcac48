package moodlesim

import "slices"

// local_enrolctl_add_instances, local_enrolctl_update_instances and
// local_enrolctl_delete_instances, one item at a time so local_enrolctl_write runs
// the same code.

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
