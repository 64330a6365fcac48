// Command sitejson writes a site definition as moodlesim's saved JSON on stdout, for
// dev/moodle/seed.php to load into a real Moodle (dev/moodle-site.sh runs it):
//
//	go run ./dev/sitejson demo    # the sandbox's demo site (moodlesim.DemoSite)
//	go run ./dev/sitejson timing  # ~100 courses and ~35,000 enrolments for timing
//
// Taking the demo from moodlesim keeps one definition of it: the sandbox and the real
// test site hold the same courses, users, cohorts, methods and enrolments.
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sitejson demo|timing")
		os.Exit(2)
	}
	var s *moodlesim.Sim
	switch os.Args[1] {
	case "demo":
		s = moodlesim.DemoSite()
	case "timing":
		s = timingSite()
	default:
		fmt.Fprintf(os.Stderr, "sitejson: unknown site %q (demo or timing)\n", os.Args[1])
		os.Exit(2)
	}
	if err := s.Save(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sitejson:", err)
		os.Exit(1)
	}
}

// Timing site shape: 100 courses of 350 students each (35,000 enrolments) drawn from
// 7,000 users, two teachers per course, every course with groups A and B holding half
// of its students, and a quarter of the enrolments ending on 2027-06-30.
const (
	timingCourses  = 100
	timingUsers    = 7000
	timingPerClass = 350
)

func timingSite() *moodlesim.Sim {
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	s := moodlesim.New(moodlesim.Options{Now: func() time.Time { return start }, TimeZone: "Europe/Paris"})
	rng := rand.New(rand.NewPCG(2026, 100))
	cat := s.AddCategory("Timing")
	users := make([]int64, timingUsers)
	for i := range users {
		name := fmt.Sprintf("t%05d", i)
		users[i] = s.AddUser(moodlesim.User{Username: name, Firstname: "Timing", Lastname: name,
			Email: name + "@timing.invalid", IDNumber: "T" + name})
	}
	end := time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC).Unix()
	for c := range timingCourses {
		short := fmt.Sprintf("T-%03d", c)
		course := s.AddCourse(moodlesim.Course{Shortname: short, Fullname: "Timing course " + short, Category: cat, Visible: true})
		manual := s.AddInstance(moodlesim.Instance{Enrol: "manual", CourseID: course, RoleID: 5})
		ga, gb := s.AddGroup(course, "A"), s.AddGroup(course, "B")
		for i, k := range rng.Perm(timingUsers)[:timingPerClass] {
			var until int64
			if i%4 == 0 {
				until = end
			}
			s.Enrol(manual, users[k], 5, start.Unix(), until, false)
			if i%2 == 0 {
				s.AddMember(ga, users[k])
			} else if i%3 == 0 {
				s.AddMember(gb, users[k])
			}
		}
		s.Enrol(manual, users[c], 3, start.Unix(), 0, false)
		s.Enrol(manual, users[c+timingCourses], 4, start.Unix(), 0, false)
	}
	return s
}
