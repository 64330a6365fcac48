package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/state"
)

// restartEnv names the command that restarts the real site's web server (for example
// "apache2ctl -k restart"); without it the restart case is skipped.
const restartEnv = "ENROLCTL_E2E_RESTART_CMD"

// Issue 19: the web server restarted while an apply writes. Whatever the first apply
// made of it (applied, retried, failed or unknown), the next apply runs at once and
// converges, and a third plan is empty. It runs on the real site only, when
// ENROLCTL_E2E_RESTART_CMD says how to restart its web server; the restart is started
// when the first write call reaches the site.
func TestWebServerRestartMidApply(t *testing.T) {
	cmdline := os.Getenv(restartEnv)
	each(t, func(t *testing.T, tg *target) {
		if tg.sim != nil {
			t.Skip("moodlesim has no web server to restart (the client tests drop connections mid-write)")
		}
		if cmdline == "" {
			t.Skip(restartEnv + " is not set: no command to restart the site's web server")
		}
		const nUsers, nCourses = 200, 8
		w := newWorld(t, tg)
		var users []string
		for range nUsers / 100 {
			users = append(users, w.users(t, 100)...)
		}
		var desired []state.Course
		for range nCourses {
			c := state.Course{Shortname: w.course(t), Methods: []state.Method{{Type: state.Manual, Enabled: true}},
				Groups: []state.Group{{Name: "TP"}}}
			for i, u := range users {
				c.Enrolments = append(c.Enrolments, manual(u, "student", endOf(2031, 6, 30)))
				if i%2 == 0 {
					c.Groups[0].Members = append(c.Groups[0].Members, state.Member{Username: u})
				}
			}
			desired = append(desired, c)
		}
		p, obs := w.plan(t, desired)
		if len(p.Diagnostics) > 0 {
			t.Fatalf("plan has diagnostics: %v", p.Diagnostics)
		}

		// A client whose proxy starts the restart when the first write call arrives.
		var once sync.Once
		restarted := make(chan error, 1)
		var restartAt time.Time
		client := restartingClient(t, tg, func() {
			once.Do(func() {
				go func() {
					time.Sleep(300 * time.Millisecond) // the call is in PHP by then
					restartAt = time.Now()
					out, err := exec.Command("sh", "-c", cmdline).CombinedOutput()
					if err != nil {
						err = fmt.Errorf("%s: %v\n%s", cmdline, err, out)
					}
					restarted <- err
				}()
			})
		})
		var retries []string
		start := time.Now()
		res, err := apply.Run(context.Background(), client, p, obs, apply.Options{
			Retry: func(r apply.Retry) error {
				retries = append(retries, fmt.Sprintf("at %s: %s attempt %d of %d: %s", time.Since(start).Round(time.Millisecond), r.Function, r.Attempt, r.Attempts, r.Reason))
				return nil
			}})
		took := time.Since(start)
		select {
		case rerr := <-restarted:
			if rerr != nil {
				t.Fatal(rerr)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("no write call reached the site, or the restart command did not end")
		}
		t.Logf("first apply: %d changes in %s (restart %s after its start): %d applied, %d failed, %d unknown, %d not attempted; %d write calls, %d retries, err %v",
			len(p.Changes), took.Round(time.Millisecond), restartAt.Sub(start).Round(time.Millisecond),
			res.Count(apply.Applied), res.Count(apply.Failed), res.Count(apply.Unknown), res.Count(apply.NotAttempted),
			res.WriteCalls, len(retries), err)
		for _, r := range retries {
			t.Logf("  retry %s", r)
		}

		// The next apply runs at once (no lease to wait for here: apply.Run takes none)
		// and converges.
		second, obs2 := w.plan(t, desired)
		start = time.Now()
		res2, err := apply.Run(context.Background(), tg.client, second, obs2, apply.Options{})
		if err != nil {
			t.Fatalf("second apply: %v", err)
		}
		t.Logf("second apply: %d changes in %s: %d applied, %d write calls",
			len(second.Changes), time.Since(start).Round(time.Millisecond), res2.Count(apply.Applied), res2.WriteCalls)
		for _, r := range res2.Changes {
			if r.Outcome != apply.Applied {
				t.Errorf("second apply: %s %s: %s %s", r.Address, r.Outcome, r.ErrorCode, r.Error)
			}
		}
		third, after := w.plan(t, desired)
		if third.HasChanges() {
			t.Errorf("third plan is not empty: %d changes, first %+v", len(third.Changes), third.Changes[0])
		}
		// Every enrolment is there exactly once.
		for _, c := range after.Courses {
			seen := map[string]int{}
			for _, e := range c.Enrolments {
				if e.Method == "manual" {
					seen[e.Username]++
				}
			}
			for _, u := range users {
				if seen[u] != 1 {
					t.Errorf("%s: %s enrolled %d times by manual", c.Shortname, u, seen[u])
				}
			}
		}
	})
}

// restartingClient is a client of the real site (straight to it: a proxy would turn a
// dropped connection into an HTTP 502) whose transport calls onWrite when a
// local_enrolctl_write call is sent.
func restartingClient(t *testing.T, tg *target, onWrite func()) *moodle.Client {
	t.Helper()
	c, err := moodle.New(moodle.Config{URL: os.Getenv("ENROLCTL_E2E_URL"), Token: tg.token,
		HTTPClient: &http.Client{Transport: writeSpy{base: http.DefaultTransport, onWrite: onWrite}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type writeSpy struct {
	base    http.RoundTripper
	onWrite func()
}

func (s writeSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		if strings.Contains(string(body), "wsfunction=local_enrolctl_write") {
			s.onWrite()
		}
	}
	return s.base.RoundTrip(r)
}
