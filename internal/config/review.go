package config

import (
	"cmp"
	"time"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/tree"
)

// Review settings: what the merge-request comment shows, and when apply may run.
//
//	defaults:
//	  mask_usernames: true          # the default
//	  freeze:
//	    - name: January exams
//	      from: 2027-01-04            # whole days in the site's time zone
//	      until: 2027-01-15           # inclusive
//	sites:
//	  ecampus:
//	    freeze:
//	      - { name: Results week, from: 2027-06-21T08:00:00+02:00, until: 2027-06-25 }

// FreezeWindow is a named period during which apply refuses to write.
type FreezeWindow struct {
	Name string
	// Start and End bound the window, End excluded.
	Start, End time.Time
	// Until is the end as written (an inclusive day, or a timestamp), for messages.
	Until string
	Pos   diag.Pos
}

// Contains reports whether t is inside the window.
func (w FreezeWindow) Contains(t time.Time) bool {
	return !t.Before(w.Start) && t.Before(w.End)
}

// ActiveFreeze returns the first freeze window of the site containing t.
func (s *Site) ActiveFreeze(t time.Time) (FreezeWindow, bool) {
	for _, w := range s.Freeze {
		if w.Contains(t) {
			return w, true
		}
	}
	return FreezeWindow{}, false
}

// reviewDefaults holds what defaults: says before the site's time zone is known.
type reviewDefaults struct {
	maskUsernames *bool
	freeze        []*tree.Node
}

func readReviewDefaults(d *tree.Obj, c *Config) {
	if b := d.Bool("mask_usernames"); b.Set {
		c.review.maskUsernames = &b.V
	}
	c.review.freeze = d.List("freeze")
}

// readReviewSite reads a site's mask_usernames and freeze windows; the site's time zone
// must be known (dates are whole days there).
func (c *Config) readReviewSite(o *tree.Obj, s *Site, ds *diag.Diagnostics) {
	s.MaskUsernames = true
	if c.review.maskUsernames != nil {
		s.MaskUsernames = *c.review.maskUsernames
	}
	if b := o.Bool("mask_usernames"); b.Set {
		s.MaskUsernames = b.V
	}
	loc := cmp.Or(s.Location, time.UTC)
	for _, n := range append(append([]*tree.Node(nil), c.review.freeze...), o.List("freeze")...) {
		if w, ok := readFreeze(n, loc, ds); ok {
			s.Freeze = append(s.Freeze, w)
		}
	}
}

func readFreeze(n *tree.Node, loc *time.Location, ds *diag.Diagnostics) (FreezeWindow, bool) {
	o := tree.ReadObject(n, "freeze window", ds)
	if o == nil {
		return FreezeWindow{}, false
	}
	name := o.RequireString("name")
	from := o.RequireString("from")
	until := o.RequireString("until")
	o.Done()
	if !name.Set || !from.Set || !until.Set {
		return FreezeWindow{}, false
	}
	w := FreezeWindow{Name: name.V, Until: until.V, Pos: n.Pos}
	var ok1, ok2 bool
	w.Start, ok1 = readInstant(from, false, loc, ds)
	w.End, ok2 = readInstant(until, true, loc, ds)
	if !ok1 || !ok2 {
		return FreezeWindow{}, false
	}
	if !w.End.After(w.Start) {
		*ds = append(*ds, diag.Errorf(until.Pos, "freeze window %q ends before it starts", name.V))
		return FreezeWindow{}, false
	}
	return w, true
}

// readInstant reads YYYY-MM-DD (a whole day in loc: its midnight, or for an end the
// next midnight) or an RFC 3339 timestamp.
func readInstant(s tree.Str, isEnd bool, loc *time.Location, ds *diag.Diagnostics) (time.Time, bool) {
	if d, err := time.Parse(time.DateOnly, s.V); err == nil {
		if isEnd {
			d = d.AddDate(0, 0, 1)
		}
		return dayStart(d.Year(), d.Month(), d.Day(), loc), true // exact across time changes
	}
	if t, err := time.Parse(time.RFC3339, s.V); err == nil {
		return t, true
	}
	field := "from"
	if isEnd {
		field = "until"
	}
	*ds = append(*ds, diag.Errorf(s.Pos, "freeze window %s: bad date %q: use YYYY-MM-DD (a whole day in the site's time zone) or an RFC 3339 timestamp", field, s.V))
	return time.Time{}, false
}
