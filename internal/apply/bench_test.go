package apply

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
	"github.com/enrolctl/enrolctl/internal/state"
)

// BenchmarkPlanLargeSite reads and plans a large site through the real client and the
// REST protocol: 1,000 courses of 60 manual enrolments each (60,000 enrolments, 6,000
// users), every enrolment renewed. Target: under 5 s per plan on 2 cores.
func BenchmarkPlanLargeSite(b *testing.B) {
	const courses, perCourse, users = 1000, 60, 6000
	sim := moodlesim.New(moodlesim.Options{})
	sim.AddToken(token, "enrolctl", "admin")
	cat := sim.AddCategory("Fac")
	ids := make([]int64, users)
	for i := range ids {
		u := fmt.Sprintf("%08d", 30000000+i)
		ids[i] = sim.AddUser(moodlesim.User{Username: u, Firstname: "F", Lastname: "L", Email: u + "@x.fr"})
	}
	end := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC).Unix()
	renewed := time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC).Unix()
	var desired state.Snapshot
	for c := range courses {
		short := fmt.Sprintf("COURSE-%04d", c)
		cid := sim.AddCourse(moodlesim.Course{Shortname: short, Fullname: short, Category: cat, Visible: true})
		inst := manualInstance(sim, cid)
		d := state.Course{Shortname: short, Methods: []state.Method{{Type: state.Manual, Enabled: true}}}
		for k := range perCourse {
			u := (c*perCourse + k) % users
			sim.Enrol(inst, ids[u], student, 0, end, false)
			d.Enrolments = append(d.Enrolments, state.Enrolment{Username: fmt.Sprintf("%08d", 30000000+u), Method: "manual", Roles: []string{"student"}, End: renewed, KeepStart: true})
		}
		desired.Courses = append(desired.Courses, d)
	}
	desired.Normalize()
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	client, err := moodle.New(moodle.Config{URL: srv.URL, Token: token})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		site, err := client.ReadSite(ctx)
		if err != nil {
			b.Fatal(err)
		}
		obs, err := client.Observe(ctx, site, desired.Shortnames(), desired.Usernames())
		if err != nil {
			b.Fatal(err)
		}
		p := diff.Compute(desired, obs)
		if got := p.Summary().Change; got != courses*perCourse {
			b.Fatalf("plan has %d changes, want %d", got, courses*perCourse)
		}
	}
}
