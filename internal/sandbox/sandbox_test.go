package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/moodle"
)

func client(t *testing.T, sb *Sandbox) *moodle.Client {
	t.Helper()
	c, err := moodle.New(moodle.Config{URL: URL, Token: Token, HTTPClient: sb.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOpenSeedsSavesAndReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".enrolctl")
	sb, err := Open(dir)
	if err != nil || !sb.Seeded {
		t.Fatalf("Open on an empty folder: seeded=%v err=%v", sb != nil && sb.Seeded, err)
	}
	ctx := context.Background()
	cat, err := client(t, sb).Catalogue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cat) < 25 {
		t.Fatalf("demo site has %d courses, want about 30", len(cat))
	}
	// A change through the protocol survives a save and a reopen.
	c := client(t, sb)
	if res, err := moodle.Write(ctx, c, []moodle.CreateGroup{{CourseID: cat[0].ID, Name: "Kept"}}); err != nil || res.Courses[0].Outcome != moodle.Applied {
		t.Fatalf("creating a group: %+v, %v", res, err)
	}
	if err := sb.Save(); err != nil {
		t.Fatal(err)
	}
	sb.Close()
	again, err := Open(dir)
	if err != nil || again.Seeded {
		t.Fatalf("reopen: seeded=%v err=%v", again != nil && again.Seeded, err)
	}
	states, err := client(t, again).CourseStates(ctx, []int64{cat[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range states[0].Groups {
		found = found || g.Name == "Kept"
	}
	if !found {
		t.Errorf("the group created before saving is gone after reopening")
	}

	again.Close()
	// Reset restores the demo site.
	if _, err := Reset(dir); err != nil {
		t.Fatal(err)
	}
	reset, _ := Open(dir)
	defer reset.Close()
	states, _ = client(t, reset).CourseStates(ctx, []int64{cat[0].ID})
	for _, g := range states[0].Groups {
		if g.Name == "Kept" {
			t.Errorf("reset kept the group")
		}
	}
}

func TestDamagedFileSaysHowToRecover(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), "enrolctl sandbox reset") {
		t.Fatalf("Open(damaged) = %v, want an error pointing at sandbox reset", err)
	}
}
