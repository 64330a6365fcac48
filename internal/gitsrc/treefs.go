package gitsrc

import (
	"io"
	"io/fs"
	"path"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// FS returns the files of the commit rev names as an fs.FS rooted at the repository's
// root, so that specs can be read as they were at that commit.
func (r *Repo) FS(rev string) (fs.FS, error) {
	c, err := r.commit(rev)
	if err != nil {
		return nil, err
	}
	t, err := c.Tree()
	if err != nil {
		return nil, err
	}
	return treeFS{root: t, when: c.Committer.When}, nil
}

// treeFS is a read-only fs.FS over a git tree.
type treeFS struct {
	root *object.Tree
	when time.Time
}

func (t treeFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return &treeDir{info: treeInfo{name: ".", dir: true, when: t.when}, tree: t.root, fsys: t}, nil
	}
	entry, err := t.root.FindEntry(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if entry.Mode == filemode.Dir {
		sub, err := t.root.Tree(name)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return &treeDir{info: treeInfo{name: path.Base(name), dir: true, when: t.when}, tree: sub, fsys: t}, nil
	}
	f, err := t.root.File(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	// The blob is streamed, not loaded: a reader that checks Stat's size (the spec
	// loader does) never holds an oversized file from history in memory.
	r, err := f.Reader()
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return &treeFile{ReadCloser: r, info: treeInfo{name: path.Base(name), size: f.Size, when: t.when}}, nil
}

type treeInfo struct {
	name string
	size int64
	dir  bool
	when time.Time
}

func (i treeInfo) Name() string       { return i.name }
func (i treeInfo) Size() int64        { return i.size }
func (i treeInfo) ModTime() time.Time { return i.when }
func (i treeInfo) IsDir() bool        { return i.dir }
func (i treeInfo) Sys() any           { return nil }
func (i treeInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

type treeFile struct {
	io.ReadCloser
	info treeInfo
}

func (f *treeFile) Stat() (fs.FileInfo, error) { return f.info, nil }

type treeDir struct {
	info    treeInfo
	tree    *object.Tree
	fsys    treeFS
	entries []fs.DirEntry
	read    bool
}

func (d *treeDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *treeDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fs.ErrInvalid}
}
func (d *treeDir) Close() error { return nil }

// ReadDir lists the directory in git's order (sorted by name).
func (d *treeDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		d.read = true
		for _, e := range d.tree.Entries {
			info := treeInfo{name: e.Name, dir: e.Mode == filemode.Dir, when: d.fsys.when}
			if !info.dir {
				if f, err := d.tree.TreeEntryFile(&e); err == nil {
					info.size = f.Size
				}
			}
			d.entries = append(d.entries, fs.FileInfoToDirEntry(info))
		}
	}
	if n <= 0 {
		out := d.entries
		d.entries = nil
		return out, nil
	}
	if len(d.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.entries))
	out := d.entries[:n]
	d.entries = d.entries[n:]
	return out, nil
}
