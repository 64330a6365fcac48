package moodlesim

import "unicode/utf8"

// The apply lease of contract v2: one apply at a time per site. The plugin's
// check-and-set runs under Moodle's lock API; here every call runs under the
// simulator's lock, so two acquires cannot both win either. Time comes from the
// simulator's clock (Options.Now, SetClock), so tests can expire a lease.

const (
	minLeaseTTL = 10
	maxLeaseTTL = 3600
)

type leaseAnswer struct {
	Acquired bool   `json:"acquired"`
	Holder   string `json:"holder"`
	Expires  int64  `json:"expires"`
	// Previous and PreviousExpires name the expired lease an acquire replaced (plugin
	// 2.1.1): the caller says it took it over.
	Previous        string `json:"previous,omitempty"`
	PreviousExpires int64  `json:"previous_expires,omitempty"`
}

func leaseArgs(a args) (name, holder string, err *wsError) {
	name, holder = a.str("name"), a.str("holder")
	if name == "" {
		return "", "", invalidParam("name must not be empty")
	}
	if holder == "" || utf8.RuneCountInString(holder) > 255 {
		return "", "", invalidParam("holder must hold 1 to 255 characters")
	}
	return name, holder, nil
}

// acquireLease is local_enrolctl_acquire_lease: acquired when nobody holds the lease,
// it expired (then previous names its holder), or holder already holds it (renewed);
// otherwise the current holder and its expiry.
func acquireLease(c *ctx, a args) (any, *wsError) {
	name, holder, err := leaseArgs(a)
	if err != nil {
		return nil, err
	}
	ttl := a.int("ttl")
	if ttl < minLeaseTTL || ttl > maxLeaseTTL {
		return nil, invalidParam("ttl must be between 10 and 3600 seconds")
	}
	d, now := c.d(), c.t.now
	old, held := d.Leases[name]
	if held && old.Expires > now && old.Holder != holder {
		return leaseAnswer{Holder: old.Holder, Expires: old.Expires}, nil
	}
	l := Lease{Name: name, Holder: holder, Expires: now + ttl}
	d.putLease(l)
	ans := leaseAnswer{Acquired: true, Holder: l.Holder, Expires: l.Expires}
	if held && old.Holder != holder {
		ans.Previous, ans.PreviousExpires = old.Holder, old.Expires
	}
	return ans, nil
}

// releaseLease is local_enrolctl_release_lease: releasing a lease another holder
// holds (or nobody) is a no-op.
func releaseLease(c *ctx, a args) (any, *wsError) {
	name, holder, err := leaseArgs(a)
	if err != nil {
		return nil, err
	}
	if l, ok := c.d().Leases[name]; ok && l.Holder == holder {
		c.d().delLease(name)
	}
	return nil, nil
}

// Leases returns the leases currently stored (expired ones included), by name.
func (s *Sim) Leases() []Lease {
	return view(s, func(d *db) []Lease { return sortedValues(d.Leases) })
}

// HoldLease stores the lease name as held by holder for ttl seconds from now, as an
// apply that then died (or runs elsewhere) would have left it.
func (s *Sim) HoldLease(name, holder string, ttl int64) {
	s.admin(func(t *tx) { t.d.putLease(Lease{Name: name, Holder: holder, Expires: t.now + ttl}) })
}
