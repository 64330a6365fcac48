package apply

import (
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
// while an apply runs, it is renewed well before it expires.

// LeaseOptions say which lease to take, as whom, and how long to wait for it.
type LeaseOptions struct {
	Name   string        // the lease's name (default "apply")
	Holder string        // who holds it: user, host, process, CI job (≤ 255 characters)
	TTL    time.Duration // how long a held lease lasts unless renewed (default 2 min; 10 s..1 h)
	// Wait is how long to wait for another holder to release it (0: stop at once).
	Wait time.Duration
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
}

type leaseAnswer struct {
	Acquired bool   `json:"acquired"`
	Holder   string `json:"holder"`
	Expires  int64  `json:"expires"`
}

// AcquireLease takes the site's lease, waiting up to opts.Wait for another holder.
// The lease's Context is ctx, cancelled if the lease is lost (a renewal refused or
// failing until the lease would expire): an apply run with it stops between writes.
func AcquireLease(ctx context.Context, client *moodle.Client, opts LeaseOptions) (*Lease, error) {
	if opts.Name == "" {
		opts.Name = "apply"
	}
	if opts.TTL == 0 {
		opts.TTL = 2 * time.Minute
	}
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
	start := time.Now()
	for {
		ans, err := acquire(ctx, client, opts)
		if err != nil {
			return nil, err
		}
		if ans.Acquired {
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
	l := &Lease{client: client, opts: opts, stop: make(chan struct{})}
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

// Release stops renewing and gives the lease back. Releasing twice is harmless.
func (l *Lease) Release(ctx context.Context) error {
	select {
	case <-l.stop:
		return nil
	default:
		close(l.stop)
	}
	l.wg.Wait()
	f := &moodle.Form{}
	f.Set("name", l.opts.Name)
	f.Set("holder", l.opts.Holder)
	err := l.client.Call(context.WithoutCancel(ctx), "local_enrolctl_release_lease", f, nil)
	l.lost(errReleased)
	return err
}

var errReleased = errors.New("the apply lease was released")
