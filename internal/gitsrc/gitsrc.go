package gitsrc

import (
	"errors"

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
