package moodle

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/go-json-experiment/json/jsontext"
)

// rowsAnswer writes a random get_course_rows answer (docs/contract.md): its roles,
// users and courses tables, with every row kind, strings that need escapes or are
// written with them, and white space between any two tokens.
func rowsAnswer(r *rand.Rand) []byte {
	var b bytes.Buffer
	ws := func() {
		if r.IntN(4) == 0 {
			b.WriteString([]string{" ", "\n", "\t ", "\r\n  "}[r.IntN(4)])
		}
	}
	str := func() {
		s := []string{"", "ann", "Émile", `q"uote`, `back\slash`, "a/b", "日本", "tab\t", "x<y>&z", "student", "enrol_cohort", "manual"}[r.IntN(12)]
		if r.IntN(3) == 0 { // as PHP writes it: every non-ASCII character escaped, slashes too
			b.WriteByte('"')
			for _, c := range s {
				switch {
				case c == '/':
					b.WriteString(`\/`)
				case c >= 0x80:
					fmt.Fprintf(&b, `\u%04x`, c)
				default:
					q := strconv.Quote(string(c))
					b.WriteString(q[1 : len(q)-1])
				}
			}
			b.WriteByte('"')
			return
		}
		q, _ := jsontext.AppendQuote(nil, s)
		b.Write(q)
	}
	num := func(n int) { b.WriteString(strconv.Itoa([]int{0, 1, n, -1, 1 << 40}[r.IntN(5)])) }
	list := func(n int, item func()) {
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				ws()
				b.WriteByte(',')
			}
			ws()
			item()
		}
		ws()
		b.WriteByte(']')
	}
	// row writes a list of the fields' values.
	row := func(fields ...func()) func() {
		return func() {
			i := 0
			list(len(fields), func() { fields[i](); i++ })
		}
	}
	n := func(k int) func() { return func() { num(k) } }
	id := func() { b.WriteString(strconv.Itoa(1 + r.IntN(4))) } // a role or user the tables hold
	rows := func(most int, fields ...func()) func() { return func() { list(r.IntN(most+1), row(fields...)) } }
	b.WriteByte('{')
	ws()
	b.WriteString(`"roles":[[1,"student"],[2,"teacher"],[3,"enrol_cohort"],[4,"manual"]]`)
	ws()
	b.WriteString(`,"users":[[1,"u1","","","","",0],[2,"u2","","","","",0],[3,"u3","","","","",1],[4,"u4","","","","",0]`)
	for range r.IntN(3) { // more rows of the same users: the last one counts
		b.WriteByte(',')
		row(id, str, str, str, str, str, n(1))()
	}
	b.WriteByte(']')
	if r.IntN(3) == 0 {
		b.WriteString(`,"later":{"a":[1,2.5e3,-0.5,true,false,null,{"b":"c"}],"d":{}}`)
	}
	if r.IntN(2) == 0 { // the courses linking to each by meta (plugin 2.6.0)
		ws()
		b.WriteString(`,"metalinks":`)
		list(r.IntN(4), row(n(7), str))
	}
	ws()
	b.WriteString(`,"courses":`)
	list(r.IntN(4), row(n(7), str,
		rows(2, n(5), str, n(1), str, n(2), id, n(3), str, n(4), str, n(6), str, n(7), n(8)),
		rows(3, n(1), n(2), id, n(1), n(5), n(6)),
		rows(2, id, id, str, n(2)),
		rows(2, n(5), str, str),
		rows(2, n(5), id, str, n(2)),
		rows(2, id, n(9))))
	ws()
	b.WriteByte('}')
	ws()
	return b.Bytes()
}

// decodeRows decodes an answer with rowReader or the reference (jsontext's tokens),
// reading it through in.
func decodeRows(data []byte, reference bool, wrap func(io.Reader) io.Reader) ([]CourseState, error) {
	var out []CourseState
	next := func() *CourseState { out = append(out, CourseState{}); return &out[len(out)-1] }
	if reference {
		return out, jsonCourseRows{next: next, fn: func(*CourseState) error { return nil }}.decodeStream(wrap(bytes.NewReader(data)))
	}
	return out, courseRows{next: next, fn: answerHoldsCourseUsers, lite: lite}.decodeStream(wrap(bytes.NewReader(data)))
}

// answerHoldsCourseUsers fails unless a lite read hands each course with the
// answer's users table, which observe learns the users from, holding every user the
// course names, with its username; a full read hands none.
func answerHoldsCourseUsers(cs *CourseState, a *rowUsers) error {
	if !lite {
		if a != nil {
			return fmt.Errorf("course %d: answer users on a full read", cs.CourseID)
		}
		return nil
	}
	if a == nil {
		return fmt.Errorf("course %d: no answer users", cs.CourseID)
	}
	known := map[int64]string{}
	for i, u := range a.list {
		known[a.ids[i]] = u.username
	}
	check := func(id int64, username string) error {
		if name, ok := known[id]; !ok || name != username {
			return fmt.Errorf("course %d: user %d %q is not among the answer's users", cs.CourseID, id, username)
		}
		return nil
	}
	for _, ue := range cs.Enrolments {
		if err := check(ue.UserID, ue.Username); err != nil {
			return err
		}
	}
	for _, m := range cs.Members {
		if err := check(m.UserID, m.Username); err != nil {
			return err
		}
	}
	for _, u := range cs.Users {
		if err := check(u.ID, u.Username); err != nil {
			return err
		}
	}
	return nil
}

// lite makes decodeRows' rowReader a plan's (courseRows.lite).
var lite bool

// withoutNames is courses as a lite read has them: the users' names, e-mail addresses
// and idnumbers left out.
func withoutNames(courses []CourseState) []CourseState {
	out := slices.Clone(courses)
	for i := range out {
		out[i].Users = slices.Clone(out[i].Users)
		for k := range out[i].Users {
			u := &out[i].Users[k]
			u.Firstname, u.Lastname, u.Email, u.IDNumber = "", "", "", ""
		}
	}
	return out
}

// checkRowReader decodes data with both readers, whole, a byte at a time and with a
// small buffer, and fails unless they agree: the same courses, or both an error. The
// one difference allowed: rowReader refuses bytes after the answer's object, which
// jsontext leaves unread.
func checkRowReader(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := decodeRows(data, true, func(r io.Reader) io.Reader { return r })
	defer func(size int) { rowBufferSize = size }(rowBufferSize)
	defer func() { lite = false }()
	for _, mode := range []string{"whole", "one byte", "small buffer", "lite"} {
		wrap := func(r io.Reader) io.Reader { return r }
		rowBufferSize, lite = 64<<10, mode == "lite"
		switch mode {
		case "one byte":
			wrap = iotest.OneByteReader
		case "small buffer":
			rowBufferSize = 8
			wrap = iotest.HalfReader
		}
		got, err := decodeRows(data, false, wrap)
		if err != nil && wantErr == nil && strings.Contains(err.Error(), "after the answer") {
			continue
		}
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%s: rowReader error %v, jsontext's %v, on\n%q", mode, err, wantErr, data)
		}
		expect := want
		if lite {
			expect = withoutNames(want)
		}
		if err == nil && !reflect.DeepEqual(got, expect) {
			t.Fatalf("%s: rowReader read\n%+v\njsontext's\n%+v\nfrom %q", mode, got, want, data)
		}
	}
}

func TestRowReaderIsJSONTexts(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 400 {
		data := rowsAnswer(r)
		checkRowReader(t, data)
		// And cut anywhere, or with a byte changed: both refuse, or both read the same.
		cut := r.IntN(len(data))
		checkRowReader(t, data[:cut])
		changed := bytes.Clone(data)
		changed[cut] = `[]{},:"\ -0123456789.eEtrufalsn`[r.IntN(31)]
		checkRowReader(t, changed)
	}
	for _, data := range []string{
		`{"roles":[],"users":[],"courses":[]}`,
		`{"roles":[],"roles":[],"users":[],"courses":[]}`, // a name twice
		`{"roles":[],"users":[],"courses":[],"x":{"a":1,"a":2}}`,
		`{"roles":[[1,"a"]],"users":[[1,"u","","","","",0]],"courses":[[1,"C",[],[[1,2,1,0,01,0]],[],[],[],[]]]}`, // 01
		`{"roles":[[1,"a"]],"users":[[1,"u","","","","",0]],"courses":[[1,"C",[],[[1,2,1,0,1.0,0]],[],[],[],[]]]}`,
		`{"roles":[[1,"a"]],"users":[[1,"u","","","","",0]],"courses":[[9223372036854775807,"C",[],[],[],[],[],[]]]}`,
		`{"roles":[[1,"a"]],"users":[[1,"u","","","","",0]],"courses":[[9223372036854775808,"C",[],[],[],[],[],[]]]}`,
		`{"roles":[[1,"a"]],"users":[[1,"u","","","","",0]],"courses":[[-9223372036854775808,"C",[],[],[],[],[],[]]]}`,
		`{"roles":[[1,"\ud800"]],"users":[],"courses":[]}`,
		"{\"roles\":[[1,\"\xff\"]],\"users\":[],\"courses\":[]}",
		"{\"roles\":[[1,\"a\x01\"]],\"users\":[],\"courses\":[]}",
		`{"roles":[[1,"a"],],"users":[],"courses":[]}`,
		`{"roles":[[1 "a"]],"users":[],"courses":[]}`,
		`{"roles":[[1,"a"]] "users":[],"courses":[]}`,
		`{"roles" [[1,"a"]],"users":[],"courses":[]}`,
		`{"x":[tru],"roles":[],"users":[],"courses":[]}`,
		`{"x":nul,"roles":[],"users":[],"courses":[]}`,
		`{"x":-,"roles":[],"users":[],"courses":[]}`,
		`{"x":[1,[2,[3,{}]]],"roles":[],"users":[],"courses":[]}`,
		// Users found by id through a map (ids far apart, or below 0) and through a
		// table indexed by id, and ids neither holds.
		`{"roles":[[1,"a"]],"users":[[1099511627776,"big","B","","","",0],[-5,"neg","","N","","",1]],"courses":[[1,"C",[],[[1,2,1099511627776,0,0,0],[2,2,-5,0,0,0]],[],[],[[1,-5,"",0]],[[-5,0],[1099511627776,9]]]]}`,
		`{"roles":[[1,"a"]],"users":[[1099511627776,"big","","","","",0]],"courses":[[1,"C",[],[[1,2,7,0,0,0]],[],[],[],[]]]}`,
		`{"roles":[[1,"a"]],"users":[[3,"u","","","","",0],[3,"v","","","","",1]],"courses":[[1,"C",[],[[1,2,3,0,0,0]],[],[],[],[[3,0],[2,0],[5000,0],[-1,0]]]]}`,
		`{"roles":[[1,"a"]],"users":[[3,"u","","","","",0]],"courses":[[1,"C",[],[],[],[],[],[[-1,0]]]]}`,
	} {
		checkRowReader(t, []byte(data))
	}
}

func FuzzRowReader(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 20 {
		f.Add(rowsAnswer(r))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkRowReader(t, data) })
}

// BenchmarkRowReader decodes 1,000 courses' answer with rowReader ("rows"; "lite" as a
// plan reads it, keeping no user's name) and with the reference on jsontext's tokens
// ("jsontext").
func BenchmarkRowReader(b *testing.B) {
	var data bytes.Buffer
	data.WriteString(`{"roles":[[5,"student"],[3,"editingteacher"]],"users":[`)
	for u := range 3000 {
		if u > 0 {
			data.WriteByte(',')
		}
		fmt.Fprintf(&data, `[%d,"user%05d","Firstname","Lastname","user%05d@example.edu","2100%04d",0]`, u+1, u, u, u)
	}
	data.WriteString(`],"courses":[`)
	for c := range 1000 {
		if c > 0 {
			data.WriteByte(',')
		}
		fmt.Fprintf(&data, `[%d,"DRT-L1-P002-C%05d",[[%d,"manual",0,"",0,5,0,"",0,"",0,"",0,0],[%d,"cohort",0,"",1,5,7,"L1-DRT",0,"",0,"",0,0]],[`, c+1, c, 2*c+1, 2*c+2)
		for e := range 30 {
			if e > 0 {
				data.WriteByte(',')
			}
			fmt.Fprintf(&data, `[%d,%d,%d,0,1700000000,0]`, c*30+e, 2*c+1+e%2, (c*7+e)%3000+1)
		}
		data.WriteString(`],[`)
		for e := range 30 {
			if e > 0 {
				data.WriteByte(',')
			}
			fmt.Fprintf(&data, `[%d,5,"",0]`, (c*7+e)%3000+1)
		}
		data.WriteString(`],[[1,"TD1",""]],[`)
		for e := range 10 {
			if e > 0 {
				data.WriteByte(',')
			}
			fmt.Fprintf(&data, `[1,%d,"",0]`, (c*7+e)%3000+1)
		}
		data.WriteString(`],[`)
		for e := range 30 {
			if e > 0 {
				data.WriteByte(',')
			}
			fmt.Fprintf(&data, `[%d,1700000000]`, (c*7+e)%3000+1)
		}
		data.WriteString(`]]`)
	}
	data.WriteString(`]}`)
	for _, name := range []string{"rows", "lite", "jsontext"} {
		b.Run(name, func(b *testing.B) {
			var cs CourseState
			next := func() *CourseState { cs.reset(); return &cs }
			fn := func(*CourseState) error { return nil }
			rowsFn := func(*CourseState, *rowUsers) error { return nil }
			b.SetBytes(int64(data.Len()))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if name != "jsontext" {
					err = courseRows{next: next, fn: rowsFn, lite: name == "lite"}.decodeStream(bytes.NewReader(data.Bytes()))
				} else {
					err = jsonCourseRows{next: next, fn: fn}.decodeStream(bytes.NewReader(data.Bytes()))
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// refUser is one user of the answer's users table, as jsonCourseRows keeps it.
type refUser struct {
	username, firstname, lastname, email, idnumber string
	suspended                                      int
}

// jsonCourseRows is courseRows as it was, on jsontext's tokens: the reference
// TestRowReaderIsJSONTexts checks rowReader against. It decodes local_enrolctl_get_course_rows (plugin 2026113004): every role and
// user of the answer once, then each course as positional rows (docs/contract.md).
// Each course is rebuilt into the CourseState get_course_state answers, names filled
// in from the two tables, and handed to fn as soon as it is read; the tokens are read
// one by one, without reflection, and the strings that repeat (usernames, roles,
// components, methods) are shared rather than copied per row.
type jsonCourseRows struct {
	// next returns the CourseState to fill for the next course.
	next func() *CourseState
	fn   func(cs *CourseState) error
}

func (c jsonCourseRows) decodeStream(in io.Reader) error {
	dec := jsontext.NewDecoder(in)
	r := &jsonRowReader{dec: dec, intern: map[string]string{"": ""}}
	roles := map[int64]string{}
	var users map[int64]refUser
	var links map[int64][]string
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
				u  refUser
			}
			var list []idUser
			r.rows(func() {
				id := r.int()
				list = append(list, idUser{id, refUser{username: r.str(), firstname: r.text(), lastname: r.text(), email: r.text(),
					idnumber: r.text(), suspended: int(r.int())}})
			})
			users = make(map[int64]refUser, len(list))
			for _, iu := range list {
				users[iu.id] = iu.u
			}
		case "metalinks":
			links = map[int64][]string{}
			r.rows(func() {
				id := r.int()
				links[id] = append(links[id], r.text())
			})
		case "courses":
			if users == nil {
				return fmt.Errorf("courses before users in the answer")
			}
			r.rows(func() {
				cs := c.next()
				r.course(cs, roles, users)
				cs.LinkedFrom = links[cs.CourseID]
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
func (r *jsonRowReader) course(cs *CourseState, roles map[int64]string, users map[int64]refUser) {
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
func (r *jsonRowReader) user(cs *CourseState, users map[int64]refUser, id int64) refUser {
	u, ok := users[id]
	if !ok {
		r.fail("course %d: user %d is not in the answer's users", cs.CourseID, id)
	}
	return u
}

// jsonRowReader reads positional rows token by token. The first error sticks: every
// later read returns a zero value, and err says what went wrong.
type jsonRowReader struct {
	dec    *jsontext.Decoder
	err    error
	intern map[string]string
}

// want reads a token of the given kind ('[', ']', '{' or '}').
func (r *jsonRowReader) want(k jsontext.Kind) {
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
func (r *jsonRowReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// rows reads a list of rows, each a list whose items row reads.
func (r *jsonRowReader) rows(row func()) {
	r.want('[')
	for r.err == nil && r.dec.PeekKind() != ']' {
		r.want('[')
		row()
		r.want(']')
	}
	r.want(']')
}

func (r *jsonRowReader) int() int64 {
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
func (r *jsonRowReader) raw() []byte {
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
func (r *jsonRowReader) str() string {
	b := r.raw()
	if s, ok := r.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	r.intern[s] = s
	return s
}

// text reads a string that seldom repeats (names, e-mail addresses).
func (r *jsonRowReader) text() string { return string(r.raw()) }

func (r *jsonRowReader) instance(roles map[int64]string) Instance {
	in := Instance{ID: r.int(), Enrol: r.str(), Status: int(r.int()), Name: r.text(), SortOrder: int(r.int()),
		RoleID: r.int(), CohortID: r.int(), CohortIDNumber: r.text(), LinkedCourseID: r.int(),
		LinkedCourseShortname: r.text(), GroupID: r.int(), GroupName: r.text(), MaxEnrolled: int(r.int()),
		EnrolPeriod: r.int()}
	in.RoleShortname = roles[in.RoleID]
	return in
}
