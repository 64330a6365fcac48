package moodle

import (
	"fmt"
	"io"
)

// courseRows decodes local_enrolctl_get_course_rows (plugin 2026113004): every role and
// user of the answer once, then each course as positional rows (docs/contract.md).
// Each course is rebuilt into the CourseState get_course_state answers, names filled
// in from the two tables, and handed to fn as soon as it is read; the values are read
// one by one by rowReader, a scanner of this one shape of JSON (no reflection, no
// tokens), and the strings that repeat (usernames, roles, components, methods) are
// shared rather than copied per row.
type courseRows struct {
	// next returns the CourseState to fill for the next course.
	next func() *CourseState
	fn   func(cs *CourseState) error
	// lite: the users' names, e-mail addresses and idnumbers are checked, not kept
	// (a plan needs none of them): four strings fewer a user.
	lite bool
}

// rowUser is one user of the answer's users table.
type rowUser struct {
	username, firstname, lastname, email, idnumber string
	suspended                                      int
}

func (courseRows) opens() byte { return '{' }

func (c courseRows) decodeStream(in io.Reader) error {
	r := newRowReader(in)
	roles := map[int64]string{}
	var users map[int64]*rowUser
	r.want('{')
	seen := map[string]bool{}
	for r.err == nil && !r.end('}') {
		key := r.str()
		if seen[key] {
			r.fail("at byte %d: duplicate name %q in the answer", r.offset(), key)
		}
		seen[key] = true
		r.colon()
		switch key {
		case "roles":
			r.rows(func() {
				id := r.int()
				roles[id] = r.str()
			})
		case "users":
			// Read into a list first: the map is then made at its size, not grown
			// (and rehashed) a row at a time through thousands of users, and holds
			// pointers into the list, not 88-byte copies to move at every look-up.
			type idUser struct {
				id int64
				u  rowUser
			}
			var list []idUser
			r.rows(func() {
				id, u := r.int(), rowUser{username: r.str()}
				if c.lite {
					for range 4 {
						r.raw()
					}
				} else {
					u.firstname, u.lastname, u.email, u.idnumber = r.text(), r.text(), r.text(), r.text()
				}
				u.suspended = int(r.int())
				list = append(list, idUser{id, u})
			})
			users = make(map[int64]*rowUser, len(list))
			for i := range list {
				users[list[i].id] = &list[i].u
			}
		case "courses":
			if users == nil {
				return fmt.Errorf("courses before users in the answer")
			}
			r.rows(func() {
				cs := c.next()
				r.course(cs, roles, users)
				if r.err == nil {
					r.err = c.fn(cs)
				}
			})
		default:
			// A later plugin may add tables: what this client does not know, it skips.
			r.skip(0)
		}
	}
	r.want('}')
	r.trailing()
	return r.err
}

// course reads one course row into cs.
func (r *rowReader) course(cs *CourseState, roles map[int64]string, users map[int64]*rowUser) {
	cs.CourseID = r.int()
	cs.Shortname = r.text()
	r.rows(func() { cs.Instances = append(cs.Instances, r.instance(roles)) })
	r.rows(func() {
		ue := UserEnrolment{ID: r.int(), InstanceID: r.int(), UserID: r.int(), Status: int(r.int()),
			TimeStart: r.int(), TimeEnd: r.int()}
		ue.Username = r.user(cs, users, ue.UserID).username
		cs.Enrolments = append(cs.Enrolments, ue)
	})
	r.rows(func() {
		ra := RoleAssignment{UserID: r.int(), RoleID: r.int(), Component: r.str(), ItemID: r.int()}
		name, ok := roles[ra.RoleID]
		if !ok {
			r.fail("course %d: role %d is not in the answer's roles", cs.CourseID, ra.RoleID)
		}
		ra.RoleShortname = name
		cs.Roles = append(cs.Roles, ra)
	})
	r.rows(func() {
		cs.Groups = append(cs.Groups, GroupInfo{ID: r.int(), Name: r.text(), IDNumber: r.text()})
	})
	r.rows(func() {
		gm := GroupMember{GroupID: r.int(), UserID: r.int(), Component: r.str(), ItemID: r.int()}
		gm.Username = r.user(cs, users, gm.UserID).username
		cs.Members = append(cs.Members, gm)
	})
	r.rows(func() {
		id, access := r.int(), r.int()
		u := r.user(cs, users, id)
		cs.Users = append(cs.Users, CourseUser{ID: id, Username: u.username, Firstname: u.firstname, Lastname: u.lastname,
			Email: u.email, IDNumber: u.idnumber, LastCourseAccess: access, Suspended: u.suspended})
	})
	// Empty lists, not nil ones, as get_course_state's "[]" decodes.
	cs.Instances, cs.Enrolments, cs.Roles = nonNil(cs.Instances), nonNil(cs.Enrolments), nonNil(cs.Roles)
	cs.Groups, cs.Members, cs.Users = nonNil(cs.Groups), nonNil(cs.Members), nonNil(cs.Users)
}

// user is the answer's user id, which a course's row names; a row naming one the
// answer does not hold fails the read.
func (r *rowReader) user(cs *CourseState, users map[int64]*rowUser, id int64) *rowUser {
	u, ok := users[id]
	if !ok {
		r.fail("course %d: user %d is not in the answer's users", cs.CourseID, id)
		return &rowUser{}
	}
	return u
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
