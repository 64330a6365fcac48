package gitsrc

import (
	"io/fs"
	"os"
	"path/filepath"
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

// TreeAt reads the specs as committed, whatever the working tree holds now; Dirty
// says whether the spec folder differs from HEAD.
func TestTreeAtAndDirty(t *testing.T) {
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	specs := filepath.Join(dir, "specs")
	os.MkdirAll(filepath.Join(specs, "l1"), 0o755)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(specs, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("l1/algo.yaml", "course: L1-ALGO\n")
	os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o644)
	wt, _ := repo.Worktree()
	wt.Add("specs/l1/algo.yaml")
	wt.Add("README")
	hash, err := wt.Commit("specs", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@x", When: time.Unix(0, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := Dirty(specs); err != nil || d {
		t.Fatalf("Dirty right after the commit = %v, %v", d, err)
	}
	write("l1/algo.yaml", "course: L1-ALGO\nprotect: false\n")
	write("new.yaml", "course: NEW\n")
	if d, err := Dirty(specs); err != nil || !d {
		t.Fatalf("Dirty after editing = %v, %v", d, err)
	}
	fsys, err := TreeAt(specs, hash.String())
	if err != nil {
		t.Fatal(err)
	}
	data, err := fs.ReadFile(fsys, "l1/algo.yaml")
	if err != nil || string(data) != "course: L1-ALGO\n" {
		t.Errorf("l1/algo.yaml at the commit = %q, %v", data, err)
	}
	if _, err := fs.Stat(fsys, "new.yaml"); err == nil {
		t.Error("a file added after the commit is in the commit's tree")
	}
	if _, err := fs.Stat(fsys, "README"); err == nil {
		t.Error("a file outside the spec folder is in its tree")
	}
	if _, err := TreeAt(specs, "0123456789012345678901234567890123456789"); err == nil {
		t.Error("an unknown commit was read")
	}
}
