package diff

import (
	"cmp"
	"strings"
)

// The stages of a course's changes, in the order apply runs them: parents before
// children, additions before removals, so that converting automatic enrolments to
// manual ones adds the manual enrolment before the automatic method goes.
const (
	StageGroupCreates      = 0 // groups, which methods and memberships refer to
	StageMethodChanges     = 1 // method creates and non-removing updates
	StageEnrolmentChanges  = 2 // enrolment creates and non-removing updates
	StageMemberCreates     = 3 // memberships (users are enrolled by now)
	StageMemberDeletes     = 4
	StageEnrolmentRemovals = 5 // suspensions and unenrolments
	StageMethodRemovals    = 6 // method disables and deletes
	// StageMemberRestores re-adds declared memberships that a method's sync owned,
	// once the method deletion has taken them away (Change.AfterMethodRemoval).
	StageMemberRestores = 7
)

// Stage is the apply stage of a change (StageGroupCreates..StageMemberRestores).
// Plan.Changes are sorted by course, then Stage, then address; apply runs each
// course's stages in increasing order.
func Stage(c Change) int {
	switch c.Kind {
	case KindGroup:
		return StageGroupCreates
	case KindMethod:
		if c.Action == Delete || c.IsRemoval() {
			return StageMethodRemovals
		}
		return StageMethodChanges
	case KindEnrolment:
		if c.Action == Delete || c.IsRemoval() {
			return StageEnrolmentRemovals
		}
		return StageEnrolmentChanges
	case KindMember:
		if c.Action == Delete {
			return StageMemberDeletes
		}
		if c.AfterMethodRemoval {
			return StageMemberRestores
		}
		return StageMemberCreates
	}
	return StageMemberRestores + 1 // unknown kinds last; Compute never makes them
}

func compareChanges(a, b Change) int {
	return cmp.Or(
		strings.Compare(a.Course, b.Course),
		cmp.Compare(Stage(a), Stage(b)),
		strings.Compare(a.Address, b.Address),
	)
}
