package moodlesim

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/enrolctl/enrolctl/internal/contract"
)

// local_enrolctl_get_course_rows (plugin 2026113004, docs/contract.md): the course
// states of get_course_state for up to 5,000 courses a call, as positional rows in
// one JSON string, every user and role named once per answer rather than per row.
//
// The rows are written straight from the tables' indexes, as the plugin's queries
// read them: no course state is built, each row costs one lookup of its table, and
// each user's account is read once per answer, not once per course and row (at
// 100,000 courses the tables hold millions of rows, and every lookup is a cache
// miss). TestCourseRowsAsStates checks the answer against the course states.

// maxCourseRows is how many courses one get_course_rows call takes.
const maxCourseRows = 5000

// getCourseRows answers get_course_rows: the same checks as get_course_state, in the
// same order, then the rows. The courses are named by id (courseids) or, since plugin
// 2.2.0, by shortname (shortnames): those the site lacks, or whose hiding the catalogue
// keeps from the user, are then left out.
func getCourseRows(c *ctx, a args) (any, *wsError) {
	// One of the two, as given (" " is given); JSON may have spaces around it.
	if (a.str("courseids") == "") == (a.str("shortnames") == "") {
		return nil, payloadErr("give courseids or shortnames, one of them")
	}
	idsText, namesText := strings.TrimSpace(a.str("courseids")), strings.TrimSpace(a.str("shortnames"))
	var ids []int64
	if a.str("shortnames") != "" {
		var raw []json.RawMessage
		names, ok := []string(nil), strings.HasPrefix(namesText, "[") && json.Unmarshal([]byte(namesText), &raw) == nil
		for _, r := range raw {
			var name string
			// Strings only, as PHP's is_string: null is no shortname.
			if !ok || !strings.HasPrefix(string(r), `"`) || json.Unmarshal(r, &name) != nil {
				ok = false
				break
			}
			names = append(names, name)
		}
		if !ok {
			return nil, payloadErr("shortnames is not a JSON array of course shortnames")
		}
		if len(names) < 1 || len(names) > maxCourseRows {
			return nil, payloadErr("%d course shortnames, from 1 to %d per call", len(names), maxCourseRows)
		}
		ids = c.courseIDsByShortname(names)
	} else {
		var raw []json.RawMessage
		if !strings.HasPrefix(idsText, "[") || json.Unmarshal([]byte(idsText), &raw) != nil {
			return nil, payloadErr("courseids is not a JSON array of course ids")
		}
		ids = make([]int64, 0, len(raw))
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
	}
	if err := c.checkCourseStates(ids); err != nil {
		return nil, err
	}
	rows := c.d().courseRows(ids, !c.xml, c.s.pluginOf().Version >= contract.PluginMetaLinks)
	if c.xml { // the string's text is the JSON object
		return string(rows.head) + string(rows.body), nil
	}
	return rows, nil
}

// courseIDsByShortname are the ids of the courses named, in the order named, without
// those the site lacks or the catalogue hides from the user (course_reader::ids_by_shortname).
func (c *ctx) courseIDsByShortname(names []string) []int64 {
	d := c.d()
	hidden := c.has("moodle/course:viewhiddencourses")
	var ids []int64
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		if co, ok := d.courseByShortname(name); ok && co.ID != SiteCourseID && (co.Visible || hidden) {
			ids = append(ids, co.ID)
		}
	}
	return ids
}

// courseRowsJSON is get_course_rows's JSON object in two parts, head (roles and
// users) and body (courses), which phpJSON sends as one JSON string: written
// escaped for it (quoted), as json_encode escapes the string, its quotes, backslashes
// and slashes preceded by a backslash.
type courseRowsJSON struct {
	head, body []byte
	quoted     bool
}

// coursesWithRows is get_courses' answer with get_course_rows' (plugin 2.4.0): head's
// JSON object, then rows under "rows", last, as PHP's json_encode writes them.
type coursesWithRows struct {
	head any
	rows courseRowsJSON
}

// appendQuoted appends the answer as a JSON string. Its JSON is ASCII (appendPHPString
// escapes the rest), so quotes, backslashes and slashes are all there is to escape: a
// quoted answer was written so, and is copied as it is.
func (r courseRowsJSON) appendQuoted(b []byte) []byte {
	b = append(b, '"')
	for _, part := range [][]byte{r.head, r.body} {
		if r.quoted {
			b = append(b, part...)
			continue
		}
		b = appendEscaped(b, part)
	}
	return append(b, '"')
}

// quotedSize is about the size of the answer as a JSON string: exactly when quoted.
func (r courseRowsJSON) quotedSize() int {
	n := len(r.head) + len(r.body) + 2
	if !r.quoted {
		n += n / 4
	}
	return n
}

// appendEscaped appends s with its quotes, backslashes and slashes escaped.
func appendEscaped(b, s []byte) []byte {
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '"' && s[i] != '\\' && s[i] != '/' {
			i++
		}
		b = append(b, s[:i]...)
		if i < len(s) {
			b = append(b, '\\', s[i])
			i++
		}
		s = s[i:]
	}
	return b
}

// rowsReader holds one course's rows while they are sorted and written; its slices
// are reused from course to course.
type rowsReader struct {
	d *db
	// quoted: the rows are written escaped, as the JSON string that carries them
	// (courseRowsJSON); esc is the scratch of one string's escaping.
	quoted    bool
	esc       []byte
	instances []Instance
	ues       []UserEnrolment
	ras       []RoleAssignment
	groups    []Group
	members   []GroupMember
	users     []int64
	// all are the users of every course so far; missing those of them the site does
	// not hold (only a hand-edited file can make one), whose rows show id 0 as
	// get_course_state's do.
	all     []int64
	missing map[int64]bool
}

// courseRows writes the rows of the courses ids, in that order: {"roles", "users",
// "metalinks" (with metaLinks), "courses"}, so that a client streaming the courses
// already knows every name;
// quoted, escaped as the JSON string that carries them, which phpJSON then copies
// as it is rather than escaping them in a copy of its own.
func (d *db) courseRows(ids []int64, quoted, metaLinks bool) courseRowsJSON {
	r := &rowsReader{d: d, quoted: quoted}
	// About 3.5 KB a course on the generated sites: room for them all, not grown
	// (copied) on the way.
	body := r.appendCourses(make([]byte, 0, len(ids)*4<<10), ids)
	slices.Sort(r.all)
	r.all = slices.Compact(r.all)
	for _, id := range r.all {
		if _, ok := d.Users[id]; !ok {
			if r.missing == nil {
				r.missing = map[int64]bool{}
			}
			r.missing[id] = true
		}
	}
	if r.missing != nil { // written again, the missing users' rows with id 0
		body = r.appendCourses(body[:0], ids)
		slices.Sort(r.all)
		r.all = slices.Compact(r.all)
	}
	head := r.lit(make([]byte, 0, 64+len(r.all)<<7), `{"roles":[`)
	for i, role := range standardRoles {
		if i > 0 {
			head = append(head, ',')
		}
		head = appendInt(head, "[", role.ID)
		head = r.str(head, ",", role.Shortname)
		head = append(head, ']')
	}
	head = r.lit(head, `],"users":[`)
	n := 0
	if r.missing != nil { // the missing users are one row of the zero User, id 0, first
		head = r.lit(head, `[0,"","","","","",0]`)
		n++
	}
	for _, id := range r.all {
		if r.missing[id] {
			continue
		}
		if n > 0 {
			head = append(head, ',')
		}
		n++
		u := d.Users[id]
		head = appendInt(head, "[", u.ID)
		head = r.str(head, ",", u.Username)
		head = r.str(head, ",", u.Firstname)
		head = r.str(head, ",", u.Lastname)
		head = r.str(head, ",", u.Email)
		head = r.str(head, ",", u.IDNumber)
		suspended := int64(0)
		if u.Suspended {
			suspended = 1
		}
		head = appendInt(head, ",", suspended)
		head = append(head, ']')
	}
	head = r.lit(head, `]`)
	if metaLinks {
		head = r.appendMetaLinks(head, ids)
	}
	head = r.lit(head, `,"courses":[`)
	return courseRowsJSON{head: head, body: append(body, "]}"...), quoted: quoted}
}

// appendMetaLinks appends the metalinks table (plugin 2.6.0): for each course of ids,
// by id, the shortnames of the courses whose meta instance links to it, sorted, as
// course_reader::read reads them.
func (r *rowsReader) appendMetaLinks(b []byte, ids []int64) []byte {
	b = r.lit(b, `,"metalinks":[`)
	sorted := slices.Compact(slices.Sorted(slices.Values(ids)))
	n := 0
	for _, id := range sorted {
		var names []string
		for _, e := range r.d.linkedInstances("meta", id) {
			names = append(names, r.d.Courses[e.CourseID].Shortname)
		}
		slices.Sort(names)
		for _, name := range names {
			if n++; n > 1 {
				b = append(b, ',')
			}
			b = appendInt(b, "[", id)
			b = r.str(b, ",", name)
			b = append(b, ']')
		}
	}
	return r.lit(b, `]`)
}

// str appends key, then v as a JSON string, escaped if the rows are quoted.
func (r *rowsReader) str(b []byte, key, v string) []byte {
	if !r.quoted {
		return appendStr(b, key, v)
	}
	b = append(b, key...)
	if plainJSON(v) { // most are: written at once
		b = append(b, '\\', '"')
		b = append(b, v...)
		return append(b, '\\', '"')
	}
	r.esc = appendPHPString(r.esc[:0], v)
	return appendEscaped(b, r.esc)
}

// lit appends s, JSON written as it is, escaped if the rows are quoted.
func (r *rowsReader) lit(b []byte, s string) []byte {
	if !r.quoted {
		return append(b, s...)
	}
	return appendEscaped(b, []byte(s))
}

// plainJSON reports whether s is written in JSON as it is: printable ASCII but for
// the quote, the backslash and the slash, which json_encode escapes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '/' {
			return false
		}
	}
	return true
}

// appendCourses writes the courses' rows, comma-separated, and collects their users
// into r.all.
func (r *rowsReader) appendCourses(b []byte, ids []int64) []byte {
	r.all = r.all[:0]
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = r.appendCourse(b, id)
	}
	return b
}

// appendCourse writes one course's row: id, shortname, then its instances by
// sortorder, id; enrolments by instance, user; role assignments by user, role,
// component, item; groups by name, id; members by group, user; users by id with their
// last access to the course.
func (r *rowsReader) appendCourse(b []byte, id int64) []byte {
	d := r.d
	ix := &d.ix
	b = appendInt(b, "[", id)
	b = r.str(b, ",", d.Courses[id].Shortname)

	instIDs := ix.instByCourse[id] // by id
	r.instances = r.instances[:0]
	for _, iid := range instIDs {
		r.instances = append(r.instances, d.Instances[iid])
	}
	slices.SortFunc(r.instances, func(x, y Instance) int {
		return cmp.Or(cmp.Compare(x.SortOrder, y.SortOrder), cmpID(x.ID, y.ID))
	})
	b = append(b, ",["...)
	for i, e := range r.instances {
		if i > 0 {
			b = append(b, ',')
		}
		si := d.stateInstance(e)
		b = appendInt(b, "[", si.ID)
		b = r.str(b, ",", si.Enrol)
		b = appendInt(b, ",", int64(si.Status))
		b = r.str(b, ",", si.Name)
		b = appendInt(b, ",", int64(si.SortOrder))
		b = appendInt(b, ",", si.RoleID)
		b = appendInt(b, ",", si.CohortID)
		b = r.str(b, ",", si.CohortIDNumber)
		b = appendInt(b, ",", si.LinkedCourseID)
		b = r.str(b, ",", si.LinkedCourseShortname)
		b = appendInt(b, ",", si.GroupID)
		b = r.str(b, ",", si.GroupName)
		b = appendInt(b, ",", si.MaxEnrolled)
		b = appendInt(b, ",", si.EnrolPeriod)
		b = append(b, ']')
	}

	// Enrolments: instance by instance in id order, each sorted by user.
	r.users = r.users[:0]
	r.ues = r.ues[:0]
	for _, iid := range instIDs {
		from := len(r.ues)
		for _, ueID := range ix.ueByInst[iid] {
			r.ues = append(r.ues, d.UEs[ueID])
		}
		slices.SortFunc(r.ues[from:], func(x, y UserEnrolment) int { return cmpID(x.UserID, y.UserID) })
	}
	b = append(b, "],["...)
	for i, ue := range r.ues {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, "[", ue.ID)
		b = appendInt(b, ",", ue.EnrolID)
		b = appendInt(b, ",", ue.UserID)
		b = appendInt(b, ",", int64(ue.Status))
		b = appendInt(b, ",", ue.TimeStart)
		b = appendInt(b, ",", ue.TimeEnd)
		b = append(b, ']')
		r.users = append(r.users, ue.UserID)
	}

	r.ras = r.ras[:0]
	for _, raID := range ix.raByCourse[id] {
		r.ras = append(r.ras, d.RAs[raID])
	}
	slices.SortFunc(r.ras, func(x, y RoleAssignment) int {
		return cmp.Or(cmpID(x.UserID, y.UserID), cmpID(x.RoleID, y.RoleID), strings.Compare(x.Component, y.Component),
			cmpID(x.ItemID, y.ItemID))
	})
	b = append(b, "],["...)
	for i, ra := range r.ras {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, "[", ra.UserID)
		b = appendInt(b, ",", ra.RoleID)
		b = r.str(b, ",", ra.Component)
		b = appendInt(b, ",", ra.ItemID)
		b = append(b, ']')
		r.users = append(r.users, ra.UserID)
	}

	// Groups by name; members group by group in id order, each sorted by user.
	groupIDs := ix.groupsByCourse[id] // by id
	r.groups = r.groups[:0]
	r.members = r.members[:0]
	for _, gid := range groupIDs {
		r.groups = append(r.groups, d.Groups[gid])
		from := len(r.members)
		for _, mID := range ix.membersByGroup[gid] {
			r.members = append(r.members, d.Members[mID])
		}
		slices.SortFunc(r.members[from:], func(x, y GroupMember) int { return cmpID(x.UserID, y.UserID) })
	}
	slices.SortFunc(r.groups, func(x, y Group) int { return cmp.Or(strings.Compare(x.Name, y.Name), cmpID(x.ID, y.ID)) })
	b = append(b, "],["...)
	for i, g := range r.groups {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, "[", g.ID)
		b = r.str(b, ",", g.Name)
		b = r.str(b, ",", g.IDNumber)
		b = append(b, ']')
	}
	b = append(b, "],["...)
	for i, m := range r.members {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendInt(b, "[", m.GroupID)
		b = appendInt(b, ",", m.UserID)
		b = r.str(b, ",", m.Component)
		b = appendInt(b, ",", m.ItemID)
		b = append(b, ']')
		r.users = append(r.users, m.UserID)
	}

	slices.Sort(r.users)
	r.users = slices.Compact(r.users)
	lastAccess := d.LastAccess[id]
	b = append(b, "],["...)
	for i, uid := range r.users {
		if i > 0 {
			b = append(b, ',')
		}
		shown := uid
		if r.missing[uid] {
			shown = 0
		}
		b = appendInt(b, "[", shown)
		b = appendInt(b, ",", lastAccess[uid])
		b = append(b, ']')
	}
	r.all = append(r.all, r.users...)
	return append(b, "]]"...)
}
