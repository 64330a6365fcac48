package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionFrom(t *testing.T) {
	vcs := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/enrolctl/enrolctl", Version: "v0.3.1-0.20261207011100-7caba4d1c9f4+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "7caba4d1c9f4e429d73e8ae7d9f85afcb7d547c1"},
			{Key: "vcs.time", Value: "2026-12-07T01:09:19Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, tc := range []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string
		want                  versionInfo
	}{
		{name: "release build: the injected values win", bi: vcs, version: "0.3.0", commit: "abc123", date: "2026-12-07T02:00:00Z",
			want: versionInfo{Version: "0.3.0", Release: true, Commit: "abc123", Modified: true, CommitTime: "2026-12-07T01:09:19Z", BuildDate: "2026-12-07T02:00:00Z", Go: "go1.26.8"}},
		{name: "from source: module version and VCS stamp", bi: vcs,
			want: versionInfo{Version: "v0.3.1-0.20261207011100-7caba4d1c9f4+dirty", Commit: "7caba4d1c9f4e429d73e8ae7d9f85afcb7d547c1", Modified: true, CommitTime: "2026-12-07T01:09:19Z", Go: "go1.26.8"}},
		{name: "no build information", want: versionInfo{Version: "(devel)", Commit: "unknown"}},
		{name: "built without VCS stamp", bi: &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			want: versionInfo{Version: "(devel)", Commit: "unknown", Go: "go1.26.8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := versionFrom(tc.bi, tc.version, tc.commit, tc.date)
			if tc.want.Go == "" {
				tc.want.Go = got.Go // the running Go's, when no build information says
			}
			tc.want.Platform, tc.want.PlanFormat, tc.want.Contract, tc.want.Plugin = got.Platform, "2", 2, got.Plugin
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if got.Plugin.Oldest.Version != 2026113000 || got.Plugin.Shipped.Version < got.Plugin.Oldest.Version {
				t.Errorf("plugin versions %+v", got.Plugin)
			}
		})
	}
}

// The binary as the release builds it (-ldflags -X, .goreleaser.yaml) reports the
// injected version, and one built from a git checkout reports its commit.
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds enrolctl")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	build := func(args ...string) string {
		t.Helper()
		bin := filepath.Join(t.TempDir(), "enrolctl")
		cmd := exec.Command("go", append(append([]string{"build", "-o", bin}, args...), "./cmd/enrolctl")...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", args, err, out)
		}
		return bin
	}
	run := func(bin string, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("%s %v: %v", bin, args, err)
		}
		return string(out)
	}

	// One build (builds are slow on a busy machine): the release's -ldflags -X set the
	// version and date, and Go stamps the commit of a git checkout (not of a git
	// worktree, whose .git is a file Go does not recognise).
	const pkg = "github.com/enrolctl/enrolctl/internal/cli"
	bin := build("-buildvcs=true", "-ldflags", "-X "+pkg+".Version=9.8.7 -X "+pkg+".Date=2026-12-07T02:00:00Z")
	var v versionInfo
	if err := json.Unmarshal([]byte(run(bin, "version", "-o", "json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Version != "9.8.7" || !v.Release || v.BuildDate != "2026-12-07T02:00:00Z" {
		t.Errorf("release build: %+v", v)
	}
	text := run(bin, "--version")
	if !strings.HasPrefix(text, "enrolctl 9.8.7\n  commit:       ") || !strings.Contains(text, "  built:        2026-12-07T02:00:00Z\n") {
		t.Errorf("release build --version:\n%s", text)
	}
	if fi, err := os.Stat(filepath.Join(root, ".git")); err != nil || !fi.IsDir() {
		t.Logf("not a git checkout with a .git folder: the commit is not checked\n%s", text)
		return
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	if v.Commit != strings.TrimSpace(string(head)) || v.CommitTime == "" {
		t.Errorf("built from the checkout at %s: %+v", head, v)
	}
}
