package moodlesim

// enrol_manual: its web-service functions.

// manualContext is context_course::instance(IGNORE_MISSING) + validate_context().
func (c *ctx) manualContext(courseID int64) *wsError {
	if _, ok := c.d().Courses[courseID]; !ok {
		return invalidParam("Context does not exist")
	}
	return nil
}

func manualEnrolUsers(c *ctx, a args) (any, *wsError) {
	d := c.d()
	for _, it := range a.list("enrolments") {
		courseID, userID, roleID := it.int("courseid"), it.int("userid"), it.int("roleid")
		if err := c.manualContext(courseID); err != nil {
			return nil, err
		}
		if err := c.require("enrol/manual:enrol"); err != nil {
			return nil, err
		}
		u, ok := d.Users[userID]
		if !ok {
			return nil, c.s.missingByID("user", userID)
		}
		if u.Deleted {
			return nil, moodleErr("userdeleted", nil)
		}
		if !c.assignable(roleID) {
			return nil, moodleErr("wsusercannotassign", map[string]any{"roleid": roleID, "userid": userID, "courseid": courseID})
		}
		var inst *Instance
		if d.pluginEnabled("manual") {
			for _, e := range d.courseInstances(courseID) {
				if e.Enrol == "manual" && e.Status == InstanceEnabled {
					inst = &e
					break
				}
			}
		}
		if inst == nil {
			return nil, moodleErr("wsnoinstance", map[string]any{"courseid": courseID})
		}
		status := UserActive
		if it.int("suspend") != 0 {
			status = UserSuspended
		}
		c.t.enrolUser(*inst, userID, roleID, it.int("timestart"), it.int("timeend"), status)
	}
	return nil, nil
}

func manualUnenrolUsers(c *ctx, a args) (any, *wsError) {
	d := c.d()
	for _, it := range a.list("enrolments") {
		courseID, userID := it.int("courseid"), it.int("userid")
		if err := c.manualContext(courseID); err != nil {
			return nil, err
		}
		if err := c.require("enrol/manual:unenrol"); err != nil {
			return nil, err
		}
		var inst *Instance
		for _, e := range d.courseInstances(courseID) {
			if e.Enrol == "manual" {
				inst = &e
				break
			}
		}
		if inst == nil {
			return nil, moodleErr("wsnoinstance", map[string]any{"courseid": courseID})
		}
		u, ok := d.Users[userID]
		if !ok {
			return nil, c.s.missingByID("user", userID)
		}
		if u.Deleted {
			return nil, moodleErr("userdeleted", nil)
		}
		c.t.unenrolUser(*inst, userID)
	}
	return nil, nil
}
