package diff

import (
	"github.com/enrolctl/enrolctl/internal/spec/diag"
	"github.com/enrolctl/enrolctl/internal/state"
)

// FormatVersion is the version of the plan's JSON form. Bump it on any change that an
// older enrolctl could misread.
const FormatVersion = "1"

// Action is what a change does. The set is closed.
type Action string

const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
	NoOp   Action = "no-op"
)

// Symbol is the one-character marker used in human plans.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Delete:
		return "-"
	default:
		return " "
	}
}

// Kind is the kind of object a change is about.
type Kind string

const (
	KindGroup     Kind = "group"
	KindMethod    Kind = "method"
	KindEnrolment Kind = "enrolment"
	KindMember    Kind = "membership"
)

// FieldChange is one attribute that differs: Old is "" for creates, New is "" for deletes.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// Removal says what Moodle deletes along with a removal (an unenrolment, a suspension,
// a method deletion), so that reviewers see it in the plan and apply can guard it.
type Removal struct {
	// Enrolments is the number of user enrolments removed or suspended.
	Enrolments int `json:"enrolments"`
	// LastEnrolments counts those users for whom it is their last enrolment in the
	// course: Moodle then deletes their roles, group memberships and grades there.
	LastEnrolments int `json:"last_enrolments"`
	// Memberships (method deletions) counts the group memberships the method's sync
	// made, which Moodle deletes with the method; MembershipsKept how many of them the
	// plan adds back as manual memberships because their users stay in the course.
	Memberships     int `json:"memberships,omitempty"`
	MembershipsKept int `json:"memberships_kept,omitempty"`
	// Detail is a human sentence, e.g. "unenrols 35 users; 3 lose their last enrolment (grades, roles and groups deleted)".
	Detail string `json:"detail"`
}

// Change is one planned action on one object. Exactly one of Method, Enrolment, Group,
// Member is set, according to Kind. For creates and updates it holds the desired object;
// for deletes, the observed one.
type Change struct {
	Address string        `json:"address"`
	Course  string        `json:"course"`
	Kind    Kind          `json:"kind"`
	Action  Action        `json:"action"`
	Reason  string        `json:"reason,omitempty"` // explains; never drives apply
	Fields  []FieldChange `json:"fields,omitempty"`

	Method    *state.Method    `json:"method,omitempty"`
	Enrolment *state.Enrolment `json:"enrolment,omitempty"`
	Group     *state.Group     `json:"group,omitempty"`  // for KindGroup: the group (name only)
	Member    *state.Member    `json:"member,omitempty"` // for KindMember, with GroupName
	GroupName string           `json:"group_name,omitempty"`

	Removes *Removal     `json:"removes,omitempty"`
	Source  state.Source `json:"source,omitempty"`

	// AfterMethodRemoval (membership creates only): the user is a member now only
	// through the sync of a method this plan deletes, which takes the membership with
	// it; the membership is added again, as a manual one, after that deletion
	// (Stage StageMemberRestores).
	AfterMethodRemoval bool `json:"after_method_removal,omitempty"`
}

// IsRemoval reports whether the change takes access away: a deletion, or an update that
// suspends an enrolment or disables a method.
func (c Change) IsRemoval() bool { return c.Removes != nil }

// Unmanaged is a live object no spec declares; it is reported and never acted on.
type Unmanaged struct {
	Address     string `json:"address"`
	Course      string `json:"course"`
	Kind        Kind   `json:"kind"`
	Description string `json:"description"`
}

// Plan is the data a plan run produces: the ordered changes, what is left alone, what is
// wrong. Human, markdown and JSON output are all rendered from it.
type Plan struct {
	FormatVersion string      `json:"format_version"`
	Changes       []Change    `json:"changes"`
	Unmanaged     []Unmanaged `json:"unmanaged,omitempty"`
	// Diagnostics are the errors and warnings of the run (specs, site checks, plan).
	// While one is an error, Changes and Unmanaged are empty: nothing is planned.
	Diagnostics diag.Diagnostics `json:"diagnostics,omitempty"`

	// Filled in by the caller, not by Compute.
	Site         string            `json:"site,omitempty"`
	Commit       string            `json:"commit,omitempty"`
	CreatedAt    string            `json:"created_at,omitempty"`   // RFC 3339
	Fingerprints map[string]string `json:"fingerprints,omitempty"` // course shortname -> state.Course.ManagedFingerprint of the observed course
	// Protected are the courses whose specs say protect: true; apply refuses every
	// removal in them, saved plans included.
	Protected []string `json:"protected,omitempty"`
	// SpecsDigest is a digest of the spec files and configuration the plan was made
	// from; apply refuses a saved plan when the specs it checks out differ, so that what
	// is applied after a merge is what was reviewed on the merge request.
	SpecsDigest string `json:"specs_digest,omitempty"`
}

// Summary counts a plan's changes the way the last line of a human plan shows them.
type Summary struct {
	Add       int `json:"add"`
	Change    int `json:"change"`
	Remove    int `json:"remove"`
	Unmanaged int `json:"unmanaged"`
}

// Summary counts the plan's adds, changes, removals and unmanaged objects.
func (p Plan) Summary() Summary {
	s := Summary{Unmanaged: len(p.Unmanaged)}
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Add++
		case Update:
			s.Change++
		case Delete:
			s.Remove++
		}
	}
	return s
}

// HasChanges reports whether applying the plan would write anything.
func (p Plan) HasChanges() bool {
	for _, c := range p.Changes {
		if c.Action != NoOp {
			return true
		}
	}
	return false
}

// Courses returns the shortnames of the courses the plan changes, in plan order.
func (p Plan) Courses() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range p.Changes {
		if !seen[c.Course] {
			seen[c.Course] = true
			out = append(out, c.Course)
		}
	}
	return out
}
