package gitsrc

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
	"github.com/go-git/go-git/v5/plumbing/format/index"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"
	"github.com/go-git/go-git/v5/utils/merkletrie/filesystem"
	mindex "github.com/go-git/go-git/v5/utils/merkletrie/index"
	"github.com/go-git/go-git/v5/utils/merkletrie/noder"
)

// changedUnder is go-git's Worktree.Status limited to the folder prefix of the
// working tree (slash-separated, below its root): the files there that differ from
// HEAD, staged or not, or are untracked and not ignored, by their path from the root.
// Status compares the whole working tree, reads every tree of HEAD and every
// .gitignore: 0.5-0.8 s of CPU for a plan in a repository of 10,000 specs, most of
// it outside the spec folder. This makes the same three comparisons (HEAD with the
// index, the index with the files, the ignore rules for new files) on the folder's
// part of each: HEAD's tree of the folder, the index's entries under it, the files
// below it, and the ignore files of the folder and of its parents, whose patterns
// alone can match a path below the folder.
func changedUnder(repo *git.Repository, wt *git.Worktree, prefix string) ([]string, error) {
	idx, err := repo.Storer.Index()
	if err != nil {
		return nil, err
	}
	// The index's entries under the folder, by their path from it; ModTime is what the
	// files' racy check (https://git-scm.com/docs/racy-git) compares with.
	sub := &index.Index{Version: idx.Version, ModTime: idx.ModTime}
	for _, e := range idx.Entries {
		if rest, ok := strings.CutPrefix(e.Name, prefix+"/"); ok {
			entry := *e
			entry.Name = rest
			sub.Entries = append(sub.Entries, &entry)
		}
	}
	head, err := headTreeOf(repo, prefix)
	if err != nil {
		return nil, err
	}
	files, err := wt.Filesystem.Chroot(prefix)
	if err != nil {
		return nil, err
	}
	staged, err := merkletrie.DiffTree(object.NewTreeRootNode(head), mindex.NewRootNode(sub), sameHash)
	if err != nil {
		return nil, err
	}
	unstaged, err := merkletrie.DiffTree(mindex.NewRootNode(sub), filesystem.NewRootNodeWithOptions(files, nil, filesystem.Options{Index: sub}), sameHash)
	if err != nil {
		return nil, err
	}
	var ignored gitignore.Matcher // read only when a file is new
	changed := map[string]bool{}
	for _, ch := range staged {
		changed[changePath(ch)] = true
	}
	for _, ch := range unstaged {
		p := changePath(ch)
		if len(ch.From) == 0 { // untracked: counts unless ignored, as Status says
			if ignored == nil {
				if ignored, err = ignoreRules(wt.Filesystem, prefix, wt.Excludes); err != nil {
					return nil, err
				}
			}
			if ignored.Match(strings.Split(prefix+"/"+p, "/"), ch.To.IsDir()) {
				continue
			}
		}
		changed[p] = true
	}
	var out []string
	for p := range changed {
		out = append(out, prefix+"/"+p)
	}
	return out, nil
}

// headTreeOf is HEAD's tree of the folder prefix: empty when there is no commit yet
// or HEAD lacks the folder.
func headTreeOf(repo *git.Repository, prefix string) (*object.Tree, error) {
	ref, err := repo.Head()
	if err != nil {
		return &object.Tree{}, nil
	}
	commit, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return nil, err
	}
	root, err := commit.Tree()
	if err != nil {
		return nil, err
	}
	tree, err := root.Tree(prefix)
	if errors.Is(err, object.ErrDirectoryNotFound) {
		return &object.Tree{}, nil
	}
	return tree, err
}

// changePath is the path of a change's file, from the compared roots.
func changePath(ch merkletrie.Change) string {
	if len(ch.To) > 0 {
		return ch.To.String()
	}
	return ch.From.String()
}

// sameHash is go-git's diffTreeIsEquals: folders (whose hash some noders leave as 24
// zero bytes) always differ, so the comparison goes into them.
func sameHash(a, b noder.Hasher) bool {
	ha, hb := a.Hash(), b.Hash()
	if bytes.Equal(ha, noHash) || bytes.Equal(hb, noHash) {
		return false
	}
	return bytes.Equal(ha, hb)
}

var noHash = make([]byte, 24)

// ignoreRules are the ignore patterns that can match a path below the folder prefix,
// in gitignore.ReadPatterns' order (lowest priority first): the excludes (excludes.go),
// the .gitignore files of the root and of each folder down to prefix, then those below
// it, which ReadPatterns reads (skipping the folders ignored).
func ignoreRules(fs billy.Filesystem, prefix string, excludes []gitignore.Pattern) (gitignore.Matcher, error) {
	parts := strings.Split(prefix, "/")
	patterns := slices.Clone(excludes)
	for i := range parts {
		ps, err := readIgnoreFile(fs, parts[:i], ".gitignore")
		if err != nil {
			return nil, err
		}
		patterns = append(patterns, ps...)
	}
	below, err := gitignore.ReadPatterns(fs, parts)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return gitignore.NewMatcher(append(patterns, below...)), nil
}

// readIgnoreFile reads the patterns of the ignore file name in the folder dir (as
// gitignore's own reader, which it does not export, does).
func readIgnoreFile(fs billy.Filesystem, dir []string, name string) ([]gitignore.Pattern, error) {
	f, err := fs.Open(fs.Join(append(append([]string{}, dir...), name)...))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ps []gitignore.Pattern
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		if s := lines.Text(); !strings.HasPrefix(s, "#") && strings.TrimSpace(s) != "" {
			ps = append(ps, gitignore.ParsePattern(s, dir))
		}
	}
	return ps, lines.Err()
}
