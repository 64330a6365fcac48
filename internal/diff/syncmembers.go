package diff

import (
	"github.com/enrolctl/enrolctl/internal/state"
)

// Group memberships that a method deletion takes with it.
//
// Moodle deletes the memberships a cohort or meta sync made (groups_members rows with
// component enrol_cohort or enrol_meta and the instance as itemid) when the method is
// deleted, even for users who stay in the course through another enrolment. A plan
// that deletes such a method says how many memberships go (Removal.Memberships), and
// adds back, as manual memberships after the deletion, those of the users still
// enrolled once the plan is applied (Removal.MembershipsKept): converting a course from
// a cohort sync to manual enrolments never loses a group.

// syncedBy reports whether a live membership was made by method m's sync, so that
// deleting m deletes it. With item ids (the plugin reports them) that is exact. Without
// (older plugins), the membership goes when the user is enrolled in m and in no other
// method of the same plugin, as Moodle's unenrol_user removes the plugin's memberships
// of a user it unenrols.
// gone holds the keys of methods deleted before m, whose enrolments no longer count.
func syncedBy(mem state.Member, m state.Method, live *state.Course, gone map[string]bool) bool {
	if mem.Component != "enrol_"+string(m.Type) {
		return false
	}
	if mem.ItemID != 0 && m.ID != 0 {
		return mem.ItemID == m.ID
	}
	inM := false
	for _, e := range live.EnrolmentsOf(mem.Username) {
		if e.Method == m.Key() {
			inM = true
		} else if other, ok := live.Method(e.Method); ok && other.Type == m.Type && !gone[e.Method] {
			return false
		}
	}
	return inM
}

// restoreSyncedMemberships plans, after planMemberships, the manual memberships that
// replace those the methods deleted by this plan take away, for users who stay in the
// course. Memberships the specs declare were planned already; a user with a manual
// membership in the group keeps it; a group whose spec prunes undeclared members gets
// back only the declared ones.
func (cp *coursePlanner) restoreSyncedMemberships() {
	if len(cp.deletedMethods) == 0 {
		return
	}
	planned := map[string]bool{}
	for _, c := range cp.changes {
		if c.Kind == KindMember {
			planned[c.Address] = true
		}
	}
	for _, g := range cp.o.Groups {
		desired, _ := cp.d.Group(g.Name)
		manual := map[string]bool{}
		for _, mem := range g.Members {
			if mem.Component == "" {
				manual[mem.Username] = true
			}
		}
		for _, mem := range g.Members {
			addr := state.MemberAddress(cp.d.Shortname, g.Name, mem.Username)
			if manual[mem.Username] || planned[addr] || !cp.takenByDeletion(mem) {
				continue
			}
			if desired.PruneMembers || !cp.enrolledAfter(mem.Username) {
				continue
			}
			planned[addr] = true
			cp.add(Change{
				Address: addr, Kind: KindMember, Action: Create, GroupName: g.Name,
				Member: &state.Member{Username: mem.Username}, AfterMethodRemoval: true,
				Reason: reason(ReasonRestoreSyncedMembership, mem.Component),
			})
		}
	}
}

// takenByDeletion reports whether a live membership goes with a method this plan deletes.
func (cp *coursePlanner) takenByDeletion(mem state.Member) bool {
	for key := range cp.deletedMethods {
		if m, ok := cp.liveMethods[key]; ok && syncedBy(mem, m, cp.o, cp.deletedMethods) {
			return true
		}
	}
	return false
}

// accountMemberships fills in what a method deletion takes from the groups: the
// memberships its sync made, and how many of them the plan's changes add back.
// gone holds the methods the plan deletes before m.
func accountMemberships(r *Removal, changes []Change, live *state.Course, m state.Method, gone map[string]bool) {
	restored := map[string]bool{}
	for _, c := range changes {
		if c.Kind == KindMember && c.Action == Create && c.AfterMethodRemoval && c.Member != nil {
			restored[c.GroupName+"\x00"+c.Member.Username] = true
		}
	}
	for _, g := range live.Groups {
		for _, mem := range g.Members {
			if !syncedBy(mem, m, live, gone) {
				continue
			}
			r.Memberships++
			if restored[g.Name+"\x00"+mem.Username] {
				r.MembershipsKept++
			}
		}
	}
}

// planAbsent deletes a live method the specs declare absent, with the usual removal
// accounting. Database methods are never deleted (the loader refuses absent on them).
func (cp *coursePlanner) planAbsent(m, live state.Method, exists bool) {
	if !exists || live.Type == state.Database {
		return
	}
	gone := live
	cp.deletedMethods[m.Key()] = true
	cp.add(Change{
		Address: state.MethodAddress(cp.d.Shortname, m.Key()), Kind: KindMethod, Action: Delete,
		Method: &gone, Source: m.Source, Reason: reason(ReasonDeclaredAbsent, ""), Removes: &Removal{Effect: EffectMethodDelete},
	})
}
