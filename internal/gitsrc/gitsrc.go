package gitsrc

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"testing/fstest"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
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
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
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
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
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
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return false, err
	}
	prefix, err := relToRoot(wt.Filesystem.Root(), dir)
	if err != nil {
		return false, err
	}
	st, err := wt.Status()
	if err != nil {
		return false, err
	}
	for p, s := range st {
		if s.Worktree == git.Unmodified && s.Staging == git.Unmodified {
			continue
		}
		if prefix == "." || p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true, nil
		}
	}
	return false, nil
}

// maxTreeFile caps a file read from a commit, as the spec loader caps files on disk.
const maxTreeFile = 8 << 20

// TreeAt returns the files under dir as they were at commit, read from the repository
// that contains dir, without touching the working tree: a saved plan is checked
// against the specs it was planned from. The result is an fs.FS rooted at dir.
func TreeAt(dir, commit string) (fs.FS, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("reading the specs at commit %s: %w", commit, err)
	}
	h, err := repo.ResolveRevision(plumbing.Revision(commit))
	if err != nil {
		return nil, fmt.Errorf("commit %s is not in the repository of %s (fetch it, or plan again): %w", commit, dir, err)
	}
	c, err := repo.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("commit %s: %w", commit, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, err
	}
	sub, err := relToRoot(wt.Filesystem.Root(), dir)
	if err != nil {
		return nil, err
	}
	out := fstest.MapFS{}
	if sub != "." {
		if tree, err = tree.Tree(sub); errors.Is(err, object.ErrDirectoryNotFound) {
			return out, nil // the folder did not exist at that commit
		} else if err != nil {
			return nil, fmt.Errorf("commit %s: %s: %w", commit, sub, err)
		}
	}
	err = tree.Files().ForEach(func(f *object.File) error {
		if !f.Mode.IsFile() {
			return nil // symlinks and submodules: not specs
		}
		if f.Size > maxTreeFile {
			return fmt.Errorf("commit %s: %s is larger than %d bytes", commit, path.Join(sub, f.Name), maxTreeFile)
		}
		text, err := f.Contents()
		if err != nil {
			return err
		}
		out[f.Name] = &fstest.MapFile{Data: []byte(text), Mode: 0o644}
		return nil
	})
	return out, err
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
