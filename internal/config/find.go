package config

import (
	"os"
	"path/filepath"
)

// Find looks for the configuration the way git looks for .git: in dir, then in each
// folder above it, so that a command run from specs/ or deeper uses the repository's
// configuration rather than falling back to the sandbox. The search stops after the
// root of the git repository dir is in (a folder holding .git), so a stray
// enrolctl.yaml above a repository is never picked up. It returns the folders searched
// and the names found in the first folder holding any (more than one is an error for
// Load); found is nil when there is none.
func Find(dir string) (at string, found []string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	for d := abs; ; {
		for _, n := range Names {
			if st, err := os.Stat(filepath.Join(d, n)); err == nil && !st.IsDir() {
				found = append(found, n)
			}
		}
		if len(found) > 0 {
			return relDir(abs, d), found
		}
		parent := filepath.Dir(d)
		if isRepoRoot(d) || parent == d {
			return "", nil
		}
		d = parent
	}
}

// implicitRoot is the folder of the implicit sandbox configuration, for a command run
// in dir: the nearest folder at or above dir that has a specs folder (so that running
// from inside specs/ plans the same specs and never creates .enrolctl/ inside them),
// looking no higher than the repository root; dir itself when none has.
func implicitRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "."
	}
	for d := abs; ; {
		if st, err := os.Stat(filepath.Join(d, DefaultSpecs)); err == nil && st.IsDir() {
			return relDir(abs, d)
		}
		parent := filepath.Dir(d)
		if isRepoRoot(d) || parent == d {
			return "."
		}
		d = parent
	}
}

// relDir is folder d as seen from abs (both absolute): ".", "..", "../..", so that
// paths keep reading relative to where enrolctl runs.
func relDir(abs, d string) string {
	if r, err := filepath.Rel(abs, d); err == nil {
		return r
	}
	return d
}

// isRepoRoot reports whether d is the top of a git working tree (.git is a folder, or
// a file in a linked worktree or submodule).
func isRepoRoot(d string) bool {
	_, err := os.Lstat(filepath.Join(d, ".git"))
	return err == nil
}
