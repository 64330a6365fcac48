package diff

import (
	"slices"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
)

// enrolledAfter reports whether username still has an enrolment (any method, any
// status) once the plan is applied: Moodle only puts enrolled users in groups.
func (cp *coursePlanner) enrolledAfter(username string) bool {
	if cp.createdManual[username] {
		return true
	}
	for _, e := range cp.liveEnrolOfU[username] {
		if cp.deletedMethods[e.Method] {
			continue
		}
		if e.Method == string(state.Manual) && cp.unenrolled[username] {
			continue
		}
		return true
	}
	return false
}

func (cp *coursePlanner) planMemberships() {
	course := cp.d.Shortname
	groups := sortedView(cp.d.Groups, func(a, b state.Group) int { return strings.Compare(a.Name, b.Name) })
	done := cp.doneNames
	clear(done)
	for _, g := range groups {
		if done[g.Name] || g.Name == "" {
			continue
		}
		done[g.Name] = true
		var live state.Group
		if lg := cp.liveGroups[g.Name]; lg != nil {
			live = *lg
		}
		liveMember := cp.liveMemberOf
		clear(liveMember)
		for _, m := range live.Members {
			if _, dup := liveMember[m.Username]; !dup || m.Component == "" {
				liveMember[m.Username] = m
			}
		}
		declared := cp.declaredNames
		clear(declared)
		members := sortedView(g.Members, func(a, b state.Member) int { return strings.Compare(a.Username, b.Username) })
		for _, m := range members {
			if declared[m.Username] {
				continue
			}
			declared[m.Username] = true
			if !cp.enrolledAfter(m.Username) {
				cp.userError(m.Source, diag.NotEnrolled, m.Username, "user %q is not enrolled in %s, neither now nor by this plan; Moodle only puts enrolled users in groups", m.Username, course)
				continue
			}
			c := Change{Kind: KindMember, Action: Create, GroupName: g.Name, Source: m.Source}
			if lm, ok := liveMember[m.Username]; ok {
				if lm.Component == "" || !cp.syncedMembershipGoes(m.Username, lm.Component) {
					continue // already a member, whoever added them
				}
				// Moodle ignores adding a member who already is one, so the manual
				// membership can only be added once the method took its own away.
				c.AfterMethodRemoval = true
				c.Reason = reason(ReasonReaddAfterMethodRemoval, lm.Component)
			}
			c.Address = state.MemberAddress(course, g.Name, m.Username) // only for changes made
			c.Member = &state.Member{Username: m.Username, Source: m.Source}
			cp.add(c)
		}
		if !g.PruneMembers {
			cp.undeclaredMembers(g.Name, live.Members, declared)
			continue
		}
		for _, m := range live.Members {
			if m.Component != "" || declared[m.Username] {
				continue // owned by a method's sync, or wanted
			}
			gone := m
			cp.add(Change{
				Address: state.MemberAddress(course, g.Name, m.Username), Kind: KindMember, Action: Delete,
				Member: &gone, GroupName: g.Name, Source: g.Source,
				Reason: reason(ReasonPruneMembers, ""), Removes: &Removal{Effect: EffectMembershipDelete},
			})
		}
	}
}

// syncedMembershipGoes reports whether a membership owned by component ("enrol_cohort")
// disappears with the methods this plan deletes: Moodle removes a method's own
// memberships when it unenrols the user from it. Memberships carry no instance id in
// the model, so this holds when every enrolment of the user in that plugin goes.
func (cp *coursePlanner) syncedMembershipGoes(username, component string) bool {
	plugin, ok := strings.CutPrefix(component, "enrol_")
	if !ok {
		return false
	}
	goes := false
	for _, e := range cp.liveEnrolOfU[username] {
		m, ok := cp.liveMethods[e.Method]
		if !ok || string(m.Type) != plugin {
			continue
		}
		if !cp.deletedMethods[e.Method] {
			return false
		}
		goes = true
	}
	return goes
}

// sortedView is xs in cmp's stable order: xs itself when it is so already (as the
// resolved specs are), else a sorted copy. The planner never writes through it.
func sortedView[T any](xs []T, cmp func(a, b T) int) []T {
	if slices.IsSortedFunc(xs, cmp) {
		return xs
	}
	out := slices.Clone(xs)
	slices.SortStableFunc(out, cmp)
	return out
}
