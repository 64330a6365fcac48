package gitsrc

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Repo is the git repository holding the specs, opened once.
type Repo struct {
	repo *git.Repository
	// Root is the absolute path of the repository's working tree.
	Root string
}

// Open opens the repository containing dir.
func Open(dir string) (*Repo, error) {
	repo, err := openRepo(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, fmt.Errorf("%s is not in a git repository", dir)
	}
	if err != nil {
		return nil, err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, err
	}
	root, err := filepath.Abs(wt.Filesystem.Root())
	if err != nil {
		return nil, err
	}
	return &Repo{repo: repo, Root: root}, nil
}

// commit resolves a revision (a branch, a tag, a commit hash, origin/main, HEAD~1).
func (r *Repo) commit(rev string) (*object.Commit, error) {
	h, err := r.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		// Only a shallow clone is blamed for it: elsewhere the name is simply not there.
		if shallow, _ := r.repo.Storer.Shallow(); len(shallow) > 0 {
			return nil, fmt.Errorf("unknown git revision %q: this checkout is a shallow clone, which holds only the last commits; fetch the revision first (git fetch origin %s; in GitLab CI set GIT_DEPTH: 0, with actions/checkout fetch-depth: 0)", rev, rev)
		}
		return nil, fmt.Errorf("unknown git revision %q: no branch, tag or commit of this repository has this name (git branch -a and git tag list them)", rev)
	}
	c, err := r.repo.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("git revision %q: %v", rev, err)
	}
	return c, nil
}

// ChangedSince returns the files (absolute paths) that differ between the commit rev
// names and HEAD: added, modified, deleted, and both names of a rename. Uncommitted
// changes are not included: CI plans committed trees.
func (r *Repo) ChangedSince(rev string) ([]string, error) {
	from, err := r.commit(rev)
	if err != nil {
		return nil, err
	}
	head, err := r.commit("HEAD")
	if err != nil {
		return nil, err
	}
	fromTree, err := from.Tree()
	if err != nil {
		return nil, err
	}
	headTree, err := head.Tree()
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTree(fromTree, headTree)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, ch := range changes {
		for _, name := range []string{ch.From.Name, ch.To.Name} {
			if name != "" && !seen[name] {
				seen[name] = true
				out = append(out, filepath.Join(r.Root, filepath.FromSlash(name)))
			}
		}
	}
	return out, nil
}
