package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cancellingReader answers the confirmation prompt, then cancels: the operator types
// yes and presses Ctrl-C.
type cancellingReader struct {
	cancel context.CancelFunc
	done   bool
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, nil
	}
	r.done = true
	r.cancel()
	return copy(p, "yes\n"), nil
}

// Issue 10: an interrupted apply left no audit record. It now exits 130 and its record
// has a start line and an end line saying "interrupted".
func TestApplyInterruptedExits130WithRecord(t *testing.T) {
	dir := t.TempDir()
	spec := "course: FC-WORD\nmanual:\n  until: 2027-06-30\n  users:\n    - username: dumontj01\n      role: editingteacher\n"
	if err := os.MkdirAll(filepath.Join(dir, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "specs", "fc-word.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	app := &App{Streams: Streams{In: &cancellingReader{cancel: cancel}, Out: &out, Err: &errOut, Terminal: true},
		Getenv: func(k string) string { return map[string]string{"NO_COLOR": "1"}[k] }, Dir: dir}
	code := app.RunContext(ctx, []string{"apply"})
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "Apply interrupted: 0 applied, 0 failed, 1 not attempted") {
		t.Errorf("stdout does not sum up the interrupted apply:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "Interrupted") {
		t.Errorf("stderr does not say the apply was interrupted:\n%s", errOut.String())
	}
	data, err := os.ReadFile(filepath.Join(dir, ".enrolctl", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var first, last map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &first)
	_ = json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if first["event"] != "start" || last["event"] != "end" || last["status"] != "interrupted" {
		t.Errorf("audit lines %q..%q, want a start line and an interrupted end line", lines[0], lines[len(lines)-1])
	}
}
