package diff

import (
	"slices"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
)

func (cp *coursePlanner) planEnrolments() {
	course := cp.d.Shortname
	manualKey := string(state.Manual)
	desired := cp.doneNames
	clear(desired)
	// The spec's enrolments, by username: read in place when they are so already and
	// no renewal adds to them (the planner never writes them).
	byUser := func(a, b state.Enrolment) int { return strings.Compare(a.Username, b.Username) }
	wanted := cp.d.Enrolments
	if len(cp.d.Renewals) > 0 || !slices.IsSortedFunc(wanted, byUser) {
		wanted = cp.withRenewals(slices.Clone(wanted))
		slices.SortStableFunc(wanted, byUser)
	}

	// Addresses are built only for the changes made: most enrolments of a large
	// site are unchanged.
	for _, e := range wanted {
		if desired[e.Username] {
			continue
		}
		desired[e.Username] = true
		roles := sortedRoles(e.Roles)
		want := e
		want.Method = manualKey
		want.Roles = roles

		live, exists := cp.liveManual(e.Username)
		if len(roles) > 1 {
			// A manual enrolment is given one role (set_enrolments' roleid): several
			// roles, as import writes them, can be kept as Moodle has them, never set.
			if !exists || !slices.Equal(sortedRoles(live.Roles), roles) {
				have := "no manual enrolment"
				if exists {
					have = "roles " + strings.Join(sortedRoles(live.Roles), ", ")
				}
				cp.userError(e.Source, diag.SeveralRoles, e.Username, "user %q: roles %s: enrolctl gives a manual enrolment one role; several roles can only be kept as Moodle has them (Moodle has %s): set them in Moodle, or give one role", e.Username, strings.Join(roles, ", "), have)
				continue
			}
			want.Roles = nil // leave them alone: roleid 0 in what apply sends
		}
		if !exists {
			cp.createdManual[e.Username] = true
			c := Change{
				Address: state.EnrolmentAddress(course, manualKey, e.Username), Kind: KindEnrolment, Action: Create, Enrolment: heapEnrolment(want), Source: e.Source,
				Fields: []FieldChange{
					created(FieldRole, rolesValue(roles)),
					created(FieldStart, cp.ints.value(e.Start)),
					created(FieldEnd, cp.ints.value(e.End)),
					created(FieldSuspended, boolValue(e.Suspended)),
				},
				Reason: cp.keepAccessReason(e.Username),
			}
			cp.add(c)
			continue
		}
		var buf [4]FieldChange // copied out at its size, or shared (below)
		fields := buf[:0]
		liveRoles := sortedRoles(live.Roles)
		// No role declared (want.Roles nil) leaves the live roles alone.
		if len(roles) > 0 && !slices.Equal(liveRoles, roles) {
			fields = append(fields, changed(FieldRole, rolesValue(liveRoles), rolesValue(roles)))
		}
		if e.KeepStart {
			want.Start = live.Start // the full state apply sends keeps the live start
		}
		if live.Start != want.Start {
			fields = append(fields, changed(FieldStart, cp.ints.value(live.Start), cp.ints.value(want.Start)))
		}
		if live.End != e.End {
			fields = append(fields, changed(FieldEnd, cp.ints.value(live.End), cp.ints.value(e.End)))
		}
		if live.Suspended != e.Suspended {
			fields = append(fields, changed(FieldSuspended, boolValue(live.Suspended), boolValue(e.Suspended)))
		}
		var kept []FieldChange
		switch {
		case len(fields) == 0:
			continue
		case len(fields) == 1 && (fields[0].Field == FieldStart || fields[0].Field == FieldEnd):
			kept = cp.ints.list(fields[0])
		default:
			kept = slices.Clone(fields)
		}
		// The live user's name and a shared role list: the spec's would hold its
		// file's bytes (or its course's list of roles) for as long as the plan lives.
		want.Username, want.UserID = live.Username, live.UserID
		if len(want.Roles) == 1 {
			want.Roles = cp.ints.roles(want.Roles[0])
		}
		c := Change{Address: state.EnrolmentAddress(course, manualKey, e.Username), Kind: KindEnrolment, Action: Update, Fields: kept, Enrolment: heapEnrolment(want), Source: e.Source}
		switch {
		case !live.Suspended && e.Suspended:
			c.Removes = &Removal{Effect: EffectSuspend}
		case live.Suspended && !e.Suspended:
			c.Reason = reason(ReasonReactivate, "")
		}
		cp.add(c)
	}

	// Manual enrolments of users the specs do not list.
	if cp.deletedMethods[manualKey] {
		return // they go with the method
	}
	prune := cp.d.Options.ManualPrune
	for _, e := range cp.liveEnrolByM[manualKey] {
		if desired[e.Username] {
			continue
		}
		addr := state.EnrolmentAddress(course, manualKey, e.Username)
		switch prune {
		case state.PruneSuspend:
			if e.Suspended {
				continue // already where the prune mode wants it
			}
			want := *e // a copy: the observed snapshot is never written
			want.Suspended = true
			cp.add(Change{
				Address: addr, Kind: KindEnrolment, Action: Update, Enrolment: &want,
				Fields: []FieldChange{changed(FieldSuspended, boolValue(false), boolValue(true))},
				Reason: reason(ReasonManualPruneSuspend, ""), Removes: &Removal{Effect: EffectSuspend},
			})
		case state.PruneUnenrol:
			gone := *e
			cp.unenrolled[e.Username] = true
			cp.add(Change{
				Address: addr, Kind: KindEnrolment, Action: Delete, Enrolment: &gone,
				Reason: reason(ReasonManualPruneUnenrol, ""), Removes: &Removal{Effect: EffectUnenrol},
			})
		default: // keep, or not set: never prune without being told
			cp.unlistedEnrolment(addr, *e)
		}
	}
}

// heapEnrolment is a change's own copy of want. Taking want's address instead would
// move want to the heap for every enrolment a spec lists, changed or not: 300,000
// of them on a 10,000-course site, most unchanged.
func heapEnrolment(want state.Enrolment) *state.Enrolment { return &want }

func (cp *coursePlanner) liveManual(username string) (state.Enrolment, bool) {
	for _, e := range cp.liveEnrolOfU[username] {
		if e.Method == string(state.Manual) {
			return *e, true
		}
	}
	return state.Enrolment{}, false
}

// keepAccessReason explains a new manual enrolment for a user who already has an
// automatic one: the point is usually to keep access after the sync drops them.
func (cp *coursePlanner) keepAccessReason(username string) *Reason {
	for _, e := range cp.liveEnrolOfU[username] { // sorted by method key in a normalised course
		m, ok := cp.liveMethods[e.Method]
		if !ok || !m.Type.Automatic() {
			continue
		}
		if cp.deletedMethods[e.Method] {
			return reason(ReasonConvertBeforeDeletion, e.Method)
		}
		switch m.Type {
		case state.Database:
			return reason(ReasonKeepAfterDatabase, "")
		case state.Cohort:
			return reason(ReasonKeepAfterCohort, m.Cohort)
		default:
			return reason(ReasonKeepAfterMeta, m.Course)
		}
	}
	return nil
}

func sortedRoles(roles []string) []string {
	if len(roles) == 0 {
		return nil
	}
	if len(roles) == 1 {
		return roles[:1:1] // sorted already; nobody writes roles, so no copy
	}
	out := slices.Clone(roles)
	slices.Sort(out)
	return slices.Compact(out)
}
