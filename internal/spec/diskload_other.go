//go:build !unix

package spec

// loadDisk reads through the fs.FS on systems without openat: see diskload_unix.go.
func loadDisk(dir, root string, opts Options, display func(string) string) (*Set, bool) {
	return nil, false
}
