package apply

import (
	"context"
	"fmt"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/state"
)

// preconditionError says enrolctl could not build a write: an id it needs is missing
// (a group or method an earlier failure left uncreated, a user deleted since the plan).
type preconditionError struct{ msg string }

func (e *preconditionError) Error() string { return e.msg }

func precondition(format string, args ...any) error {
	return &preconditionError{msg: fmt.Sprintf(format, args...)}
}

// sendFunc sends a built write.
type sendFunc func(ctx context.Context, c *moodle.Client) (moodle.WriteResult, error)

// build turns changes of one kind and action into write items. Changes whose item
// cannot be built are reported failed; sent[k] is the change of item k.
func (r *runner) build(idx []int) (send sendFunc, sent []int) {
	var items []moodle.WriteItem
	for _, i := range idx {
		c := r.plan.Changes[i]
		cr := r.courses[c.Course]
		it, err := r.item(cr, c)
		if err != nil {
			r.report(i, Failed, err)
			continue
		}
		items = append(items, it)
		sent = append(sent, i)
	}
	if len(items) == 0 {
		return nil, nil
	}
	// The changes of one stage are of one kind and action: one operation.
	return func(ctx context.Context, c *moodle.Client) (moodle.WriteResult, error) {
		return moodle.Write(ctx, c, items)
	}, sent
}

// item is the write item of one change.
func (r *runner) item(cr *courseRun, c diff.Change) (moodle.WriteItem, error) {
	id := cr.course.ID
	short := cr.course.Shortname
	switch {
	case c.Kind == diff.KindGroup && c.Action == diff.Create && c.Group != nil:
		return moodle.CreateGroup{CourseID: id, Name: c.Group.Name}, nil
	case c.Kind == diff.KindMethod && c.Action == diff.Create && c.Method != nil:
		return r.newInstance(cr, *c.Method)
	case c.Kind == diff.KindMethod && c.Action == diff.Update && c.Method != nil:
		return r.instanceUpdate(cr, *c.Method)
	case c.Kind == diff.KindMethod && c.Action == diff.Delete && c.Method != nil:
		mid, err := cr.methodID(c.Method.Key())
		return moodle.DeleteInstance{CourseID: id, ID: mid}, err
	case c.Kind == diff.KindEnrolment && (c.Action == diff.Create || c.Action == diff.Update) && c.Enrolment != nil:
		return r.enrolmentState(cr, *c.Enrolment)
	case c.Kind == diff.KindEnrolment && c.Action == diff.Delete && c.Enrolment != nil:
		inst, err := cr.methodID(c.Enrolment.Method)
		if err != nil {
			return nil, err
		}
		uid, err := r.userID(short, c.Enrolment.Username)
		return moodle.UnenrolUser{CourseID: id, InstanceID: inst, UserID: uid}, err
	case c.Kind == diff.KindMember && (c.Action == diff.Create || c.Action == diff.Delete) && c.Member != nil:
		gid, ok := cr.groupIDs[c.GroupName]
		if !ok || gid == 0 {
			return nil, precondition("course %s: group %q does not exist", short, c.GroupName)
		}
		uid, err := r.userID(short, c.Member.Username)
		if c.Action == diff.Create {
			return moodle.AddMember{CourseID: id, GroupID: gid, UserID: uid}, err
		}
		return moodle.RemoveMember{CourseID: id, GroupID: gid, UserID: uid}, err
	}
	return nil, precondition("course %s: enrolctl cannot %s a %s (%s)", short, c.Action, c.Kind, c.Address)
}

func (cr *courseRun) methodID(key string) (int64, error) {
	if id, ok := cr.methodIDs[key]; ok && id != 0 {
		return id, nil
	}
	return 0, precondition("course %s: method %s does not exist", cr.course.Shortname, key)
}

func (r *runner) userID(course, username string) (int64, error) {
	if id, ok := r.dir.Users[username]; ok {
		return id, nil
	}
	return 0, precondition("course %s: user %s does not exist on the site", course, username)
}

func (r *runner) roleID(course, shortname string) (int64, error) {
	if shortname == "" {
		return 0, nil
	}
	if id, ok := r.dir.Roles[shortname]; ok {
		return id, nil
	}
	return 0, precondition("course %s: role %s does not exist on the site", course, shortname)
}

func (cr *courseRun) groupID(name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	if id, ok := cr.groupIDs[name]; ok && id != 0 {
		return id, nil
	}
	return 0, precondition("course %s: group %q does not exist", cr.course.Shortname, name)
}

// newInstance is the instance of a method, every field of its kind given.
func (r *runner) newInstance(cr *courseRun, m state.Method) (moodle.AddInstance, error) {
	k, _ := state.KindOf(m.Type)
	it := moodle.AddInstance{CourseID: cr.course.ID, Enrol: string(m.Type), Disabled: !m.Enabled}
	for _, a := range k.Fields {
		if err := r.setAttr(cr, &it, m, a); err != nil {
			return it, err
		}
	}
	return it, nil
}

// instanceUpdate sets the settings of the method's kind on its live instance; what
// it does not send Moodle keeps.
func (r *runner) instanceUpdate(cr *courseRun, m state.Method) (moodle.UpdateInstance, error) {
	id, err := cr.methodID(m.Key())
	if err != nil {
		return moodle.UpdateInstance{}, err
	}
	k, _ := state.KindOf(m.Type)
	var all moodle.AddInstance
	for _, a := range k.Settings {
		if err := r.setAttr(cr, &all, m, a); err != nil {
			return moodle.UpdateInstance{}, err
		}
	}
	it := moodle.UpdateInstance{CourseID: cr.course.ID, ID: id, Disabled: &all.Disabled}
	if k.Has(state.AttrRole) {
		it.RoleID = &all.RoleID
	}
	if k.Has(state.AttrMaxUsers) {
		it.MaxEnrolled = &all.MaxEnrolled
	}
	if k.Has(state.AttrGroup) {
		it.GroupID = &all.GroupID
	}
	return it, nil
}

// setAttr writes one attribute of m into the instance, with the site's id for what it names.
func (r *runner) setAttr(cr *courseRun, it *moodle.AddInstance, m state.Method, a state.Attr) error {
	short := cr.course.Shortname
	var err error
	switch a {
	case state.AttrName:
		it.Name = m.Name
	case state.AttrEnabled:
		it.Disabled = !m.Enabled
	case state.AttrMaxUsers:
		it.MaxEnrolled = m.MaxUsers
	case state.AttrRole:
		it.RoleID, err = r.roleID(short, m.Role)
	case state.AttrGroup:
		it.GroupID, err = cr.groupID(m.Group)
	case state.AttrCohort:
		co, ok := r.dir.Cohorts[m.Cohort]
		if !ok {
			return precondition("course %s: cohort %s does not exist on the site", short, m.Cohort)
		}
		it.CohortID = co.ID
	case state.AttrCourse:
		id, ok := r.dir.Courses[m.Course]
		if !ok {
			return precondition("course %s: linked course %s does not exist on the site", short, m.Course)
		}
		it.LinkedCourseID = id
	}
	return err
}

func (r *runner) enrolmentState(cr *courseRun, e state.Enrolment) (moodle.SetEnrolment, error) {
	inst, err := cr.methodID(e.Method)
	if err != nil {
		return moodle.SetEnrolment{}, err
	}
	uid, err := r.userID(cr.course.Shortname, e.Username)
	if err != nil {
		return moodle.SetEnrolment{}, err
	}
	var role int64
	if len(e.Roles) > 0 {
		if role, err = r.roleID(cr.course.Shortname, e.Roles[0]); err != nil {
			return moodle.SetEnrolment{}, err
		}
	}
	return moodle.SetEnrolment{CourseID: cr.course.ID, InstanceID: inst, UserID: uid, RoleID: role,
		TimeStart: e.Start, TimeEnd: e.End, Suspended: e.Suspended}, nil
}
