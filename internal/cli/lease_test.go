package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

// realSite serves the demo Moodle over HTTP as a configured site ("prod") with specs
// renewing FC-WORD, and returns an App for it.
func realSite(t *testing.T) (*moodlesim.Sim, *App, *bytes.Buffer, string) {
	t.Helper()
	sim := moodlesim.DemoSite()
	sim.AddToken(doctorToken, "enrolctl", "admin")
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	spec := "course: FC-WORD\nmanual:\n  until: 2027-06-30\n  users:\n    - username: dumontj01\n      role: editingteacher\n"
	if err := os.MkdirAll(filepath.Join(dir, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "specs", "fc-word.yaml"), []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	return sim, prodSiteApp(t, dir, srv.URL, &out), &out, srv.URL
}

// Issue 10: two applies on one site interleaved. While another apply holds the site's
// lease, apply stops, naming the holder, and writes nothing; once it is released, the
// apply runs and gives the lease back.
func TestApplyStopsWhileAnotherHoldsTheLease(t *testing.T) {
	sim, app, out, url := realSite(t)
	other, err := moodle.New(moodle.Config{URL: url, Token: doctorToken})
	if err != nil {
		t.Fatal(err)
	}
	f := &moodle.Form{}
	f.Set("name", "apply")
	f.Set("holder", "ci-job-41@runner-2")
	f.Int("ttl", 600)
	if err := other.Call(context.Background(), "local_enrolctl_acquire_lease", f, nil); err != nil {
		t.Fatal(err)
	}
	sim.ResetLog()
	if code := app.Run([]string{"apply", "--auto-approve"}); code != 1 || !strings.Contains(out.String(), `held by "ci-job-41@runner-2"`) {
		t.Fatalf("exit %d, output:\n%s\nwant exit 1 naming the holder", code, out.String())
	}
	for _, r := range sim.Requests() {
		if r.Write && r.Function != "local_enrolctl_acquire_lease" {
			t.Errorf("%s was called while another apply held the lease", r.Function)
		}
	}
	rel := &moodle.Form{}
	rel.Set("name", "apply")
	rel.Set("holder", "ci-job-41@runner-2")
	if err := other.Call(context.Background(), "local_enrolctl_release_lease", rel, nil); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := app.Run([]string{"apply", "--auto-approve"}); code != 0 {
		t.Fatalf("exit %d after the release:\n%s", code, out.String())
	}
	if ls := sim.Leases(); len(ls) != 0 {
		t.Errorf("the apply left its lease behind: %+v", ls)
	}
}
