//go:build unix

package spec

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/enrolctl/enrolctl/internal/tree"
)

// loadDisk is load for a spec folder on disk (dir is the OS folder of the fs.FS, root
// the spec folder below it), reading each file with an open relative to its folder's
// descriptor, a stat and a read, on every core. Through the fs.FS, a file took eight
// system calls (lstat, stat, open, fcntl, fstat, two reads, close), each resolving the
// whole path: a quarter of validating 10,000 specs. ok is false when the folder holds
// anything but folders and regular files (a link, a FIFO, a file over the cap) or
// something cannot be read: load then reads it the careful way, which checks links
// and says what is wrong with the exact words, so this path never has to.
func loadDisk(dir, root string, opts Options, display func(string) string) (*Set, bool) {
	if !fs.ValidPath(root) {
		return nil, false
	}
	top, ok := openFolder(dir, root)
	if !ok {
		return nil, false
	}
	l := &diskLoader{root: root, opts: opts, display: display, set: &Set{}, jobs: make(chan *diskFolder)}
	l.opts.budget = &tree.Budget{}
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(l.work)
	}
	l.walk(top, root)
	close(l.jobs)
	wg.Wait()
	if l.bail.Load() {
		return nil, false
	}
	// Sorted by pointer: a file's result is too large to move about.
	var files []*diskFile
	for _, folder := range l.files {
		for i := range folder {
			files = append(files, &folder[i])
		}
	}
	slices.SortFunc(files, func(a, b *diskFile) int { return strings.Compare(a.p, b.p) })
	digest := newTreeDigest(root)
	if l.shared != nil {
		digest.add(l.shared.p, l.shared.src, nil)
	}
	for _, f := range files {
		digest.add(f.p, f.src, nil)
		l.set.merge(f.r)
	}
	l.set.Digest = digest.sum()
	l.set.finish()
	return l.set, true
}

// openFolder opens root below dir without following a link on the way (the careful
// path refuses files under a linked spec folder).
func openFolder(dir, root string) (*os.File, bool) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	if root != "." {
		for _, c := range strings.Split(root, "/") {
			next, err := unix.Openat(fd, c, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			unix.Close(fd)
			if err != nil {
				return nil, false
			}
			fd = next
		}
	}
	return os.NewFile(uintptr(fd), filepath.Join(dir, filepath.FromSlash(root))), true
}

type diskLoader struct {
	root    string
	opts    Options // shared is set before the first folder is handed out
	display func(string) string
	set     *Set
	jobs    chan *diskFolder
	bail    atomic.Bool

	shared *diskFile // the root's variables file, if any

	mu    sync.Mutex
	files [][]diskFile // each folder's, as read
}

// diskFolder is the spec files of one folder, read through its descriptor; the
// walker and the worker each hold it, and the last to let go closes it.
type diskFolder struct {
	f     *os.File
	fd    int
	rel   string // the folder's fs.FS path
	names []string
	users atomic.Int32
}

func (d *diskFolder) release() {
	if d.users.Add(-1) == 0 {
		d.f.Close()
	}
}

type diskFile struct {
	p   string // the fs.FS path
	src []byte
	r   fileResult
}

// walk lists folder f (the fs.FS path rel) and everything below it, handing each
// folder's spec files to the workers.
func (l *diskLoader) walk(f *os.File, rel string) {
	d := &diskFolder{f: f, fd: int(f.Fd()), rel: rel}
	d.users.Store(1)
	defer d.release()
	entries, err := f.ReadDir(-1)
	if err != nil {
		l.bail.Store(true)
		return
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	var dirs []string
	for _, e := range entries {
		name, t := e.Name(), e.Type()
		switch {
		case strings.HasPrefix(name, "."):
		case t.IsDir():
			dirs = append(dirs, name)
		case !IsSpecFile(name) && t&fs.ModeSymlink == 0:
		case rel == l.root && slices.Contains(configNames, name):
		case !t.IsRegular():
			l.bail.Store(true) // a link or a special file: the careful path says what it is
			return
		default:
			d.names = append(d.names, name)
		}
	}
	if rel == l.root {
		if i := slices.Index(d.names, tree.SharedFileName); i >= 0 {
			// Every HCL file may use its variables: read before any is parsed.
			d.names = slices.Delete(d.names, i, i+1)
			if !l.readShared(d.fd, path.Join(rel, tree.SharedFileName)) {
				return
			}
		}
	}
	if len(d.names) > 0 {
		d.users.Add(1)
		l.jobs <- d
	}
	for _, name := range dirs {
		if l.bail.Load() {
			return
		}
		fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			l.bail.Store(true)
			return
		}
		l.walk(os.NewFile(uintptr(fd), name), path.Join(rel, name))
	}
}

func (l *diskLoader) readShared(dirfd int, p string) bool {
	src, ok := readAt(dirfd, path.Base(p))
	if !ok {
		l.bail.Store(true)
		return false
	}
	file := l.display(p)
	l.set.Files = append(l.set.Files, file)
	shared, ds := tree.ParseShared(file, src)
	l.set.Diagnostics = append(l.set.Diagnostics, ds...)
	l.opts.shared = shared
	l.shared = &diskFile{p: p, src: src}
	return true
}

// work reads and parses the files of the folders handed out.
func (l *diskLoader) work() {
	var mine [][]diskFile
	yr := tree.YAMLReader{Owned: true} // a file's content is only read once read
	for d := range l.jobs {
		files := make([]diskFile, 0, len(d.names))
		for _, name := range d.names {
			if l.bail.Load() {
				break
			}
			src, ok := readAt(d.fd, name)
			if !ok {
				l.bail.Store(true)
				break
			}
			p := path.Join(d.rel, name)
			files = append(files, diskFile{p: p, src: src, r: parseFile(l.display(p), src, l.opts, &yr)})
		}
		mine = append(mine, files)
		d.release()
	}
	l.mu.Lock()
	l.files = append(l.files, mine...)
	l.mu.Unlock()
}

// readAt reads the regular file name of the folder dirfd, of at most MaxFileSize
// bytes; ok is false for anything else (a link is not followed, a FIFO not waited on).
func readAt(dirfd int, name string) ([]byte, bool) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > MaxFileSize {
		return nil, false
	}
	// One byte more than the size, to see the end; a file that grew is left to the
	// careful path. A read that stops at the size fstat gave is the whole file as it
	// was then: no read of the end (10,000 system calls of 50,000).
	buf := make([]byte, st.Size+1)
	n := 0
	for n < len(buf) && (n == 0 || n != int(st.Size)) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		if m == 0 {
			break
		}
		n += m
	}
	if n == len(buf) {
		return nil, false
	}
	return buf[:n], true
}
