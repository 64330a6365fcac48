package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk("outer/enrolctl.yaml")           // above a repository: never used from inside it
	mk("outer/repo/.git")               // a linked worktree's .git is a file
	mk("outer/repo/specs/a/b/x.yaml")   // no configuration in the repository
	mk("outer/other/enrolctl.hcl")      // found from below
	mk("outer/other/specs/deep/x.yaml") //
	for _, tc := range []struct {
		dir, at string
		found   int
	}{
		{"outer/repo/specs/a/b", "", 0},
		{"outer/other/specs/deep", "../..", 1},
		{"outer/other", ".", 1},
		{"outer", ".", 1},
	} {
		at, found := Find(filepath.Join(root, tc.dir))
		if at != tc.at || len(found) != tc.found {
			t.Errorf("Find(%s) = %q, %v; want %q and %d name(s)", tc.dir, at, found, tc.at, tc.found)
		}
	}
	if got := implicitRoot(filepath.Join(root, "outer/repo/specs/a/b")); got != filepath.FromSlash("../../..") {
		t.Errorf("implicitRoot from specs/a/b = %q, want ../../..", got)
	}
}
