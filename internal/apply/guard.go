package apply

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// StaleError says a saved plan no longer matches the live courses it touches. It is
// data: render.Refused words it.
type StaleError struct {
	Courses []string
	// Grew are the removals that would now take more than planned, by address.
	Grew []Grown
}

// Grown is a planned removal and the same change reassessed on the live course now.
type Grown struct{ Planned, Now diff.Change }

func (e *StaleError) Error() string {
	return fmt.Sprintf("stale plan: %d course(s) changed in Moodle since the plan was made: %s; run plan again and review the new plan",
		len(e.Courses), strings.Join(e.Courses, ", "))
}

// CheckStale refuses a saved plan when what enrolctl manages in a course it touches
// changed since it was planned (state.Course.ManagedFingerprint), or when one of its
// removals would now take more enrolments, or more last enrolments, than the plan
// showed (a sync moved users in or out meanwhile), or take access in more courses
// through their meta links. Changes that syncs make on their own
// elsewhere in the course do not make a plan stale. A plan without fingerprints
// (planned and applied in one run) is never stale. p is planned in this run or read
// with planfile.Read, which refuses a change without its object.
func CheckStale(p diff.Plan, observed state.Snapshot) error {
	var changed []string
	var grown []Grown
	for course, want := range p.Fingerprints {
		c, ok := observed.Course(course)
		got := "absent"
		if ok {
			got = c.ManagedFingerprint()
		}
		if got != want {
			changed = append(changed, course)
			continue
		}
		planned := slices.DeleteFunc(slices.Clone(p.Changes), func(ch diff.Change) bool { return ch.Course != course })
		now := diff.Reassess(planned, *c)
		grew := false
		for i, ch := range planned {
			if ch.Removes == nil {
				continue
			}
			r := now[i].Removes
			if r.Enrolments > ch.Removes.Enrolments || r.LastEnrolments > ch.Removes.LastEnrolments || r.MetaUsers > ch.Removes.MetaUsers ||
				slices.ContainsFunc(r.MetaCourses, func(c string) bool { return !slices.Contains(ch.Removes.MetaCourses, c) }) {
				grew = true
				grown = append(grown, Grown{Planned: ch, Now: now[i]})
			}
		}
		if grew {
			changed = append(changed, course)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	sort.Strings(changed)
	slices.SortFunc(grown, func(a, b Grown) int { return strings.Compare(a.Planned.Address, b.Planned.Address) })
	return &StaleError{Courses: changed, Grew: grown}
}

// Limits are the removal guard's thresholds (see diff.Limits: 0 means none allowed) and
// whether removals above them are approved (--allow-removals).
type Limits struct {
	MaxRemovals     int
	MaxShare        float64
	MaxSiteRemovals int
	// AllowRemovals lifts the limits (never the protect flag).
	AllowRemovals bool
}

// DefaultLimits are the limits when neither enrolctl.yaml nor a flag sets them.
func DefaultLimits() Limits {
	d := diff.DefaultLimits()
	return Limits{MaxRemovals: d.MaxRemovals, MaxShare: d.MaxShare, MaxSiteRemovals: d.MaxSiteRemovals}
}

// Thresholds are the limits as diff.Guard takes them.
func (l Limits) Thresholds() diff.Limits {
	return diff.Limits{MaxRemovals: l.MaxRemovals, MaxShare: l.MaxShare, MaxSiteRemovals: l.MaxSiteRemovals}
}

// RemovalError lists why removals were refused. It is data: render.Refused words it.
type RemovalError struct {
	Refusals []diff.Refusal
	Limits   diff.Limits
}

func (e *RemovalError) Error() string {
	return fmt.Sprintf("removals refused, nothing was applied: %d refusal(s) under the removal limits", len(e.Refusals))
}

// Guard refuses the plan when it removes anything in a protected course, or more
// enrolments than the limits allow, judged on observed (the live state now) by
// diff.Guard, the function plan used to show the refusals.
func Guard(p diff.Plan, observed state.Snapshot, lim Limits) error {
	refusals := diff.Guard(p.Changes, p.Protected, observed, lim.Thresholds(), diff.Approvals{Removals: lim.AllowRemovals})
	if len(refusals) > 0 {
		return &RemovalError{Refusals: refusals, Limits: lim.Thresholds()}
	}
	return nil
}
