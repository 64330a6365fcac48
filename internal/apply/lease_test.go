package apply

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/moodle"
)

// Issue 10: two applies at once interleaved. The second one stops at once, naming the
// holder, or waits for the first to release the lease.
func TestAttackSecondApplyStopsOrWaitsForTheLease(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	first, err := AcquireLease(ctx, s.client, LeaseOptions{Holder: "alice@runner-1 (pid 10)", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	_, err = AcquireLease(ctx, s.client, LeaseOptions{Holder: "bob@runner-2 (pid 20)", TTL: time.Minute})
	var held *LeaseHeldError
	if !errors.As(err, &held) || held.Holder != "alice@runner-1 (pid 10)" || !strings.Contains(err.Error(), `held by "alice@runner-1 (pid 10)"`) {
		t.Fatalf("second acquire = %v, want a LeaseHeldError naming alice", err)
	}
	// Waiting: the first apply finishes after 50 ms; the second gets the lease.
	go func() {
		time.Sleep(50 * time.Millisecond)
		_ = first.Release(ctx)
	}()
	second, err := AcquireLease(ctx, s.client, LeaseOptions{Holder: "bob@runner-2 (pid 20)", TTL: time.Minute, Wait: 5 * time.Second, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatalf("waiting acquire: %v", err)
	}
	if ls := s.sim.Leases(); len(ls) != 1 || ls[0].Holder != "bob@runner-2 (pid 20)" {
		t.Errorf("leases after the wait: %+v", ls)
	}
	// Waiting too little: refused with how long it waited.
	_, err = AcquireLease(ctx, s.client, LeaseOptions{Holder: "carol", TTL: time.Minute, Wait: 30 * time.Millisecond, Poll: 10 * time.Millisecond})
	if !errors.As(err, &held) || held.Holder != "bob@runner-2 (pid 20)" {
		t.Errorf("acquire with a short wait = %v, want held by bob", err)
	}
	if err := second.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if ls := s.sim.Leases(); len(ls) != 0 {
		t.Errorf("leases after release: %+v", ls)
	}
}

// The lease is renewed while the apply runs, and lost (the apply's context ends) when
// another holder took it after it expired.
func TestLeaseRenewedThenLost(t *testing.T) {
	s := newSite(t)
	var now atomic.Int64
	now.Store(time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC).Unix())
	s.sim.SetClock(func() time.Time { return time.Unix(now.Load(), 0) })
	ctx := context.Background()
	// Alice's runner reaches Moodle through a link the test can cut.
	var cut atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cut.Load() {
			http.Error(w, "unreachable", http.StatusServiceUnavailable)
			return
		}
		s.sim.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	alice, err := moodle.New(moodle.Config{URL: srv.URL, Token: token, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	l, err := AcquireLease(ctx, alice, LeaseOptions{Holder: "alice", TTL: 10 * time.Second, RenewEvery: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	exp := s.sim.Leases()[0].Expires
	now.Add(7) // 7 s later, past the first expiry but for renewals
	waitFor(t, func() bool { return s.sim.Leases()[0].Expires >= exp+7 }, "the lease to be renewed")
	if l.Context().Err() != nil {
		t.Fatalf("lease lost while renewing: %v", context.Cause(l.Context()))
	}
	// Alice's runner is cut off long enough for the lease to expire, and bob takes it;
	// when the link is back, alice's next renewal finds the lease lost.
	cut.Store(true)
	s.sim.SetClock(func() time.Time { return time.Unix(now.Load()+3600, 0) })
	if _, err := AcquireLease(ctx, s.client, LeaseOptions{Holder: "bob", TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	cut.Store(false)
	waitFor(t, func() bool { return l.Context().Err() != nil }, "the lease's context to end")
	if cause := context.Cause(l.Context()); !strings.Contains(cause.Error(), `lost to "bob"`) {
		t.Errorf("cause = %v, want lost to bob", cause)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
