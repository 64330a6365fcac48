package cli

import (
	"context"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
	"github.com/enrolctl/enrolctl/internal/state"
)

// The plan made as a pipeline (the courses asked for before the specs are resolved,
// each course planned as it is read, on several goroutines, the observed site never
// held whole) is the plan of the whole observed site read first, on moodlesim's
// generated university with specs that renew, remove and name users the site does
// not have: with unknown_users error and skip (and --course), and with a policy
// (then the courses are asked for once the specs are resolved). What the pipeline
// keeps of the observed site is what apply's guard reads.
func TestPlanStreamedIsTheBatchPlan(t *testing.T) {
	sim := moodlesim.GenerateSite(moodlesim.SiteSize{Courses: 150})
	sim.AddToken(doctorToken, moodlesim.ServiceEnrolctl, "admin")
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if code := prodSiteApp(t, dir, srv.URL, io.Discard).Run([]string{"import", "moodle"}); code != 0 {
		t.Fatalf("import moodle: exit %d", code)
	}
	editSpecs(t, filepath.Join(dir, "specs"))
	for _, skip := range []bool{false, true} {
		a := prodSiteApp(t, dir, srv.URL, io.Discard)
		if skip {
			skipUnknownUsers(t, dir, srv.URL)
			// Some courses only: the read the plan starts before resolving the
			// specs asks for those alone.
			a.courses = []string{"DRT-*", "ING-L1-*"}
		}
		pl, observed := planBothWays(t, a, sim, 0)
		if skip && (len(observed.Courses) < 10 || len(observed.Courses) > 100) {
			t.Fatalf("--course DRT-*,ING-L1-*: %d courses, want some of the 150", len(observed.Courses))
		}
		if d := cmp.Diff(observed.Directory, pl.observed.Directory); d != "" {
			t.Errorf("skip %v: the directory kept differs:\n%s", skip, d)
		}
		var unknown, removing []string
		for _, d := range pl.plan.Diagnostics {
			if d.Code == diag.UnknownUser {
				unknown = append(unknown, d.Subject.Course)
			}
		}
		for _, c := range pl.plan.Changes {
			if c.IsRemoval() && !slices.Contains(removing, c.Course) {
				removing = append(removing, c.Course)
			}
		}
		if len(unknown) == 0 {
			t.Fatalf("skip %v: no unknown user in the plan", skip)
		}
		if skip != (len(removing) > 0) || skip != !pl.plan.Diagnostics.HasErrors() || skip != pl.plan.HasChanges() {
			t.Fatalf("skip %v: %d courses with removals, errors %v, changes %v", skip, len(removing), pl.plan.Diagnostics.HasErrors(), pl.plan.HasChanges())
		}
		var kept []string
		for _, c := range pl.observed.Courses {
			o, _ := observed.Course(c.Shortname)
			if d := cmp.Diff(*o, c); d != "" {
				t.Fatalf("kept course %s is not the one read:\n%s", c.Shortname, d)
			}
			kept = append(kept, c.Shortname)
		}
		if !slices.Equal(kept, removing) {
			t.Errorf("skip %v: kept %v, want the courses with removals %v", skip, kept, removing)
		}
	}

	policy := "policy: drt-self\ncourses:\n  shortname: DRT-L1-*\nmethods:\n  - type: self\n    name: Auto\n    role: student\n"
	if err := os.WriteFile(filepath.Join(dir, "specs", "drt-self.yaml"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	a := prodSiteApp(t, dir, srv.URL, io.Discard)
	skipUnknownUsers(t, dir, srv.URL)
	pl, _ := planBothWays(t, a, sim, 1)
	if !slices.ContainsFunc(pl.plan.Changes, func(c diff.Change) bool { return c.Kind == diff.KindMethod && strings.Contains(c.Address, "self:") }) {
		t.Fatalf("the policy's self method is not planned")
	}
}

// planBothWays makes a's plan as a pipeline, which must read the site in one call and
// the courses once: with it (reads 0: plugin 2.4.0's get_courses brings them) or in
// reads course-state calls; and again from the whole observed site read first; it
// fails unless they are equal. It returns the pipeline's plan and the observed site.
func planBothWays(t *testing.T, a *App, sim *moodlesim.Sim, reads int) (*planned, state.Snapshot) {
	t.Helper()
	ctx := context.Background()
	sim.ResetLog()
	forced := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/cycles/forced:gc-cycles"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	before := forced()
	pl, err := a.makePlan(ctx)
	if pl == nil {
		t.Fatal(err)
	}
	if n := forced() - before; n < 2 {
		t.Errorf("%d forced collections, want 2: before the plan's lists are put together, and before it is rendered", n)
	}
	if n := courseReads(sim); n != reads {
		t.Errorf("%d course reads, want %d (the courses asked for once)", n, reads)
	}
	sites := 0
	for _, r := range sim.Requests() {
		if r.Function == "local_enrolctl_get_courses" {
			sites++
		}
	}
	if sites != 1 {
		t.Errorf("%d get_courses calls, want 1", sites)
	}
	conn, site, specs, stop, err := a.readSiteAndSpecs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if specs.Snapshot, err = a.onlyCourses(specs.Snapshot); err != nil {
		t.Fatal(err)
	}
	observed, err := conn.client.Observe(ctx, site, specs.Shortnames(), specs.Usernames(), moodle.NeedCohorts(specs.UsesCohorts()))
	if err != nil {
		t.Fatal(err)
	}
	prov := diff.Provenance{CreatedAt: pl.plan.CreatedAt, Site: pl.plan.Site, SpecsDigest: pl.plan.SpecsDigest}
	if d := cmp.Diff(diff.ComputeWithOptions(specs.Snapshot, observed, a.diffOptions(conn, specs, prov)), pl.plan); d != "" {
		t.Fatalf("the pipeline's plan differs (-batch +pipeline):\n%s", d)
	}
	return pl, observed
}

// skipUnknownUsers configures the site with unknown_users: skip (after prodSiteApp,
// which writes the configuration).
func skipUnknownUsers(t *testing.T, dir, url string) {
	t.Helper()
	cfg := "sites:\n  prod:\n    url: " + url + "\n    token_env: ENROLCTL_TOKEN\n    timezone: Europe/Paris\n    unknown_users: skip\n"
	if err := os.WriteFile(filepath.Join(dir, "enrolctl.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// courseReads counts the course-state calls the site answered since its log was reset.
func courseReads(sim *moodlesim.Sim) int {
	n := 0
	for _, r := range sim.Requests() {
		if strings.HasPrefix(r.Function, "local_enrolctl_get_course_") {
			n++
		}
	}
	return n
}

// editSpecs changes the specs import moodle wrote: of every four, one unenrols its
// first manual user (prune: unenrol), one names a user the site does not have, one
// renews its manual enrolments.
func editSpecs(t *testing.T, dir string) {
	t.Helper()
	until := regexp.MustCompile(`until: \d{4}-\d\d-\d\d`)
	firstUser := regexp.MustCompile(`(?m)^(  users:\n)    - [^\n]+\n(      [^\n]+\n)*`)
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := string(data)
		if !strings.Contains(s, "  users:\n    - ") || strings.Count(s, "\n    - ") < 2 {
			return nil
		}
		switch n % 4 {
		case 0:
			s = strings.Replace(firstUser.ReplaceAllString(s, "$1"), "manual:\n", "manual:\n  prune: unenrol\n", 1)
		case 1:
			s = strings.Replace(s, "  users:\n", "  users:\n    - ghost-of-a-user\n", 1)
		case 2:
			s = until.ReplaceAllString(s, "until: 2031-01-31")
		}
		n++
		return os.WriteFile(p, []byte(s), 0o644)
	})
	if err != nil || n < 20 {
		t.Fatalf("edited %d specs: %v", n, err)
	}
}

// While the courses are planned, the collector's GOGC is halved (the plan grows, the
// courses read are dropped), and restored once they are.
func TestPlanIntoHalvesTheCollectorsHeadroom(t *testing.T) {
	gogc := func() int { old := debug.SetGCPercent(-1); debug.SetGCPercent(old); return old }
	before := gogc()
	if before < 2 {
		t.Skipf("GOGC %d", before)
	}
	r := &courseRead{courses: make(chan *state.Course), ready: make(chan struct{}), done: make(chan struct{})}
	close(r.done)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		r.planInto(state.Snapshot{}, diff.NewPlanner(state.Snapshot{}, diff.Options{}))
	}()
	r.courses <- &state.Course{Shortname: "A"} // taken: the planning is under way
	during := gogc()
	close(r.courses)
	<-finished
	if after := gogc(); during != before/2 || after != before {
		t.Errorf("GOGC %d before, %d while planning, %d after; want %d while planning", before, during, after, before/2)
	}
}
