package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
	"github.com/enrolctl/enrolctl/internal/spec"
)

// A plan asks for the courses its specs name by shortname before the site's status
// and catalogue are in (plugin 2.2.0); a site still on plugin 2.1.2 refuses that call,
// one on 2.0.2 has no get_course_rows, and the plan reads them by id once the catalogue
// is in: the same plan, to the byte. Courses whose specs list 20,000 users or more are
// asked for in two calls, the first at once and the second once the status is in
// (moodle.ExpectRows), and planned the same.
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
	var outs [3]bytes.Buffer
	for i, plugin := range []contract.Plugin{contract.Newest(), {Version: contract.PluginAccountsByID, Release: "2.1.2"},
		{Version: contract.PluginReadService, Release: "2.0.2"}} {
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
		var rows []string
		for _, r := range sim.Requests() {
			if strings.HasPrefix(r.Function, "local_enrolctl_get_course_") {
				rows = append(rows, strings.TrimPrefix(r.Function, "local_enrolctl_get_")+" "+r.Outcome)
			}
		}
		want := []string{"course_rows ok"}
		switch { // by name refused, then by id
		case plugin.Version < contract.PluginCourseRows:
			want = []string{"course_rows invalidrecordunknown", "course_state_json ok"}
		case plugin.Version < contract.PluginRowsByName:
			want = []string{"course_rows invalidparameter", "course_rows ok"}
		case many > 0: // in two parts
			want = []string{"course_rows ok", "course_rows ok"}
		}
		if !slices.Equal(rows, want) {
			t.Errorf("plugin %s: get_course_rows calls %v, want %v", plugin.Release, rows, want)
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
