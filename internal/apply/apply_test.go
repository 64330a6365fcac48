package apply

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
	"github.com/enrolctl/enrolctl/internal/state"
)

const token = "apply-test-token-0123456789abcdef"

// site is a moodlesim site reached through the real client.
type site struct {
	sim    *moodlesim.Sim
	client *moodle.Client
}

func newSite(t *testing.T) *site {
	t.Helper()
	sim := moodlesim.New(moodlesim.Options{})
	sim.AddToken(token, "enrolctl", "admin")
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := moodle.New(moodle.Config{URL: srv.URL, Token: token, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &site{sim: sim, client: c}
}

// world generates a site with courses, users, cohorts and live enrolments, and desired
// states that differ from it in every way a spec can.
type world struct {
	*site
	rng     *rand.Rand
	courses []string
	users   []string
	cohorts []string
}

const (
	student = 5
	teacher = 4
)

func newWorld(t *testing.T, seed uint64, nCourses int) *world {
	t.Helper()
	w := &world{site: newSite(t), rng: rand.New(rand.NewPCG(seed, 7))}
	cat := w.sim.AddCategory("Fac / Dept")
	for i := range 40 {
		u := fmt.Sprintf("%08d", 21000000+i)
		w.sim.AddUser(moodlesim.User{Username: u, Firstname: "F", Lastname: u, Email: u + "@x.fr"})
		w.users = append(w.users, u)
	}
	for i := range 2 {
		idn := fmt.Sprintf("PROMO-%d", i)
		id := w.sim.AddCohort(moodlesim.Cohort{IDNumber: idn, Name: idn})
		var members []int64
		for _, u := range w.users[i*10 : i*10+8] {
			members = append(members, w.sim.UserID(u))
		}
		w.sim.AddCohortMembers(id, members...)
		w.cohorts = append(w.cohorts, idn)
	}
	for i := range nCourses {
		short := fmt.Sprintf("C%02d", i)
		id := w.sim.AddCourse(moodlesim.Course{Shortname: short, Fullname: short, Category: cat, Visible: true})
		w.courses = append(w.courses, short)
		manual := manualInstance(w.sim, id)
		for _, u := range w.pick(6) {
			end := int64(0)
			if w.rng.IntN(2) == 0 {
				end = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC).Unix()
			}
			w.sim.Enrol(manual, w.sim.UserID(u), student, 0, end, w.rng.IntN(4) == 0)
		}
		if w.rng.IntN(2) == 0 {
			w.sim.AddInstance(moodlesim.Instance{Enrol: "cohort", CourseID: id, RoleID: student, CustomInt1: w.sim.CohortID(w.cohorts[i%2])})
		}
		if w.rng.IntN(2) == 0 {
			g := w.sim.AddGroup(id, "TP1")
			for _, ue := range w.sim.UserEnrolments(id)[:2] {
				w.sim.AddMember(g, ue.UserID)
			}
		}
	}
	return w
}

func manualInstance(sim *moodlesim.Sim, courseID int64) int64 {
	for _, in := range sim.Instances(courseID) {
		if in.Enrol == "manual" {
			return in.ID
		}
	}
	return sim.AddInstance(moodlesim.Instance{Enrol: "manual", CourseID: courseID, RoleID: student})
}

func (w *world) pick(n int) []string {
	out := slices.Clone(w.users)
	w.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:n]
}

// desired derives a desired state from the live one: renewals, suspensions,
// reactivations, role changes, new users, prunes, a new cohort sync, groups.
func (w *world) desired(t *testing.T) state.Snapshot {
	t.Helper()
	live := w.observe(t, nil)
	var out state.Snapshot
	renew := time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC).Unix()
	for _, lc := range live.Courses {
		c := state.Course{Shortname: lc.Shortname, Methods: []state.Method{{Type: state.Manual, Enabled: true}}}
		c.Options.ManualPrune = []state.Prune{state.PruneKeep, state.PruneSuspend, state.PruneUnenrol}[w.rng.IntN(3)]
		c.Options.MethodsPrune = w.rng.IntN(3) == 0
		listed := map[string]bool{}
		for _, e := range lc.Enrolments {
			if e.Method != "manual" || w.rng.IntN(4) == 0 {
				continue // an automatic enrolment, or a user dropped from the spec
			}
			d := state.Enrolment{Username: e.Username, Method: "manual", Roles: []string{"student"}, End: renew, Suspended: w.rng.IntN(5) == 0}
			if w.rng.IntN(6) == 0 {
				d.Roles = []string{"teacher"}
			}
			c.Enrolments = append(c.Enrolments, d)
			listed[e.Username] = true
		}
		for _, u := range w.pick(3) {
			if !listed[u] && len(lc.EnrolmentsOf(u)) == 0 {
				c.Enrolments = append(c.Enrolments, state.Enrolment{Username: u, Method: "manual", Roles: []string{"student"}, End: renew})
				listed[u] = true
			}
		}
		for _, m := range lc.Methods {
			if m.Type == state.Cohort && w.rng.IntN(3) > 0 {
				c.Methods = append(c.Methods, state.Method{Type: state.Cohort, Cohort: m.Cohort, Role: m.Role, Enabled: w.rng.IntN(4) > 0})
			}
		}
		if _, has := lc.Method("cohort:" + w.cohorts[1] + ":student"); !has && w.rng.IntN(2) == 0 {
			c.Methods = append(c.Methods, state.Method{Type: state.Cohort, Cohort: w.cohorts[1], Role: "student", Group: "Promo", Enabled: true})
			c.Groups = append(c.Groups, state.Group{Name: "Promo"})
		}
		if len(c.Enrolments) > 0 {
			g := state.Group{Name: "TD" + fmt.Sprint(w.rng.IntN(2)), PruneMembers: w.rng.IntN(2) == 0}
			g.Members = []state.Member{{Username: c.Enrolments[0].Username}}
			c.Groups = append(c.Groups, g)
		}
		out.Courses = append(out.Courses, c)
	}
	out.Normalize()
	return out
}

func (w *world) observe(t *testing.T, desired *state.Snapshot) state.Snapshot {
	t.Helper()
	ctx := context.Background()
	s, err := w.client.ReadSite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	courses, users := w.courses, []string(nil)
	if desired != nil {
		courses, users = desired.Shortnames(), desired.Usernames()
	}
	obs, err := w.client.Observe(ctx, s, courses, users)
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

func (w *world) plan(t *testing.T, desired state.Snapshot) (diff.Plan, state.Snapshot) {
	t.Helper()
	obs := w.observe(t, &desired)
	p := diff.Compute(desired, obs)
	if len(p.Diagnostics) > 0 {
		t.Fatalf("generated desired state has diagnostics: %v", p.Diagnostics)
	}
	return p, obs // Compute fills in the fingerprints a saved plan carries
}

func TestSavedPlanAppliesExactly(t *testing.T) {
	w := newWorld(t, 1, 6)
	desired := w.desired(t)
	p, obs := w.plan(t, desired)
	if !p.HasChanges() {
		t.Fatal("generated plan is empty")
	}
	if err := CheckStale(p, w.observe(t, &desired)); err != nil {
		t.Fatalf("unchanged courses reported stale: %v", err)
	}
	res, err := Run(context.Background(), w.client, p, obs, Options{})
	if err != nil || !res.OK() {
		t.Fatalf("Run: %v, %+v", err, res)
	}
	if len(res.Changes) != len(p.Changes) {
		t.Errorf("%d results for %d changes", len(res.Changes), len(p.Changes))
	}
	after := w.observe(t, &desired)
	checkOnlyPlanned(t, p, obs, after)
	if again := diff.Compute(desired, after); again.HasChanges() {
		t.Errorf("plan after apply is not empty: %+v", again.Changes)
	}
}

// TestPlanApplyPlanIsEmpty: for generated live states and generated desired states,
// plan -> apply -> plan is empty, and apply touches nothing the plan did not list.
func TestPlanApplyPlanIsEmpty(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 15
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := newWorld(t, uint64(1000+seed), 3+seed%5)
			desired := w.desired(t)
			p, obs := w.plan(t, desired)
			res, err := Run(context.Background(), w.client, p, obs, Options{})
			if err != nil || !res.OK() {
				t.Fatalf("Run: %v %+v", err, res)
			}
			after := w.observe(t, &desired)
			checkOnlyPlanned(t, p, obs, after)
			if again := diff.Compute(desired, after); again.HasChanges() {
				t.Errorf("plan after apply is not empty: %+v", again.Changes)
			}
		})
	}
}

func TestSavedPlanStale(t *testing.T) {
	w := newWorld(t, 2, 4)
	desired := w.desired(t)
	p, _ := w.plan(t, desired)
	changed := p.Courses()[0]
	// A teacher enrols someone in the web UI after the plan was reviewed.
	cid := w.sim.CourseID(changed)
	w.sim.Enrol(manualInstance(w.sim, cid), w.sim.UserID(w.users[39]), student, 0, 0, false)

	err := CheckStale(p, w.observe(t, &desired))
	var se *StaleError
	if !errors.As(err, &se) || !slices.Equal(se.Courses, []string{changed}) {
		t.Fatalf("CheckStale = %v, want a StaleError naming only %s", err, changed)
	}
	if !strings.Contains(err.Error(), "stale plan") || !strings.Contains(err.Error(), changed) {
		t.Errorf("message %q does not say the plan is stale and name the course", err)
	}
}

func TestSavedPlanIgnoresSyncDriftButNotBiggerRemovals(t *testing.T) {
	s := newSite(t)
	cat := s.sim.AddCategory("Sciences")
	cid := s.sim.AddCourse(moodlesim.Course{Shortname: "L1-ALGO", Fullname: "Algo", Category: cat, Visible: true})
	var ids []int64
	for i := range 6 {
		u := fmt.Sprintf("2200000%d", i)
		ids = append(ids, s.sim.AddUser(moodlesim.User{Username: u, Firstname: "F", Lastname: "L", Email: u + "@x.fr"}))
	}
	coh := s.sim.AddCohort(moodlesim.Cohort{IDNumber: "L1-2026", Name: "L1 2026"})
	s.sim.AddCohortMembers(coh, ids[:3]...)
	s.sim.AddInstance(moodlesim.Instance{Enrol: "cohort", CourseID: cid, RoleID: student, CustomInt1: coh})
	db := s.sim.AddInstance(moodlesim.Instance{Enrol: "database", CourseID: cid, RoleID: student})
	manualInstance(s.sim, cid)

	// The plan deletes the cohort method: 3 users lose their last enrolment.
	want := state.Snapshot{Courses: []state.Course{{Shortname: "L1-ALGO", Options: state.Options{MethodsPrune: true},
		Methods: []state.Method{{Type: state.Manual, Enabled: true}, {Type: state.Database}}}}}
	ctx := context.Background()
	site, _ := s.client.ReadSite(ctx)
	read := func() state.Snapshot {
		obs, err := s.client.Observe(ctx, site, []string{"L1-ALGO"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return obs
	}
	obs := read()
	p := diff.Compute(want, obs)
	oc, _ := obs.Course("L1-ALGO")
	p.Fingerprints = map[string]string{"L1-ALGO": oc.ManagedFingerprint()}

	// The nightly database sync enrols someone: not something the plan touches.
	s.sim.Enrol(db, ids[5], student, 0, 0, false)
	if err := CheckStale(p, read()); err != nil {
		t.Fatalf("a database sync made the plan stale: %v", err)
	}
	// The cohort grows: deleting it would now unenrol 4 users, not the 3 reviewed.
	s.sim.AddCohortMembers(coh, ids[3])
	err := CheckStale(p, read())
	var se *StaleError
	if !errors.As(err, &se) || len(se.Grew) != 1 || se.Grew[0].Now.Removes.Enrolments != 4 || se.Grew[0].Planned.Removes.Enrolments != 3 {
		t.Fatalf("CheckStale after the cohort grew = %v, want stale with the new removal count", err)
	}
}

func TestApplyOrderConvertsBeforeRemoving(t *testing.T) {
	s := newSite(t)
	cat := s.sim.AddCategory("Sciences")
	cid := s.sim.AddCourse(moodlesim.Course{Shortname: "L1-ALGO", Fullname: "Algo", Category: cat, Visible: true})
	var ids []int64
	var members []string
	for i := range 5 {
		u := fmt.Sprintf("2100000%d", i)
		ids = append(ids, s.sim.AddUser(moodlesim.User{Username: u, Firstname: "F", Lastname: "L", Email: u + "@x.fr"}))
		members = append(members, u)
	}
	coh := s.sim.AddCohort(moodlesim.Cohort{IDNumber: "L1-2026", Name: "L1 2026"})
	s.sim.AddCohortMembers(coh, ids...)
	s.sim.AddInstance(moodlesim.Instance{Enrol: "cohort", CourseID: cid, RoleID: student, CustomInt1: coh})
	manualInstance(s.sim, cid)

	// Keep access past the academic year: manual enrolments replace the cohort sync.
	end := time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC).Unix()
	desired := state.Course{Shortname: "L1-ALGO", Methods: []state.Method{{Type: state.Manual, Enabled: true}}, Options: state.Options{MethodsPrune: true}}
	for _, u := range members {
		desired.Enrolments = append(desired.Enrolments, state.Enrolment{Username: u, Method: "manual", Roles: []string{"student"}, End: end})
	}
	want := state.Snapshot{Courses: []state.Course{desired}}
	ctx := context.Background()
	site, _ := s.client.ReadSite(ctx)
	obs, err := s.client.Observe(ctx, site, []string{"L1-ALGO"}, members)
	if err != nil {
		t.Fatal(err)
	}
	p := diff.Compute(want, obs)
	for _, c := range p.Changes {
		if c.Kind == diff.KindMethod && c.Action == diff.Delete && c.Removes.LastEnrolments != 0 {
			t.Errorf("plan says the cohort removal takes %d last enrolments; the manual ones come first", c.Removes.LastEnrolments)
		}
	}
	client, ops := recordWrites(t, s.sim)
	res, err := Run(ctx, client, p, obs, Options{})
	if err != nil || !res.OK() {
		t.Fatalf("Run: %v %+v", err, res)
	}
	writes := ops()
	if want := []string{"set_enrolments", "delete_instances"}; !slices.Equal(writes, want) {
		t.Errorf("writes in order %v, want %v", writes, want)
	}
	if g := s.sim.GradeDeletions(); len(g) != 0 {
		t.Errorf("grades deleted during the conversion: %+v", g)
	}
}

// TestFaultInjection: with 10% of write calls failing at random, at most three applies
// bring the site to the desired state, and no enrolment is ever removed that no plan
// listed.
func TestFaultInjection(t *testing.T) {
	seeds := 40
	if testing.Short() {
		seeds = 10
	}
	kinds := []moodlesim.FaultKind{moodlesim.FaultException, moodlesim.FaultHTTP500, moodlesim.FaultAfterWrite}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := newWorld(t, uint64(100+seed), 6)
			desired := w.desired(t)
			w.sim.InjectFaults(moodlesim.FaultConfig{Seed: int64(seed), Rate: 0.10, Kind: kinds[seed%len(kinds)]})
			converged := false
			for run := 1; run <= 3; run++ {
				p, obs := w.plan(t, desired)
				if !p.HasChanges() {
					converged = true
					break
				}
				res, err := Run(context.Background(), w.client, p, obs, Options{})
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				for _, r := range res.Changes {
					if r.Outcome == Failed && r.ErrorCode == "" {
						t.Errorf("run %d: failure without an error code: %+v", run, r)
					}
				}
				checkFailureDiagnostics(t, p, res)
				w.sim.ClearFaults()
				after := w.observe(t, &desired)
				checkOnlyPlanned(t, p, obs, after)
				w.sim.InjectFaults(moodlesim.FaultConfig{Seed: int64(seed*10 + run), Rate: 0.10, Kind: kinds[(seed+run)%len(kinds)]})
			}
			if !converged {
				w.sim.ClearFaults()
				p, _ := w.plan(t, desired)
				converged = !p.HasChanges()
			}
			if !converged {
				t.Errorf("not converged after 3 applies (%d faults injected)", w.sim.FaultsInjected())
			}
		})
	}
}

// checkOnlyPlanned fails if an enrolment or membership disappeared, or an enrolment
// changed, that the plan did not list (directly, or as the consequence of a method
// deletion or an unenrolment it announced).
func checkOnlyPlanned(t *testing.T, p diff.Plan, before, after state.Snapshot) {
	t.Helper()
	listed := map[string]bool{}
	deletedMethods := map[string]bool{}
	unenrolled := map[string]bool{}
	for _, c := range p.Changes {
		listed[c.Address] = true
		if c.Kind == diff.KindMethod && (c.Action == diff.Delete || c.IsRemoval()) {
			deletedMethods[c.Course+"/"+c.Method.Key()] = true
		}
		if c.Kind == diff.KindEnrolment && c.Action == diff.Delete {
			unenrolled[c.Course+"/"+c.Enrolment.Username] = true
		}
	}
	for _, bc := range before.Courses {
		ac, _ := after.Course(bc.Shortname)
		// A user whose planned removals took their last enrolment loses their groups
		// with it: the plan announced that (Removes.LastEnrolments).
		for _, e := range bc.Enrolments {
			if deletedMethods[bc.Shortname+"/"+e.Method] && len(ac.EnrolmentsOf(e.Username)) == 0 {
				unenrolled[bc.Shortname+"/"+e.Username] = true
			}
		}
		for _, e := range bc.Enrolments {
			addr := state.EnrolmentAddress(bc.Shortname, e.Method, e.Username)
			if listed[addr] || deletedMethods[bc.Shortname+"/"+e.Method] {
				continue
			}
			i := slices.IndexFunc(ac.Enrolments, func(x state.Enrolment) bool { return x.Key() == e.Key() })
			if i < 0 {
				t.Errorf("%s was removed but no plan listed it", addr)
				continue
			}
			if x := ac.Enrolments[i]; x.Start != e.Start || x.End != e.End || x.Suspended != e.Suspended {
				if !state.MethodType(strings.SplitN(e.Method, ":", 2)[0]).Automatic() {
					t.Errorf("%s changed (%+v -> %+v) but no plan listed it", addr, e, x)
				}
			}
		}
		for _, g := range bc.Groups {
			ag, ok := ac.Group(g.Name)
			if !ok {
				t.Errorf("group %s/%s disappeared", bc.Shortname, g.Name)
				continue
			}
			for _, m := range g.Members {
				addr := state.MemberAddress(bc.Shortname, g.Name, m.Username)
				if listed[addr] || unenrolled[bc.Shortname+"/"+m.Username] || m.Component != "" {
					continue
				}
				if !slices.ContainsFunc(ag.Members, func(x state.Member) bool { return x.Username == m.Username }) {
					t.Errorf("%s was removed but no plan listed it", addr)
				}
			}
		}
	}
}

// checkFailureDiagnostics: each change that did not land is one error diagnostic naming
// its course, its user (enrolments, memberships) and Moodle's errorcode.
func checkFailureDiagnostics(t *testing.T, p diff.Plan, res Result) {
	t.Helper()
	ds := FailureDiagnostics(p, res, true) // expanded: one per change
	if want := res.Count(Failed) + res.Count(Unknown); len(ds) != want || len(ds.Errors()) != want {
		t.Fatalf("%d failure diagnostics for %d failed or unknown changes: %v", len(ds), want, ds)
	}
	n := 0
	for i, r := range res.Changes {
		if r.Outcome != Failed && r.Outcome != Unknown {
			continue
		}
		d := ds[n]
		n++
		if !strings.Contains(d.Message, "course "+r.Course) || !strings.Contains(d.Message, "errorcode "+r.ErrorCode) || !strings.Contains(d.Message, r.Address) {
			t.Errorf("diagnostic %q does not name course %s, errorcode %s and %s", d.Message, r.Course, r.ErrorCode, r.Address)
		}
		if u := changeUser(p.Changes[i]); u != "" && !strings.Contains(d.Message, ", user "+u+":") {
			t.Errorf("diagnostic %q does not name user %s", d.Message, u)
		}
		if r.ErrorCode == "" {
			t.Errorf("diagnostic %q: the change has no errorcode", d.Message)
		}
	}
}
