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
type StaleError struct{ Courses []string }

func (e *StaleError) Error() string {
	return fmt.Sprintf("stale plan: %d course(s) changed in Moodle since the plan was made: %s; run plan again and review the new plan",
		len(e.Courses), strings.Join(e.Courses, ", "))
}

// CheckStale compares the plan's fingerprints with the observed courses. A plan without
// fingerprints (planned and applied in one run) is never stale.
func CheckStale(p diff.Plan, observed state.Snapshot) error {
	var changed []string
	for course, want := range p.Fingerprints {
		c, ok := observed.Course(course)
		got := "absent"
		if ok {
			got = c.Fingerprint()
		}
		if got != want {
			changed = append(changed, course)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	sort.Strings(changed)
	return &StaleError{Courses: changed}
}

// minForShare is the number of removals from which the share limit applies.
const minForShare = 3

// Limits are the removal guard's thresholds, per course.
type Limits struct {
	// MaxRemovals is the most enrolments one course may lose (default 10).
	MaxRemovals int
	// MaxShare is the largest share of a course's enrolments it may lose (default 0.20).
	// It applies from MinForShare removals up, so that one unenrolment in a tiny course
	// is not refused.
	MaxShare float64
	// AllowRemovals lifts the two limits above (never the protect flag).
	AllowRemovals bool
}

func (l Limits) withDefaults() Limits {
	if l.MaxRemovals <= 0 {
		l.MaxRemovals = 10
	}
	if l.MaxShare <= 0 {
		l.MaxShare = 0.20
	}
	return l
}

// RemovalError lists why removals were refused.
type RemovalError struct{ Reasons []string }

func (e *RemovalError) Error() string {
	return "removals refused, nothing was applied:\n  " + strings.Join(e.Reasons, "\n  ")
}

// Guard refuses the plan when it removes anything in a protected course, or more
// enrolments in a course than the limits allow.
func Guard(p diff.Plan, observed state.Snapshot, lim Limits) error {
	lim = lim.withDefaults()
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
	for _, course := range order {
		t := per[course]
		if slices.Contains(p.Protected, course) {
			reasons = append(reasons, fmt.Sprintf("course %s is protected (protect: true): %d removal(s) planned; remove them from the specs or lift the protection", course, t.changes))
			continue
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
	if len(reasons) > 0 {
		return &RemovalError{Reasons: reasons}
	}
	return nil
}
