package gitsrc

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5"
)

// Commit identifies the commit the specs were read from.
type Commit struct {
	Hash    string `json:"hash"`
	Subject string `json:"subject,omitempty"`
}

// Head returns the commit HEAD points at in the repository containing dir. It returns
// a zero Commit and no error when dir is not in a git repository (specs may live in a
// plain folder).
func Head(dir string) (Commit, error) {
	repo, err := openRepo(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return Commit{}, nil
	}
	if err != nil {
		return Commit{}, err
	}
	ref, err := repo.Head()
	if err != nil {
		return Commit{}, nil // a repository without commits yet
	}
	c := Commit{Hash: ref.Hash().String()}
	if obj, err := repo.CommitObject(ref.Hash()); err == nil {
		c.Subject = firstLine(obj.Message)
	}
	return c, nil
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}

// Message returns the full message of the commit HEAD points at ("" outside a
// repository), where merge commits name their merge request.
func Message(dir string) string {
	repo, err := openRepo(dir)
	if err != nil {
		return ""
	}
	ref, err := repo.Head()
	if err != nil {
		return ""
	}
	obj, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return ""
	}
	return obj.Message
}

// Dirty reports whether files under dir differ from HEAD (modified, added, deleted or
// untracked and not ignored): then the specs read are not those of the commit.
// Outside a repository it reports false.
func Dirty(dir string) (bool, error) {
	changed, err := ChangedFiles(dir)
	return len(changed) > 0, err
}

// ChangedFiles lists, sorted and relative to the repository root, the files under dir
// that differ from HEAD (modified, added, deleted, or untracked and not ignored), so a
// refusal can say which. Outside a repository it lists none.
func ChangedFiles(dir string) ([]string, error) {
	repo, err := openRepo(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, err
	}
	prefix, err := relToRoot(wt.Filesystem.Root(), dir)
	if err != nil {
		return nil, err
	}
	if prefix == ".." || strings.HasPrefix(prefix, "../") {
		return nil, nil // not in the working tree
	}
	wt.Excludes = excludes(repo)
	if prefix != "." {
		// Should the folder's own comparison fail, Status answers, as it did before.
		if changed, err := changedUnder(repo, wt, prefix); err == nil {
			slices.Sort(changed)
			return changed, nil
		}
	}
	st, err := wt.Status()
	if err != nil {
		return nil, err
	}
	var changed []string
	for p, s := range st {
		if s.Worktree == git.Unmodified && s.Staging == git.Unmodified {
			continue
		}
		if prefix == "." || p == prefix || strings.HasPrefix(p, prefix+"/") {
			changed = append(changed, p)
		}
	}
	slices.Sort(changed)
	return changed, nil
}

// relToRoot is dir relative to the repository root, slash-separated.
func relToRoot(root, dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return "", err
	}
	return filepath.ToSlash(rel), nil
}

// openRepo opens the repository containing dir, a linked worktree (git worktree add)
// included: its refs and objects are in the main repository's .git, which go-git only
// reads with EnableDotGitCommonDir.
func openRepo(dir string) (*git.Repository, error) {
	return git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
}
