package diff

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/state"
)

// streamed plans observed the way a streamed read does: the courses handed to a
// Planner in another order, from several goroutines at once.
func streamed(r *rand.Rand, desired, observed state.Snapshot, opts Options) (Plan, state.Snapshot) {
	pl := NewPlanner(desired, opts)
	courses := make(chan *state.Course)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for o := range courses {
				if !pl.Course(o) {
					// Not kept: the caller may reuse its enrolments (moodle.Recycle),
					// which the plan must not read again.
					for i := range o.Enrolments {
						o.Enrolments[i] = state.Enrolment{Username: "recycled", Method: "recycled", Roles: []string{"x"}, End: -1}
					}
				}
			}
		})
	}
	for _, i := range r.Perm(len(observed.Courses)) {
		o := observed.Courses[i]
		o.Enrolments = slices.Clone(o.Enrolments)
		courses <- &o
	}
	close(courses)
	wg.Wait()
	return pl.Plan(observed.Directory)
}

// A plan streamed course by course, in any order and on several goroutines, is the
// plan of the whole observed state: changes, drift, diagnostics, fingerprints and
// refusals; with unknown_users: skip, the courses naming users the site lacks are
// planned as if the specs did not name them. What the Planner keeps of the observed
// state is what the guard reads: the courses the plan removes something from.
func TestPlannerStreamedIsTheBatchPlan(t *testing.T) {
	skippedRuns, keptRuns := 0, 0
	for seed := range uint64(600) {
		r := rand.New(rand.NewPCG(seed, 0x73747265616d))
		valid := seed%3 != 0 // unknown users, cohorts and disabled plugins
		desired, observed := genStates(r, valid)
		// As Observe reads them, the site's users include every observed course's.
		for _, c := range observed.Courses {
			for _, e := range c.Enrolments {
				observed.Directory.Users[e.Username] = 1
			}
			for _, g := range c.Groups {
				for _, m := range g.Members {
					observed.Directory.Users[m.Username] = 1
				}
			}
		}
		// Users no observed course holds, some of them unknown to the site.
		for i := range desired.Courses {
			if chance(r, 0.5) {
				u := pick(r, []string{"ghost", "newcomer"})
				d := &desired.Courses[i]
				d.Enrolments = append(d.Enrolments, state.Enrolment{Username: u, Method: string(state.Manual), Roles: []string{"student"}})
				if len(d.Groups) > 0 {
					d.Groups[0].Members = append(d.Groups[0].Members, state.Member{Username: u})
				}
			}
		}
		observed.Directory.Users["newcomer"] = 99
		opts := Options{SkipUnknownUsers: seed%2 == 0, Limits: &Limits{MaxRemovals: 1, MaxShare: 0.5, MaxSiteRemovals: 2}}
		want := ComputeWithOptions(desired, observed, opts)
		got, kept := streamed(r, desired, observed, opts)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("seed %d: streamed plan differs (-batch +streamed):\n%s", seed, d)
		}

		if opts.SkipUnknownUsers {
			// The oracle: the unknown users taken out of the specs first.
			skipped, _ := skipUnknownUsers(desired, Check(desired, observed))
			alone := ComputeWithOptions(skipped, observed, Options{Limits: opts.Limits})
			if !alone.Diagnostics.HasErrors() && !cmp.Equal(skipped.Courses, desired.Courses) {
				skippedRuns++
			}
			if !alone.Diagnostics.HasErrors() {
				if d := cmp.Diff(alone.Changes, got.Changes); d != "" {
					t.Fatalf("seed %d: skipping unknown users plans other changes (-specs without them +skipped):\n%s", seed, d)
				}
				if d := cmp.Diff(alone.Drift, got.Drift); d != "" {
					t.Fatalf("seed %d: skipping unknown users finds other drift:\n%s", seed, d)
				}
			}
		}

		var removing []string
		for _, c := range got.Changes {
			if c.IsRemoval() && !slices.Contains(removing, c.Course) {
				removing = append(removing, c.Course)
			}
		}
		var names []string
		for _, c := range kept.Courses {
			o, _ := observed.Course(c.Shortname)
			if d := cmp.Diff(*o, c); d != "" {
				t.Fatalf("seed %d: kept course %s is not the observed one:\n%s", seed, c.Shortname, d)
			}
			names = append(names, c.Shortname)
		}
		if len(names) > 0 {
			keptRuns++
		}
		slices.Sort(removing)
		if !got.Diagnostics.HasErrors() && !slices.Equal(names, removing) {
			t.Fatalf("seed %d: kept courses %v, want those with removals %v", seed, names, removing)
		}
		if d := cmp.Diff(Guard(got.Changes, got.Protected, observed, got.Limits, got.Approvals), Guard(got.Changes, got.Protected, kept, got.Limits, got.Approvals)); d != "" {
			t.Fatalf("seed %d: the guard reads the kept state otherwise:\n%s", seed, d)
		}
	}
	if skippedRuns < 20 || keptRuns < 20 {
		t.Fatalf("%d runs skipped unknown users, %d kept courses with removals: too few to tell", skippedRuns, keptRuns)
	}
}

// A course handed to the Planner twice is planned once, from the first one; a course
// no spec manages is ignored; a desired course never handed over is one it could not
// plan.
func TestPlannerCoursesOnceAndMissing(t *testing.T) {
	desired := state.Snapshot{Courses: []state.Course{
		{Shortname: "A", Enrolments: []state.Enrolment{{Username: "u1", Method: "manual", Roles: []string{"student"}}}},
		{Shortname: "B"},
	}}
	live := state.Course{Shortname: "A", Methods: []state.Method{{Type: state.Manual, Enabled: true}}}
	other := state.Course{Shortname: "A", Methods: []state.Method{{Type: state.Manual, Enabled: true}},
		Enrolments: []state.Enrolment{{Username: "u1", Method: "manual", Roles: []string{"student"}}}}
	pl := NewPlanner(desired, Options{})
	pl.Course(&live)
	pl.Course(&other)
	pl.Course(&state.Course{Shortname: "Z"})
	p, _ := pl.Plan(state.Directory{})
	if len(p.Diagnostics) != 1 || p.Diagnostics[0].Message != "course B was not read from Moodle; nothing can be planned for it" {
		t.Fatalf("diagnostics = %v, want course B not read", p.Diagnostics)
	}
	desired.Courses = desired.Courses[:1]
	pl = NewPlanner(desired, Options{})
	pl.Course(&live)
	pl.Course(&other)
	p, _ = pl.Plan(state.Directory{})
	if len(p.Changes) != 1 || p.Changes[0].Address != "course/A/enrolment/manual/u1" || p.Changes[0].Action != Create {
		t.Fatalf("plan = %q, want u1 enrolled (the first course handed over)", brief(p))
	}
}

// A planned course's users are let go of (a site's desired state is otherwise held
// whole next to its plan), in the planner's own list of courses, unless the site
// checks may still find something in them: a user the observed course lacks, an
// enrolment in another method than manual, enrolments without their manual method.
// The plan is the batch plan either way.
func TestPlannerReleasesPlannedUsers(t *testing.T) {
	manual := state.Method{Type: state.Manual, Enabled: true}
	enrol := func(u, method string) state.Enrolment {
		return state.Enrolment{Username: u, Method: method, Roles: []string{"student"}}
	}
	live := state.Course{Shortname: "A", Methods: []state.Method{{Type: state.Self, Enabled: true}},
		Enrolments: []state.Enrolment{enrol("u1", "self")},
		Groups:     []state.Group{{Name: "G", Members: []state.Member{{Username: "u2"}}}}}
	dir := state.Directory{Users: map[string]int64{"u1": 1, "u2": 2}, EnabledPlugins: []string{"self"}}
	for _, tc := range []struct {
		name     string
		course   state.Course
		released bool
	}{
		{"users held", state.Course{Methods: []state.Method{manual}, Enrolments: []state.Enrolment{enrol("u1", "manual")},
			Groups: []state.Group{{Name: "G", Members: []state.Member{{Username: "u1"}, {Username: "u2"}}}}}, true},
		{"no users", state.Course{Methods: []state.Method{manual}}, true},
		{"a user the course lacks", state.Course{Methods: []state.Method{manual}, Enrolments: []state.Enrolment{enrol("ghost", "manual")}}, false},
		{"a member the course lacks", state.Course{Methods: []state.Method{manual},
			Groups: []state.Group{{Name: "G", Members: []state.Member{{Username: "ghost"}}}}}, false},
		{"another method", state.Course{Methods: []state.Method{manual}, Enrolments: []state.Enrolment{enrol("u1", "self")}}, false},
		{"no manual method", state.Course{Enrolments: []state.Enrolment{enrol("u1", "manual")}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.course.Shortname = "A"
			desired := state.Snapshot{Courses: []state.Course{tc.course}}
			pl := NewPlanner(desired, Options{})
			pl.Course(&live)
			d := pl.desired.Courses[0]
			if released := d.Enrolments == nil && d.Groups == nil; released != tc.released {
				t.Errorf("released = %v, want %v", released, tc.released)
			}
			if d := cmp.Diff(tc.course, desired.Courses[0]); d != "" {
				t.Errorf("the caller's desired state changed:\n%s", d)
			}
			got, _ := pl.Plan(dir)
			want := ComputeWithOptions(desired, state.Snapshot{Courses: []state.Course{live}, Directory: dir}, Options{})
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("plan differs (-batch +streamed):\n%s", d)
			}
		})
	}
}

// A planned course's methods the observed course has are let go of too, but for what
// Check may still fault once the site's directory is in: a cohort method (the cohort
// may be unknown), a method the course lacks (its plugin may be disabled) and one of a
// type enrolctl does not know. Check finds the same errors; the plan is the batch one.
func TestPlannerReleasesMethodsCheckCannotFault(t *testing.T) {
	cohort := state.Method{Type: state.Cohort, Cohort: "C1", Role: "student", Enabled: true}
	live := state.Course{Shortname: "A", Methods: []state.Method{
		{Type: state.Manual, Enabled: true}, {Type: state.Self, Name: "S", Enabled: true}, cohort, {Type: state.Database, Enabled: true}}}
	desired := state.Snapshot{Courses: []state.Course{{Shortname: "A", Methods: []state.Method{
		{Type: state.Manual, Enabled: true}, {Type: state.Self, Name: "S", Enabled: true}, cohort,
		{Type: state.Database, Enabled: true}, {Type: state.Guest, Enabled: true}, {Type: "lti", Enabled: true}}}}}
	dir := state.Directory{Cohorts: map[string]state.CohortInfo{}, EnabledPlugins: []string{"manual", "self", "cohort", "database"}}
	pl := NewPlanner(desired, Options{})
	pl.Course(&live)
	var kept []state.MethodType
	for _, m := range pl.desired.Courses[0].Methods {
		kept = append(kept, m.Type)
	}
	if want := []state.MethodType{state.Cohort, state.Guest, "lti"}; !slices.Equal(kept, want) {
		t.Errorf("methods kept = %v, want %v", kept, want)
	}
	got, _ := pl.Plan(dir)
	want := ComputeWithOptions(desired, state.Snapshot{Courses: []state.Course{live}, Directory: dir}, Options{})
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("plan differs (-batch +streamed):\n%s", d)
	}
	if n := len(got.Diagnostics); n != 3 { // the unknown cohort, guest disabled, lti unknown
		t.Errorf("%d diagnostics, want 3: %v", n, got.Diagnostics)
	}
}

// An update holds the live user's name and one list per role shared by the plan's
// changes: the spec's name would hold its file's bytes, its roles its course's list.
func TestUpdatesHoldNoSpecStrings(t *testing.T) {
	specRoles := []string{"student", "student"}
	spec := "u1 u2"
	desired := state.Snapshot{Courses: []state.Course{{Shortname: "A", Methods: []state.Method{{Type: state.Manual, Enabled: true}},
		Enrolments: []state.Enrolment{{Username: spec[:2], Roles: specRoles[:1], End: 100}, {Username: spec[3:], Roles: specRoles[1:], End: 100}}}}}
	live := state.Course{Shortname: "A", Methods: []state.Method{{Type: state.Manual, Enabled: true}},
		Enrolments: []state.Enrolment{{Username: "u1", Method: "manual", Roles: []string{"student"}}, {Username: "u2", Method: "manual", Roles: []string{"student"}}}}
	pl := NewPlanner(desired, Options{})
	pl.Course(&live)
	p, _ := pl.Plan(state.Directory{Users: map[string]int64{"u1": 1, "u2": 2}})
	if len(p.Changes) != 2 {
		t.Fatalf("%d changes, want 2 renewals", len(p.Changes))
	}
	for i, c := range p.Changes {
		if unsafe.StringData(c.Enrolment.Username) != unsafe.StringData(live.Enrolments[i].Username) {
			t.Errorf("%s: the username is not the live one", c.Address)
		}
		if r := &c.Enrolment.Roles[0]; r == &specRoles[0] || r == &specRoles[1] || r != &p.Changes[0].Enrolment.Roles[0] {
			t.Errorf("%s: the roles are not the plan's shared list", c.Address)
		}
	}
}

// BenchmarkPlannerStreamed is BenchmarkCompute's site planned as makePlan does: the
// courses handed to a Planner by one goroutine per core.
func BenchmarkPlannerStreamed(b *testing.B) {
	desired, observed := benchSite()
	b.ReportAllocs()
	var p Plan
	for b.Loop() {
		pl := NewPlanner(desired, Options{})
		courses := make(chan *state.Course, 64)
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for o := range courses {
					pl.Course(o)
				}
			})
		}
		for i := range observed.Courses {
			courses <- &observed.Courses[i]
		}
		close(courses)
		wg.Wait()
		p, _ = pl.Plan(observed.Directory)
	}
	b.ReportMetric(float64(len(p.Changes)), "changes")
}

// Renewing enrolments from one end date to another is one list of fields for the
// whole plan (a 10,000-course renewal otherwise holds 83,000 of them), and a change
// of more than its dates has its own.
func TestPlannerSharesDateChanges(t *testing.T) {
	enrol := func(u string, end int64, suspended bool) state.Enrolment {
		return state.Enrolment{Username: u, Method: "manual", Roles: []string{"student"}, End: end, Suspended: suspended}
	}
	manual := []state.Method{{Type: state.Manual, Enabled: true}}
	var desired, observed state.Snapshot
	for _, name := range []string{"A", "B"} {
		desired.Courses = append(desired.Courses, state.Course{Shortname: name, Methods: manual,
			Enrolments: []state.Enrolment{enrol("u1", 2000, false), enrol("u2", 2000, false)}})
		observed.Courses = append(observed.Courses, state.Course{Shortname: name, Methods: manual,
			Enrolments: []state.Enrolment{enrol("u1", 1000, false), enrol("u2", 1000, true)}})
	}
	pl := NewPlanner(desired, Options{})
	for i := range observed.Courses {
		pl.Course(&observed.Courses[i])
	}
	p, _ := pl.Plan(state.Directory{})
	if len(p.Changes) != 4 {
		t.Fatalf("plan = %q, want 4 updates", brief(p))
	}
	a, b := p.Changes[0].Fields, p.Changes[2].Fields // u1 in A and in B: end 1000 → 2000
	if len(a) != 1 || a[0].Field != FieldEnd || a[0].New.Int != 2000 || &a[0] != &b[0] {
		t.Errorf("u1's fields in A and B: %+v and %+v, want one shared list of the end", a, b)
	}
	if u2 := p.Changes[1].Fields; len(u2) != 2 || &u2[0] == &a[0] {
		t.Errorf("u2's fields (end and suspended) = %+v, want a list of its own", u2)
	}
}
