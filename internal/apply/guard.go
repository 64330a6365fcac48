package apply

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// StaleError says a saved plan no longer matches the live courses it touches.
type StaleError struct {
	Courses []string
	// Details say, for removals that would now take more than planned, what changed.
	Details []string
}

func (e *StaleError) Error() string {
	msg := fmt.Sprintf("stale plan: %d course(s) changed in Moodle since the plan was made: %s; run plan again and review the new plan",
		len(e.Courses), strings.Join(e.Courses, ", "))
	if len(e.Details) > 0 {
		msg += "\n  " + strings.Join(e.Details, "\n  ")
	}
	return msg
}

// CheckStale refuses a saved plan when what enrolctl manages in a course it touches
// changed since it was planned (state.Course.ManagedFingerprint), or when one of its
// removals would now take more enrolments, or more last enrolments, than the plan
// showed (a sync moved users in or out meanwhile). Changes that syncs make on their own
// elsewhere in the course do not make a plan stale. A plan without fingerprints
// (planned and applied in one run) is never stale.
func CheckStale(p diff.Plan, observed state.Snapshot) error {
	var changed, details []string
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
		var planned []diff.Change
		for _, ch := range p.Changes {
			if ch.Course == course {
				planned = append(planned, ch)
			}
		}
		now := diff.Reassess(planned, *c)
		grew := false
		for i, ch := range planned {
			if ch.Removes == nil {
				continue
			}
			if r := now[i].Removes; r.Enrolments > ch.Removes.Enrolments || r.LastEnrolments > ch.Removes.LastEnrolments {
				grew = true
				details = append(details, fmt.Sprintf("%s now %s (planned: %s)", ch.Address, r.Detail, ch.Removes.Detail))
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
	sort.Strings(details)
	return &StaleError{Courses: changed, Details: details}
}

// minForShare is the number of removals from which the share limit applies.
const minForShare = 3

// Limits are the removal guard's thresholds. Every value is taken as it is: 0 means
// that no removal is allowed; DefaultLimits gives the defaults.
type Limits struct {
	// MaxRemovals is the most enrolments one course may lose.
	MaxRemovals int
	// MaxShare is the largest share of a course's enrolments it may lose. It applies
	// from minForShare removals up, so that one unenrolment in a tiny course is not
	// refused.
	MaxShare float64
	// MaxSiteRemovals is the most enrolments all the courses of one apply may lose
	// together: a policy that prunes a little in each of many courses adds up.
	MaxSiteRemovals int
	// AllowRemovals lifts the limits above (never the protect flag).
	AllowRemovals bool
}

// DefaultLimits are the limits when neither enrolctl.yaml nor a flag sets them.
func DefaultLimits() Limits {
	return Limits{MaxRemovals: 10, MaxShare: 0.20, MaxSiteRemovals: 20}
}

// RemovalError lists why removals were refused.
type RemovalError struct{ Reasons []string }

func (e *RemovalError) Error() string {
	return "removals refused, nothing was applied:\n  " + strings.Join(e.Reasons, "\n  ")
}

// Guard refuses the plan when it removes anything in a protected course, or more
// enrolments in a course than the limits allow.
func Guard(p diff.Plan, observed state.Snapshot, lim Limits) error {
	type tally struct{ changes, enrolments int }
	per := map[string]*tally{}
	var order []string
	for _, c := range p.Changes {
		if !c.IsRemoval() {
			continue
		}
		t := per[c.Course]
		if t == nil {
			t = &tally{}
			per[c.Course] = t
			order = append(order, c.Course)
		}
		t.changes++
		t.enrolments += c.Removes.Enrolments
	}
	var reasons []string
	siteTotal, siteCourses := 0, 0
	for _, course := range order {
		t := per[course]
		if slices.Contains(p.Protected, course) {
			reasons = append(reasons, fmt.Sprintf("course %s is protected (protect: true): %d removal(s) planned; remove them from the specs or lift the protection", course, t.changes))
			continue
		}
		if t.enrolments > 0 {
			siteTotal += t.enrolments
			siteCourses++
		}
		if lim.AllowRemovals {
			continue
		}
		total := 0
		if o, ok := observed.Course(course); ok {
			total = len(o.Enrolments)
		}
		share := 0.0
		if total > 0 {
			share = float64(t.enrolments) / float64(total)
		}
		if t.enrolments > lim.MaxRemovals || (t.enrolments >= minForShare && share > lim.MaxShare) {
			reasons = append(reasons, fmt.Sprintf("course %s: %d of %d enrolments would be removed or suspended (%.0f%%), above the limit of %d or %.0f%%; re-run with --allow-removals if this is intended",
				course, t.enrolments, total, share*100, lim.MaxRemovals, lim.MaxShare*100))
		}
	}
	if !lim.AllowRemovals && siteTotal > lim.MaxSiteRemovals {
		reasons = append(reasons, fmt.Sprintf("across %d course(s), %d enrolments would be removed or suspended, above the site-wide limit of %d for one apply (max_site_removals); re-run with --allow-removals if this is intended",
			siteCourses, siteTotal, lim.MaxSiteRemovals))
	}
	if len(reasons) > 0 {
		return &RemovalError{Reasons: reasons}
	}
	return nil
}
