package diff

import (
	"slices"

	"github.com/enrolctl/enrolctl/internal/state"
)

// fillRemovals works out, in apply order, what each removal takes away. Walking the
// sorted changes counts every enrolment the plan creates first, so a user converted
// from an automatic method to manual does not lose their last enrolment when the
// method goes; and two removals of the same user count the last one only once.
func (cp *coursePlanner) fillRemovals() { fillRemovals(cp.changes, cp.o) }

// Reassess recomputes what the removals among changes (one course's changes, in plan
// order) would take away from the course as it is now. Apply uses it to refuse a saved
// plan whose removals would now take more than the reviewers saw.
func Reassess(changes []Change, live state.Course) []Change {
	out := slices.Clone(changes)
	for i := range out {
		if out[i].Removes != nil {
			out[i].Removes = &Removal{Effect: out[i].Removes.Effect}
		}
	}
	fillRemovals(out, &live)
	return out
}

func fillRemovals(changes []Change, live *state.Course) {
	// Most courses of a plan remove nothing: skip counting their live enrolments,
	// which on a 10,000-course plan was its largest allocation.
	if !slices.ContainsFunc(changes, func(c Change) bool { return c.Action == Delete || c.Removes != nil }) {
		return
	}
	remaining := map[string]int{}              // enrolments per user
	inMethod := map[string]int{}               // enrolments per method key
	byMethod := map[string][]state.Enrolment{} // live enrolments per method key
	deleted := map[string]bool{}               // methods deleted so far, in apply order
	for _, e := range live.Enrolments {
		remaining[e.Username]++
		inMethod[e.Method]++
		byMethod[e.Method] = append(byMethod[e.Method], e)
	}
	for i := range changes {
		c := &changes[i]
		switch {
		case c.Kind == KindEnrolment && c.Action == Create:
			remaining[c.Enrolment.Username]++
			inMethod[c.Enrolment.Method]++
		case c.Kind == KindEnrolment && c.Action == Delete:
			u := c.Enrolment.Username
			remaining[u]--
			inMethod[c.Enrolment.Method]--
			r := &Removal{Effect: EffectUnenrol, Enrolments: 1}
			if remaining[u] <= 0 {
				r.LastEnrolments = 1
			}
			c.Removes = r
		case c.Kind == KindEnrolment && c.Removes != nil:
			c.Removes = &Removal{Effect: EffectSuspend, Enrolments: 1}
		case c.Kind == KindMethod && c.Action == Delete:
			key := c.Method.Key()
			r := &Removal{Effect: EffectMethodDelete}
			for _, e := range byMethod[key] {
				r.Enrolments++
				remaining[e.Username]--
				if remaining[e.Username] <= 0 {
					r.LastEnrolments++
				}
			}
			accountMemberships(r, changes, live, *c.Method, deleted)
			deleted[key] = true
			c.Removes = r
		case c.Kind == KindMethod && c.Removes != nil:
			c.Removes = &Removal{Effect: EffectMethodDisable, Enrolments: inMethod[c.Method.Key()]}
		case c.Kind == KindMember && c.Action == Delete:
			c.Removes = &Removal{Effect: EffectMembershipDelete}
		}
	}
}
