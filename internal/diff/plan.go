package diff

import (
	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
)

// FormatVersion is the version of the plan document (docs/plan-format.md). Bump it on
// any change that an older enrolctl could misread; readers refuse other versions.
const FormatVersion = "2"

// Action is what a change does. The set is closed.
type Action string

const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
	NoOp   Action = "no-op"
)

// Actions is the closed set of actions.
var Actions = []Action{Create, Update, Delete, NoOp}

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

// Kinds is the closed set of kinds.
var Kinds = []Kind{KindGroup, KindMethod, KindEnrolment, KindMember}

// Change is one planned action on one object. Exactly one of Method, Enrolment, Group,
// Member is set, according to Kind. For creates and updates it holds the desired object;
// for deletes, the observed one.
type Change struct {
	Address string
	Course  string
	Kind    Kind
	Action  Action
	Reason  *Reason // explains; never drives apply
	Fields  []FieldChange

	Method    *state.Method
	Enrolment *state.Enrolment
	Group     *state.Group  // for KindGroup: the group (name only)
	Member    *state.Member // for KindMember, with GroupName
	GroupName string

	Removes *Removal
	Source  state.Source

	// AfterMethodRemoval (membership creates only): the user is a member now only
	// through the sync of a method this plan deletes, which takes the membership with
	// it; the membership is added again, as a manual one, after that deletion
	// (Stage StageMemberRestores).
	AfterMethodRemoval bool
}

// IsRemoval reports whether the change takes access away: a deletion, or an update that
// suspends an enrolment or disables a method.
func (c Change) IsRemoval() bool { return c.Removes != nil }

// ReasonCode says why a change is planned when its object alone does not say it. The
// set is closed; render words each one.
type ReasonCode string

const (
	// ReasonImpliedManual: the manual method is created because the specs list manual
	// enrolments.
	ReasonImpliedManual ReasonCode = "implied-manual-method"
	// ReasonMethodsPrune: a method no spec declares is deleted (methods_prune).
	ReasonMethodsPrune ReasonCode = "methods-prune"
	// ReasonGroupOfMethod: a group is created because method Subject puts its members in it.
	ReasonGroupOfMethod ReasonCode = "group-of-method"
	// ReasonConvertBeforeDeletion: a manual enrolment replaces one in method Subject,
	// which this plan deletes.
	ReasonConvertBeforeDeletion ReasonCode = "convert-before-method-deletion"
	// ReasonKeepAfterDatabase, ReasonKeepAfterCohort (Subject: the cohort) and
	// ReasonKeepAfterMeta (Subject: the linked course): a manual enrolment keeps access
	// when the user's automatic enrolment ends.
	ReasonKeepAfterDatabase ReasonCode = "keep-access-after-database"
	ReasonKeepAfterCohort   ReasonCode = "keep-access-after-cohort"
	ReasonKeepAfterMeta     ReasonCode = "keep-access-after-meta"
	// ReasonReactivate: a suspended enrolment becomes active.
	ReasonReactivate ReasonCode = "reactivate"
	// ReasonManualPruneSuspend and ReasonManualPruneUnenrol: a manual enrolment the
	// specs do not list is suspended or unenrolled (manual.prune).
	ReasonManualPruneSuspend ReasonCode = "manual-prune-suspend"
	ReasonManualPruneUnenrol ReasonCode = "manual-prune-unenrol"
	// ReasonPruneMembers: a manual member not declared leaves a group with prune_members.
	ReasonPruneMembers ReasonCode = "prune-members"
	// ReasonReaddAfterMethodRemoval: a declared member through the sync of component
	// Subject, whose method this plan deletes, is added back as a manual member afterwards.
	ReasonReaddAfterMethodRemoval ReasonCode = "readd-after-method-removal"
	// ReasonRestoreSyncedMembership: a member through the sync of component Subject,
	// whose method this plan deletes, stays in the course, so the membership is added
	// back as a manual one (declared or not).
	ReasonRestoreSyncedMembership ReasonCode = "restore-synced-membership"
	// ReasonDeclaredAbsent: a method the specs declare absent is deleted.
	ReasonDeclaredAbsent ReasonCode = "declared-absent"
	// ReasonPolicyRenewal: a live manual enrolment a policy's renew selects gets the
	// renewal's end (Subject: the policy). Other reasons carry the policy in RenewedBy.
	ReasonPolicyRenewal ReasonCode = "policy-renewal"
)

// ReasonCodes is the closed set of reason codes.
var ReasonCodes = []ReasonCode{ReasonImpliedManual, ReasonMethodsPrune, ReasonGroupOfMethod,
	ReasonConvertBeforeDeletion, ReasonKeepAfterDatabase, ReasonKeepAfterCohort, ReasonKeepAfterMeta,
	ReasonReactivate, ReasonManualPruneSuspend, ReasonManualPruneUnenrol, ReasonPruneMembers,
	ReasonReaddAfterMethodRemoval, ReasonRestoreSyncedMembership, ReasonDeclaredAbsent, ReasonPolicyRenewal}

// Reason is why a change is planned: a code and, for some codes, what it is about
// (a method key, a cohort, a course, a component).
type Reason struct {
	Code    ReasonCode
	Subject string
	// RenewedBy is the policy whose renew selected the enrolment, when the change has
	// another reason too (a renewal that also reactivates).
	RenewedBy string
}

func reason(code ReasonCode, subject string) *Reason { return &Reason{Code: code, Subject: subject} }

// RemovalEffect is what a removal does in Moodle. The set is closed.
type RemovalEffect string

const (
	EffectUnenrol          RemovalEffect = "unenrol"           // an enrolment deleted
	EffectSuspend          RemovalEffect = "suspend"           // an enrolment suspended
	EffectMethodDelete     RemovalEffect = "method-delete"     // a method and its enrolments deleted
	EffectMethodDisable    RemovalEffect = "method-disable"    // a method disabled: its enrolments not current
	EffectMembershipDelete RemovalEffect = "membership-delete" // a group membership deleted
)

// RemovalEffects is the closed set of removal effects.
var RemovalEffects = []RemovalEffect{EffectUnenrol, EffectSuspend, EffectMethodDelete, EffectMethodDisable, EffectMembershipDelete}

// Removal says what Moodle takes away with a removal (an unenrolment, a suspension,
// a method deletion or disable, a membership deletion), so that reviewers see it in the
// plan and apply can guard it.
type Removal struct {
	Effect RemovalEffect
	// Enrolments is the number of user enrolments removed, suspended or made not current.
	Enrolments int
	// LastEnrolments counts those users for whom it is their last enrolment in the
	// course: Moodle then deletes their roles, group memberships and grades there.
	LastEnrolments int
	// Memberships (method deletions) counts the group memberships the method's sync
	// made, which Moodle deletes with the method; MembershipsKept how many of them the
	// plan adds back as manual memberships because their users stay in the course.
	Memberships     int
	MembershipsKept int
	// MetaUsers counts the users the removal leaves with no active enrolment in the
	// course (one not suspended, in an enabled method other than meta). Moodle's meta
	// sync then takes their access away in MetaCourses, the courses whose meta method
	// links to this one: it suspends them there, or unenrols them if enrol_meta's
	// unenrolaction says so (enrol/meta/locallib.php, sync_with_parent_course).
	MetaUsers   int
	MetaCourses []string
}

// Unmanaged is a live object no spec declares; it is reported and never acted on.
// Method or Enrolment is the object.
type Unmanaged struct {
	Address   string
	Course    string
	Kind      Kind
	Method    *state.Method
	Enrolment *state.Enrolment
	// Enrolments (methods) is the number of enrolments the method holds.
	Enrolments int
	// Duplicate (methods): a further instance with an identity the course already has.
	Duplicate bool
}

// Plan is what a plan run found and decided. Text, markdown and JSON are all rendered
// from it; the JSON form (`plan -o json`, `plan -out`) is planfile's own document type,
// converted from it, so that these types are not the file format.
type Plan struct {
	FormatVersion string
	// CreatedAt is when the plan was made (RFC 3339); from Options.Provenance.
	CreatedAt string
	// Site is the configured site name; Commit and Dirty the git commit the specs came
	// from and whether the work tree had uncommitted changes. From Options.Provenance.
	Site   string
	Commit string
	Dirty  bool
	// Timezone is the IANA name of the zone dates are shown in (the site's).
	Timezone string

	// What blocks or will be refused comes first in the document, as in every form.
	// Diagnostics are the errors and warnings of the run (configuration, specs, site
	// checks, plan). While one is an error, Changes and Unmanaged are empty.
	Diagnostics diag.Diagnostics
	// Limits are the removal limits the plan was checked against; Approvals what the
	// planner approved; Refusals what apply will refuse under them (Guard).
	Limits    Limits
	Approvals Approvals
	Refusals  []Refusal

	Changes   []Change
	Unmanaged []Unmanaged
	// Drift are the live objects made by hand where the specs say who belongs
	// (drift.go): named, counted apart from Unmanaged, never acted on.
	Drift []Drift

	// Fingerprints map each course the plan changes to state.Course.ManagedFingerprint
	// of the observed course: apply refuses a saved plan whose courses changed since.
	Fingerprints map[string]string
	// Protected are the courses whose specs say protect: true; apply refuses every
	// removal in them, saved plans included.
	Protected []string
	// SpecsDigest is a digest of the spec files and configuration the plan was made
	// from; apply refuses a saved plan when the specs it checks out differ, so that what
	// is applied after a merge is what was reviewed on the merge request.
	SpecsDigest string
}

// Summary counts a plan's changes the way the last line of a human plan shows them.
type Summary struct {
	Add       int
	Change    int
	Remove    int
	Unmanaged int
	Drift     int
}

// Summary counts the plan's adds, changes, removals and unmanaged objects.
func (p Plan) Summary() Summary {
	s := Summary{Unmanaged: len(p.Unmanaged), Drift: len(p.Drift)}
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
