package cli

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

// A plan asks for the courses its specs name by shortname before the site's status
// and catalogue are in (plugin 2.2.0); a site still on plugin 2.1.2 refuses that call,
// and the plan reads them by id once the catalogue is in: the same plan, to the byte.
func TestPlanOnAnOlderPlugin(t *testing.T) {
	sim := moodlesim.GenerateSite(moodlesim.SiteSize{Courses: 60})
	sim.AddToken(doctorToken, moodlesim.ServiceEnrolctl, "admin")
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if code := prodSiteApp(t, dir, srv.URL, io.Discard).Run([]string{"import", "moodle"}); code != 0 {
		t.Fatalf("import moodle: exit %d", code)
	}
	editSpecs(t, filepath.Join(dir, "specs"))
	var outs [2]bytes.Buffer
	for i, plugin := range []contract.Plugin{contract.Newest(), {Version: contract.PluginAccountsByID, Release: "2.1.2"}} {
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
			if r.Function == "local_enrolctl_get_course_rows" {
				rows = append(rows, r.Outcome)
			}
		}
		want := []string{"ok"}
		if plugin.Version < contract.PluginRowsByName {
			want = []string{"invalidparameter", "ok"} // by name refused, then by id
		}
		if !slices.Equal(rows, want) {
			t.Errorf("plugin %s: get_course_rows calls %v, want %v", plugin.Release, rows, want)
		}
	}
	if outs[0].Len() < 1000 {
		t.Fatalf("a short plan:\n%s", outs[0].String())
	}
	if d := cmp.Diff(outs[0].String(), outs[1].String()); d != "" {
		t.Errorf("plugin 2.1.2's plan differs (-2.2.0 +2.1.2):\n%s", d)
	}
}
