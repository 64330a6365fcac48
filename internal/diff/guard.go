package diff

import (
	"slices"

	"github.com/enrolctl/enrolctl/internal/state"
)

// Limits are the removal guard's thresholds. Every value is taken as it is: 0 means
// that no removal is allowed; DefaultLimits gives the defaults.
type Limits struct {
	// MaxRemovals is the most enrolments one course may lose.
	MaxRemovals int
	// MaxShare is the largest share of a course's enrolments it may lose. It applies
	// from MinForShare removals up, so that one unenrolment in a tiny course is not
	// refused.
	MaxShare float64
	// MaxSiteRemovals is the most enrolments all the courses of one apply may lose
	// together: a policy that prunes a little in each of many courses adds up.
	MaxSiteRemovals int
}

// MinForShare is the number of removals in a course from which MaxShare applies.
const MinForShare = 3

// DefaultLimits are the limits when neither enrolctl.yaml nor a flag sets them.
func DefaultLimits() Limits {
	return Limits{MaxRemovals: 10, MaxShare: 0.20, MaxSiteRemovals: 20}
}

// Approvals are what a person approved beforehand. Removals lifts the limits (never the
// protection of a course): `apply --allow-removals`, or a plan made with it.
type Approvals struct {
	Removals bool
}

// RefusalCode says why apply refuses a plan's removals. The set is closed.
type RefusalCode string

const (
	// RefuseProtected: removals in a course whose spec says protect: true. Nothing lifts it.
	RefuseProtected RefusalCode = "protected"
	// RefuseCourseLimit: a course loses more enrolments than MaxRemovals or MaxShare.
	RefuseCourseLimit RefusalCode = "course-limit"
	// RefuseSiteLimit: all the courses together lose more than MaxSiteRemovals.
	RefuseSiteLimit RefusalCode = "site-limit"
)

// RefusalCodes is the closed set of refusal codes.
var RefusalCodes = []RefusalCode{RefuseProtected, RefuseCourseLimit, RefuseSiteLimit}

// Refusal is one reason apply refuses the plan, with the numbers it was decided on.
type Refusal struct {
	Code RefusalCode
	// Course is the course refused; "" for RefuseSiteLimit.
	Course string
	// Changes is the number of removing changes (in Course, or across Courses).
	Changes int
	// Enrolments is the number of enrolments they remove, suspend or make not current;
	// Total, for RefuseCourseLimit, the course's enrolments now.
	Enrolments int
	Total      int
	// Courses, for RefuseSiteLimit, is the number of courses losing enrolments.
	Courses int
}

// Share is the part of the course's enrolments a RefuseCourseLimit refusal removes.
func (r Refusal) Share() float64 {
	if r.Total == 0 {
		return 0
	}
	return float64(r.Enrolments) / float64(r.Total)
}

// Guard decides what apply refuses among changes (in plan order): every removal in a
// protected course, and, unless removals are approved, a course losing more enrolments
// than the limits allow, or all courses together more than the site limit. observed
// gives each course's enrolments now. It is pure: plan calls it to show the refusals,
// apply calls it again on the live state before writing.
func Guard(changes []Change, protected []string, observed state.Snapshot, lim Limits, ok Approvals) []Refusal {
	type tally struct{ changes, enrolments int }
	per := map[string]*tally{}
	var order []string
	for _, c := range changes {
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
	var out []Refusal
	site := Refusal{Code: RefuseSiteLimit}
	for _, course := range order {
		t := per[course]
		if slices.Contains(protected, course) {
			out = append(out, Refusal{Code: RefuseProtected, Course: course, Changes: t.changes, Enrolments: t.enrolments})
			continue
		}
		if t.enrolments > 0 {
			site.Changes += t.changes
			site.Enrolments += t.enrolments
			site.Courses++
		}
		if ok.Removals {
			continue
		}
		r := Refusal{Code: RefuseCourseLimit, Course: course, Changes: t.changes, Enrolments: t.enrolments}
		if o, found := observed.Course(course); found {
			r.Total = len(o.Enrolments)
		}
		if t.enrolments > lim.MaxRemovals || (t.enrolments >= MinForShare && r.Share() > lim.MaxShare) {
			out = append(out, r)
		}
	}
	if !ok.Removals && site.Enrolments > lim.MaxSiteRemovals {
		out = append(out, site)
	}
	return out
}
