//go:build linux

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// BenchmarkPlanCommandGit is BenchmarkPlanCommand/courses=10000 in a git checkout of
// its specs, as a CI job plans: the plan also records the commit the specs are at and
// whether they differ from it, go-git's status of 10,000 files (read while the site
// is read).
func BenchmarkPlanCommandGit(b *testing.B) {
	ws := benchWorkspace(b, 10000)
	dir := b.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "specs"), os.DirFS(filepath.Join(ws.dir, "specs"))); err != nil {
		b.Fatal(err)
	}
	cfg, err := os.ReadFile(filepath.Join(ws.dir, "enrolctl.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "enrolctl.yaml"), cfg, 0o600); err != nil {
		b.Fatal(err)
	}
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		b.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		b.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		b.Fatal(err)
	}
	if _, err := wt.Commit("specs", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@x", When: time.Unix(0, 0)}}); err != nil {
		b.Fatal(err)
	}
	// Untimed: fills the parse cache, and checks that the plan records a clean commit.
	if res := runChild(b, dir, ws.env(), "plan", "-o", "json"); !strings.Contains(res.stdout, `"commit"`) || strings.Contains(res.stdout, `"dirty"`) {
		b.Fatalf("the plan records no commit, or a dirty one:\n%.2000s", res.stdout)
	}
	var runs childRuns
	for b.Loop() {
		runs.add(runChild(b, dir, ws.env(), "plan"))
	}
	runs.report(b)
}
