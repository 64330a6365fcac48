package spec

import (
	"fmt"
	"io"
	"io/fs"
)

// MaxFileSize is the largest spec file the loader reads. The biggest real spec (a course
// of a few thousand users) is a few hundred KiB; the cap keeps a mistaken or hostile
// file (a log, a dump, /dev/zero) from exhausting memory.
const MaxFileSize = 4 << 20

// readSpecFile reads one spec file, refusing anything that is not a regular file before
// opening it: opening a FIFO blocks until a writer comes, and a device such as /dev/zero
// never ends. Symbolic links are followed, and the target must be a regular file too.
func readSpecFile(fsys fs.FS, name string) ([]byte, error) {
	// A file system that can stat without opening (os.DirFS, the only one with FIFOs
	// and devices) is asked first; others (a git tree) would read the file to stat it.
	if sfs, ok := fsys.(fs.StatFS); ok {
		info, err := sfs.Stat(name)
		if err != nil {
			return nil, unwrapPath(err)
		}
		if err := checkSpecFile(info); err != nil {
			return nil, err
		}
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	// The file may have been swapped between Stat and Open: check what was opened.
	info, err := f.Stat()
	if err != nil {
		return nil, unwrapPath(err)
	}
	if err := checkSpecFile(info); err != nil {
		return nil, err
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, unwrapPath(err)
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("file grew past %s while being read; a spec file may be at most %s", mib(MaxFileSize), mib(MaxFileSize))
	}
	return src, nil
}

func checkSpecFile(info fs.FileInfo) error {
	if !info.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%s); spec files must be plain files", fileKind(info.Mode()))
	}
	if info.Size() > MaxFileSize {
		return fmt.Errorf("file is %s; a spec file may be at most %s (split it into several files)", mib(info.Size()), mib(MaxFileSize))
	}
	return nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a folder"
	}
	return m.Type().String()
}

func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
