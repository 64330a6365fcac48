package safefile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ReadFS reads name from fsys, refusing anything that is not a regular file of at most
// max bytes. what names the kind of file in errors ("spec file", "plan file").
func ReadFS(fsys fs.FS, name string, max int64, what string) ([]byte, error) {
	// A file system that can stat without opening (os.DirFS, the only one with FIFOs
	// and devices) is asked first; others (a git tree) would read the file to stat it.
	if sfs, ok := fsys.(fs.StatFS); ok {
		info, err := sfs.Stat(name)
		if err != nil {
			return nil, unwrapPath(err)
		}
		if err := check(info, max, what); err != nil {
			return nil, err
		}
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	return readChecked(f, max, what)
}

// Read reads the file at path under the same rules as ReadFS.
func Read(path string, max int64, what string) ([]byte, error) {
	return ReadFS(os.DirFS(filepath.Dir(path)), filepath.Base(path), max, what)
}

// Open opens the file at path for streaming, refusing anything but a regular file of
// at most max bytes; the reader stops at max.
func Open(path string, max int64, what string) (io.ReadCloser, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	if err := check(info, max, what); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	if info, err = f.Stat(); err != nil || check(info, max, what) != nil {
		f.Close()
		if err == nil {
			err = check(info, max, what)
		}
		return nil, unwrapPath(err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, max), f}, nil
}

// readChecked reads an opened file, checking what was opened: the file may have been
// swapped between Stat and Open.
func readChecked(f fs.File, max int64, what string) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, unwrapPath(err)
	}
	if err := check(info, max, what); err != nil {
		return nil, err
	}
	src, err := readSized(io.LimitReader(f, max+1), info.Size())
	if err != nil {
		return nil, unwrapPath(err)
	}
	if int64(len(src)) > max {
		return nil, fmt.Errorf("file grew past %s while being read; a %s may be at most %s", MiB(max), what, MiB(max))
	}
	return src, nil
}

// readSized reads r to its end into a buffer made for size bytes and one more, the
// end seen without growing it: io.ReadAll grows from 512 bytes, and for the parse
// cache's pack of a 10,000-course folder (3 MB), read before any spec, its copies and
// fresh pages took 20-30 ms. A file that grew past size is still read whole.
func readSized(r io.Reader, size int64) ([]byte, error) {
	buf := make([]byte, 0, max(size, 0)+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func check(info fs.FileInfo, max int64, what string) error {
	if !info.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (%s); a %s must be a plain file", kind(info.Mode()), what)
	}
	if info.Size() > max {
		return &TooLargeError{Size: info.Size(), Max: max, What: what}
	}
	return nil
}

// TooLargeError is a file over the cap, so callers can say what to do about it.
type TooLargeError struct {
	Size, Max int64
	What      string
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("file is %s; a %s may be at most %s", MiB(e.Size), e.What, MiB(e.Max))
}

func kind(m fs.FileMode) string {
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

// MiB formats a size in bytes as MiB.
func MiB(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// unwrapPath drops the *fs.PathError wrapper: callers name the file themselves.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// WriteAtomic writes path through a temporary file in its folder, renamed over it once
// written whole, so that a reader (or a run killed midway) sees the old file or the
// new one, never half of one. The file gets perm; durable syncs it to disk before the
// rename (state that must survive a crash; a cache need not).
func WriteAtomic(path string, perm fs.FileMode, durable bool, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	err = write(tmp)
	if err == nil && durable {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), perm)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
