package moodle

import (
	"fmt"
	"io"
	"math"
	"slices"
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
	// fn takes each course, and, read lite, the answer's users table (nil otherwise).
	fn func(cs *CourseState, answer *rowUsers) error
	// lite: the users' names, e-mail addresses and idnumbers are checked, not kept
	// (a plan needs none of them): four strings fewer a user.
	lite bool
}

// rowUser is one user of the answer's users table, as a plan needs it.
type rowUser struct {
	username  string
	suspended int
}

// rowNames are the rest of a user of the users table: kept unless lite.
type rowNames struct {
	firstname, lastname, email, idnumber string
}

// rowUsers is the answer's users table: tens of thousands of users an answer. Users
// are kept in lists, by place, and found by id through a table of places indexed by
// id when the ids are dense (Moodle's are numbered from 2 up), else a map, neither
// holding a pointer for the collector to follow; lite, a user takes 32 bytes rather
// than 96.
type rowUsers struct {
	byID  []int32 // place + 1 by id (0: none), when dense; else nil
	at    map[int64]int32
	ids   []int64 // by place
	list  []rowUser
	names []rowNames // nil when lite
	// learnt: observe has learnt these users (under its lock).
	learnt bool
}

// place is where the user of id is in the lists.
func (u *rowUsers) place(id int64) (int32, bool) {
	if u.byID == nil {
		i, ok := u.at[id]
		return i, ok
	}
	if id < 0 || id >= int64(len(u.byID)) || u.byID[id] == 0 {
		return 0, false
	}
	return u.byID[id] - 1, true
}

func (courseRows) opens() byte { return '{' }

func (c courseRows) decodeStream(in io.Reader) error {
	r := newRowReader(in)
	roles := map[int64]string{}
	var users *rowUsers
	var links map[int64][]string // course id: the shortnames of the courses linking to it by meta
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
			users = r.users(c.lite)
		case "metalinks": // plugin 2.6.0 (2026120710): before the courses, which name them
			links = map[int64][]string{}
			r.rows(func() {
				id := r.int()
				links[id] = append(links[id], r.text())
			})
		case "courses":
			if users == nil {
				return fmt.Errorf("courses before users in the answer")
			}
			var answer *rowUsers
			if c.lite {
				answer = users
			}
			r.rows(func() {
				cs := c.next()
				r.course(cs, roles, users)
				cs.LinkedFrom = links[cs.CourseID]
				if r.err == nil {
					r.err = c.fn(cs, answer)
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

// users reads the answer's users table. The map is made once the table is read, at
// its size, not grown (and rehashed) a row at a time; of two rows with one id, the
// last counts.
func (r *rowReader) users(lite bool) *rowUsers {
	u := &rowUsers{}
	r.rows(func() {
		u.ids = append(u.ids, r.int())
		u.list = append(u.list, rowUser{username: r.str()})
		if lite {
			for range 4 {
				r.raw()
			}
		} else {
			u.names = append(u.names, rowNames{r.text(), r.text(), r.text(), r.text()})
		}
		u.list[len(u.list)-1].suspended = int(r.int())
	})
	ids := u.ids
	if len(ids) > math.MaxInt32 {
		r.fail("%d users in one answer", len(ids))
		return u
	}
	// Dense: ids from 0 up to a few times the users read (a table of 4 bytes an id).
	lo, hi := int64(0), int64(-1)
	if len(ids) > 0 {
		lo, hi = slices.Min(ids), slices.Max(ids)
	}
	if lo >= 0 && hi < 4*int64(len(ids))+1024 {
		u.byID = make([]int32, hi+1)
		for i, id := range ids {
			u.byID[id] = int32(i) + 1
		}
		return u
	}
	u.at = make(map[int64]int32, len(ids))
	for i, id := range ids {
		u.at[id] = int32(i)
	}
	return u
}

// course reads one course row into cs.
func (r *rowReader) course(cs *CourseState, roles map[int64]string, users *rowUsers) {
	cs.CourseID = r.int()
	cs.Shortname = r.text()
	r.rows(func() { cs.Instances = append(cs.Instances, r.instance(roles)) })
	r.rows(func() {
		ue := UserEnrolment{ID: r.int(), InstanceID: r.int(), UserID: r.int(), Status: int(r.int()),
			TimeStart: r.int(), TimeEnd: r.int()}
		u, _ := r.user(cs, users, ue.UserID)
		ue.Username = u.username
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
		u, _ := r.user(cs, users, gm.UserID)
		gm.Username = u.username
		cs.Members = append(cs.Members, gm)
	})
	r.rows(func() {
		id, access := r.int(), r.int()
		u, n := r.user(cs, users, id)
		cu := CourseUser{ID: id, Username: u.username, LastCourseAccess: access, Suspended: u.suspended}
		if n != nil {
			cu.Firstname, cu.Lastname, cu.Email, cu.IDNumber = n.firstname, n.lastname, n.email, n.idnumber
		}
		cs.Users = append(cs.Users, cu)
	})
	// Empty lists, not nil ones, as get_course_state's "[]" decodes.
	cs.Instances, cs.Enrolments, cs.Roles = nonNil(cs.Instances), nonNil(cs.Enrolments), nonNil(cs.Roles)
	cs.Groups, cs.Members, cs.Users = nonNil(cs.Groups), nonNil(cs.Members), nonNil(cs.Users)
}

// user is the answer's user id, which a course's row names, and its names unless
// lite; a row naming one the answer does not hold fails the read.
func (r *rowReader) user(cs *CourseState, users *rowUsers, id int64) (rowUser, *rowNames) {
	i, ok := users.place(id)
	if !ok {
		r.fail("course %d: user %d is not in the answer's users", cs.CourseID, id)
		return rowUser{}, nil
	}
	if users.names == nil {
		return users.list[i], nil
	}
	return users.list[i], &users.names[i]
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
