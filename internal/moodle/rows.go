package moodle

import (
	"bytes"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// courseRows decodes local_enrolctl_get_course_rows (plugin 2026113004): every role and
// user of the answer once, then each course as positional rows (docs/contract.md).
// Each course is rebuilt into the CourseState get_course_state answers, names filled
// in from the two tables, and handed to fn as soon as it is read; the tokens are read
// one by one, without reflection, and the strings that repeat (usernames, roles,
// components, methods) are shared rather than copied per row.
type courseRows struct {
	// next returns the CourseState to fill for the next course.
	next func() *CourseState
	fn   func(cs *CourseState) error
}

// rowUser is one user of the answer's users table.
type rowUser struct {
	username, firstname, lastname, email, idnumber string
	suspended                                      int
}

func (courseRows) opens() byte { return '{' }

func (c courseRows) decodeStream(in io.Reader) error {
	dec := jsontext.NewDecoder(in)
	r := &rowReader{dec: dec, intern: map[string]string{"": ""}}
	roles := map[int64]string{}
	var users map[int64]rowUser
	r.want('{')
	for r.err == nil && dec.PeekKind() == '"' {
		switch key := r.str(); key {
		case "roles":
			r.rows(func() {
				id := r.int()
				roles[id] = r.str()
			})
		case "users":
			// Read into a list first: the map is then made at its size, not grown
			// (and rehashed) a row at a time through thousands of users.
			type idUser struct {
				id int64
				u  rowUser
			}
			var list []idUser
			r.rows(func() {
				id := r.int()
				list = append(list, idUser{id, rowUser{username: r.str(), firstname: r.text(), lastname: r.text(), email: r.text(),
					idnumber: r.text(), suspended: int(r.int())}})
			})
			users = make(map[int64]rowUser, len(list))
			for _, iu := range list {
				users[iu.id] = iu.u
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
			if r.err == nil {
				r.err = dec.SkipValue()
			}
		}
	}
	r.want('}')
	return r.err
}

// course reads one course row into cs.
func (r *rowReader) course(cs *CourseState, roles map[int64]string, users map[int64]rowUser) {
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
func (r *rowReader) user(cs *CourseState, users map[int64]rowUser, id int64) rowUser {
	u, ok := users[id]
	if !ok {
		r.fail("course %d: user %d is not in the answer's users", cs.CourseID, id)
	}
	return u
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// rowReader reads positional rows token by token. The first error sticks: every
// later read returns a zero value, and err says what went wrong.
type rowReader struct {
	dec    *jsontext.Decoder
	err    error
	intern map[string]string
}

// want reads a token of the given kind ('[', ']', '{' or '}').
func (r *rowReader) want(k jsontext.Kind) {
	if r.err != nil {
		return
	}
	t, err := r.dec.ReadToken()
	if err != nil {
		r.err = err
	} else if t.Kind() != k {
		r.err = fmt.Errorf("at %s: want %v, got %v", r.dec.StackPointer(), k, t.Kind())
	}
}

// fail records an error unless one is already recorded.
func (r *rowReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// rows reads a list of rows, each a list whose items row reads.
func (r *rowReader) rows(row func()) {
	r.want('[')
	for r.err == nil && r.dec.PeekKind() != ']' {
		r.want('[')
		row()
		r.want(']')
	}
	r.want(']')
}

func (r *rowReader) int() int64 {
	if r.err != nil {
		return 0
	}
	t, err := r.dec.ReadToken()
	if err == nil && t.Kind() != '0' {
		err = fmt.Errorf("at %s: want a number, got %v", r.dec.StackPointer(), t.Kind())
	}
	if err != nil {
		r.err = err
		return 0
	}
	n, err := t.Int()
	if err != nil {
		r.err = fmt.Errorf("at %s: %v", r.dec.StackPointer(), err)
	}
	return n
}

// raw reads a string's bytes, unescaped; they are valid until the next read.
func (r *rowReader) raw() []byte {
	if r.err != nil {
		return nil
	}
	v, err := r.dec.ReadValue()
	if err == nil && v.Kind() != '"' {
		err = fmt.Errorf("at %s: want a string, got %v", r.dec.StackPointer(), v.Kind())
	}
	if err != nil {
		r.err = err
		return nil
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return v[1 : len(v)-1]
	}
	out, err := jsontext.AppendUnquote(nil, v)
	if err != nil {
		r.err = err
	}
	return out
}

// str reads a string that repeats (a username, role, component, method): one copy
// per answer.
func (r *rowReader) str() string {
	b := r.raw()
	if s, ok := r.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	r.intern[s] = s
	return s
}

// text reads a string that seldom repeats (names, e-mail addresses).
func (r *rowReader) text() string { return string(r.raw()) }
