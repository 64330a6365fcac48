package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
	"github.com/enrolctl/enrolctl/internal/spec"
)

// A plan asks for the courses its specs name by shortname with the site's status and
// catalogue, in one request (plugin 2.4.0); a site on plugin 2.3.0 refuses that, and
// the courses are asked for apart, by shortname (2.2.0); a site still on plugin 2.1.2
// refuses names too, one on 2.0.2 has no get_course_rows, and the plan reads them by id
// once the catalogue is in: the same plan, to the byte. Courses whose specs list 20,000
// users or more are asked for in two calls, both at once (moodle.ExpectRows), and
// planned the same.
func TestPlanOnAnOlderPlugin(t *testing.T) {
	for _, many := range []int{0, 400} {
		t.Run(fmt.Sprintf("manual-users=+%d", many), func(t *testing.T) { planOnOlderPlugins(t, many) })
	}
}

// planOnOlderPlugins is TestPlanOnAnOlderPlugin on a site whose courses have many more
// manual enrolments each.
func planOnOlderPlugins(t *testing.T, many int) {
	sim := moodlesim.GenerateSite(moodlesim.SiteSize{Courses: 60})
	sim.AddToken(doctorToken, moodlesim.ServiceEnrolctl, "admin")
	for i := range many {
		u := sim.AddUser(moodlesim.User{Username: fmt.Sprintf("many%03d", i), Firstname: "Many", Lastname: "Students"})
		for _, id := range sim.CourseIDs() {
			for _, in := range sim.Instances(id) {
				if in.Enrol == "manual" {
					sim.Enrol(in.ID, u, 5, 0, 0, false)
				}
			}
		}
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if code := prodSiteApp(t, dir, srv.URL, io.Discard).Run([]string{"import", "moodle"}); code != 0 {
		t.Fatalf("import moodle: exit %d", code)
	}
	editSpecs(t, filepath.Join(dir, "specs"))
	listed := 0
	for _, c := range spec.LoadDir(filepath.Join(dir, "specs"), spec.Options{}).Courses {
		listed += c.Users()
	}
	if (listed >= 20000) != (many > 0) {
		t.Fatalf("the specs list %d users", listed)
	}
	var outs [4]bytes.Buffer
	for i, plugin := range []contract.Plugin{contract.Newest(), {Version: contract.PluginCoursesWithStatus, Release: "2.3.0"},
		{Version: contract.PluginAccountsByID, Release: "2.1.2"}, {Version: contract.PluginReadService, Release: "2.0.2"}} {
		sim.SetPlugin(plugin)
		sim.ResetLog()
		a := prodSiteApp(t, dir, srv.URL, &outs[i])
		pl, err := a.makePlan(context.Background())
		if pl == nil {
			t.Fatal(err)
		}
		pl.plan.CreatedAt = ""
		if err := a.renderPlan(pl.plan, "text"); err != nil {
			t.Fatal(err)
		}
		if err := a.renderPlan(pl.plan, "json"); err != nil {
			t.Fatal(err)
		}
		// The reads' calls, in no set order (several go at once); a refusal counted
		// once, as a part refused may be cancelled before it is sent.
		calls := map[string]int{}
		for _, r := range sim.Requests() {
			if fn, ok := strings.CutPrefix(r.Function, "local_enrolctl_get_"); ok && fn != "user_ids" {
				calls[fn+" "+r.Outcome]++
				if r.Outcome != "ok" {
					calls[fn+" "+r.Outcome] = 1
				}
			}
		}
		parts := 1
		if many > 0 {
			parts = 2
		}
		var want map[string]int
		switch {
		case plugin.Version < contract.PluginCourseRows: // by name refused, then by id
			want = map[string]int{"courses invalidparameter": 1, "site_status ok": 1, "courses ok": 1,
				"course_rows invalidrecordunknown": 1, "course_state_json ok": 1}
		case plugin.Version < contract.PluginRowsByName:
			want = map[string]int{"courses invalidparameter": 1, "site_status ok": 1, "courses ok": 1,
				"course_rows invalidparameter": 1, "course_rows ok": 1}
		case plugin.Version < contract.PluginSiteWithRows: // the courses apart
			want = map[string]int{"courses invalidparameter": 1, "courses ok": 1, "course_rows ok": parts}
		default: // the first part with the site
			want = map[string]int{"courses ok": 1}
			if parts > 1 {
				want["course_rows ok"] = parts - 1
			}
		}
		if d := cmp.Diff(want, calls); d != "" {
			t.Errorf("plugin %s: the reads' calls (-want +got):\n%s", plugin.Release, d)
		}
	}
	if outs[0].Len() < 1000 {
		t.Fatalf("a short plan:\n%s", outs[0].String())
	}
	for i := 1; i < len(outs); i++ {
		if d := cmp.Diff(outs[0].String(), outs[i].String()); d != "" {
			t.Errorf("an older plugin's plan differs (-newest +older %d):\n%s", i, d)
		}
	}
}
