package moodlesim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// SiteSize describes a generated site for benchmarks (GenerateSite).
type SiteSize struct {
	// Courses is the number of courses (default 1,000).
	Courses int
	// EnrolmentsPerCourse is the mean number of user enrolments per course (default 30).
	EnrolmentsPerCourse int
	// Seed makes a different site of the same shape (default 1).
	Seed uint64
}

// Generated sizes: the sizes the benchmarks name.
var (
	Site1k  = SiteSize{Courses: 1000}
	Site3k  = SiteSize{Courses: 3000}
	Site10k = SiteSize{Courses: 10000}
)

var genFaculties = []struct{ code, name string }{
	{"SCI", "Sciences"}, {"LET", "Lettres"}, {"DRT", "Droit"}, {"ECO", "Économie"}, {"MED", "Médecine"},
	{"STAPS", "STAPS"}, {"IUT", "IUT"}, {"ING", "École d'ingénieurs"},
}

var genYears = []string{"L1", "L2", "L3", "M1", "M2"}

var genSubjects = []string{"Algorithmique", "Analyse", "Algèbre", "Anglais", "Bases de données", "Biologie cellulaire",
	"Chimie organique", "Communication", "Comptabilité", "Droit civil", "Droit constitutionnel", "Économie générale",
	"Électronique", "Gestion de projet", "Histoire contemporaine", "Informatique", "Linguistique", "Littérature comparée",
	"Management", "Marketing", "Mécanique", "Méthodologie", "Microéconomie", "Physiologie", "Physique", "Probabilités",
	"Programmation", "Psychologie", "Réseaux", "Sociologie", "Statistiques", "Systèmes", "Thermodynamique"}

// GenerateSite builds a realistic university site of size.Courses courses, about
// size.EnrolmentsPerCourse enrolments each (300,000 at 10k courses), deterministic for
// a seed: categories faculty / year / programme, one cohort of students per
// programme, and per course a manual instance (teachers) plus one of a database
// instance (students synced from the information system), a cohort instance (some
// into a group), a meta link to another course of the programme, manual students
// (some ended or suspended) or a self instance; groups with manual members, hidden
// courses, last course accesses. Students share courses within their programme, as in
// a real timetable. The token "bench" (ServiceAll, admin) is registered.
func GenerateSite(size SiteSize) *Sim {
	if size.Courses <= 0 {
		size.Courses = 1000
	}
	if size.EnrolmentsPerCourse <= 0 {
		size.EnrolmentsPerCourse = 30
	}
	size.Seed = cmp.Or(size.Seed, 1)
	built := time.Date(2026, 9, 1, 8, 0, 0, 0, paris())
	s := New(Options{Now: func() time.Time { return built }})
	g := &generator{rng: rand.New(rand.NewPCG(size.Seed, 2026)), size: size, built: built.Unix(), emails: map[string]int{}}
	s.admin(g.build)
	s.SetClock(time.Now)
	s.AddToken("bench", ServiceAll, "admin")
	return s
}

// CourseIDs returns every course id but the site course, in order.
func (s *Sim) CourseIDs() []int64 {
	return view(s, func(d *db) []int64 {
		return slices.DeleteFunc(keys(d.Courses), func(id int64) bool { return id == SiteCourseID })
	})
}

type generator struct {
	rng    *rand.Rand
	size   SiteSize
	built  int64
	t      *tx
	emails map[string]int
	users  int
}

// programme is a leaf category: its courses share one cohort of students.
type programme struct {
	category int64
	code     string
	cohort   int64
	students []int64
	courses  []int64
	// metaTargets are courses that may be linked from a meta instance (not meta).
	metaTargets []int64
}

const genCoursesPerProgramme = 10

func (g *generator) build(t *tx) {
	g.t = t
	d := t.d
	nprog := (g.size.Courses + genCoursesPerProgramme - 1) / genCoursesPerProgramme
	// Students take about seven courses each; a programme's cohort is sized so its ten
	// courses, drawing most of their students from it, reach the mean.
	perProgramme := max(10, g.size.EnrolmentsPerCourse*genCoursesPerProgramme*9/10/7)
	teachers := make([]int64, 0, g.size.Courses/5+1)
	for range g.size.Courses/5 + 1 {
		teachers = append(teachers, g.user(true))
	}
	faculties := map[string]int64{}
	years := map[string]int64{}
	made := 0
	for p := range nprog {
		fac := genFaculties[p%len(genFaculties)]
		year := genYears[(p/len(genFaculties))%len(genYears)]
		fid, ok := faculties[fac.code]
		if !ok {
			fid = g.category(0, fac.name, fac.code)
			faculties[fac.code] = fid
		}
		yid, ok := years[fac.code+year]
		if !ok {
			yid = g.category(fid, year, fac.code+"-"+year)
			years[fac.code+year] = yid
		}
		code := fmt.Sprintf("%s-%s-P%03d", fac.code, year, p)
		pr := &programme{code: code, category: g.category(yid, fmt.Sprintf("%s %s parcours %d", year, fac.name, p), code)}
		pr.cohort = d.next("cohort")
		d.putCohort(Cohort{ID: pr.cohort, IDNumber: code + "-2026", Name: fmt.Sprintf("%s %s 2026-2027", year, code), Visible: true})
		n := perProgramme/2 + g.rng.IntN(perProgramme+1)
		for range n {
			u := g.user(false)
			pr.students = append(pr.students, u)
			id := d.next("cohort_members")
			d.putCohortMember(CohortMember{ID: id, CohortID: pr.cohort, UserID: u, TimeAdded: g.built})
		}
		for range min(genCoursesPerProgramme, g.size.Courses-made) {
			made++
			g.course(pr, teachers, made)
		}
	}
}

func (g *generator) category(parent int64, name, idnumber string) int64 {
	id := g.t.d.next("course_categories")
	g.t.d.putCategory(Category{ID: id, Parent: parent, Name: name, IDNumber: idnumber})
	return id
}

// user creates a student (8-digit number) or a teacher account.
func (g *generator) user(teacher bool) int64 {
	d := g.t.d
	g.users++
	first := demoFirstnames[g.rng.IntN(len(demoFirstnames))]
	last := demoLastnames[g.rng.IntN(len(demoLastnames))]
	local := strings.ToLower(asciiFold(first) + "." + asciiFold(last))
	g.emails[local]++
	if n := g.emails[local]; n > 1 {
		local += fmt.Sprint(n)
	}
	u := User{ID: d.next("user"), Firstname: first, Lastname: last, Auth: "manual"}
	if teacher {
		u.Username = fmt.Sprintf("%s%s%02d", strings.ToLower(asciiFold(last)), strings.ToLower(asciiFold(first))[:1], g.users%100)
		for _, taken := d.userByUsername(u.Username); taken; _, taken = d.userByUsername(u.Username) {
			u.Username += "x"
		}
		u.Email, u.IDNumber, u.Auth = local+"@univ-gen.fr", "P"+u.Username, "cas"
	} else {
		u.Username = fmt.Sprintf("2%07d", g.users)
		u.Email, u.IDNumber = local+"@etu.univ-gen.fr", u.Username
		u.Auth = "cas"
	}
	d.putUser(u)
	return u.ID
}

// pick returns n distinct elements of from (all of them when n is larger), sorted.
// A few of many (a course's teachers among the site's) are drawn one by one, a
// repeat drawn again: a permutation of the whole pool per course made generating
// 100,000 courses quadratic (20,000 teachers shuffled per course).
func (g *generator) pick(from []int64, n int) []int64 {
	if n >= len(from) {
		return slices.Clone(from)
	}
	out := make([]int64, 0, n)
	if n*8 <= len(from) {
		for len(out) < n {
			if v := from[g.rng.IntN(len(from))]; !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	} else {
		for _, i := range g.rng.Perm(len(from))[:n] {
			out = append(out, from[i])
		}
	}
	slices.Sort(out)
	return out
}

func (g *generator) course(pr *programme, teachers []int64, n int) {
	t, d, rng := g.t, g.t.d, g.rng
	subject := genSubjects[rng.IntN(len(genSubjects))]
	co := Course{ID: d.next("course"), Shortname: fmt.Sprintf("%s-C%05d", pr.code, n),
		Fullname: fmt.Sprintf("%s %d", subject, 1+rng.IntN(4)), IDNumber: fmt.Sprintf("2026-%s-C%05d", pr.code, n),
		Category: pr.category, Visible: rng.IntN(33) != 0}
	d.putCourse(co)
	pr.courses = append(pr.courses, co.ID)
	instance := func(e Instance) Instance {
		e.CourseID = co.ID
		return d.Instances[t.addInstance(e)]
	}
	manual := instance(Instance{Enrol: "manual", RoleID: 5, CustomInt1: 1})
	if rng.IntN(4) == 0 {
		instance(Instance{Enrol: "guest", Status: InstanceDisabled})
	}
	start := g.built - 365*86400
	for i, u := range g.pick(teachers, 1+rng.IntN(2)) {
		role := int64(3)
		if i > 0 {
			role = 4
		}
		t.enrolUser(manual, u, role, start, 0, UserActive)
	}
	// Students: about nine in ten from the programme's cohort.
	want := g.size.EnrolmentsPerCourse - 2 + rng.IntN(5)
	students := g.pick(pr.students, want*9/10)
	switch r := rng.IntN(100); {
	case r < 35:
		db := instance(Instance{Enrol: "database"})
		for _, u := range students {
			t.enrolUser(db, u, 5, 0, 0, UserActive)
		}
		pr.metaTargets = append(pr.metaTargets, co.ID)
	case r < 60:
		var group int64
		if rng.IntN(2) == 0 {
			group = t.addGroup(Group{CourseID: co.ID, Name: "Promo " + pr.code})
		}
		instance(Instance{Enrol: "cohort", RoleID: 5, CustomInt1: pr.cohort, CustomInt2: group})
		pr.metaTargets = append(pr.metaTargets, co.ID)
	case r < 70 && len(pr.metaTargets) > 0:
		instance(Instance{Enrol: "meta", CustomInt1: pr.metaTargets[rng.IntN(len(pr.metaTargets))]})
	case r < 90:
		for i, u := range students {
			end, status := int64(0), UserActive
			switch {
			case i%11 == 3:
				end = g.built - 60*86400 // ended in June
			case i%17 == 5:
				status = UserSuspended
			}
			t.enrolUser(manual, u, 5, start, end, status)
		}
		pr.metaTargets = append(pr.metaTargets, co.ID)
	default:
		self := instance(Instance{Enrol: "self", Name: "Inscription libre", RoleID: 5, CustomInt3: 40, CustomInt4: 1, CustomInt6: 1})
		half := len(students) / 2
		for _, u := range students[:half] {
			t.enrolUser(self, u, 5, g.built-30*86400, 0, UserActive)
		}
		for _, u := range students[half:] {
			t.enrolUser(manual, u, 5, start, 0, UserActive)
		}
	}
	t.settle()
	// Groups with manual members among the enrolled.
	var enrolled []int64
	for _, e := range d.courseInstances(co.ID) {
		for _, ue := range d.instanceUEs(e.ID) {
			if !slices.Contains(enrolled, ue.UserID) {
				enrolled = append(enrolled, ue.UserID)
			}
		}
	}
	for i := range rng.IntN(4) {
		grp := d.Groups[t.addGroup(Group{CourseID: co.ID, Name: fmt.Sprintf("TD%d", i+1)})]
		for j, u := range enrolled {
			if j%3 == i {
				t.addMember(grp, u, "", 0)
			}
		}
	}
	for _, u := range enrolled {
		if rng.IntN(8) != 0 {
			d.setLastAccess(co.ID, u, g.built-rng.Int64N(30*86400))
		}
	}
}
