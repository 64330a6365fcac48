package review

import (
	"fmt"
	"testing"
	"time"

	_ "time/tzdata"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

func paris(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// renewalPlan renews perCourse manual enrolments in each of courses courses (one in
// ten was suspended and is reactivated), and leaves one unmanaged enrolment per course.
func renewalPlan(t testing.TB, courses, perCourse int) diff.Plan {
	loc := paris(t)
	end26 := time.Date(2026, 7, 1, 0, 0, 0, 0, loc).Unix()
	end27 := time.Date(2027, 7, 1, 0, 0, 0, 0, loc).Unix()
	dir := state.Directory{Users: map[string]int64{}, Roles: map[string]int64{"student": 5}, Courses: map[string]int64{},
		EnabledPlugins: []string{"manual"}}
	var desired, observed state.Snapshot
	for c := range courses {
		name := fmt.Sprintf("L1-C%04d", c)
		dir.Courses[name] = int64(c + 1)
		manual := []state.Method{{Type: state.Manual, Enabled: true}}
		d := state.Course{Shortname: name, Methods: manual}
		o := state.Course{Shortname: name, ID: int64(c + 1), Methods: []state.Method{{Type: state.Manual, Enabled: true, ID: int64(c + 1)}}}
		for i := range perCourse {
			u := fmt.Sprintf("21%06d", c*perCourse+i)
			dir.Users[u] = int64(len(dir.Users) + 1)
			d.Enrolments = append(d.Enrolments, state.Enrolment{Username: u, Method: "manual", Roles: []string{"student"}, End: end27})
			o.Enrolments = append(o.Enrolments, state.Enrolment{Username: u, Method: "manual", Roles: []string{"student"}, End: end26, Suspended: i%10 == 0})
		}
		stranger := fmt.Sprintf("55%06d", c)
		dir.Users[stranger] = int64(len(dir.Users) + 1)
		o.Enrolments = append(o.Enrolments, state.Enrolment{Username: stranger, Method: "manual", Roles: []string{"student"}, End: end26})
		desired.Courses = append(desired.Courses, d)
		observed.Courses = append(observed.Courses, o)
	}
	observed.Directory = dir
	p := diff.ComputeWithOptions(desired, observed, diff.Options{Location: loc})
	p.Site, p.Commit = "ecampus", "4f9c2e1"
	return p
}
