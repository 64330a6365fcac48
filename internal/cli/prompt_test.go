package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Ctrl-C at apply's confirmation prompt did nothing (the read of the terminal went
// on; a second Ctrl-C killed enrolctl silently). It now ends at once: exit 130,
// "nothing applied", and nothing is: the next plan still has the change.
func TestApplyInterruptedAtPrompt(t *testing.T) {
	dir := t.TempDir()
	spec := "course: FC-WORD\nmanual:\n  until: 2027-06-30\n  users:\n    - username: dumontj01\n      role: editingteacher\n"
	if err := os.MkdirAll(filepath.Join(dir, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "specs", "fc-word.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	in, typing := io.Pipe() // an operator who never answers
	defer typing.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	// Ctrl-C once the prompt waits.
	app := &App{Streams: Streams{In: in, Out: &promptWatcher{w: &out, cancel: cancel}, Err: &errOut, Terminal: true},
		Getenv: func(k string) string { return map[string]string{"NO_COLOR": "1"}[k] }, Dir: dir}
	start := time.Now()
	code := app.RunContext(ctx, []string{"apply"})
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "Only 'yes' will be accepted") || !strings.Contains(errOut.String(), "interrupted at the confirmation prompt; nothing applied") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s to stop", d)
	}
	if _, err := os.Stat(filepath.Join(dir, ".enrolctl", "audit.log")); err == nil {
		t.Errorf("an audit record was started: something may have been applied")
	}
	out.Reset()
	again := &App{Streams: Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, Getenv: app.Getenv, Dir: dir}
	if code := again.Run([]string{"plan", "--detailed-exitcode"}); code != exitChanges {
		t.Errorf("plan after the interrupted prompt: exit %d, want %d (the change still to make)\n%s", code, exitChanges, out.String())
	}
}

// promptWatcher cancels (the operator's Ctrl-C) shortly after the prompt is written.
type promptWatcher struct {
	w      io.Writer
	cancel context.CancelFunc
}

func (p *promptWatcher) Write(b []byte) (int, error) {
	if strings.Contains(string(b), "Only 'yes' will be accepted") {
		time.AfterFunc(200*time.Millisecond, p.cancel)
	}
	return p.w.Write(b)
}
