package moodle

import (
	"cmp"
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/moodlesim"
	"github.com/enrolctl/enrolctl/internal/state"
)

// randomCourseState is a course as an answer could hold it: instances of every kind
// (ids repeated at times), enrolments in no order, some in instances the answer lacks,
// plain and plugin roles, groups (ids repeated at times) and members, some of groups
// the answer lacks.
func randomCourseState(r *rand.Rand) CourseState {
	users := []string{"ann", "bob", "cat", "dan", "Émile", "ann2", "a/b", "a"}
	cs := CourseState{CourseID: int64(r.IntN(100)), Shortname: "C"}
	for range r.IntN(6) {
		cs.Instances = append(cs.Instances, Instance{ID: int64(1 + r.IntN(5)),
			Enrol:  []string{"manual", "self", "cohort", "meta", "database", "guest", "lti"}[r.IntN(7)],
			Status: r.IntN(2), Name: []string{"", "Open", "Open/2"}[r.IntN(3)], RoleShortname: []string{"", "student", "teacher"}[r.IntN(3)],
			CohortIDNumber: []string{"", "K1", "K1/x"}[r.IntN(3)], CohortID: int64(r.IntN(3)), LinkedCourseShortname: []string{"", "P"}[r.IntN(2)],
			GroupName: []string{"", "G"}[r.IntN(2)], MaxEnrolled: r.IntN(3)})
	}
	for i := range r.IntN(20) {
		u := r.IntN(len(users))
		cs.Enrolments = append(cs.Enrolments, UserEnrolment{ID: int64(i), InstanceID: int64(1 + r.IntN(6)), UserID: int64(u + 1),
			Username: users[u], Status: r.IntN(2), TimeStart: int64(r.IntN(3)), TimeEnd: int64(r.IntN(3))})
	}
	for range r.IntN(20) {
		ra := RoleAssignment{UserID: int64(1 + r.IntN(len(users))), RoleShortname: []string{"student", "teacher", "guest", "manager"}[r.IntN(4)]}
		if r.IntN(2) == 0 {
			ra.Component, ra.ItemID = []string{"enrol_cohort", "enrol_meta"}[r.IntN(2)], int64(r.IntN(6))
		}
		cs.Roles = append(cs.Roles, ra)
	}
	for range r.IntN(4) {
		cs.Groups = append(cs.Groups, GroupInfo{ID: int64(1 + r.IntN(4)), Name: []string{"TP1", "TP2", "A", "TP1"}[r.IntN(4)]})
	}
	for range r.IntN(12) {
		u := r.IntN(len(users))
		gm := GroupMember{GroupID: int64(1 + r.IntN(5)), UserID: int64(u + 1), Username: users[u]}
		if r.IntN(3) == 0 {
			gm.Component, gm.ItemID = "enrol_cohort", int64(r.IntN(6))
		}
		cs.Members = append(cs.Members, gm)
	}
	return cs
}

// ToCourse reuses its working space and builds the enrolments in order: it must give
// what it gave before, course after course (the same working space each time), in
// enrolment lists of its own or recycled (Recycle, which a plan calls).
func TestToCourseIsAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		cs := randomCourseState(r)
		want, got := toCourseBefore(cs), ToCourse(cs)
		if d := gocmp.Diff(want, got); d != "" {
			t.Fatalf("course %d %+v: ToCourse (-before +now):\n%s", i, cs, d)
		}
		if i%3 != 0 {
			Recycle(&got)
			if got.Enrolments != nil {
				t.Fatalf("course %d: a recycled course keeps its enrolments", i)
			}
		}
	}
}

// toCourseBefore is ToCourse as it was before it reused its working space and built
// the enrolments in order: the reference TestToCourseIsAsBefore checks it against.
func toCourseBefore(cs CourseState) state.Course {
	course := state.Course{Shortname: cs.Shortname, ID: cs.CourseID, Methods: make([]state.Method, 0, len(cs.Instances))}
	type method struct {
		m   state.Method
		key string
	}
	byID := make(map[int64]method, len(cs.Instances))
	for _, in := range cs.Instances {
		m := MethodOf(in)
		byID[in.ID] = method{m, m.Key()}
		course.Methods = append(course.Methods, m)
	}
	// Plain roles (component '', item -1 here) belong to manual and self enrolments;
	// plugin roles to their instance. Sorted by (item, user), each enrolment's roles are one
	// run, found by binary search: no map per course.
	type held struct {
		item, user int64
		role       string
	}
	ras := make([]held, 0, len(cs.Roles))
	for _, ra := range cs.Roles {
		h := held{item: -1, user: ra.UserID, role: ra.RoleShortname}
		if ra.Component != "" {
			h.item = ra.ItemID
		}
		ras = append(ras, h)
	}
	slices.SortFunc(ras, func(a, b held) int {
		return cmp.Or(cmp.Compare(a.item, b.item), cmp.Compare(a.user, b.user))
	})
	// Every enrolment's roles are a window of one array: one allocation per course
	// rather than per enrolment. Windows are capped, so an append copies.
	roles := make([]string, 0, len(cs.Roles))
	course.Enrolments = make([]state.Enrolment, 0, len(cs.Enrolments))
	for _, ue := range cs.Enrolments {
		m, ok := byID[ue.InstanceID]
		if !ok {
			continue // an instance deleted between the two reads of one query set
		}
		e := state.Enrolment{
			Username: ue.Username, UserID: ue.UserID, Method: m.key,
			Start: ue.TimeStart, End: ue.TimeEnd, Suspended: ue.Status != 0,
		}
		key := held{item: ue.InstanceID, user: ue.UserID}
		if k, ok := state.KindOf(m.m.Type); ok && !k.Synced {
			key.item = -1 // plain roles
		}
		at := len(roles)
		i, _ := slices.BinarySearchFunc(ras, key, func(a, b held) int {
			return cmp.Or(cmp.Compare(a.item, b.item), cmp.Compare(a.user, b.user))
		})
		for ; i < len(ras) && ras[i].item == key.item && ras[i].user == key.user; i++ {
			roles = append(roles, ras[i].role)
		}
		if len(roles) > at {
			e.Roles = roles[at:len(roles):len(roles)]
		}
		course.Enrolments = append(course.Enrolments, e)
	}
	// Members likewise: one array, a window per group.
	groups := make(map[int64]int, len(cs.Groups))
	course.Groups = make([]state.Group, 0, len(cs.Groups))
	for _, g := range cs.Groups {
		groups[g.ID] = len(course.Groups)
		course.Groups = append(course.Groups, state.Group{Name: g.Name, ID: g.ID})
	}
	counts := make([]int, len(course.Groups)+1)
	for _, gm := range cs.Members {
		if i, ok := groups[gm.GroupID]; ok {
			counts[i+1]++
		}
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1] // counts[i]: where group i's members start
	}
	members := make([]state.Member, counts[len(counts)-1])
	next := slices.Clone(counts[:len(course.Groups)])
	for _, gm := range cs.Members {
		if i, ok := groups[gm.GroupID]; ok {
			members[next[i]] = state.Member{Username: gm.Username, Component: gm.Component, ItemID: gm.ItemID}
			next[i]++
		}
	}
	for i := range course.Groups {
		if lo, hi := counts[i], counts[i+1]; hi > lo {
			course.Groups[i].Members = members[lo:hi:hi]
		}
	}
	course.Normalize()
	return course
}

// BenchmarkToCourse converts 1,000 courses of moodlesim's generated university (about
// 30 enrolments each), as a site-wide read does; "before" is the conversion as it was.
func BenchmarkToCourse(b *testing.B) {
	sim := moodlesim.GenerateSite(moodlesim.SiteSize{Courses: 1000})
	srv := httptest.NewServer(sim.Handler())
	b.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL, Token: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	states, err := c.CourseStates(context.Background(), sim.CourseIDs())
	if err != nil {
		b.Fatal(err)
	}
	for name, convert := range map[string]func(CourseState) state.Course{"now": ToCourse, "before": toCourseBefore} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, cs := range states {
					convert(cs)
				}
			}
		})
	}
}
