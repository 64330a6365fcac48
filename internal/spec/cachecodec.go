package spec

import (
	"encoding/binary"
	"math"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
	"github.com/enrolctl/enrolctl/internal/tree"
)

// The parse cache's codec: a file's course specs as varints and length-prefixed
// strings, field by field (TestCacheCodecCoversTheModel fails when a field is added
// to the model and not here). A position's file is a bit: the file's own name or none,
// so a renamed file still hits. A list's length is written plus one, 0 for nil, so the
// decoded specs are the parsed ones to the last nil. Decoded strings are slices of the
// pack, which is read once and never changed.

type cacheWriter struct {
	b    []byte
	file string
	bad  bool // a position in another file, or something the codec cannot say
}

// encodeCourses writes a file's courses; size is about what they take.
func encodeCourses(cs []*CourseSpec, file string, size int) ([]byte, bool) {
	w := &cacheWriter{b: make([]byte, 0, size), file: file}
	w.uint(uint64(len(cs)))
	for _, c := range cs {
		w.course(c)
	}
	return w.b, !w.bad
}

func (w *cacheWriter) uint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *cacheWriter) int(v int64)   { w.b = binary.AppendVarint(w.b, v) }

func (w *cacheWriter) str(s string) {
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
}

// flags writes up to 64 booleans as one number.
func (w *cacheWriter) flags(bs ...bool) {
	var v uint64
	for i, b := range bs {
		if b {
			v |= 1 << i
		}
	}
	w.uint(v)
}

// list writes a list's length plus one, 0 for nil.
func (w *cacheWriter) list(n int, isNil bool) {
	if isNil {
		w.uint(0)
		return
	}
	w.uint(uint64(n) + 1)
}

func (w *cacheWriter) pos(p diag.Pos) {
	if p.Line < 0 || p.Col < 0 || (p.File != "" && p.File != w.file) {
		w.bad = true
		return
	}
	inFile := uint64(0)
	if p.File != "" {
		inFile = 1
	}
	w.uint(uint64(p.Line)<<1 | inFile)
	w.uint(uint64(p.Col))
}

func (w *cacheWriter) spot(s spot) {
	if s.line < 0 || s.col < 0 {
		w.bad = true
	}
	w.uint(uint64(s.line))
	w.uint(uint64(s.col))
}

func (w *cacheWriter) tstr(s tree.Str) {
	w.flags(s.Set)
	w.str(s.V)
	w.pos(s.Pos)
}

func (w *cacheWriter) tstrs(ss []tree.Str) {
	w.list(len(ss), ss == nil)
	for _, s := range ss {
		w.tstr(s)
	}
}

func (w *cacheWriter) tbool(b tree.Bool) {
	w.flags(b.V, b.Set)
	w.pos(b.Pos)
}

// date keeps what was written; the timestamp is the run's to compute.
func (w *cacheWriter) date(d date) {
	if !d.Set && (d.Unix != 0 || d.Text != "") {
		w.bad = true
	}
	w.flags(d.Set)
	w.str(d.Text)
	w.pos(d.Pos)
}

func (w *cacheWriter) course(c *CourseSpec) {
	w.str(c.Shortname)
	if c.File != w.file {
		w.bad = true
	}
	w.pos(c.Pos)
	w.list(len(c.methods), c.methods == nil)
	for _, m := range c.methods {
		w.method(m)
	}
	w.flags(c.manual != nil, c.groupsDeclared)
	if c.manual != nil {
		w.manual(c.manual)
	}
	w.list(len(c.groups), c.groups == nil)
	for _, g := range c.groups {
		w.str(g.name)
		w.pos(g.pos)
		w.tbool(g.pruneMembers)
	}
	w.tbool(c.protect)
	w.tbool(c.methodsPrune)
}

func (w *cacheWriter) method(d methodDecl) {
	m := d.m
	w.pos(d.pos)
	for _, s := range []string{string(m.Type), m.Name, m.Cohort, m.Role, m.Course, m.Group} {
		w.str(s)
	}
	w.flags(m.Enabled, m.Absent)
	w.int(int64(m.MaxUsers))
	w.int(m.ID)
	w.pos(diag.Pos(m.Source))
	w.pos(diag.Pos(m.CohortSource))
}

func (w *cacheWriter) manual(m *manualDecl) {
	w.pos(m.pos)
	w.tstr(m.role)
	w.date(m.until)
	w.date(m.from)
	w.tstr(m.prune)
	w.list(len(m.users), m.users == nil)
	for _, u := range m.users {
		w.str(u.username)
		w.spot(u.at)
		w.list(len(u.groups), u.groups == nil)
		for _, g := range u.groups {
			w.str(g.name)
			w.spot(g.at)
		}
		w.flags(u.more != nil)
		if u.more != nil {
			w.tstr(u.more.role)
			w.tstrs(u.more.roles)
			w.date(u.more.until)
			w.date(u.more.from)
			w.tbool(u.more.suspended)
		}
	}
}

// cacheReader reads what cacheWriter wrote; any misstep sets bad and reads zeros from
// then on, so a damaged payload is refused without a panic or a large allocation.
type cacheReader struct {
	s    string
	i    int
	file string
	date func(text string, end bool) (int64, bool)
	bad  bool
}

func decodeCourses(payload, file string, date func(string, bool) (int64, bool)) ([]*CourseSpec, bool) {
	r := &cacheReader{s: payload, file: file, date: date}
	n := r.count()
	cs := make([]*CourseSpec, 0, n)
	for range n {
		cs = append(cs, r.course())
	}
	return cs, !r.bad && r.i == len(r.s) && n > 0
}

func (r *cacheReader) uint() uint64 {
	var v uint64
	for shift := 0; shift < 64 && !r.bad; shift += 7 {
		if r.i >= len(r.s) {
			break
		}
		b := r.s[r.i]
		r.i++
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
	r.bad = true
	return 0
}

func (r *cacheReader) int() int64 {
	u := r.uint()
	return int64(u>>1) ^ -int64(u&1)
}

// small reads a number that must fit an int of this codec (a line, a length).
func (r *cacheReader) small() int {
	v := r.uint()
	if v > math.MaxInt32 {
		r.bad = true
		return 0
	}
	return int(v)
}

// count reads a number of items, each at least a byte: no more than what is left.
func (r *cacheReader) count() int {
	n := r.small()
	if n > len(r.s)-r.i {
		r.bad = true
		return 0
	}
	return n
}

// list reads what list wrote: the length and whether the list is nil.
func (r *cacheReader) list() (int, bool) {
	n := r.count()
	if n == 0 {
		return 0, true
	}
	return n - 1, false
}

func (r *cacheReader) str() string {
	n := r.count()
	if r.bad {
		return ""
	}
	s := r.s[r.i : r.i+n]
	r.i += n
	return s
}

func (r *cacheReader) flags(bs ...*bool) {
	v := r.uint()
	if v>>len(bs) != 0 {
		r.bad = true
	}
	for i, b := range bs {
		*b = v&(1<<i) != 0
	}
}

func (r *cacheReader) pos() diag.Pos {
	line := r.small()
	p := diag.Pos{Line: line >> 1, Col: r.small()}
	if line&1 != 0 {
		p.File = r.file
	}
	return p
}

func (r *cacheReader) spot() spot {
	return spot{int32(r.small()), int32(r.small())}
}

func (r *cacheReader) tstr() tree.Str {
	var s tree.Str
	r.flags(&s.Set)
	s.V = r.str()
	s.Pos = r.pos()
	return s
}

func (r *cacheReader) tstrs() []tree.Str {
	n, isNil := r.list()
	if isNil || r.bad {
		return nil
	}
	out := make([]tree.Str, n)
	for i := range out {
		out[i] = r.tstr()
	}
	return out
}

func (r *cacheReader) tbool() tree.Bool {
	var b tree.Bool
	r.flags(&b.V, &b.Set)
	b.Pos = r.pos()
	return b
}

func (r *cacheReader) readDate(end bool) date {
	var d date
	r.flags(&d.Set)
	d.Text = r.str()
	d.Pos = r.pos()
	if d.Set && !r.bad {
		u, ok := r.date(d.Text, end)
		d.Unix, r.bad = u, !ok
	} else if d.Text != "" {
		r.bad = true
	}
	return d
}

// order refuses dates that are no longer in order in the run's time zone (checkOrder).
func (r *cacheReader) order(from, until date) {
	var ds Diagnostics
	checkOrder(from, until, &ds)
	r.bad = r.bad || len(ds) > 0
}

func (r *cacheReader) course() *CourseSpec {
	c := &CourseSpec{Shortname: r.str(), File: r.file, Pos: r.pos()}
	if n, isNil := r.list(); !isNil && !r.bad {
		c.methods = make([]methodDecl, n)
		for i := range c.methods {
			c.methods[i] = r.method()
		}
	}
	var manual bool
	r.flags(&manual, &c.groupsDeclared)
	if manual && !r.bad {
		c.manual = r.manual()
	}
	if n, isNil := r.list(); !isNil && !r.bad {
		c.groups = make([]groupDecl, n)
		for i := range c.groups {
			c.groups[i] = groupDecl{name: r.str(), pos: r.pos(), pruneMembers: r.tbool()}
		}
	}
	c.protect = r.tbool()
	c.methodsPrune = r.tbool()
	return c
}

func (r *cacheReader) method() methodDecl {
	d := methodDecl{pos: r.pos()}
	m := &d.m
	m.Type = state.MethodType(r.str())
	m.Name, m.Cohort, m.Role, m.Course, m.Group = r.str(), r.str(), r.str(), r.str(), r.str()
	r.flags(&m.Enabled, &m.Absent)
	m.MaxUsers = int(r.int())
	m.ID = r.int()
	m.Source = state.Source(r.pos())
	m.CohortSource = state.Source(r.pos())
	return d
}

func (r *cacheReader) manual() *manualDecl {
	m := &manualDecl{pos: r.pos(), role: r.tstr()}
	m.until = r.readDate(true)
	m.from = r.readDate(false)
	r.order(m.from, m.until)
	m.prune = r.tstr()
	n, isNil := r.list()
	if isNil || r.bad {
		return m
	}
	m.users = make([]userDecl, n)
	for i := range m.users {
		u := &m.users[i]
		u.username, u.at = r.str(), r.spot()
		if n, isNil := r.list(); !isNil && !r.bad {
			u.groups = make([]groupRef, n)
			for j := range u.groups {
				u.groups[j] = groupRef{name: r.str(), at: r.spot()}
			}
		}
		var more bool
		r.flags(&more)
		if more && !r.bad {
			u.more = &userMore{role: r.tstr(), roles: r.tstrs()}
			u.more.until = r.readDate(true)
			u.more.from = r.readDate(false)
			r.order(u.more.from, u.more.until)
			u.more.suspended = r.tbool()
		}
	}
	return m
}
