package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSecondOpenWaitsThenNamesTheHolder(t *testing.T) {
	dir := t.TempDir()
	first, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var told []string
	_, err = OpenWait(dir, 100*time.Millisecond, func(holder string) { told = append(told, holder) })
	holder := fmt.Sprintf("another enrolctl (pid %d)", os.Getpid())
	want := "is in use by " + holder + "; gave up after waiting 100ms"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("OpenWait while the sandbox is open = %v, want an error containing %q", err, want)
	}
	if len(told) != 1 || told[0] != holder {
		t.Errorf("the waiting run was told %q, want once %q", told, holder)
	}
	// Once the holder closes, a waiting run gets the sandbox.
	got := make(chan error, 1)
	go func() {
		sb, err := OpenWait(dir, 10*time.Second, nil)
		if err == nil {
			sb.Close()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("OpenWait after the holder closed: %v", err)
	}
}

// Saves of several sandboxes at once (each its own folder would not share a name, so
// they share one) must each leave a whole state file and no temporary file behind.
func TestConcurrentSavesUseUniqueTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	sb := &Sandbox{path: filepath.Join(dir, FileName), sim: demo()}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- sb.Save() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Save: %v", err)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != FileName {
		t.Errorf("after the saves the folder holds %v, want only %s", names, FileName)
	}
	if _, err := load(sb.path); err != nil {
		t.Errorf("the saved state does not load: %v", err)
	}
}

// A save killed between writing its temporary file and renaming it leaves the file; the
// next run, holding the lock, removes it.
func TestOpenRemovesTemporariesOfKilledSaves(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, FileName+".123456.tmp")
	if err := os.WriteFile(stale, []byte("{half"), 0o644); err != nil {
		t.Fatal(err)
	}
	sb, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the temporary file of a killed save is still there (stat: %v)", err)
	}
}
