package gitsrc

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// commitFiles commits files (path → content; "" deletes) and returns the commit hash.
func commitFiles(t *testing.T, dir string, repo *git.Repository, msg string, files map[string]string) string {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if content == "" {
			if _, err := wt.Remove(name); err != nil {
				t.Fatal(err)
			}
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@x", When: time.Unix(1700000000, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestChangedSince(t *testing.T) {
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	base := commitFiles(t, dir, repo, "base", map[string]string{
		"specs/a.yaml": "course: A\n", "specs/b.yaml": "course: B\n", "specs/policies/l1.yaml": "x: 1\n", "README.md": "r\n",
	})
	commitFiles(t, dir, repo, "change", map[string]string{
		"specs/a.yaml": "course: A\ngroups: [G]\n", "specs/b.yaml": "", "specs/c.yaml": "course: C\n",
	})
	r, err := Open(filepath.Join(dir, "specs"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.ChangedSince(base)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	root, _ := filepath.Abs(dir)
	want := []string{filepath.Join(root, "specs", "a.yaml"), filepath.Join(root, "specs", "b.yaml"), filepath.Join(root, "specs", "c.yaml")}
	if !slices.Equal(got, want) {
		t.Errorf("ChangedSince = %v, want %v", got, want)
	}
	if same, err := r.ChangedSince("HEAD"); err != nil || len(same) != 0 {
		t.Errorf("ChangedSince(HEAD) = %v, %v; want nothing", same, err)
	}
	if _, err := r.ChangedSince("no-such-branch"); err == nil {
		t.Error("an unknown revision is accepted")
	}

	// The files as they were at base.
	fsys, err := r.FS(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "specs/a.yaml", "specs/b.yaml", "specs/policies/l1.yaml", "README.md"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "specs", "a.yaml")); string(b) == "course: A\n" {
		t.Fatal("fixture: the working tree should have the new a.yaml")
	}
	old, err := fs.ReadFile(fsys, "specs/a.yaml")
	if err != nil || string(old) != "course: A\n" {
		t.Errorf("a.yaml at base = %q, %v", old, err)
	}
}
