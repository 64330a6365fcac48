package moodlesim

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// local_enrolctl_get_course_rows (plugin 2026113004, docs/contract.md): the course
// states of get_course_state for up to 5,000 courses a call, as positional rows in
// one JSON string, every user and role named once per answer rather than per row.

// maxCourseRows is how many courses one get_course_rows call takes.
const maxCourseRows = 5000

// getCourseRows answers get_course_rows: the same checks as get_course_state, in the
// same order, then the rows.
func getCourseRows(c *ctx, a args) (any, *wsError) {
	var raw []json.RawMessage
	text := strings.TrimSpace(a.str("courseids"))
	if !strings.HasPrefix(text, "[") || json.Unmarshal([]byte(text), &raw) != nil {
		return nil, payloadErr("courseids is not a JSON array of course ids")
	}
	ids := make([]int64, 0, len(raw))
	for _, r := range raw {
		id, err := strconv.ParseInt(string(r), 10, 64)
		if err != nil {
			return nil, payloadErr("courseids is not a JSON array of course ids")
		}
		ids = append(ids, id)
	}
	if len(ids) < 1 || len(ids) > maxCourseRows {
		return nil, payloadErr("%d course ids, from 1 to %d per call", len(ids), maxCourseRows)
	}
	d := c.d()
	if err := c.checkCourseStates(ids); err != nil {
		return nil, err
	}
	states := make([]courseState, len(ids))
	for i, id := range ids {
		states[i] = d.courseState(id)
	}
	return string(appendCourseRows(nil, states)), nil
}

// appendCourseRows writes get_course_rows's JSON: {"roles", "users", "courses"}, in
// that order, so that a client streaming the courses already knows every name.
func appendCourseRows(b []byte, states []courseState) []byte {
	b = append(b, `{"roles":[`...)
	for i, r := range standardRoles {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, "[", r.ID)
		b = appendStr(b, ",", r.Shortname)
		b = append(b, ']')
	}
	// Every user of the answer once, by id.
	var users []stateUser
	for _, cs := range states {
		users = append(users, cs.Users...)
	}
	slices.SortFunc(users, func(a, b stateUser) int { return cmp.Compare(a.ID, b.ID) })
	users = slices.CompactFunc(users, func(a, b stateUser) bool { return a.ID == b.ID })
	b = append(b, `],"users":[`...)
	for i, u := range users {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, "[", u.ID)
		b = appendStr(b, ",", u.Username)
		b = appendStr(b, ",", u.Firstname)
		b = appendStr(b, ",", u.Lastname)
		b = appendStr(b, ",", u.Email)
		b = appendStr(b, ",", u.IDNumber)
		b = appendInt(b, ",", int64(u.Suspended))
		b = append(b, ']')
	}
	b = append(b, `],"courses":[`...)
	for i, cs := range states {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, "[", cs.CourseID)
		b = appendStr(b, ",", cs.Shortname)
		b = appendRows(b, cs.Instances, func(b []byte, e stateInstance) []byte {
			b = appendInt(b, "[", e.ID)
			b = appendStr(b, ",", e.Enrol)
			b = appendInt(b, ",", int64(e.Status))
			b = appendStr(b, ",", e.Name)
			b = appendInt(b, ",", int64(e.SortOrder))
			b = appendInt(b, ",", e.RoleID)
			b = appendInt(b, ",", e.CohortID)
			b = appendStr(b, ",", e.CohortIDNumber)
			b = appendInt(b, ",", e.LinkedCourseID)
			b = appendStr(b, ",", e.LinkedCourseShortname)
			b = appendInt(b, ",", e.GroupID)
			b = appendStr(b, ",", e.GroupName)
			b = appendInt(b, ",", e.MaxEnrolled)
			b = appendInt(b, ",", e.EnrolPeriod)
			return append(b, ']')
		})
		b = appendRows(b, cs.Enrolments, func(b []byte, e stateEnrolment) []byte {
			b = appendInt(b, "[", e.ID)
			b = appendInt(b, ",", e.InstanceID)
			b = appendInt(b, ",", e.UserID)
			b = appendInt(b, ",", int64(e.Status))
			b = appendInt(b, ",", e.TimeStart)
			b = appendInt(b, ",", e.TimeEnd)
			return append(b, ']')
		})
		b = appendRows(b, cs.Roles, func(b []byte, r stateRole) []byte {
			b = appendInt(b, "[", r.UserID)
			b = appendInt(b, ",", r.RoleID)
			b = appendStr(b, ",", r.Component)
			b = appendInt(b, ",", r.ItemID)
			return append(b, ']')
		})
		b = appendRows(b, cs.Groups, func(b []byte, g stateGroup) []byte {
			b = appendInt(b, "[", g.ID)
			b = appendStr(b, ",", g.Name)
			b = appendStr(b, ",", g.IDNumber)
			return append(b, ']')
		})
		b = appendRows(b, cs.Members, func(b []byte, m stateMember) []byte {
			b = appendInt(b, "[", m.GroupID)
			b = appendInt(b, ",", m.UserID)
			b = appendStr(b, ",", m.Component)
			b = appendInt(b, ",", m.ItemID)
			return append(b, ']')
		})
		b = appendRows(b, cs.Users, func(b []byte, u stateUser) []byte {
			b = appendInt(b, "[", u.ID)
			b = appendInt(b, ",", u.LastCourseAccess)
			return append(b, ']')
		})
		b = append(b, ']')
	}
	return append(b, "]}"...)
}

// appendRows writes ",[row,row,...]".
func appendRows[T any](b []byte, rows []T, one func([]byte, T) []byte) []byte {
	b = append(b, ",["...)
	for i, r := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = one(b, r)
	}
	return append(b, ']')
}
