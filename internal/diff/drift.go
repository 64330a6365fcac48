package diff

import (
	"cmp"
	"slices"
	"strings"

	"github.com/enrolctl/enrolctl/internal/state"
)

// DriftCode says why a live object is hand-made drift: it sits where the specs say
// who belongs, and they do not list it. The set is closed; render words each one.
type DriftCode string

const (
	// DriftUnlistedEnrolment: a manual enrolment of a user the course's spec does not
	// list, in a course whose spec lists its manual users (manual.prune keep).
	DriftUnlistedEnrolment DriftCode = "unlisted-manual-enrolment"
	// DriftUndeclaredMember: a manual member of a declared group whose members the
	// specs list, who is not one of them (the group has no prune_members).
	DriftUndeclaredMember DriftCode = "undeclared-member"
	// DriftUndeclaredMethod: an enabled method of a plugin enrolctl manages, in a
	// course whose own spec declares a method other than manual, that none declares
	// (methods_prune off). The manual and database methods never are: the first is
	// the scope of manual enrolments, the second belongs to its sync.
	DriftUndeclaredMethod DriftCode = "undeclared-method"
)

// DriftCodes is the closed set of drift codes.
var DriftCodes = []DriftCode{DriftUnlistedEnrolment, DriftUndeclaredMember, DriftUndeclaredMethod}

// Drift is a live object made by hand in a scope the specs manage: it is named in
// every form of the plan, counted apart from the objects no spec manages, and, like
// them, never acted on. Exactly one of Method, Enrolment, Member is set, by Kind.
type Drift struct {
	Address   string
	Course    string
	Kind      Kind
	Code      DriftCode
	Method    *state.Method
	Enrolment *state.Enrolment
	Member    *state.Member
	GroupName string
	// Enrolments (methods) is the number of enrolments the method holds.
	Enrolments int
}

// Username is the user a drifted enrolment or membership is about, or "".
func (d Drift) Username() string {
	switch {
	case d.Enrolment != nil:
		return d.Enrolment.Username
	case d.Member != nil:
		return d.Member.Username
	}
	return ""
}

// HasDrift reports whether Moodle holds objects made by hand in managed scopes.
func (p Plan) HasDrift() bool { return len(p.Drift) > 0 }

func compareDrift(a, b Drift) int {
	return cmp.Or(strings.Compare(a.Course, b.Course), strings.Compare(a.Address, b.Address))
}

// listsManualUsers reports whether the course's spec lists its manual users: only
// then is an unlisted manual enrolment drift rather than an object no spec manages
// (policies list no users, and a renew's selection counts as listed).
func (cp *coursePlanner) listsManualUsers() bool { return len(cp.d.Enrolments) > 0 }

// declaresMethods reports whether the course's own spec declares its methods: only
// then is an undeclared enabled method drift. A policy adds its methods to many
// courses without claiming the rest of theirs, and the manual method does not count
// (spec.Resolve adds it to a spec that lists users, which says nothing of the others).
func (cp *coursePlanner) declaresMethods() bool {
	if cp.d.Spec == "" {
		return false
	}
	for _, m := range cp.d.Methods {
		if m.Type != state.Manual && m.Source.File == cp.d.Spec && m.Source.Line > 0 {
			return true
		}
	}
	return false
}

// methodDrifts reports whether a live method nobody declares is drift (see
// DriftUndeclaredMethod).
func (cp *coursePlanner) methodDrifts(m state.Method) bool {
	return cp.declaresMethods() && m.Enabled && m.Type.Known() &&
		m.Type != state.Manual && m.Type != state.Database
}

// unlistedEnrolment records a kept manual enrolment the specs do not list: drift when
// the spec lists its users, unmanaged otherwise.
func (cp *coursePlanner) unlistedEnrolment(addr string, e state.Enrolment) {
	course := cp.d.Shortname
	if cp.listsManualUsers() {
		cp.drift = append(cp.drift, Drift{Address: addr, Course: course, Kind: KindEnrolment, Code: DriftUnlistedEnrolment, Enrolment: &e})
		return
	}
	cp.unmanaged = append(cp.unmanaged, Unmanaged{Address: addr, Course: course, Kind: KindEnrolment, Enrolment: &e})
}

// undeclaredMembers records the manual members of a declared group, whose members the
// specs list, that they do not list. Members a method's sync made belong to it; a user
// this plan unenrolls leaves the group with the enrolment.
func (cp *coursePlanner) undeclaredMembers(group string, live []state.Member, declared map[string]bool) {
	if len(declared) == 0 {
		return // the specs name the group, not who is in it
	}
	undeclared := func(m state.Member) bool {
		return m.Component == "" && !declared[m.Username] && !cp.unenrolled[m.Username]
	}
	// Counted first (a user listed twice counts twice): the drift list grows once,
	// and the members it names are one array. A site can have 75,000 of them.
	n := 0
	for _, m := range live {
		if undeclared(m) {
			n++
		}
	}
	if n == 0 {
		return
	}
	cp.drift = slices.Grow(cp.drift, n)
	members := make([]state.Member, 0, n)
	seen := cp.seenNames
	clear(seen)
	for _, m := range live {
		if !undeclared(m) || seen[m.Username] {
			continue
		}
		seen[m.Username] = true
		members = append(members, state.Member{Username: m.Username})
		cp.drift = append(cp.drift, Drift{
			Address: state.MemberAddress(cp.d.Shortname, group, m.Username), Course: cp.d.Shortname,
			Kind: KindMember, Code: DriftUndeclaredMember, Member: &members[len(members)-1], GroupName: group,
		})
	}
}
