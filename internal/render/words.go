package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// This file holds every sentence a plan shows: diff decides with codes and typed values,
// render words them.

// location is the zone the plan's dates are shown in (UTC when unknown).
func location(p diff.Plan) *time.Location {
	if p.Timezone != "" {
		if loc, err := time.LoadLocation(p.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// valueText shows a field's value: dates in the site's zone ("2027-06-30" for a whole
// day), "none" for no start, role or group, "never" for no end, "unlimited" for a
// max_users of 0.
func valueText(f diff.Field, v *diff.Value, loc *time.Location) string {
	switch f {
	case diff.FieldEnabled, diff.FieldSuspended:
		return strconv.FormatBool(v.Bool)
	case diff.FieldStart:
		return state.FormatStart(v.Int, loc)
	case diff.FieldEnd:
		return state.FormatEnd(v.Int, loc)
	case diff.FieldMaxUsers:
		if v.Int == 0 {
			return "unlimited"
		}
		return strconv.FormatInt(v.Int, 10)
	case diff.FieldGroup:
		if v.Text == "" {
			return "none"
		}
		return v.Text
	}
	if len(v.Roles) == 0 {
		return "none"
	}
	return strings.Join(v.Roles, ",")
}

// isDefault reports whether a created object's field has the value Moodle gives it
// anyway, so the plan line can leave it out.
func isDefault(f diff.Field, v *diff.Value) bool {
	switch f {
	case diff.FieldStart, diff.FieldMaxUsers:
		return v.Int == 0
	case diff.FieldGroup:
		return v.Text == ""
	case diff.FieldRole:
		return len(v.Roles) == 0
	case diff.FieldSuspended:
		return !v.Bool
	case diff.FieldEnabled:
		return v.Bool
	}
	return false
}

// reasonText words a change's reason.
func reasonText(r *diff.Reason) string {
	if r == nil {
		return ""
	}
	s := reasonCodeText(r)
	if r.RenewedBy != "" {
		s = "renewed by policy " + r.RenewedBy + "; " + s
	}
	return s
}

func reasonCodeText(r *diff.Reason) string {
	switch r.Code {
	case diff.ReasonImpliedManual:
		return "needed by the manual enrolments the specs list"
	case diff.ReasonMethodsPrune:
		return "not declared and methods_prune is on"
	case diff.ReasonGroupOfMethod:
		return "method " + r.Subject + " puts its members in it"
	case diff.ReasonConvertBeforeDeletion:
		return fmt.Sprintf("converts the %s enrolment to manual before that method is deleted", r.Subject)
	case diff.ReasonKeepAfterDatabase:
		return "keeps access when the database sync removes them"
	case diff.ReasonKeepAfterCohort:
		return "keeps access when they leave cohort " + r.Subject
	case diff.ReasonKeepAfterMeta:
		return fmt.Sprintf("keeps access when their enrolment in %s ends", r.Subject)
	case diff.ReasonReactivate:
		return "reactivates a suspended enrolment"
	case diff.ReasonManualPruneSuspend:
		return "not listed in the specs and manual.prune is suspend"
	case diff.ReasonManualPruneUnenrol:
		return "not listed in the specs and manual.prune is unenrol"
	case diff.ReasonPruneMembers:
		return "not declared in a group with prune_members"
	case diff.ReasonReaddAfterMethodRemoval:
		return fmt.Sprintf("a member through %s, whose method this plan deletes: added back as a manual member afterwards", r.Subject)
	case diff.ReasonRestoreSyncedMembership:
		return fmt.Sprintf("a member through %s, whose method this plan deletes; the user stays in the course: added back as a manual member", r.Subject)
	case diff.ReasonDeclaredAbsent:
		return "declared absent"
	case diff.ReasonPolicyRenewal:
		return "renewed by policy " + r.Subject
	}
	return string(r.Code)
}

// RemovalText says what a removal takes away, as plans and apply's messages show it:
// in the course, and through the meta links of other courses to it.
func RemovalText(c diff.Change) string {
	s := removalHereText(c)
	if r := c.Removes; r != nil && r.MetaUsers > 0 {
		s += "; " + metaReachText(pluralVerb(r.MetaUsers, "user loses", "users lose"), r.MetaCourses) +
			": suspended there, or unenrolled if enrol_meta's unenrolaction says so"
	}
	return s
}

// metaReachText says who loses access in the courses linking to this one by meta:
// "3 users lose access in L2-A, L2-B too, which link to this course by meta".
func metaReachText(who string, courses []string) string {
	links := "link"
	if len(courses) == 1 {
		links = "links"
	}
	return fmt.Sprintf("%s access in %s too, which %s to this course by meta", who, strings.Join(courses, ", "), links)
}

func removalHereText(c diff.Change) string {
	r := c.Removes
	if r == nil {
		return ""
	}
	switch r.Effect {
	case diff.EffectUnenrol:
		if r.LastEnrolments > 0 {
			return "unenrols; last enrolment: roles, groups and grades deleted"
		}
		return "unenrols; other enrolments keep the user in the course (their manual roles are kept)"
	case diff.EffectSuspend:
		return "suspends access; roles and grades are kept"
	case diff.EffectMethodDelete:
		s := "deletes the method and unenrols " + plural(r.Enrolments, "user", "users")
		switch {
		case r.LastEnrolments > 0:
			s += fmt.Sprintf("; %s their last enrolment: roles, groups and grades deleted", pluralVerb(r.LastEnrolments, "loses", "lose"))
		case r.Enrolments > 0:
			s += "; all keep another enrolment in the course"
		}
		if r.Memberships > 0 {
			s += fmt.Sprintf("; deletes %s its sync made", plural(r.Memberships, "group membership", "group memberships"))
			switch {
			case r.MembershipsKept == r.Memberships:
				s += ", all added back as manual memberships"
			case r.MembershipsKept > 0:
				s += fmt.Sprintf(", %d added back as manual memberships (the others' users leave the course)", r.MembershipsKept)
			}
		}
		return s
	case diff.EffectMethodDisable:
		// Cohort and meta syncs strip their roles from a disabled instance (seen on
		// Moodle 5.1); manual and self roles stay.
		kept := "roles and grades are kept"
		if c.Method != nil && c.Method.Type.Automatic() {
			kept = "the method's roles are removed; grades are kept"
		}
		return fmt.Sprintf("disables the method: %s Not current; %s", pluralVerb(r.Enrolments, "enrolment becomes", "enrolments become"), kept)
	case diff.EffectMembershipDelete:
		return "removes the membership; the enrolment is kept"
	}
	return string(r.Effect)
}

// unmanagedText describes an object left alone.
func unmanagedText(u diff.Unmanaged, loc *time.Location) string {
	switch {
	case u.Method != nil && u.Duplicate:
		return "duplicate " + describeMethod(*u.Method, -1)
	case u.Method != nil:
		return describeMethod(*u.Method, u.Enrolments)
	case u.Enrolment != nil:
		return manualEnrolmentText("manual enrolment not in the specs", *u.Enrolment, loc)
	}
	return string(u.Kind)
}

// manualEnrolmentText is what, then the live enrolment's role, end and suspension.
func manualEnrolmentText(what string, e state.Enrolment, loc *time.Location) string {
	s := what + ", role " + listOrNone(e.Roles)
	if e.End != 0 {
		s += ", ends " + state.FormatEnd(e.End, loc)
	}
	if e.Suspended {
		s += ", suspended"
	}
	return s
}

func describeMethod(m state.Method, enrolments int) string {
	s := fmt.Sprintf("%s instance %d (a plugin enrolctl does not manage)", m.Type, m.ID)
	if k, ok := state.KindOf(m.Type); ok {
		s = k.Noun(m)
	}
	if m.Type != state.Guest && enrolments >= 0 {
		s += ", " + plural(enrolments, "enrolment", "enrolments")
	}
	if !m.Enabled {
		s += ", disabled"
	}
	return s
}

// RefusalText words why apply refuses a plan's removals.
func RefusalText(r diff.Refusal, lim diff.Limits) string {
	switch r.Code {
	case diff.RefuseProtected:
		return fmt.Sprintf("course %s is protected (protect: true): %d removal(s) planned; remove them from the specs or lift the protection", r.Course, r.Changes)
	case diff.RefuseCourseLimit:
		return fmt.Sprintf("course %s: %d of %d enrolments would be removed or suspended (%.0f%%), above the limit of %d or %.0f%%; re-run with --allow-removals if this is intended",
			r.Course, r.Enrolments, r.Total, r.Share()*100, lim.MaxRemovals, lim.MaxShare*100)
	case diff.RefuseSiteLimit:
		return fmt.Sprintf("across %d course(s), %d enrolments would be removed or suspended, above the site-wide limit of %d for one apply (max_site_removals); re-run with --allow-removals if this is intended",
			r.Courses, r.Enrolments, lim.MaxSiteRemovals)
	}
	return string(r.Code)
}

func pluralVerb(n int, one, many string) string { return plural(n, one, many) }

// leftAloneLine counts what no spec manages, for the forms that do not list it:
// "Left alone: 32 unmanaged objects in 8 courses, which no spec manages (FLAG lists
// them)."
func leftAloneLine(p diff.Plan, flag string) string {
	courses := map[string]bool{}
	for _, u := range p.Unmanaged {
		courses[u.Course] = true
	}
	return fmt.Sprintf("Left alone: %s in %s, which no spec manages (%s lists them).",
		plural(len(p.Unmanaged), "unmanaged object", "unmanaged objects"), plural(len(courses), "course", "courses"), flag)
}
