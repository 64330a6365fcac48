package moodlesim

// local_enrolctl_set_enrolments and local_enrolctl_unenrol_users, one item at a time
// so local_enrolctl_write runs the same code.

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
