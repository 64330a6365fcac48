package gitsrc

import (
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
