package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

// threeStageSpec creates a group, enrols a user and puts them in it: three write calls.
const threeStageSpec = `course: FC-WORD
manual:
  until: 2027-06-30
  users:
    - {username: perretj01, role: editingteacher, groups: [Soir]}
groups:
  - Soir
`

// faultSite serves the demo Moodle through wrap, as the configured site "prod" of a
// folder holding threeStageSpec.
func faultSite(t *testing.T, wrap func(http.Handler) http.Handler) (*moodlesim.Sim, string, string) {
	t.Helper()
	sim := moodlesim.DemoSite()
	sim.AddToken(doctorToken, "enrolctl", "admin")
	srv := httptest.NewServer(wrap(sim.Handler()))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "specs", "fc-word.yaml"), []byte(threeStageSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	return sim, dir, srv.URL
}

func isWriteCall(r *http.Request) bool { return wsfunction(r) == "local_enrolctl_write" }

// wsfunction is the web-service function a request calls; the body stays readable.
func wsfunction(r *http.Request) string {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	q, _ := url.ParseQuery(string(body))
	return q.Get("wsfunction")
}

// diskFull is an audit file whose disk is full after its first lines lines.
type diskFull struct {
	lines int
}

func (d *diskFull) Write(p []byte) (int, error) {
	if d.lines == 0 {
		return 0, &os.PathError{Op: "write", Path: "audit.log", Err: syscall.ENOSPC}
	}
	d.lines--
	return len(p), nil
}
func (d *diskFull) Sync() error  { return nil }
func (d *diskFull) Close() error { return nil }

// Issue 19: with the audit log's disk full, apply sent all its write calls, and exited
// 0 with a warning. It now stops before its next write call, exits 1 and says why.
func TestApplyStopsWhenTheAuditCannotBeWritten(t *testing.T) {
	var mu sync.Mutex
	writes := 0
	sim, dir, url := faultSite(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isWriteCall(r) {
				mu.Lock()
				writes++
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	})
	var out bytes.Buffer
	app := prodSiteApp(t, dir, url, &out)
	app.openAudit = func(string) (apply.AuditFile, error) { return &diskFull{lines: 1}, nil } // the start line fits
	code := app.Run([]string{"apply", "--auto-approve"})
	if code != exitFailure {
		t.Fatalf("exit %d, want 1:\n%s", code, out.String())
	}
	if writes != 1 {
		t.Errorf("%d write calls; want the first only, whose outcome could not be recorded", writes)
	}
	for _, want := range []string{"no space left on device", "apply stopped before its next write call", "Apply interrupted: 1 applied"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "Audit record appended") || strings.Contains(out.String(), "Apply complete") {
		t.Errorf("the output claims a record or a complete apply:\n%s", out.String())
	}
	if ls := sim.Leases(); len(ls) != 0 {
		t.Errorf("the lease was left behind: %+v", ls)
	}
}

// Issue 19: SIGTERM exited 130. An apply stopped by SIGTERM (a CI job cancelled)
// finishes the write in flight, records the run as interrupted and exits 143; SIGINT
// exits 130.
func TestApplySignalExitCodes(t *testing.T) {
	bin, err := exec.LookPath("enrolctl") // testscript.Main put the test binary there
	if err != nil {
		t.Skip("no enrolctl on PATH:", err)
	}
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, exitTerminated}, {syscall.SIGINT, exitInterrupted}} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			arrived := make(chan struct{})
			var once sync.Once
			_, dir, url := faultSite(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if isWriteCall(r) {
						once.Do(func() { close(arrived) })
						time.Sleep(300 * time.Millisecond) // the signal comes while it runs
					}
					h.ServeHTTP(w, r)
				})
			})
			prodSiteApp(t, dir, url, io.Discard) // writes enrolctl.yaml
			code, stderr := signalDuring(t, bin, dir, arrived, tt.sig, "apply", "--auto-approve")
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, "Interrupted") {
				t.Errorf("stderr:\n%s", stderr)
			}
			raw, err := os.ReadFile(filepath.Join(dir, ".enrolctl", "audit.log"))
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
			var end struct{ Event, Status, Lease string }
			if err := json.Unmarshal(lines[len(lines)-1], &end); err != nil || end.Event != "end" || end.Status != "interrupted" || end.Lease != "released" {
				t.Errorf("last audit line %s: want an end line, interrupted, lease released", lines[len(lines)-1])
			}
		})
	}
}

// A plan stopped by a signal while it reads the site exits 130 or 143, as apply does,
// and says it was interrupted, not that the site is out of reach or its answer bad:
// net/http gives the signal (the context's cause) as the request's error, not
// context.Canceled, and a stream cut mid-answer fails to decode.
func TestPlanSignalExitCodes(t *testing.T) {
	bin, err := exec.LookPath("enrolctl") // testscript.Main put the test binary there
	if err != nil {
		t.Skip("no enrolctl on PATH:", err)
	}
	serve := map[string]func(h http.Handler, arrived func()) http.Handler{
		"before the answer": func(h http.Handler, arrived func()) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				arrived()
				time.Sleep(2 * time.Second) // the signal comes while the site is read
				h.ServeHTTP(w, r)
			})
		},
		"mid-answer": func(h http.Handler, arrived func()) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// The answers that carry course rows (get_courses too, plugin 2.4.0).
				if fn := wsfunction(r); fn != "local_enrolctl_get_course_rows" && fn != "local_enrolctl_get_courses" {
					h.ServeHTTP(w, r)
					return
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				maps.Copy(w.Header(), rec.Header())
				w.WriteHeader(rec.Code)
				b := rec.Body.Bytes()
				w.Write(b[:len(b)/2]) // the headers and half the answer, then the signal
				w.(http.Flusher).Flush()
				arrived()
				time.Sleep(2 * time.Second)
				w.Write(b[len(b)/2:])
			})
		},
	}
	for name, handler := range serve {
		for _, tt := range []struct {
			sig  syscall.Signal
			code int
		}{{syscall.SIGTERM, exitTerminated}, {syscall.SIGINT, exitInterrupted}} {
			t.Run(name+"/"+tt.sig.String(), func(t *testing.T) {
				arrived := make(chan struct{})
				var once sync.Once
				_, dir, url := faultSite(t, func(h http.Handler) http.Handler {
					return handler(h, func() { once.Do(func() { close(arrived) }) })
				})
				prodSiteApp(t, dir, url, io.Discard) // writes enrolctl.yaml
				code, stderr := signalDuring(t, bin, dir, arrived, tt.sig, "plan")
				if code != tt.code || stderr != "Error: interrupted ("+signalName(tt.sig)+")\n" {
					t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
				}
			})
		}
	}
}

// signalDuring runs enrolctl args in dir, sends it sig once the site closes arrived,
// and returns its exit code and standard error.
func signalDuring(t *testing.T, bin, dir string, arrived <-chan struct{}, sig syscall.Signal, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ENROLCTL_TOKEN="+doctorToken)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("no call arrived")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}
