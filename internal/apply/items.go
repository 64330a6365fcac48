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

func sender[T moodle.WriteItem](items []T) sendFunc {
	return func(ctx context.Context, c *moodle.Client) (moodle.WriteResult, error) {
		return moodle.Write(ctx, c, items)
	}
}

// build turns changes of one kind and action into write items. Changes whose item
// cannot be built are reported failed; sent[k] is the change of item k.
func (r *runner) build(idx []int) (send sendFunc, sent []int) {
	first := r.plan.Changes[idx[0]]
	var items []any
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
	switch items[0].(type) {
	case moodle.CreateGroup:
		return sender(typed[moodle.CreateGroup](items)), sent
	case moodle.AddInstance:
		return sender(typed[moodle.AddInstance](items)), sent
	case moodle.UpdateInstance:
		return sender(typed[moodle.UpdateInstance](items)), sent
	case moodle.DeleteInstance:
		return sender(typed[moodle.DeleteInstance](items)), sent
	case moodle.SetEnrolment:
		return sender(typed[moodle.SetEnrolment](items)), sent
	case moodle.UnenrolUser:
		return sender(typed[moodle.UnenrolUser](items)), sent
	case moodle.AddMember:
		return sender(typed[moodle.AddMember](items)), sent
	case moodle.RemoveMember:
		return sender(typed[moodle.RemoveMember](items)), sent
	}
	panic(fmt.Sprintf("apply: no write for %s %s", first.Action, first.Kind)) // item never returns another type
}

func typed[T any](items []any) []T {
	out := make([]T, len(items))
	for i, it := range items {
		out[i] = it.(T)
	}
	return out
}

// item is the write item of one change.
func (r *runner) item(cr *courseRun, c diff.Change) (any, error) {
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

func (r *runner) newInstance(cr *courseRun, m state.Method) (moodle.AddInstance, error) {
	short := cr.course.Shortname
	it := moodle.AddInstance{CourseID: cr.course.ID, Enrol: string(m.Type), Disabled: !m.Enabled}
	var err error
	switch m.Type {
	case state.Self:
		it.Name, it.MaxEnrolled = m.Name, m.MaxUsers
		it.RoleID, err = r.roleID(short, m.Role)
	case state.Cohort:
		co, ok := r.dir.Cohorts[m.Cohort]
		if !ok {
			return it, precondition("course %s: cohort %s does not exist on the site", short, m.Cohort)
		}
		it.CohortID = co.ID
		if it.RoleID, err = r.roleID(short, m.Role); err == nil {
			it.GroupID, err = cr.groupID(m.Group)
		}
	case state.Meta:
		id, ok := r.dir.Courses[m.Course]
		if !ok {
			return it, precondition("course %s: linked course %s does not exist on the site", short, m.Course)
		}
		it.LinkedCourseID = id
		it.GroupID, err = cr.groupID(m.Group)
	}
	return it, err
}

func (r *runner) instanceUpdate(cr *courseRun, m state.Method) (moodle.UpdateInstance, error) {
	id, err := cr.methodID(m.Key())
	if err != nil {
		return moodle.UpdateInstance{}, err
	}
	disabled := !m.Enabled
	it := moodle.UpdateInstance{CourseID: cr.course.ID, ID: id, Disabled: &disabled}
	switch m.Type {
	case state.Self:
		role, err := r.roleID(cr.course.Shortname, m.Role)
		if err != nil {
			return it, err
		}
		maxUsers := m.MaxUsers
		it.RoleID, it.MaxEnrolled = &role, &maxUsers
	case state.Cohort, state.Meta:
		gid, err := cr.groupID(m.Group)
		if err != nil {
			return it, err
		}
		it.GroupID = &gid
	}
	return it, nil
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
