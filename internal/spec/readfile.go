package spec

import (
	"errors"
	"io/fs"

	"github.com/enrolctl/enrolctl/internal/safefile"
)

// MaxFileSize is the largest spec file the loader reads. The biggest real spec (a course
// of a few thousand users) is a few hundred KiB; the cap keeps a mistaken or hostile
// file (a log, a dump, /dev/zero) from exhausting memory.
const MaxFileSize = 4 << 20

// readSpecFile reads one spec file below root: a regular file of at most MaxFileSize.
// Symbolic links are followed within root only (a link out of the spec folder could
// show another file's lines, a credential say, in diagnostics and plans), and the
// target must be a regular file too. folders is resolveInside's.
func readSpecFile(fsys fs.FS, root, name string, folders map[string]bool) ([]byte, error) {
	real, err := resolveInside(fsys, root, name, folders)
	if err != nil {
		return nil, err
	}
	src, err := safefile.ReadFS(fsys, real, MaxFileSize, "spec file")
	if tooLarge := (*safefile.TooLargeError)(nil); errors.As(err, &tooLarge) {
		return nil, splitHint{err}
	}
	return src, err
}

// splitHint adds what to do about a spec file that is too large.
type splitHint struct{ error }

func (h splitHint) Error() string { return h.error.Error() + " (split it into several files)" }

func mib(n int64) string { return safefile.MiB(n) }
