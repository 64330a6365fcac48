package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// maxLinks is how many symbolic links one path may go through, as on Linux.
const maxLinks = 40

// outsideError is a spec file or folder whose link leads out of the spec folder. It
// says where the link points (what the link says, never what the target holds).
type outsideError struct{ target string }

func (e outsideError) Error() string {
	return fmt.Sprintf("a link to %q, outside the spec folder; spec files and folders must be inside it (copy the file in instead)", e.target)
}

// resolveInside follows the symbolic links of name (an fsys path below root) and
// returns the path it resolves to, or an outsideError when that path, or any link on
// the way, leaves root. A file system that cannot read links (a git tree) is read as
// it is. The target is never opened: only links are read. folders, when not nil,
// holds the folders already found not to be links, and gains those found now: one
// load checks each folder once, not once per file in it (an Lstat per folder on the
// way of each of 10,000 files was a seventh of validate's CPU).
func resolveInside(fsys fs.FS, root, name string, folders map[string]bool) (string, error) {
	if _, ok := fsys.(fs.ReadLinkFS); !ok {
		return name, nil
	}
	root = path.Clean(root)
	inside := func(p string) bool {
		return root == "." || p == root || strings.HasPrefix(p, root+"/")
	}
	var first string // what the first link says, for the message
	todo := strings.Split(path.Clean(name), "/")
	cur := "."
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case ".", "":
			continue
		case "..":
			if cur == "." {
				return "", outsideError{first}
			}
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		if folders[next] && len(todo) > 0 {
			cur = next
			continue
		}
		info, err := fs.Lstat(fsys, next)
		if err != nil {
			return "", err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			if folders != nil && info.IsDir() {
				folders[next] = true
			}
			cur = next
			continue
		}
		if hops++; hops > maxLinks {
			return "", errors.New("too many levels of symbolic links")
		}
		target, err := fs.ReadLink(fsys, next)
		if err != nil {
			return "", err
		}
		if first == "" {
			first = target
		}
		if path.IsAbs(target) || strings.Contains(target, ":") || strings.HasPrefix(target, `\`) {
			return "", outsideError{first} // an fs.FS path is relative: a link from / leaves it
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if !inside(cur) {
		return "", outsideError{first}
	}
	return cur, nil
}
