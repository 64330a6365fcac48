package apply

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/moodle"
)

// holdLease takes the site's lease as holder, as another apply would.
func holdLease(t *testing.T, s *site, holder string, ttl int64) {
	t.Helper()
	f := &moodle.Form{}
	f.Set("name", "apply")
	f.Set("holder", holder)
	f.Int("ttl", ttl)
	var ans leaseAnswer
	if err := s.client.Call(context.Background(), "local_enrolctl_acquire_lease", f, &ans); err != nil || !ans.Acquired {
		t.Fatalf("taking the lease as %q: %v %+v", holder, err, ans)
	}
}

// deadPID is the pid of a process of this host that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	return cmd.Process.Pid
}

func TestHolderRoundTripsAndIsUniquePerRun(t *testing.T) {
	a := Holder{Actor: "root", Host: "vm", PID: 1, PIDNS: "4026532290", ID: NewRunID(), Job: "https://ci.example/jobs/7"}
	b := a
	b.PIDNS, b.ID = "4026532291", NewRunID() // another container of the host, pid 1 too
	if a.String() == b.String() {
		t.Errorf("two runs as pid 1 in two PID namespaces hold the lease as one: %q", a)
	}
	for _, h := range []Holder{a, b, {Actor: "me", Host: "laptop", PID: 42, ID: NewRunID()}} {
		back, ok := ParseHolder(h.String())
		if !ok || back != h {
			t.Errorf("ParseHolder(%q) = %+v, %v; want %+v", h, back, ok, h)
		}
	}
	if _, ok := ParseHolder("root@vm pid 4299"); ok {
		t.Error("an older enrolctl's holder was read as one that can be taken over")
	}
}

// Issue 19: after an apply whose release failed, the next was refused until the lease
// expired ("held by root@vm pid 4299", the apply that had just exited). A holder of
// this host whose process is gone is taken over at once, saying so; one that runs, or
// of another host, is not, and the refusal says how to unlock it.
func TestLeaseOfAGoneProcessIsTakenOver(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	dead := ThisProcess("ci", NewRunID(), "")
	dead.PID = deadPID(t)
	holdLease(t, s, dead.String(), 600)
	l, err := AcquireLease(ctx, s.client, LeaseOptions{Holder: ThisProcess("me", NewRunID(), "").String()})
	if err != nil {
		t.Fatalf("the lease of a gone process was not taken over: %v", err)
	}
	if !strings.Contains(l.TookOver, "took over the apply lease "+dead.ID) || !strings.Contains(l.TookOver, "no longer running") {
		t.Errorf("TookOver = %q", l.TookOver)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}

	alive := ThisProcess("ci", NewRunID(), "")
	alive.PID = os.Getppid() // a process that runs
	other := Holder{Actor: "ci", Host: "another-runner", PID: dead.PID, ID: NewRunID()}
	for _, h := range []Holder{alive, other} {
		holdLease(t, s, h.String(), 600)
		_, err := AcquireLease(ctx, s.client, LeaseOptions{Holder: ThisProcess("me", NewRunID(), "").String()})
		var held *LeaseHeldError
		if !errors.As(err, &held) || !strings.Contains(err.Error(), "enrolctl unlock "+h.ID) {
			t.Errorf("holder %q: %v; want a refusal naming `enrolctl unlock %s`", h, err, h.ID)
		}
		f := &moodle.Form{}
		f.Set("name", "apply")
		f.Set("holder", h.String())
		if err := s.client.Call(ctx, "local_enrolctl_release_lease", f, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// An expired lease is taken over, saying whose it was.
func TestExpiredLeaseIsTakenOverWithAMessage(t *testing.T) {
	s := newSite(t)
	now := time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)
	s.sim.SetClock(func() time.Time { return now })
	gone := Holder{Actor: "ci", Host: "another-runner", PID: 7, ID: NewRunID()}
	holdLease(t, s, gone.String(), 10)
	now = now.Add(time.Minute)
	l, err := AcquireLease(context.Background(), s.client, LeaseOptions{Holder: "me"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	if !strings.Contains(l.TookOver, "took over the expired apply lease "+gone.ID) {
		t.Errorf("TookOver = %q, want the expired lease named", l.TookOver)
	}
}

// Issue 19: the lease's release failed while the database was down, and nothing was
// retried. Release retries; when it cannot, it says so.
func TestLeaseReleaseIsRetried(t *testing.T) {
	old := releaseBackoff
	releaseBackoff = time.Millisecond
	defer func() { releaseBackoff = old }()
	s := newSite(t)
	var fail atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(readForm(r), "local_enrolctl_release_lease") && fail.Add(-1) >= 0 {
			http.Error(w, "database down", http.StatusServiceUnavailable)
			return
		}
		s.sim.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := moodle.New(moodle.Config{URL: srv.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fail.Store(2) // two failures, then the database is back
	l, err := AcquireLease(ctx, c, LeaseOptions{Holder: "me"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Errorf("release after two failures: %v", err)
	}
	if ls := s.sim.Leases(); len(ls) != 0 {
		t.Errorf("leases after the release: %+v", ls)
	}
	fail.Store(100) // down for good
	l, err = AcquireLease(ctx, c, LeaseOptions{Holder: "me"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err == nil {
		t.Error("a release that never went through said nothing")
	}
}

// `enrolctl unlock ID` (Terraform's force-unlock): frees the lease of that id only.
func TestUnlock(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	h := Holder{Actor: "ci", Host: "another-runner", PID: 7, ID: NewRunID()}
	holdLease(t, s, h.String(), 600)
	if _, err := Unlock(ctx, s.client, NewRunID(), "me unlocking"); err == nil || !strings.Contains(err.Error(), "nothing was released") {
		t.Errorf("unlock of another id: %v", err)
	}
	if ls := s.sim.Leases(); len(ls) != 1 || ls[0].Holder != h.String() {
		t.Fatalf("leases after unlocking another id: %+v", ls)
	}
	res, err := Unlock(ctx, s.client, h.ID, "me unlocking")
	msg := res.Message
	if err != nil || !strings.Contains(msg, "Released the apply lease "+h.ID) {
		t.Errorf("unlock = %q, %v", msg, err)
	}
	if ls := s.sim.Leases(); len(ls) != 0 {
		t.Errorf("leases after unlock: %+v", ls)
	}
	if res, err := Unlock(ctx, s.client, h.ID, "me unlocking"); err != nil || !strings.Contains(res.Message, "not held") || res.Outcome != "not held" {
		t.Errorf("unlock of a free lease = %q, %v", msg, err)
	}
	if ls := s.sim.Leases(); len(ls) != 0 {
		t.Errorf("unlock left a lease: %+v", ls)
	}
}

// readForm returns the request's body, leaving it readable.
func readForm(r *http.Request) string {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return string(body)
}
