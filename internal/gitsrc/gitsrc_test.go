package gitsrc

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func TestHead(t *testing.T) {
	dir := t.TempDir()
	if c, err := Head(dir); err != nil || c.Hash != "" {
		t.Fatalf("outside a repository: got %+v, %v; want zero, nil", c, err)
	}
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("course: X\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	if _, err := wt.Add("a.yaml"); err != nil {
		t.Fatal(err)
	}
	hash, err := wt.Commit("Renew L1 students\n\nbody", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@x", When: time.Unix(0, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "specs")
	os.Mkdir(sub, 0o755)
	got, err := Head(sub)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash != hash.String() || got.Subject != "Renew L1 students" {
		t.Fatalf("Head = %+v, want %s / Renew L1 students", got, hash)
	}
}

// Dirty and ChangedFiles say whether, and which, files of the spec folder differ from
// HEAD; files outside it do not count.
func TestDirtyAndChangedFiles(t *testing.T) {
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	specs := filepath.Join(dir, "specs")
	os.MkdirAll(filepath.Join(specs, "l1"), 0o755)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("specs/l1/algo.yaml", "course: L1-ALGO\n")
	write("README", "x")
	wt, _ := repo.Worktree()
	wt.Add("specs/l1/algo.yaml")
	wt.Add("README")
	if _, err := wt.Commit("specs", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@x", When: time.Unix(0, 0)}}); err != nil {
		t.Fatal(err)
	}
	if d, err := Dirty(specs); err != nil || d {
		t.Fatalf("Dirty right after the commit = %v, %v", d, err)
	}
	write("README", "changed outside the spec folder")
	if d, err := Dirty(specs); err != nil || d {
		t.Fatalf("Dirty after editing a file outside the specs = %v, %v", d, err)
	}
	write("specs/l1/algo.yaml", "course: L1-ALGO\nprotect: false\n")
	write("specs/new.yaml", "course: NEW\n")
	if d, err := Dirty(specs); err != nil || !d {
		t.Fatalf("Dirty after editing = %v, %v", d, err)
	}
	got, err := ChangedFiles(specs)
	if want := []string{"specs/l1/algo.yaml", "specs/new.yaml"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ChangedFiles = %q, %v; want %q", got, err, want)
	}
}
