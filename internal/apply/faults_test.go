package apply

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/state"
)

// renewWorld is a generated world whose plan renews end dates and unenrols someone,
// over several stages.
func renewWorld(t *testing.T) (*world, state.Snapshot, diff.Plan, state.Snapshot) {
	t.Helper()
	for seed := uint64(5); seed < 80; seed++ {
		w := newWorld(t, seed, 4)
		desired := w.desired(t)
		p, obs := w.plan(t, desired)
		dated := slices.ContainsFunc(p.Changes, func(c diff.Change) bool {
			return slices.ContainsFunc(c.Fields, func(f diff.FieldChange) bool { return f.Field == diff.FieldEnd && f.Old != nil })
		})
		unenrols := slices.ContainsFunc(p.Changes, func(c diff.Change) bool { return c.Kind == diff.KindEnrolment && c.Action == diff.Delete })
		if dated && unenrols {
			return w, desired, p, obs
		}
	}
	t.Fatal("no generated world renews and unenrols")
	return nil, state.Snapshot{}, diff.Plan{}, state.Snapshot{}
}

// Issue 17 item 5: the audit record had no version, unix seconds where the plan shows
// days, and a status of its own. Every line now validates against the shipped schema
// (docs/audit.schema.json), carries the version, and dates are days in the site's zone.
func TestAuditRecordIsVersionedWithDaysAndValidates(t *testing.T) {
	w, _, p, obs := renewWorld(t)
	p.Timezone = "Europe/Paris"
	path := filepath.Join(t.TempDir(), "audit.log")
	log, err := StartAudit(path, AuditStart{Provenance: Provenance{Actor: "me", ActorFrom: "os-user"}, Site: "prod", Lease: NewRunID(), LeaseHolder: "me@host pid 1 run x"}, p)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := Run(context.Background(), w.client, p, obs, Options{Settled: log.Course, Retry: log.Retry})
	if err := log.Retry(Retry{Function: "local_enrolctl_write", Courses: 1, Items: 3, Attempt: 2, Attempts: 5, Reason: "connection reset"}); err != nil {
		t.Fatal(err)
	}
	log.Lease("released")
	if err := log.Finish(string(StatusOf(res)), "", res); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<24)
	n := 0
	for sc.Scan() {
		n++
		if err := ValidateAuditLine(sc.Bytes()); err != nil {
			t.Errorf("line %d does not validate against docs/audit.schema.json: %v\n%s", n, err, sc.Bytes())
		}
	}
	lines := readAudit(t, path)
	var days int
	for _, l := range lines {
		if l["version"] != AuditVersion {
			t.Errorf("line without version %q: %v", AuditVersion, l)
		}
		cs, _ := l["changes"].([]any)
		for _, c := range cs {
			fs, _ := c.(map[string]any)["fields"].([]any)
			for _, f := range fs {
				f := f.(map[string]any)
				if f["field"] != "end" {
					continue
				}
				days++
				// The generated renewal is until 2027-07-01 00:00 UTC, exclusive: the
				// last day in Paris is 2027-07-01 (02:00 local is not midnight).
				if s, ok := f["new"].(string); !ok || !strings.HasPrefix(s, "2027-07-01") {
					t.Errorf("end field %v: want the day as the plan shows it", f)
				}
			}
		}
	}
	if days == 0 {
		t.Error("no end date recorded: the test exercises nothing")
	}
	end := lines[len(lines)-1]
	if end["status"] != string(StatusCompleted) || end["lease"] != "released" {
		t.Errorf("end line %v: want completed, lease released", end)
	}
}

// fullDisk is an audit file that accepts limit bytes, then fails as a full disk does,
// keeping the torn line.
type fullDisk struct {
	bytes.Buffer
	limit int
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if d.Len()+len(p) > d.limit {
		n := d.limit - d.Len()
		d.Buffer.Write(p[:n])
		return n, &os.PathError{Op: "write", Path: "audit.log", Err: syscall.ENOSPC}
	}
	return d.Buffer.Write(p)
}
func (d *fullDisk) Sync() error  { return nil }
func (d *fullDisk) Close() error { return nil }

// Issue 19: with the audit log's disk full, apply sent all 5 write calls and exited 0
// with 11 of 176 changes recorded. The first line that cannot be written now stops the
// run before its next write call.
func TestAuditFailureStopsBeforeTheNextWrite(t *testing.T) {
	w, _, p, obs := renewWorld(t)
	client, ops := recordWrites(t, w.sim)
	disk := &fullDisk{limit: 1 << 30}
	log, err := StartAuditFile(disk, "audit.log", AuditStart{Site: "prod"}, p)
	if err != nil {
		t.Fatal(err)
	}
	disk.limit = disk.Len() + 40 // the first course line tears
	res, err := Run(context.Background(), client, p, obs, Options{Settled: log.Course, Retry: log.Retry})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ops()); n != 1 {
		t.Errorf("%d write calls after the audit log failed at the first one's outcomes (%v); want 1", n, ops())
	}
	if !res.Interrupted || !strings.Contains(res.Stopped, "no space left on device") {
		t.Errorf("Interrupted %v, Stopped %q: want stopped by the audit log", res.Interrupted, res.Stopped)
	}
	if res.Count(NotAttempted) == 0 || res.Count(Applied) == 0 {
		t.Errorf("%d applied, %d not attempted: want the first call's changes applied and the rest not attempted", res.Count(Applied), res.Count(NotAttempted))
	}
	if err := log.Finish(string(StatusOf(res)), res.Stopped, res); err == nil {
		t.Error("Finish on a full disk said nothing")
	}
}

// Issue 19: a write slower than the client's fixed 60 s timeout was sent again while
// the first still ran: 5 overlapping copies. A write that times out is never sent
// again; its changes are unknown until a plan shows them.
func TestWriteTimeoutIsNeverResent(t *testing.T) {
	w, _, p, obs := renewWorld(t)
	var inflight, most, calls atomic.Int32
	var mu sync.Mutex
	bodies := map[string]int{}
	client := clientWith(t, w, moodle.Config{HTTPClient: &http.Client{Timeout: 20 * time.Millisecond}, WriteTimeout: 100 * time.Millisecond, WriteTimePerItem: time.Millisecond},
		func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if op := writeOp(r); op != "" {
					body, _ := io.ReadAll(r.Body)
					r.Body = io.NopCloser(bytes.NewReader(body))
					mu.Lock()
					bodies[string(body)]++
					mu.Unlock()
					calls.Add(1)
					n := inflight.Add(1)
					defer inflight.Add(-1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					if calls.Load() == 1 {
						time.Sleep(400 * time.Millisecond) // the first write is slow: it lands late
					}
				}
				h.ServeHTTP(rw, r)
			})
		})
	res, err := Run(context.Background(), client, p, obs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(450 * time.Millisecond) // let the slow write land
	mu.Lock()
	for body, n := range bodies {
		if n > 1 {
			t.Errorf("a write was sent %d times: %.80s…", n, body)
		}
	}
	mu.Unlock()
	if most.Load() > 1 {
		t.Errorf("%d writes ran at once", most.Load())
	}
	if res.Count(Unknown) == 0 || res.Count(Failed) != 0 {
		t.Errorf("%d unknown, %d failed: want the timed-out write's changes unknown, none failed", res.Count(Unknown), res.Count(Failed))
	}
	for _, c := range res.Changes {
		if c.Outcome == Unknown && !strings.Contains(c.Error, "may still be running") {
			t.Errorf("%s: %q does not say the write may still be running", c.Address, c.Error)
		}
	}
}

// Issue 19: Ctrl-C during a slow write sent it 4 more times and exited after 306 s
// saying "nothing more was sent". Once stopped, the call in flight gets Options.Grace,
// then is given up (its changes unknown, not re-read), and nothing is sent again.
func TestInterruptDuringAHungWriteReturnsPromptly(t *testing.T) {
	w, _, p, obs := renewWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var writes atomic.Int32
	release := make(chan struct{})
	defer close(release)
	client := clientWith(t, w, moodle.Config{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if writeOp(r) != "" {
				writes.Add(1)
				cancel() // Ctrl-C while the site hangs on this write
				select {
				case <-release:
				case <-time.After(30 * time.Second):
				}
			}
			h.ServeHTTP(rw, r)
		})
	})
	began := time.Now()
	res, err := Run(ctx, client, p, obs, Options{Grace: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("Run took %s after the interrupt; want about the grace period", d)
	}
	if n := writes.Load(); n != 1 {
		t.Errorf("%d write calls; want only the one in flight", n)
	}
	if !res.Interrupted || res.Count(Unknown) == 0 || res.Count(Applied) != 0 || res.Count(Failed) != 0 {
		t.Errorf("interrupted %v, %d unknown, %d applied, %d failed: want the hung write's changes unknown", res.Interrupted, res.Count(Unknown), res.Count(Applied), res.Count(Failed))
	}
}

// Issue 19: write retries after a connection loss were silent. Each call sent again is
// said through Options.Retry, with its reason; the changes land once.
func TestDroppedConnectionMidWriteIsRetriedVisibly(t *testing.T) {
	w, desired, p, obs := renewWorld(t)
	var writes atomic.Int32
	client := clientWith(t, w, moodle.Config{Backoff: time.Millisecond}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if writeOp(r) != "" && writes.Add(1) == 1 {
				// The web server restarts while the first write is on its way: the
				// connection drops before Moodle sees it.
				conn, _, err := rw.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			}
			h.ServeHTTP(rw, r)
		})
	})
	var retries []Retry
	res, err := Run(context.Background(), client, p, obs, Options{Retry: func(r Retry) error { retries = append(retries, r); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("%d applied of %d after one dropped connection", res.Count(Applied), len(res.Changes))
	}
	if len(retries) != 1 || retries[0].Attempt != 2 || retries[0].Items == 0 || retries[0].Reason == "" {
		t.Errorf("retries said: %+v; want one, attempt 2, with its items and reason", retries)
	}
	if again, _ := w.plan(t, desired); again.HasChanges() {
		t.Errorf("the plan after the apply has %d changes", len(again.Changes))
	}
}

// Issue 19: PostgreSQL restarting during an apply failed 400 changes of 4 courses for
// good, with Moodle's HTML error 400 times. A database error for one course is resent
// (said), and what still fails is one diagnostic per course with the count, in text.
func TestDatabaseErrorForOneCourse(t *testing.T) {
	w, desired, p, obs := renewWorld(t)
	c00 := w.sim.CourseID("C00")
	html := "<p>Error: Database connection failed</p>\n<p>It is possible that the database is overloaded or otherwise not running properly.</p>"
	w.sim.FailCourse(c00, "dbconnectionfailed", html, 0)
	var retries []Retry
	res, err := Run(context.Background(), w.client, p, obs, Options{Retry: func(r Retry) error { retries = append(retries, r); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, c := range res.Changes {
		switch {
		case c.Course != "C00" && c.Outcome != Applied:
			t.Errorf("%s: %s in a course without the fault", c.Address, c.Outcome)
		case c.Course == "C00" && c.Outcome == Failed:
			failed++
			if strings.Contains(c.Error, "<p>") || !strings.Contains(c.Error, "Error: Database connection failed It is possible") {
				t.Errorf("%s: error %q is not Moodle's message as text", c.Address, c.Error)
			}
		}
	}
	if failed < 2 {
		t.Fatalf("%d changes of C00 failed; the test needs several", failed)
	}
	if len(retries) == 0 {
		t.Error("the course's writes were not said to be retried")
	}
	ds := FailureDiagnostics(p, res, false)
	var about []string
	for _, d := range ds {
		if strings.Contains(d.Message, "course C00") {
			about = append(about, d.Message)
		}
	}
	if len(about) != 1 || !strings.Contains(about[0], fmt.Sprintf("course C00: %d changes failed", failed)) || !strings.Contains(about[0], "errorcode dbconnectionfailed") {
		t.Errorf("diagnostics about C00: %q; want one with the count %d and the errorcode", about, failed)
	}
	if all := FailureDiagnostics(p, res, true); len(all) != res.Count(Failed)+res.Count(Unknown) {
		t.Errorf("expanded: %d diagnostics for %d failures", len(all), res.Count(Failed)+res.Count(Unknown))
	}
	// The database is back: the next apply converges, and a third plan is empty.
	w.sim.ClearCourseFaults()
	p2, obs2 := w.plan(t, desired)
	if res2, _ := Run(context.Background(), w.client, p2, obs2, Options{}); !res2.OK() {
		t.Fatalf("second apply: %d of %d applied", res2.Count(Applied), len(res2.Changes))
	}
	if p3, _ := w.plan(t, desired); p3.HasChanges() {
		t.Errorf("third plan has %d changes", len(p3.Changes))
	}
}

// clientWith serves the world's sim through wrap with a client made from cfg.
func clientWith(t *testing.T, w *world, cfg moodle.Config, wrap func(http.Handler) http.Handler) *moodle.Client {
	t.Helper()
	c := w.clientVia(t, wrap)
	cfg.URL, cfg.Token = c.SiteURL(), token
	out, err := moodle.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The example of docs/audit.md is a valid record.
func TestAuditDocExampleValidates(t *testing.T) {
	doc, err := os.ReadFile("../../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```json\n")
	block, _, _ = strings.Cut(block, "```")
	if !ok || strings.TrimSpace(block) == "" {
		t.Fatal("docs/audit.md has no JSON example")
	}
	for i, line := range strings.Split(strings.TrimSpace(block), "\n") {
		if err := ValidateAuditLine([]byte(line)); err != nil {
			t.Errorf("docs/audit.md example line %d: %v", i+1, err)
		}
	}
}
