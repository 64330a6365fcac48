package diff

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/state"
)

// The property: for random desired and observed states, applying the plan to the
// observed state with a model of Moodle's effects gives a state whose plan is empty;
// the model changes nothing the plan does not list (or, for removals, announce as a
// consequence); every change has an effect; and each removal's counts are what the
// model actually removed.

// Run more with: go test ./internal/diff -run Property -property.iterations=100000
var propertyIterationsFlag = flag.Int("property.iterations", 3000, "iterations of the plan/apply/plan property test")

var (
	genUsers   = []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"}
	genCohorts = []string{"c0", "c1", "c2"}
	genRoles   = []string{"student", "teacher"}
	genCourses = []string{"K0", "K1", "K2", "K3"}
	genGroups  = []string{"G0", "G1", "G2"}
	genEnds    = []int64{0, end2026, end2027}
	genStarts  = []int64{0, 1788220800}
)

func pick[T any](r *rand.Rand, xs []T) T  { return xs[r.IntN(len(xs))] }
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

func some[T any](r *rand.Rand, xs []T, p float64) []T {
	var out []T
	for _, x := range xs {
		if chance(r, p) {
			out = append(out, x)
		}
	}
	return out
}

// genMethods returns method templates with unique keys.
func genMethods(r *rand.Rand, course string, desired bool) []state.Method {
	var ms []state.Method
	add := func(m state.Method) {
		for _, o := range ms {
			if o.Key() == m.Key() {
				return
			}
		}
		ms = append(ms, m)
	}
	group := func() string {
		if chance(r, 0.5) {
			return ""
		}
		return pick(r, append(slices.Clone(genGroups), "Promo"))
	}
	if chance(r, 0.7) {
		add(state.Method{Type: state.Manual, Enabled: chance(r, 0.85)})
	}
	if chance(r, 0.3) {
		add(state.Method{Type: state.Guest, Enabled: chance(r, 0.5)})
	}
	if chance(r, 0.4) {
		add(state.Method{Type: state.Database, Enabled: chance(r, 0.8)})
	}
	for range r.IntN(3) {
		add(state.Method{Type: state.Self, Name: pick(r, []string{"S1", "S2"}), Role: pick(r, genRoles),
			MaxUsers: pick(r, []int{0, 30}), Enabled: chance(r, 0.7)})
	}
	for range r.IntN(3) {
		add(state.Method{Type: state.Cohort, Cohort: pick(r, genCohorts), Role: pick(r, genRoles), Group: group(), Enabled: chance(r, 0.8)})
	}
	if chance(r, 0.4) {
		if parent := pick(r, genCourses); parent != course {
			add(state.Method{Type: state.Meta, Course: parent, Group: group(), Enabled: chance(r, 0.8)})
		}
	}
	if !desired && chance(r, 0.2) {
		add(state.Method{Type: "muprog", ID: 900, Enabled: true})
	}
	return ms
}

func genEnrolment(r *rand.Rand, u, method string) state.Enrolment {
	return state.Enrolment{Username: u, Method: method, Roles: []string{pick(r, genRoles)},
		Start: pick(r, genStarts), End: pick(r, genEnds), Suspended: chance(r, 0.3)}
}

func genObserved(r *rand.Rand, course string) state.Course {
	c := state.Course{Shortname: course, ID: int64(len(course))}
	for i, m := range genMethods(r, course, false) {
		if m.ID == 0 {
			m.ID = int64(100 + i)
		}
		c.Methods = append(c.Methods, m)
		if m.Type == state.Guest {
			continue
		}
		for _, u := range some(r, genUsers, 0.35) {
			c.Enrolments = append(c.Enrolments, genEnrolment(r, u, m.Key()))
		}
	}
	groups := some(r, genGroups, 0.5)
	for gi, name := range groups {
		g := state.Group{Name: name, ID: int64(500 + gi)}
		// Moodle only has enrolled users in groups; cohort and meta put their own there.
		for _, u := range genUsers {
			var comps []string
			for _, e := range c.EnrolmentsOf(u) {
				m, _ := c.Method(e.Method)
				if m.Type == state.Cohort || m.Type == state.Meta {
					comps = append(comps, "enrol_"+string(m.Type))
				}
				comps = append(comps, "")
			}
			if len(comps) > 0 && chance(r, 0.4) {
				g.Members = append(g.Members, state.Member{Username: u, Component: pick(r, comps)})
			}
		}
		c.Groups = append(c.Groups, g)
	}
	c.Normalize()
	return c
}

func genDesired(r *rand.Rand, course string) state.Course {
	c := state.Course{Shortname: course, Sources: []string{course + ".yaml"}}
	c.Methods = genMethods(r, course, true)
	for i := range c.Methods {
		c.Methods[i].Source = state.Source{File: course + ".yaml", Line: i + 2, Col: 5}
	}
	for i, u := range some(r, genUsers, 0.4) {
		e := genEnrolment(r, u, "")
		e.Suspended = chance(r, 0.1)
		if chance(r, 0.1) {
			e.Roles = nil // no role declared: the live roles stay
		}
		e.Source = state.Source{File: course + ".yaml", Line: 20 + i, Col: 7}
		c.Enrolments = append(c.Enrolments, e)
	}
	for _, name := range some(r, append(slices.Clone(genGroups), "G3"), 0.4) {
		g := state.Group{Name: name, PruneMembers: chance(r, 0.5)}
		for _, u := range some(r, genUsers, 0.3) {
			g.Members = append(g.Members, state.Member{Username: u})
		}
		c.Groups = append(c.Groups, g)
	}
	c.Options = state.Options{
		MethodsPrune: chance(r, 0.4),
		ManualPrune:  pick(r, []state.Prune{"", state.PruneKeep, state.PruneSuspend, state.PruneUnenrol}),
	}
	return c
}

func genDirectory(r *rand.Rand, valid bool) state.Directory {
	d := state.Directory{Users: map[string]int64{}, Cohorts: map[string]state.CohortInfo{},
		Roles: map[string]int64{}, Courses: map[string]int64{},
		EnabledPlugins: []string{"manual", "self", "guest", "cohort", "meta", "database"}}
	keep := func() bool { return valid || chance(r, 0.85) }
	for i, u := range genUsers {
		if keep() {
			d.Users[u] = int64(i + 1)
		}
	}
	for i, c := range genCohorts {
		if keep() {
			d.Cohorts[c] = state.CohortInfo{ID: int64(i + 1)}
		}
	}
	for i, x := range genRoles {
		if keep() {
			d.Roles[x] = int64(i + 1)
		}
	}
	for i, x := range genCourses {
		if keep() {
			d.Courses[x] = int64(i + 1)
		}
	}
	if !valid {
		d.EnabledPlugins = some(r, d.EnabledPlugins, 0.8)
	}
	return d
}

func genStates(r *rand.Rand, valid bool) (desired, observed state.Snapshot) {
	observed.Directory = genDirectory(r, valid)
	for _, course := range genCourses[:3] {
		if !chance(r, 0.8) {
			continue
		}
		d := genDesired(r, course)
		if valid || chance(r, 0.9) {
			o := genObserved(r, course)
			if valid {
				makeValid(&d, &o)
			}
			observed.Courses = append(observed.Courses, o)
		}
		desired.Courses = append(desired.Courses, d)
	}
	return desired, observed
}

// makeValid drops from d what Compute refuses with an error, so that valid runs plan:
// group members without an enrolment (Moodle only groups enrolled users) and a
// database method the sync has not created.
func makeValid(d, o *state.Course) {
	enrolled := map[string]bool{}
	for _, e := range d.Enrolments {
		enrolled[e.Username] = true
	}
	for i := range d.Groups {
		d.Groups[i].Members = slices.DeleteFunc(d.Groups[i].Members, func(m state.Member) bool { return !enrolled[m.Username] })
	}
	if _, ok := o.Method(string(state.Database)); !ok {
		d.Methods = slices.DeleteFunc(d.Methods, func(m state.Method) bool { return m.Type == state.Database })
	}
}

func TestPropertyPlanApplyPlanIsEmpty(t *testing.T) {
	propertyIterations := *propertyIterationsFlag
	applied, withChanges := 0, 0
	for seed := range uint64(propertyIterations) {
		r := rand.New(rand.NewPCG(seed, 0x656e726f6c))
		valid := seed%4 != 0 // one run in four has unknown names and disabled plugins
		desired, observed := genStates(r, valid)
		before := deepCopy(t, observed)

		p := Compute(desired, observed)
		if diff := cmp.Diff(before, deepCopy(t, observed)); diff != "" {
			t.Fatalf("seed %d: Compute modified its input (-before +after):\n%s", seed, diff)
		}
		if again := Compute(desired, observed); !cmp.Equal(p, again) {
			t.Fatalf("seed %d: Compute is not deterministic", seed)
		}
		if valid && p.Diagnostics.HasErrors() {
			t.Fatalf("seed %d: a valid state has errors: %v", seed, p.Diagnostics)
		}
		if !valid && p.Diagnostics.HasErrors() {
			if len(p.Changes) > 0 || len(p.Unmanaged) > 0 {
				t.Fatalf("seed %d: a plan with errors plans changes: %+v", seed, p.Changes)
			}
			continue // nothing is planned while an error stands
		}
		applied++
		if len(p.Changes) > 0 {
			withChanges++
		}
		after := deepCopy(t, observed)
		after.Directory = observed.Directory // JSON would turn empty maps (nothing known) into nil (not checked)
		m := &model{t: t, seed: seed, snap: &after}
		for _, c := range p.Changes {
			m.apply(c)
		}
		checkOnlyPlannedChanges(t, seed, p, before, after)

		second := Compute(desired, after)
		if len(second.Changes) > 0 {
			t.Fatalf("seed %d: plan after apply is not empty:\n%s\nfirst plan:\n%s",
				seed, strings.Join(brief(Plan{Changes: second.Changes}), "\n"), strings.Join(brief(p), "\n"))
		}
	}
	// Guard against a generator that stopped producing interesting cases.
	if applied < propertyIterations/2 || withChanges < applied*3/4 {
		t.Errorf("weak generator: %d of %d plans applied, %d with changes", applied, propertyIterations, withChanges)
	}
	t.Logf("%d iterations, %d plans applied, %d with changes", propertyIterations, applied, withChanges)
}

func deepCopy(t *testing.T, s state.Snapshot) state.Snapshot {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out state.Snapshot
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// model applies changes to a snapshot the way Moodle (through local_enrolctl and the
// core group functions) would, failing the test where Moodle would refuse the write.
type model struct {
	t      *testing.T
	seed   uint64
	snap   *state.Snapshot
	stages map[string]int
	nextID int64
}

func (m *model) fail(c Change, format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("seed %d: %s %s: %s", m.seed, c.Action, c.Address, fmt.Sprintf(format, args...))
}

func (m *model) apply(c Change) {
	m.t.Helper()
	if m.stages == nil {
		m.stages = map[string]int{}
	}
	if s := Stage(c); s < m.stages[c.Course] {
		m.fail(c, "stage %d after stage %d", s, m.stages[c.Course])
	} else {
		m.stages[c.Course] = s
	}
	course, ok := m.snap.Course(c.Course)
	if !ok {
		m.fail(c, "no such course")
	}
	m.nextID++
	switch {
	case c.Kind == KindGroup && c.Action == Create:
		if _, exists := course.Group(c.Group.Name); exists {
			m.fail(c, "group exists")
		}
		course.Groups = append(course.Groups, state.Group{Name: c.Group.Name, ID: 1000 + m.nextID})

	case c.Kind == KindMethod && c.Action == Create:
		meth := *c.Method
		if _, exists := course.Method(meth.Key()); exists {
			m.fail(c, "duplicateinstance")
		}
		if meth.Type == state.Database || !meth.Type.Known() {
			m.fail(c, "databaseinstance / unsupportedmethod")
		}
		m.needGroup(c, course, meth.Group)
		meth.ID = 1000 + m.nextID
		meth.Source = state.Source{}
		course.Methods = append(course.Methods, meth)

	case c.Kind == KindMethod && c.Action == Update:
		i := m.methodIndex(c, course, c.Method.Key())
		live := &course.Methods[i]
		if live.Type == state.Database {
			m.fail(c, "databaseinstance")
		}
		old := *live
		live.Enabled = c.Method.Enabled
		switch live.Type {
		case state.Self:
			live.Role, live.MaxUsers = c.Method.Role, c.Method.MaxUsers
		case state.Cohort, state.Meta:
			m.needGroup(c, course, c.Method.Group)
			live.Group = c.Method.Group
		}
		if got, want := fieldNames(methodFields(old, *live, false)), fieldNames(c.Fields); !slices.Equal(got, want) {
			m.fail(c, "changed fields %v, plan lists %v", got, want)
		}
		if c.Removes != nil && c.Removes.Enrolments != len(enrolmentsIn(course, live.Key())) {
			m.fail(c, "disable counts %d enrolments, the method has %d", c.Removes.Enrolments, len(enrolmentsIn(course, live.Key())))
		}

	case c.Kind == KindMethod && c.Action == Delete:
		key := c.Method.Key()
		i := m.methodIndex(c, course, key)
		meth := course.Methods[i]
		if meth.Type == state.Database || !meth.Type.Known() {
			m.fail(c, "deleting a %s method", meth.Type)
		}
		// delete_instance: unenrol_user for every participant, then drop the row.
		var n, last int
		synced := func() int {
			k := 0
			for _, g := range course.Groups {
				for _, x := range g.Members {
					if x.Component == "enrol_"+string(meth.Type) {
						k++
					}
				}
			}
			return k
		}
		before := synced()
		for _, e := range enrolmentsIn(course, key) {
			n++
			if m.unenrol(course, e, meth.Type) {
				last++
			}
		}
		course.Methods = slices.Delete(course.Methods, i, i+1)
		if c.Removes == nil || c.Removes.Enrolments != n || c.Removes.LastEnrolments != last {
			m.fail(c, "removed %d enrolments, %d last; plan says %+v", n, last, c.Removes)
		}
		if gone := before - synced(); c.Removes.Memberships != gone {
			m.fail(c, "the deletion took %d synced memberships; plan says %d", gone, c.Removes.Memberships)
		}

	case c.Kind == KindEnrolment && c.Action == Create:
		if _, ok := course.Method(string(state.Manual)); !ok {
			m.fail(c, "wsnoinstance: no manual method")
		}
		if _, ok := m.manualIndex(course, c.Enrolment.Username); ok {
			m.fail(c, "already enrolled")
		}
		e := *c.Enrolment
		e.Source = state.Source{}
		course.Enrolments = append(course.Enrolments, e)

	case c.Kind == KindEnrolment && c.Action == Update:
		i, ok := m.manualIndex(course, c.Enrolment.Username)
		if !ok {
			m.fail(c, "no manual enrolment")
		}
		e := &course.Enrolments[i]
		if len(c.Enrolment.Roles) > 0 { // set_enrolments with roleid 0 leaves roles alone
			e.Roles = c.Enrolment.Roles
		}
		e.Start, e.End, e.Suspended = c.Enrolment.Start, c.Enrolment.End, c.Enrolment.Suspended
		if c.IsRemoval() != (c.Removes != nil && c.Removes.Enrolments == 1 && e.Suspended) {
			m.fail(c, "removal %+v does not match the suspension", c.Removes)
		}

	case c.Kind == KindEnrolment && c.Action == Delete:
		i, ok := m.manualIndex(course, c.Enrolment.Username)
		if !ok {
			m.fail(c, "no manual enrolment")
		}
		last := m.unenrol(course, course.Enrolments[i], state.Manual)
		if c.Removes == nil || c.Removes.Enrolments != 1 || c.Removes.LastEnrolments != b2i(last) {
			m.fail(c, "last enrolment %v; plan says %+v", last, c.Removes)
		}

	case c.Kind == KindMember && c.Action == Create:
		g := m.groupPtr(c, course, c.GroupName)
		if len(course.EnrolmentsOf(c.Member.Username)) == 0 {
			m.fail(c, "Only enrolled users may be members of groups")
		}
		if slices.ContainsFunc(g.Members, func(x state.Member) bool { return x.Username == c.Member.Username }) {
			m.fail(c, "already a member: Moodle would ignore the add")
		}
		g.Members = append(g.Members, state.Member{Username: c.Member.Username})

	case c.Kind == KindMember && c.Action == Delete:
		g := m.groupPtr(c, course, c.GroupName)
		i := slices.IndexFunc(g.Members, func(x state.Member) bool { return x.Username == c.Member.Username })
		if i < 0 || g.Members[i].Component != "" {
			m.fail(c, "no manual membership to delete")
		}
		g.Members = slices.Delete(g.Members, i, i+1)

	default:
		m.fail(c, "unexpected change")
	}
	course.Normalize()
}

// unenrol is Moodle's unenrol_user: remove the row and the method's own group
// memberships; if it was the user's last enrolment in the course, every membership
// (and, not modelled, roles and grades) goes too. It reports that last case.
func (m *model) unenrol(course *state.Course, e state.Enrolment, plugin state.MethodType) bool {
	course.Enrolments = slices.DeleteFunc(course.Enrolments, func(x state.Enrolment) bool { return x.Key() == e.Key() })
	rest := course.EnrolmentsOf(e.Username)
	samePlugin := slices.ContainsFunc(rest, func(x state.Enrolment) bool {
		mm, _ := course.Method(x.Method)
		return mm.Type == plugin
	})
	for gi := range course.Groups {
		course.Groups[gi].Members = slices.DeleteFunc(course.Groups[gi].Members, func(x state.Member) bool {
			if x.Username != e.Username {
				return false
			}
			return len(rest) == 0 || (!samePlugin && x.Component == "enrol_"+string(plugin))
		})
	}
	return len(rest) == 0
}

func (m *model) methodIndex(c Change, course *state.Course, key string) int {
	i := slices.IndexFunc(course.Methods, func(x state.Method) bool { return x.Key() == key })
	if i < 0 {
		m.fail(c, "unknowninstance")
	}
	return i
}

func (m *model) manualIndex(course *state.Course, username string) (int, bool) {
	i := slices.IndexFunc(course.Enrolments, func(x state.Enrolment) bool {
		return x.Method == string(state.Manual) && x.Username == username
	})
	return i, i >= 0
}

func (m *model) needGroup(c Change, course *state.Course, name string) {
	if name == "" {
		return
	}
	if _, ok := course.Group(name); !ok {
		m.fail(c, "invalidgroup %q", name)
	}
}

func (m *model) groupPtr(c Change, course *state.Course, name string) *state.Group {
	for i := range course.Groups {
		if course.Groups[i].Name == name {
			return &course.Groups[i]
		}
	}
	m.fail(c, "no group %q", name)
	return nil
}

func enrolmentsIn(course *state.Course, key string) []state.Enrolment {
	var out []state.Enrolment
	for _, e := range course.Enrolments {
		if e.Method == key {
			out = append(out, e)
		}
	}
	return out
}

func fieldNames(fs []FieldChange) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Field))
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// flatten maps every object of the observed courses to its address and value
// (children excluded), so two snapshots can be compared object by object.
func flatten(t *testing.T, s state.Snapshot) map[string]string {
	t.Helper()
	out := map[string]string{}
	put := func(addr string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[addr] = string(b)
	}
	for _, c := range s.Courses {
		for _, m := range c.Methods {
			m.ID = 0 // ids are Moodle's; a method keeps its identity by key
			put(state.MethodAddress(c.Shortname, m.Key()), m)
		}
		for _, e := range c.Enrolments {
			put(state.EnrolmentAddress(c.Shortname, e.Method, e.Username), e)
		}
		for _, g := range c.Groups {
			put(state.GroupAddress(c.Shortname, g.Name), g.Name)
			for _, mb := range g.Members {
				put(state.MemberAddress(c.Shortname, g.Name, mb.Username), mb)
			}
		}
	}
	return out
}

// checkOnlyPlannedChanges compares before and after object by object: whatever
// differs must be a change's own address or a consequence the plan announces (the
// enrolments of a deleted method, the memberships of users a removal unenrols);
// and every change must have had an effect.
func checkOnlyPlannedChanges(t *testing.T, seed uint64, p Plan, before, after state.Snapshot) {
	t.Helper()
	b, a := flatten(t, before), flatten(t, after)
	allowed := map[string]bool{}
	for _, c := range p.Changes {
		allowed[c.Address] = true
		var users []string
		switch {
		case c.Kind == KindMethod && c.Action == Delete:
			course, _ := before.Course(c.Course)
			for _, e := range enrolmentsIn(course, c.Method.Key()) {
				allowed[state.EnrolmentAddress(c.Course, e.Method, e.Username)] = true
				users = append(users, e.Username)
			}
		case c.Kind == KindEnrolment && c.Action == Delete:
			users = []string{c.Enrolment.Username}
		}
		course, _ := before.Course(c.Course)
		for _, g := range course.Groups {
			for _, u := range users {
				allowed[state.MemberAddress(c.Course, g.Name, u)] = true
			}
		}
	}
	for addr := range a {
		if b[addr] != a[addr] && !allowed[addr] {
			t.Fatalf("seed %d: %s changed without a planned change:\nbefore %s\nafter  %s\nplan:\n%s",
				seed, addr, b[addr], a[addr], strings.Join(brief(p), "\n"))
		}
	}
	for addr := range b {
		if _, ok := a[addr]; !ok && !allowed[addr] {
			t.Fatalf("seed %d: %s removed without a planned change\nplan:\n%s", seed, addr, strings.Join(brief(p), "\n"))
		}
	}
	for _, c := range p.Changes {
		if b[c.Address] == a[c.Address] {
			t.Fatalf("seed %d: change %s %s had no effect", seed, c.Action, c.Address)
		}
	}
}
