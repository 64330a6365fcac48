package state

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// managedByHand is the managed part of c as ManagedFingerprint defines it: every
// method, the manual enrolments, every group with its manual members only.
func managedByHand(c Course) Course {
	m := Course{Shortname: c.Shortname, ID: c.ID, Methods: slices.Clone(c.Methods)}
	for _, e := range c.Enrolments {
		if e.Method == string(Manual) {
			m.Enrolments = append(m.Enrolments, e)
		}
	}
	for _, g := range c.Groups {
		mg := Group{Name: g.Name, ID: g.ID}
		for _, mem := range g.Members {
			if mem.Component == "" {
				mg.Members = append(mg.Members, mem)
			}
		}
		m.Groups = append(m.Groups, mg)
	}
	return m
}

// strangeStrings are names whose JSON encoding/json escapes: quotes, backslashes,
// HTML characters, control characters, line separators, invalid UTF-8, accents.
var strangeStrings = []string{"", "a", "b", "Accès", `"q"`, `back\slash`, "<b>&amp;", "tab\there", "nl\n", "\x00\x1f",
	"\u2028\u2029", "\xff\xfe", "日本", "z", "student", "teacher", "manual", "self", "enrol_cohort"}

// randomCourse is a course with every field ManagedFingerprint reads set at random,
// in any order, normalised or not.
func randomCourse(r *rand.Rand) Course {
	str := func() string { return strangeStrings[r.IntN(len(strangeStrings))] }
	num := func() int64 { return []int64{0, 1, -1, 42, 1 << 40}[r.IntN(5)] }
	c := Course{Shortname: str(), ID: num()}
	for range r.IntN(4) {
		t := []MethodType{Manual, Self, Cohort, Meta, Guest, Database, "muprog"}[r.IntN(7)]
		c.Methods = append(c.Methods, Method{Type: t, Name: str(), Cohort: str(), Role: str(), Course: str(), Group: str(),
			Enabled: r.IntN(2) == 0, MaxUsers: int(num()), Absent: r.IntN(3) == 0, ID: num()})
	}
	for range r.IntN(6) {
		e := Enrolment{Username: str(), Method: []string{"manual", "self", "cohort:X:student"}[r.IntN(3)], Start: num(), End: num(),
			Suspended: r.IntN(2) == 0, KeepStart: r.IntN(3) == 0, UserID: num()}
		for range r.IntN(3) {
			e.Roles = append(e.Roles, str())
		}
		c.Enrolments = append(c.Enrolments, e)
	}
	for range r.IntN(3) {
		g := Group{Name: str(), PruneMembers: r.IntN(2) == 0, ID: num()}
		for range r.IntN(4) {
			g.Members = append(g.Members, Member{Username: str(), Component: []string{"", "", "enrol_cohort"}[r.IntN(3)], ItemID: num()})
		}
		c.Groups = append(c.Groups, g)
	}
	if r.IntN(2) == 0 {
		c.Normalize()
	}
	return c
}

// ManagedFingerprint writes the JSON itself: it must hash exactly what encoding/json
// gives for the normalised managed course, whatever the strings and whether or not
// the course is normalised, and leave the course as it was.
func TestManagedFingerprintIsTheJSONs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		c := randomCourse(r)
		before := c.clone()
		if got, want := c.ManagedFingerprint(), fingerprint(managedByHand(c)); got != want {
			t.Fatalf("course %d %+v: ManagedFingerprint %s, want %s", i, c, got, want)
		}
		if fmt.Sprint(c) != fmt.Sprint(before) {
			t.Fatalf("course %d: ManagedFingerprint changed it:\n%+v\nwas\n%+v", i, c, before)
		}
	}
}

func FuzzManagedFingerprint(f *testing.F) {
	f.Add("Accès", "<TP1>", "u\x00", int64(3))
	f.Add("\xff", "\u2028", `"`, int64(-1))
	f.Fuzz(func(t *testing.T, course, group, user string, n int64) {
		c := Course{Shortname: course, ID: n,
			Methods:    []Method{{Type: Self, Name: group, Role: user, ID: n}, {Type: Manual, Enabled: true}},
			Enrolments: []Enrolment{{Username: user, Method: "manual", Roles: []string{group, user}, End: n}, {Username: course, Method: "manual"}},
			Groups:     []Group{{Name: group, Members: []Member{{Username: user}, {Username: course, ItemID: n}}}, {Name: user}},
		}
		if got, want := c.ManagedFingerprint(), fingerprint(managedByHand(c)); got != want {
			t.Fatalf("%+v: ManagedFingerprint %s, want %s", c, got, want)
		}
	})
}

// BenchmarkManagedFingerprint fingerprints a course as Moodle gives it (normalised):
// 30 manual and 10 cohort enrolments, three groups of ten members.
func BenchmarkManagedFingerprint(b *testing.B) {
	c := Course{Shortname: "DRT-L1-P002-C00021", ID: 21, Methods: []Method{{Type: Manual, Enabled: true, ID: 1},
		{Type: Cohort, Cohort: "L1-DRT-2026", Role: "student", Enabled: true, ID: 2}}}
	for i := range 40 {
		e := Enrolment{Username: fmt.Sprintf("user%03d", i), Method: "manual", Roles: []string{"student"}, Start: 1700000000, UserID: int64(i + 1)}
		if i%4 == 0 {
			e.Method = "cohort:L1-DRT-2026:student"
		}
		c.Enrolments = append(c.Enrolments, e)
	}
	for g := range 3 {
		grp := Group{Name: fmt.Sprintf("TD%d", g+1), ID: int64(g + 1)}
		for i := range 10 {
			grp.Members = append(grp.Members, Member{Username: fmt.Sprintf("user%03d", g*10+i)})
		}
		c.Groups = append(c.Groups, grp)
	}
	c.Normalize()
	b.ReportAllocs()
	for b.Loop() {
		c.ManagedFingerprint()
	}
}

// Usernames drops repeats with a set: it lists what sorting every name and dropping
// the repeats lists, whatever the courses hold.
func TestUsernamesSortedOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 200 {
		var s Snapshot
		var all []string
		for range r.IntN(5) {
			c := randomCourse(r)
			s.Courses = append(s.Courses, c)
			for _, e := range c.Enrolments {
				all = append(all, e.Username)
			}
			for _, g := range c.Groups {
				for _, m := range g.Members {
					all = append(all, m.Username)
				}
			}
		}
		slices.Sort(all)
		if got, want := s.Usernames(), slices.Compact(all); !slices.Equal(got, want) {
			t.Fatalf("Usernames() = %q, want %q", got, want)
		}
	}
}
