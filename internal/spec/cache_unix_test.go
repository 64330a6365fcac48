//go:build unix

package spec

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A FIFO in the pack's place (planted in a repository's .enrolctl) neither hangs the
// load nor is taken for a pack.
func TestCacheIgnoresAFIFO(t *testing.T) {
	specs := t.TempDir()
	write(t, specs, "a.yaml", "course: A\n")
	cache := filepath.Join(t.TempDir(), "cache")
	loadCached(specs, cache, Options{Location: paris})
	pack := packOf(t, cache)
	if err := syscall.Unlink(pack); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(pack, 0o600); err != nil {
		t.Skip(err)
	}
	done := make(chan *Set)
	go func() { done <- loadCached(specs, cache, Options{Location: paris}) }()
	select {
	case got := <-done:
		sameSet(t, "with a FIFO for a pack", loadCached(specs, "", Options{Location: paris}), got)
	case <-time.After(10 * time.Second):
		t.Fatal("the load hangs on a FIFO in the pack's place")
	}
}
