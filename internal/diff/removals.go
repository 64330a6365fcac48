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
	access := newMetaAccess(live)
	for i := range changes {
		c := &changes[i]
		switch {
		case c.Kind == KindEnrolment && c.Action == Create:
			remaining[c.Enrolment.Username]++
			inMethod[c.Enrolment.Method]++
			access.add(*c.Enrolment)
		case c.Kind == KindEnrolment && c.Action == Delete:
			u := c.Enrolment.Username
			remaining[u]--
			inMethod[c.Enrolment.Method]--
			r := &Removal{Effect: EffectUnenrol, Enrolments: 1}
			if remaining[u] <= 0 {
				r.LastEnrolments = 1
			}
			access.end(r, *c.Enrolment)
			c.Removes = r
		case c.Kind == KindEnrolment && c.Removes != nil:
			c.Removes = &Removal{Effect: EffectSuspend, Enrolments: 1}
			access.end(c.Removes, *c.Enrolment)
		case c.Kind == KindMethod && c.Action == Delete:
			key := c.Method.Key()
			r := &Removal{Effect: EffectMethodDelete}
			for _, e := range byMethod[key] {
				r.Enrolments++
				remaining[e.Username]--
				if remaining[e.Username] <= 0 {
					r.LastEnrolments++
				}
				access.end(r, e)
			}
			accountMemberships(r, changes, live, *c.Method, deleted)
			deleted[key] = true
			c.Removes = r
		case c.Kind == KindMethod && c.Removes != nil:
			key := c.Method.Key()
			c.Removes = &Removal{Effect: EffectMethodDisable, Enrolments: inMethod[key]}
			for _, e := range byMethod[key] {
				access.end(c.Removes, e)
			}
		case c.Kind == KindMember && c.Action == Delete:
			c.Removes = &Removal{Effect: EffectMembershipDelete}
		}
	}
}

// metaAccess follows, through a course's changes in apply order, which users keep an
// active enrolment in the course, as Moodle's meta sync counts them: not suspended, in
// an enabled method other than meta. It is nil (and does nothing) when no course's
// meta method links to this one.
type metaAccess struct {
	linkedFrom []string
	active     map[string]int  // active enrolments per user
	counted    map[string]bool // live enrolment keys: active and not yet ended
}

func newMetaAccess(live *state.Course) *metaAccess {
	if len(live.LinkedFrom) == 0 {
		return nil
	}
	enabled := map[string]bool{}
	for _, m := range live.Methods {
		enabled[m.Key()] = m.Enabled && m.Type != state.Meta
	}
	a := &metaAccess{linkedFrom: live.LinkedFrom, active: map[string]int{}, counted: map[string]bool{}}
	for _, e := range live.Enrolments {
		if !e.Suspended && enabled[e.Method] {
			a.active[e.Username]++
			a.counted[e.Key()] = true
		}
	}
	return a
}

// add counts an enrolment the plan creates (its method enabled, or made so, by the plan).
func (a *metaAccess) add(e state.Enrolment) {
	if a != nil && !e.Suspended {
		a.active[e.Username]++
	}
}

// end records that the removal r ends the live enrolment e's access; when that was the
// user's last active enrolment in the course, r names the courses that lose them too.
func (a *metaAccess) end(r *Removal, e state.Enrolment) {
	if a == nil || !a.counted[e.Key()] {
		return
	}
	delete(a.counted, e.Key())
	if a.active[e.Username]--; a.active[e.Username] == 0 {
		r.MetaUsers++
		r.MetaCourses = a.linkedFrom
	}
}
