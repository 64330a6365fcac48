package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// run runs one enrolctl command line in dir, in-process, as Main would.
func run(dir string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	app := &App{Streams: Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, Getenv: func(string) string { return "" }, Dir: dir}
	code = app.Run(args)
	return code, out.String(), errb.String()
}

// Several applies at once on the sandbox, each on its own course: every one of them
// must be in the final state (before the lock, each run saved the state it had read
// and the last save won; with one shared temporary name, some failed to rename).
func TestConcurrentAppliesOnTheSandboxLoseNothing(t *testing.T) {
	dir := t.TempDir()
	courses := []string{"FC-WORD", "FC-RGPD", "FC-MANAGEMENT", "FC-ANGLAIS-B1", "FC-EXCEL-PERF", "L1-INFO-WEB"}
	for _, c := range courses {
		src := fmt.Sprintf("course: %s\ngroups: [Concurrent %s]\n", c, c)
		if err := os.MkdirAll(filepath.Join(dir, "specs"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "specs", strings.ToLower(c)+".yaml"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Seed the sandbox first, so that every apply starts from the same saved state.
	if code, _, stderr := run(dir, "sandbox", "reset"); code != 0 {
		t.Fatalf("sandbox reset: exit %d: %s", code, stderr)
	}
	var wg sync.WaitGroup
	for _, c := range courses {
		wg.Go(func() {
			if code, stdout, stderr := run(dir, "apply", "--course", c, "--auto-approve"); code != 0 {
				t.Errorf("apply --course %s: exit %d\n%s%s", c, code, stdout, stderr)
			}
		})
	}
	wg.Wait()
	code, stdout, stderr := run(dir, "plan", "--detailed-exitcode")
	if code != 0 {
		t.Errorf("after the concurrent applies, plan exits %d (0 = nothing left to do); changes were lost:\n%s%s", code, stdout, stderr)
	}
}
