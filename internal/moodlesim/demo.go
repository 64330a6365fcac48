package moodlesim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the demo's dates are Europe/Paris days on any machine
)

// demoBuilt is the demo site's creation time: every timecreated is this instant, so
// the demo saves to the same bytes on every machine.
var demoBuilt = time.Date(2026, 9, 1, 8, 0, 0, 0, paris())

// paris is Europe/Paris, loaded once: each time.LoadLocation reads and parses the zone
// file again, and the demo asks for it per enrolment.
var paris = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err) // embedded by time/tzdata
	}
	return loc
})

// endOfDay is the timestamp enrolctl writes for "until: YYYY-MM-DD": the following
// midnight in the site's time zone.
func endOfDay(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d+1, 0, 0, 0, 0, paris()).Unix()
}

func startOfDay(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, paris()).Unix()
}

var demoFirstnames = []string{"Emma", "Louise", "Jade", "Alice", "Chloé", "Lina", "Léa", "Rose", "Anna", "Mila",
	"Inès", "Ambre", "Julia", "Mia", "Léna", "Manon", "Juliette", "Lou", "Camille", "Zoé", "Gabriel", "Léo", "Raphaël",
	"Arthur", "Louis", "Lucas", "Adam", "Jules", "Hugo", "Maël", "Liam", "Noah", "Paul", "Ethan", "Tiago", "Sacha",
	"Nathan", "Tom", "Théo", "Mohamed", "Yanis", "Clément", "Sarah", "Nour", "Yasmine", "Enzo", "Axel", "Romane",
	"Margaux", "Baptiste", "Océane", "Maxime", "Pauline", "Antoine", "Clara", "Victor", "Eva", "Quentin", "Lucie", "Noé"}

var demoLastnames = []string{"Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
	"Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
	"Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefevre", "Faure", "Andre", "Mercier",
	"Blanc", "Guerin", "Boyer", "Garnier", "Chevalier", "Francois", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin",
	"Clement", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand", "Duval", "Denis",
	"Dumas", "Marie", "Lemaire", "Noel", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard", "Giraud", "Joly", "Riviere",
	"Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Martinez", "Gerard", "Roche", "Renard", "Schmitt", "Roy",
	"Leroux", "Colin", "Vidal", "Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumont", "Lacroix"}

// demoTeachers are the 40 teacher accounts: lastname + first initial + 01.
var demoTeachers = [][2]string{
	{"Jean", "Dumont"}, {"Sophie", "Marchal"}, {"Pierre", "Lemaitre"}, {"Claire", "Besson"}, {"Nicolas", "Perrot"},
	{"Isabelle", "Carpentier"}, {"Olivier", "Hamon"}, {"Nathalie", "Bailly"}, {"Philippe", "Collet"}, {"Valérie", "Germain"},
	{"Stéphane", "Leclerc"}, {"Sandrine", "Huet"}, {"Laurent", "Charpentier"}, {"Christine", "Guillot"}, {"Thierry", "Hubert"},
	{"Catherine", "Rey"}, {"Frédéric", "Poulain"}, {"Hélène", "Langlois"}, {"Éric", "Boucher"}, {"Anne", "Cordier"},
	{"Julien", "Tessier"}, {"Marion", "Vasseur"}, {"Sébastien", "Millet"}, {"Aurélie", "Benard"}, {"David", "Marty"},
	{"Céline", "Prevost"}, {"Vincent", "Jacob"}, {"Émilie", "Leblanc"}, {"Romain", "Collin"}, {"Julie", "Perret"},
	{"Guillaume", "Barre"}, {"Caroline", "Moulin"}, {"Mathieu", "Gilles"}, {"Élodie", "Bouvier"}, {"Alexandre", "Hoarau"},
	{"Virginie", "Lecomte"}, {"Fabrice", "Cousin"}, {"Karine", "Lebrun"}, {"Yannick", "Royer"}, {"Agnès", "Pasquier"},
}

// DemoCourse describes one course of the demo site.
type demoCourse struct {
	shortname, fullname, category string
}

var demoCategories = struct{ L1, L2, MIAGE, IFSI, FC string }{
	L1: "Ecampus / Sciences / L1 Informatique", L2: "Ecampus / Sciences / L2 Informatique",
	MIAGE: "Ecampus / Sciences / Master MIAGE", IFSI: "Santé / IFSI", FC: "Formation continue",
}

var demoCourses = []demoCourse{
	{"L1-INFO-TRONC-COMMUN", "Tronc commun L1 Informatique", demoCategories.L1},
	{"L1-INFO-ALGO", "Algorithmique 1", demoCategories.L1},
	{"L1-INFO-PROG", "Programmation impérative", demoCategories.L1},
	{"L1-INFO-MATHS", "Mathématiques discrètes", demoCategories.L1},
	{"L1-INFO-ARCHI", "Architecture des ordinateurs", demoCategories.L1},
	{"L1-INFO-WEB", "Technologies du Web", demoCategories.L1},
	{"L1-INFO-ANGLAIS", "Anglais scientifique", demoCategories.L1},
	{"L2-INFO-BDD", "Bases de données", demoCategories.L2},
	{"L2-INFO-POO", "Programmation orientée objet", demoCategories.L2},
	{"L2-INFO-RESEAUX", "Réseaux", demoCategories.L2},
	{"L2-INFO-SYSTEMES", "Systèmes d'exploitation", demoCategories.L2},
	{"L2-INFO-ALGO2", "Algorithmique 2", demoCategories.L2},
	{"L2-INFO-GENIE-LOG", "Génie logiciel", demoCategories.L2},
	{"M1-MIAGE-GESTION-PROJET", "Gestion de projet", demoCategories.MIAGE},
	{"M1-MIAGE-BI", "Informatique décisionnelle", demoCategories.MIAGE},
	{"M1-MIAGE-ERP", "Progiciels de gestion intégrés", demoCategories.MIAGE},
	{"IFSI-S1-ANAT", "S1 - Anatomie et physiologie", demoCategories.IFSI},
	{"IFSI-S1-SOINS", "S1 - Soins infirmiers fondamentaux", demoCategories.IFSI},
	{"IFSI-S1-PHARMA", "S1 - Pharmacologie", demoCategories.IFSI},
	{"IFSI-S1-PSYCHO", "S1 - Psychologie et sociologie", demoCategories.IFSI},
	{"IFSI-S3-PATHO", "S3 - Processus pathologiques", demoCategories.IFSI},
	{"IFSI-S3-SANTE-PUB", "S3 - Santé publique", demoCategories.IFSI},
	{"IFSI-S3-STAGE", "S3 - Suivi de stage", demoCategories.IFSI},
	{"FC-EXCEL-INIT", "Excel - initiation", demoCategories.FC},
	{"FC-EXCEL-PERF", "Excel - perfectionnement", demoCategories.FC},
	{"FC-WORD", "Word - les essentiels", demoCategories.FC},
	{"FC-MOODLE-PRISE-EN-MAIN", "Moodle - prise en main", demoCategories.FC},
	{"FC-ANGLAIS-B1", "Anglais professionnel B1", demoCategories.FC},
	{"FC-RGPD", "RGPD au quotidien", demoCategories.FC},
	{"FC-MANAGEMENT", "Management d'équipe", demoCategories.FC},
}

// The demo site's numbers of users, enrolments and cohort members, for which DemoSite
// makes room before it builds the site (TestDemoSiteSizes keeps them true).
const demoUsers, demoEnrolments, demoCohortMembers = 1248, 6007, 1090

// demo builds the demo site step by step.
type demo struct {
	s       *Sim
	rng     *rand.Rand
	taken   map[string]bool
	course  map[string]int64
	manual  map[string]int64 // course shortname -> manual instance
	teacher []int64
	emails  map[string]int // e-mail local part -> users holding it
}

// DemoSite returns the sandbox's demo site: a French university on 2026-09-01, the
// same on every call (fixed seed, fixed creation time; the clock is time.Now after).
//
//   - Categories Ecampus / Sciences / {L1 Informatique, L2 Informatique, Master MIAGE},
//     Santé / IFSI, Formation continue; 30 courses (demoCourses).
//   - 1,200 learners with 8-digit numbers as usernames (L1 420, L2 300, MIAGE 60,
//     IFSI 2025/2026/2027 130/150/90, continuing education 50) and 40 teachers
//     (dumontj01, marchals01, ...).
//   - Cohorts L1-INFO-2026, L2-INFO-2026, IFSI-2025, IFSI-2026, IFSI-2027.
//   - Sciences courses: a database instance with the promotion's students (enrol_database
//     student roles), teachers enrolled manually; L1-INFO-TRONC-COMMUN syncs the cohort
//     L1-INFO-2026 and L2-INFO-GENIE-LOG the cohort L2-INFO-2026; L1-INFO-ALGO has 12
//     repeating students whose manual enrolment ended on 2026-06-30 and a group TP1;
//     L1-INFO-PROG has TP1 but no TP2.
//   - IFSI S1 courses sync IFSI-2026 (into group "Promo 2026" in ANAT and SOINS), S3
//     courses sync IFSI-2025; placement tutors' manual enrolments ended on 2026-08-31.
//   - Continuing education: manual and self only; in FC-EXCEL-INIT 20 learners ended on
//     2026-06-30 and 3 are suspended.
//
// The token "sandbox" (service enrolctl, user admin) is registered; it is not a
// secret, the sandbox is local.
func DemoSite() *Sim {
	s := New(Options{Now: func() time.Time { return demoBuilt }, TimeZone: "Europe/Paris"})
	s.d.Config.SiteName = "Université de démonstration"
	s.d.makeRoom(demoUsers, demoEnrolments, demoCohortMembers)
	b := &demo{s: s, rng: rand.New(rand.NewPCG(20260901, 42)), taken: map[string]bool{},
		course: map[string]int64{}, manual: map[string]int64{}, emails: map[string]int{}}
	b.build()
	b.lastAccess()
	s.SetClock(time.Now)
	s.AddToken("sandbox", ServiceEnrolctl, "admin")
	return s
}

func (b *demo) user(username, first, last string) int64 {
	b.taken[username] = true
	return b.s.AddUser(User{Username: username, Firstname: first, Lastname: last,
		Email: b.email(first, last) + "@etu.univ-demo.fr", IDNumber: username})
}

// email is firstname.lastname, with a number from the second holder on, as
// universities hand them out.
func (b *demo) email(first, last string) string {
	local := strings.ToLower(asciiFold(first) + "." + strings.ReplaceAll(asciiFold(last), " ", "-"))
	b.emails[local]++
	if n := b.emails[local]; n > 1 {
		local += fmt.Sprint(n)
	}
	return local
}

// lastAccess gives every participant a last course access (user_lastaccess): teachers
// and most current learners in the three weeks before the demo's date, learners whose
// enrolment ended in the two months before it ended, about one learner in eight never.
func (b *demo) lastAccess() {
	rng := rand.New(rand.NewPCG(20260901, 7))
	d := b.s.d
	built := demoBuilt.Unix()
	const day = 86400
	for _, id := range keys(d.UEs) { // by id, without a copy of every row
		ue := d.UEs[id]
		courseID := d.Instances[ue.EnrolID].CourseID
		if _, done := d.LastAccess[courseID][ue.UserID]; done {
			continue
		}
		var at int64
		switch teacher := slices.Contains(b.teacher, ue.UserID); {
		case teacher:
			at = built - rng.Int64N(21*day)
		case ue.TimeEnd != 0 && ue.TimeEnd < built:
			at = ue.TimeEnd - rng.Int64N(60*day)
		case rng.IntN(8) == 0:
			continue // never opened the course
		default:
			at = built - rng.Int64N(21*day)
		}
		d.setLastAccess(courseID, ue.UserID, at)
	}
}

// learners creates n users whose 8-digit usernames start with prefix.
func (b *demo) learners(n int, prefix string) []int64 {
	ids := make([]int64, 0, n)
	for len(ids) < n {
		name := fmt.Sprintf("%s%06d", prefix, b.rng.IntN(1000000))
		if b.taken[name] {
			continue
		}
		first := demoFirstnames[b.rng.IntN(len(demoFirstnames))]
		last := demoLastnames[b.rng.IntN(len(demoLastnames))]
		ids = append(ids, b.user(name, first, last))
	}
	return ids
}

func (b *demo) cohort(idnumber, name string, members []int64) int64 {
	id := b.s.AddCohort(Cohort{IDNumber: idnumber, Name: name, Visible: true})
	b.s.AddCohortMembers(id, members...)
	return id
}

func (b *demo) instance(course, enrol string, e Instance) int64 {
	e.Enrol, e.CourseID = enrol, b.course[course]
	return b.s.AddInstance(e)
}

// teach enrols teachers manually without an end date.
func (b *demo) teach(course string, editing int64, others ...int64) {
	start := startOfDay(2025, 9, 1)
	b.s.Enrol(b.manual[course], editing, 3, start, 0, false)
	for _, t := range others {
		b.s.Enrol(b.manual[course], t, 4, start, 0, false)
	}
}

func (b *demo) build() {
	s := b.s
	for _, c := range demoCourses {
		cat := s.AddCategory(c.category)
		b.course[c.shortname] = s.AddCourse(Course{Shortname: c.shortname, Fullname: c.fullname, Category: cat, Visible: true,
			IDNumber: "2026-" + c.shortname})
	}
	// Every course gets the default manual instance first, as Moodle does.
	for _, c := range demoCourses {
		b.manual[c.shortname] = b.instance(c.shortname, "manual", Instance{RoleID: 5})
	}
	for _, t := range demoTeachers {
		username := strings.ToLower(asciiFold(t[1]) + asciiFold(t[0])[:1] + "01")
		b.teacher = append(b.teacher, b.s.AddUser(User{Username: username, Firstname: t[0], Lastname: t[1],
			Email: b.email(t[0], t[1]) + "@univ-demo.fr", IDNumber: "P" + username}))
	}
	repeaters := []int64{b.user("21009539", "Kevin", "Marchand")}
	for i := range 11 {
		repeaters = append(repeaters, b.learners(1, fmt.Sprintf("2%d", 2+i%4))...)
	}
	l1 := b.learners(408, "26")
	l1 = append(l1, repeaters...)
	l2 := b.learners(300, "25")
	miage := b.learners(60, "24")
	ifsi25 := b.learners(130, "35")
	ifsi26 := b.learners(150, "36")
	ifsi27 := b.learners(90, "37")
	fc := b.learners(50, "90")

	b.cohort("L1-INFO-2026", "L1 Informatique 2026-2027", l1)
	b.cohort("L2-INFO-2026", "L2 Informatique 2026-2027", l2)
	ifsi25c := b.cohort("IFSI-2025", "IFSI promotion 2025-2028", ifsi25)
	ifsi26c := b.cohort("IFSI-2026", "IFSI promotion 2026-2029", ifsi26)
	b.cohort("IFSI-2027", "IFSI promotion février 2027", ifsi27)

	t := b.teacher
	// Sciences: database sync of the promotion, teachers enrolled by hand.
	database := func(course string, students []int64) {
		id := b.instance(course, "database", Instance{})
		for _, u := range students {
			s.Enrol(id, u, 5, 0, 0, false)
		}
	}
	l1courses := []string{"L1-INFO-ALGO", "L1-INFO-PROG", "L1-INFO-MATHS", "L1-INFO-ARCHI", "L1-INFO-WEB", "L1-INFO-ANGLAIS"}
	for i, c := range l1courses {
		database(c, l1[:408])
		b.teach(c, t[i], t[10+i])
	}
	b.instance("L1-INFO-TRONC-COMMUN", "cohort", Instance{RoleID: 5, CustomInt1: s.CohortID("L1-INFO-2026")})
	b.teach("L1-INFO-TRONC-COMMUN", t[0], t[1], t[2])
	// Repeating students of L1-INFO-ALGO kept access until the end of June.
	algo := b.course["L1-INFO-ALGO"]
	tp1 := s.AddGroup(algo, "TP1")
	for i, u := range repeaters {
		s.Enrol(b.manual["L1-INFO-ALGO"], u, 5, startOfDay(2025, 9, 1), endOfDay(2026, 6, 30), false)
		if i < 6 {
			s.AddMember(tp1, u)
		}
	}
	s.AddGroup(b.course["L1-INFO-PROG"], "TP1")
	b.instance("L1-INFO-WEB", "self", Instance{Name: "Auditeurs libres", Status: InstanceDisabled, RoleID: 5, CustomInt6: 1})

	l2courses := []string{"L2-INFO-BDD", "L2-INFO-POO", "L2-INFO-RESEAUX", "L2-INFO-SYSTEMES", "L2-INFO-ALGO2"}
	for i, c := range l2courses {
		database(c, l2)
		b.teach(c, t[20+i], t[25+i])
	}
	b.instance("L2-INFO-GENIE-LOG", "cohort", Instance{RoleID: 5, CustomInt1: s.CohortID("L2-INFO-2026")})
	b.teach("L2-INFO-GENIE-LOG", t[30], t[31])
	bdd := b.course["L2-INFO-BDD"]
	s.AddGroup(bdd, "TP1")
	s.AddGroup(bdd, "TP2")

	for i, c := range []string{"M1-MIAGE-GESTION-PROJET", "M1-MIAGE-BI", "M1-MIAGE-ERP"} {
		database(c, miage)
		b.teach(c, t[32+i])
	}
	b.instance("M1-MIAGE-BI", "self", Instance{Name: "Auditeurs libres", RoleID: 5, CustomInt3: 20, CustomInt6: 1})

	// Santé / IFSI: cohort sync, placement tutors enrolled by hand until the end of August.
	for i, c := range []string{"IFSI-S1-ANAT", "IFSI-S1-SOINS", "IFSI-S1-PHARMA", "IFSI-S1-PSYCHO"} {
		group := int64(0)
		if i < 2 {
			group = s.AddGroup(b.course[c], "Promo 2026")
		}
		b.instance(c, "cohort", Instance{RoleID: 5, CustomInt1: ifsi26c, CustomInt2: group})
		b.teach(c, t[35+i%3], t[38])
	}
	tutors := b.learners(8, "80")
	for _, c := range []string{"IFSI-S1-ANAT", "IFSI-S1-SOINS"} {
		for _, u := range tutors {
			s.Enrol(b.manual[c], u, 4, startOfDay(2025, 9, 1), endOfDay(2026, 8, 31), false)
		}
	}
	for _, c := range []string{"IFSI-S3-PATHO", "IFSI-S3-SANTE-PUB", "IFSI-S3-STAGE"} {
		b.instance(c, "cohort", Instance{RoleID: 5, CustomInt1: ifsi25c})
		b.teach(c, t[36], t[39])
	}

	// Formation continue: manual and self only.
	excel := "FC-EXCEL-INIT"
	for i, u := range fc[:30] {
		var end int64
		suspended := false
		switch {
		case i < 20:
			end = endOfDay(2026, 6, 30)
		case i < 25:
			end = endOfDay(2026, 12, 31)
		case i < 28:
			end, suspended = endOfDay(2026, 6, 30), true
		}
		s.Enrol(b.manual[excel], u, 5, startOfDay(2025, 10, 1), end, suspended)
	}
	b.teach(excel, t[3])
	self := b.instance(excel, "self", Instance{Name: "Inscription libre", RoleID: 5, CustomInt3: 30, CustomInt6: 1})
	for _, u := range fc[30:34] {
		s.Enrol(self, u, 5, startOfDay(2026, 1, 15), 0, false)
	}
	for i, u := range fc[20:45] {
		end := endOfDay(2026, 8, 31)
		if i%5 == 0 {
			end = endOfDay(2027, 6, 30)
		}
		s.Enrol(b.manual["FC-EXCEL-PERF"], u, 5, startOfDay(2026, 1, 5), end, i%7 == 3)
	}
	b.teach("FC-EXCEL-PERF", t[3], t[4])
	for i, c := range []string{"FC-WORD", "FC-MOODLE-PRISE-EN-MAIN", "FC-ANGLAIS-B1", "FC-RGPD", "FC-MANAGEMENT"} {
		b.teach(c, t[5+i%5])
		for j := range 6 {
			u := fc[(i*7+j*3)%50]
			s.Enrol(b.manual[c], u, 5, startOfDay(2026, 2, 1), endOfDay(2026, 6, 30), j == 5)
		}
	}
	b.instance("FC-WORD", "self", Instance{Name: "Inscription libre", RoleID: 5, CustomInt6: 1})
	b.instance("FC-MOODLE-PRISE-EN-MAIN", "self", Instance{Name: "Personnels", RoleID: 5, Status: InstanceDisabled, CustomInt6: 1})
	b.instance("FC-MOODLE-PRISE-EN-MAIN", "guest", Instance{Status: InstanceDisabled})
}

// asciiFold drops French accents for usernames. One rune for another: a Replacer
// built per call made a trie each time, a fifth of a first sandbox plan's memory.
func asciiFold(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case 'é', 'è', 'ê':
			return 'e'
		case 'É':
			return 'E'
		case 'à', 'â':
			return 'a'
		case 'ç':
			return 'c'
		case 'î':
			return 'i'
		case 'ô':
			return 'o'
		case 'ù', 'û':
			return 'u'
		}
		return r
	}, s)
}
