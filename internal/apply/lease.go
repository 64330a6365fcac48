package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/enrolctl/enrolctl/internal/moodle"
)

// One apply at a time per site: a lease held through the plugin (contract v2,
// local_enrolctl_acquire_lease / local_enrolctl_release_lease), whose check-and-set
// runs under Moodle's lock API. The lease expires on its own (TTL) if its holder dies;
// while an apply runs, it is renewed well before it expires. Its holder names the run
// (holder.go): a lease whose holder is provably gone (a process of this host that is
// not running) is taken over at once, and `enrolctl unlock ID` (Unlock) frees the
// others.

// LeaseOptions say which lease to take, as whom, and how long to wait for it.
type LeaseOptions struct {
	Name   string        // the lease's name (default "apply")
	Holder string        // who holds it: user, host, process, CI job (≤ 255 characters)
	TTL    time.Duration // how long a held lease lasts unless renewed (default 2 min; 10 s..1 h)
	// Wait is how long to wait for another holder to release it (0: stop at once).
	Wait time.Duration
	// Gone says whether the holder named by a held lease is provably gone, so that the
	// lease may be taken over (default HolderGone: a process of this host, not running).
	Gone func(Holder) bool
	// Poll is how often to ask again while waiting (default 5 s), and RenewEvery how
	// often the held lease is renewed (default TTL/3).
	Poll, RenewEvery time.Duration
}

// LeaseHeldError says another apply holds the site's lease.
type LeaseHeldError struct {
	Holder  string
	Expires time.Time
	Waited  time.Duration
}

func (e *LeaseHeldError) Error() string {
	waited, hint := "", "Wait for it to finish, or pass --lock-timeout to wait"
	if e.Waited >= time.Second {
		waited, hint = fmt.Sprintf(" after waiting %s", e.Waited.Round(time.Second)), "Try again when it has finished"
	}
	if h, ok := ParseHolder(e.Holder); ok {
		hint += fmt.Sprintf(". If that apply is gone (its runner died, its lease could not be released), `enrolctl unlock %s` frees the lease", h.ID)
	}
	return fmt.Sprintf("another apply is running on this site%s: the lease is held by %q until %s (renewed while it runs); nothing was applied. %s",
		waited, e.Holder, e.Expires.UTC().Format(time.RFC3339), hint)
}

// Lease is a held lease, renewed in the background until Release.
type Lease struct {
	client *moodle.Client
	opts   LeaseOptions
	ctx    context.Context
	lost   context.CancelCauseFunc
	stop   chan struct{}
	wg     sync.WaitGroup
	// TookOver says whose lease this one replaced, and why that was safe; "" when the
	// lease was free.
	TookOver string
}

type leaseAnswer struct {
	Acquired bool   `json:"acquired"`
	Holder   string `json:"holder"`
	Expires  int64  `json:"expires"`
	// Previous is the holder of an expired lease the acquire replaced (plugin 2.1.1).
	Previous        string `json:"previous"`
	PreviousExpires int64  `json:"previous_expires"`
}

// AcquireLease takes the site's lease, waiting up to opts.Wait for another holder.
// The lease's Context is ctx, cancelled if the lease is lost (a renewal refused or
// failing until the lease would expire): an apply run with it stops between writes.
func AcquireLease(ctx context.Context, client *moodle.Client, opts LeaseOptions) (*Lease, error) {
	opts.Name = cmp.Or(opts.Name, "apply")
	opts.TTL = cmp.Or(opts.TTL, 2*time.Minute)
	opts.TTL = min(max(opts.TTL, 10*time.Second), time.Hour)
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	if opts.RenewEvery <= 0 {
		opts.RenewEvery = opts.TTL / 3
	}
	if len(opts.Holder) > 255 {
		opts.Holder = strings.ToValidUTF8(opts.Holder[:255], "")
	}
	if opts.Gone == nil {
		opts.Gone = HolderGone
	}
	start := time.Now()
	tookOver := ""
	for {
		ans, err := acquire(ctx, client, opts)
		if err != nil {
			return nil, err
		}
		if !ans.Acquired {
			if h, ok := ParseHolder(ans.Holder); ok && opts.Gone(h) {
				// Its holder died without releasing it (kill -9, a crash, a release
				// that failed): free it as that holder would have, then take it.
				if err := release(ctx, client, opts.Name, ans.Holder); err != nil {
					return nil, fmt.Errorf("taking over the apply lease of %q, whose process is gone: %w", ans.Holder, err)
				}
				if ans, err = acquire(ctx, client, opts); err != nil {
					return nil, err
				}
				if ans.Acquired {
					tookOver = fmt.Sprintf("took over the apply lease %s of %q: its process %d on this host is no longer running", h.ID, h.String(), h.PID)
				}
			}
		}
		if ans.Acquired {
			if ans.Previous != "" && ans.Previous != opts.Holder && tookOver == "" {
				id := ans.Previous
				if h, ok := ParseHolder(ans.Previous); ok {
					id = h.ID
				}
				tookOver = fmt.Sprintf("took over the expired apply lease %s of %q (it expired at %s without being released)",
					id, ans.Previous, time.Unix(ans.PreviousExpires, 0).UTC().Format(time.RFC3339))
			}
			break
		}
		waited := time.Since(start)
		if waited >= opts.Wait {
			if opts.Wait == 0 {
				waited = 0 // one look, no wait
			}
			return nil, &LeaseHeldError{Holder: ans.Holder, Expires: time.Unix(ans.Expires, 0), Waited: waited}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(opts.Poll, opts.Wait-waited)):
		}
	}
	l := &Lease{client: client, opts: opts, stop: make(chan struct{}), TookOver: tookOver}
	setHeld(opts.Holder, true)
	l.ctx, l.lost = context.WithCancelCause(ctx)
	l.wg.Add(1)
	go l.renew()
	return l, nil
}

func acquire(ctx context.Context, client *moodle.Client, opts LeaseOptions) (leaseAnswer, error) {
	f := &moodle.Form{}
	f.Set("name", opts.Name)
	f.Set("holder", opts.Holder)
	f.Int("ttl", int64(opts.TTL/time.Second))
	var ans leaseAnswer
	if err := client.Call(ctx, "local_enrolctl_acquire_lease", f, &ans); err != nil {
		return ans, fmt.Errorf("taking the site's apply lease (local_enrolctl_acquire_lease, plugin version 2026113000 or later): %w", err)
	}
	if !ans.Acquired && ans.Holder == "" {
		return ans, errors.New("taking the site's apply lease: the answer names no holder")
	}
	return ans, nil
}

// renew keeps the lease until Release; when it cannot, the lease's context ends.
func (l *Lease) renew() {
	defer l.wg.Done()
	t := time.NewTicker(l.opts.RenewEvery)
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(l.ctx), l.opts.RenewEvery)
		ans, err := acquire(ctx, l.client, l.opts)
		cancel()
		switch {
		case err == nil && ans.Acquired:
			lastOK = time.Now()
		case err == nil:
			l.lost(fmt.Errorf("the apply lease was lost to %q", ans.Holder))
			return
		case time.Since(lastOK) > l.opts.TTL-l.opts.RenewEvery:
			l.lost(fmt.Errorf("the apply lease could not be renewed before it expires: %w", err))
			return
		}
	}
}

// Context is cancelled when the lease is lost; context.Cause says why.
func (l *Lease) Context() context.Context { return l.ctx }

// Holder is how the lease names its holder.
func (l *Lease) Holder() string { return l.opts.Holder }

// releaseAttempts and releaseBackoff bound Release's retries: a site whose database
// restarts is back within seconds.
var (
	releaseAttempts = 4
	releaseBackoff  = time.Second
)

// Release stops renewing and gives the lease back, retrying a failed release
// (releaseAttempts, backoff doubling from releaseBackoff, each call within 10 s),
// even once ctx is cancelled. Releasing twice is harmless: the second says nil.
func (l *Lease) Release(ctx context.Context) error {
	select {
	case <-l.stop:
		return nil
	default:
		close(l.stop)
	}
	l.wg.Wait()
	ctx = context.WithoutCancel(ctx)
	var err error
	for i, d := 0, releaseBackoff; i < releaseAttempts; i, d = i+1, d*2 {
		if i > 0 {
			time.Sleep(d / 2)
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = release(cctx, l.client, l.opts.Name, l.opts.Holder)
		cancel()
		if err == nil {
			break
		}
	}
	l.lost(errReleased)
	setHeld(l.opts.Holder, false) // the run is over, whether the release went through or not
	return err
}

func release(ctx context.Context, client *moodle.Client, name, holder string) error {
	f := &moodle.Form{}
	f.Set("name", name)
	f.Set("holder", holder)
	return client.Call(ctx, "local_enrolctl_release_lease", f, nil)
}

// UnlockResult is what Unlock did: Outcome is "released" (the lease was held under
// the id and is free now), "expired" (it had expired; it is free now) or "not held";
// Holder is how the lease named its holder, when it named one.
type UnlockResult struct {
	Outcome, Holder, Message string
}

// Unlock frees the site's apply lease whose id (its run's, ParseHolder) is id, as
// `enrolctl unlock` does for a lease whose holder cannot release it (a runner that died
// on another host): it says what it did. A lease held under another id is left alone
// (an error names its holder, and so does the result, outcome "refused"); a free one is
// said free. as names who unlocks, for the moment Unlock needs to hold the lease to
// find it free.
func Unlock(ctx context.Context, client *moodle.Client, id, as string) (UnlockResult, error) {
	opts := LeaseOptions{Name: "apply", Holder: as, TTL: 10 * time.Second}
	ans, err := acquire(ctx, client, opts)
	if err != nil {
		return UnlockResult{}, err
	}
	if ans.Acquired {
		if err := release(ctx, client, opts.Name, as); err != nil {
			return UnlockResult{}, err
		}
		if prev, ok := ParseHolder(ans.Previous); ok && prev.ID == id {
			return UnlockResult{Outcome: "expired", Holder: ans.Previous,
				Message: fmt.Sprintf("The apply lease %s of %q had expired; it is free now.", id, ans.Previous)}, nil
		}
		return UnlockResult{Outcome: "not held", Message: fmt.Sprintf("No apply holds the site's lease: %s is not held, nothing to unlock.", id)}, nil
	}
	h, ok := ParseHolder(ans.Holder)
	if !ok || h.ID != id {
		return UnlockResult{Outcome: "refused", Holder: ans.Holder},
			fmt.Errorf("the apply lease is held by %q, not by the run %s: nothing was released", ans.Holder, id)
	}
	if err := release(ctx, client, opts.Name, ans.Holder); err != nil {
		return UnlockResult{}, err
	}
	return UnlockResult{Outcome: "released", Holder: ans.Holder,
		Message: fmt.Sprintf("Released the apply lease %s of %q. If that apply is in fact still running, it loses the lease once another apply takes it, and then stops before its next write call.", id, ans.Holder)}, nil
}

var errReleased = errors.New("the apply lease was released")
