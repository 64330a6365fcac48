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

// renewSite builds a site of courses×perCourse manual enrolments, students shared
// across courses the way a year's cohort is (course c holds users c*perCourse/2 on), and
// returns it with a desired state renewing every enrolment to end.
func renewSite(b *testing.B, courses, perCourse int) (*moodlesim.Sim, *moodle.Client, func(end int64) state.Snapshot, func()) {
	sim := moodlesim.New(moodlesim.Options{})
	sim.AddToken(token, "enrolctl", "admin")
	cat := sim.AddCategory("Fac")
	users := courses*perCourse/2 + perCourse
	ids := make([]int64, users)
	for i := range ids {
		u := fmt.Sprintf("%08d", 40000000+i)
		ids[i] = sim.AddUser(moodlesim.User{Username: u, Firstname: "F", Lastname: "L", Email: u + "@x.fr"})
	}
	end := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC).Unix()
	var shorts []string
	for c := range courses {
		short := fmt.Sprintf("COURSE-%03d", c)
		shorts = append(shorts, short)
		cid := sim.AddCourse(moodlesim.Course{Shortname: short, Fullname: short, Category: cat, Visible: true})
		inst := manualInstance(sim, cid)
		for k := range perCourse {
			sim.Enrol(inst, ids[c*perCourse/2+k], student, 0, end, false)
		}
	}
	desired := func(end int64) state.Snapshot {
		var d state.Snapshot
		for c, short := range shorts {
			dc := state.Course{Shortname: short, Methods: []state.Method{{Type: state.Manual, Enabled: true}}}
			for k := range perCourse {
				dc.Enrolments = append(dc.Enrolments, state.Enrolment{Username: fmt.Sprintf("%08d", 40000000+c*perCourse/2+k),
					Method: "manual", Roles: []string{"student"}, End: end, KeepStart: true})
			}
			d.Courses = append(d.Courses, dc)
		}
		d.Normalize()
		return d
	}
	srv := httptest.NewServer(sim.Handler())
	client, err := moodle.New(moodle.Config{URL: srv.URL, Token: token})
	if err != nil {
		b.Fatal(err)
	}
	return sim, client, desired, srv.Close
}

// benchRenew renews every enrolment of the site once per iteration (a new end date
// each time) and reports the write calls and all calls per apply.
func benchRenew(b *testing.B, courses, perCourse int) {
	_, client, desired, done := renewSite(b, courses, perCourse)
	defer done()
	ctx := context.Background()
	var writes, calls int64
	year := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		year++
		want := desired(time.Date(2027+year, 7, 1, 0, 0, 0, 0, time.UTC).Unix())
		site, err := client.ReadSite(ctx)
		if err != nil {
			b.Fatal(err)
		}
		obs, err := client.Observe(ctx, site, want.Shortnames(), want.Usernames())
		if err != nil {
			b.Fatal(err)
		}
		p := diff.Compute(want, obs)
		if n := len(p.Changes); n != courses*perCourse {
			b.Fatalf("plan has %d changes, want %d", n, courses*perCourse)
		}
		before := client.Calls()
		b.StartTimer()
		res, err := Run(ctx, client, p, obs, Options{})
		b.StopTimer()
		if err != nil || !res.OK() {
			b.Fatalf("Run: %v, %d applied of %d", err, res.Count(Applied), len(res.Changes))
		}
		writes += int64(res.WriteCalls)
		calls += client.Calls() - before
		b.StartTimer()
	}
	b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
}

// BenchmarkRenew1108 renews 1,108 manual enrolments in one course (issue 9 target: 1
// write call).
func BenchmarkRenew1108(b *testing.B) { benchRenew(b, 1, 1108) }

// BenchmarkRenew1200Across30 renews 40 enrolments in each of 30 courses that share
// half their students with the next (issue 9 target: at most 3 write calls).
func BenchmarkRenew1200Across30(b *testing.B) { benchRenew(b, 30, 40) }
