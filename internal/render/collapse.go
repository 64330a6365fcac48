package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
)

// collapseMin is the number of identical changes in a course from which they are shown
// as one line with a count: fewer read as well one by one.
const collapseMin = 3

// lineGroup is one line of a plan for people (the terminal text and the reviewer's
// markdown): a single change, or identical changes of one course collapsed ("~ 1,108
// manual enrolments: end 2026-06-30 → 2027-06-30, 160 reactivated") whose objects are
// listed apart, or not at all.
type lineGroup struct {
	Course  string
	Changes []diff.Change
	// Text is the collapsed line, without its symbol or reason; "" for a single change.
	Text string
	// Reason is the reason every change of a collapsed group gives ("" when they differ).
	Reason string
	// Symbol is the change's marker (+ ~ -).
	Symbol string
}

// Collapsed reports whether the group stands for several changes.
func (g lineGroup) Collapsed() bool { return g.Text != "" }

// Removal reports whether the group's changes take something away (they all do, or
// none does: removals collapse only with removals).
func (g lineGroup) Removal() bool { return g.Changes[0].IsRemoval() }

// line is the group as both forms show it, its symbol aside: the collapsed text or the
// single change's line, and the reason that follows it as a comment.
func (g lineGroup) line(loc *time.Location) (text, reason string) {
	if g.Collapsed() {
		return g.Text, g.Reason
	}
	l := lineOf(g.Changes[0], loc)
	return l.text(), l.Reason
}

// withReason is the line's text followed by its "  # reason" comment, if any.
func withReason(text, reason string) string {
	if reason == "" {
		return text
	}
	return text + "  # " + reason
}

// collapseKey says which changes read the same once the user is taken out: same
// course, action, kind, method (or group), the same field changes apart from a
// reactivation, and both removals or neither.
type collapseKey struct {
	course, action, kind, where, fields string
	removal                             bool
}

// groupLines groups the plan's changes, in plan order: a group takes the place of its
// first change. Only enrolments and memberships collapse; methods and groups are few
// and each deserves its line. With collapse false every change is a group of its own
// (text --expand), in plan order.
func groupLines(changes []diff.Change, loc *time.Location, collapse bool) []lineGroup {
	var out []lineGroup
	index := map[collapseKey]int{}
	var keys []*collapseKey
	for _, c := range changes {
		if c.Action == diff.NoOp {
			continue
		}
		k, ok := keyOf(c, loc)
		if !ok || !collapse {
			out = append(out, lineGroup{Course: c.Course, Changes: []diff.Change{c}, Symbol: c.Action.Symbol()})
			keys = append(keys, nil)
			continue
		}
		if i, seen := index[k]; seen {
			out[i].Changes = append(out[i].Changes, c)
			continue
		}
		index[k] = len(out)
		out = append(out, lineGroup{Course: c.Course, Changes: []diff.Change{c}, Symbol: c.Action.Symbol()})
		keys = append(keys, &k)
	}
	// Groups too small to collapse go back to one line per change, in place.
	var final []lineGroup
	for i, g := range out {
		if keys[i] == nil || len(g.Changes) < collapseMin {
			for _, c := range g.Changes {
				final = append(final, lineGroup{Course: c.Course, Changes: []diff.Change{c}, Symbol: g.Symbol})
			}
			continue
		}
		g.Text = collapsedText(*keys[i], g.Changes)
		g.Reason = sharedReason(g.Changes)
		final = append(final, g)
	}
	return final
}

func keyOf(c diff.Change, loc *time.Location) (collapseKey, bool) {
	k := collapseKey{course: c.Course, action: string(c.Action), kind: string(c.Kind), removal: c.IsRemoval()}
	switch {
	case c.Kind == diff.KindEnrolment && c.Enrolment != nil:
		k.where = c.Enrolment.Method
	case c.Kind == diff.KindMember && c.Member != nil:
		k.where = c.GroupName
	default:
		return k, false
	}
	k.fields = sharedFields(c, loc)
	return k, true
}

// isReactivation reports whether f makes a suspended enrolment active: counted, not
// part of the line's identity.
func isReactivation(f diff.FieldChange) bool {
	return f.Field == diff.FieldSuspended && f.Old != nil && f.Old.Bool && f.New != nil && !f.New.Bool
}

// isSuspension reports whether f suspends an active enrolment (a removal: apply guards
// it).
func isSuspension(f diff.FieldChange) bool {
	return f.Field == diff.FieldSuspended && f.Old != nil && !f.Old.Bool && f.New != nil && f.New.Bool
}

// sharedFields is the field text that identical changes share: "end: a → b" for
// updates, "(role student, end 2027-06-30)" for creates.
func sharedFields(c diff.Change, loc *time.Location) string {
	var parts []string
	for _, f := range c.Fields {
		switch c.Action {
		case diff.Update:
			if isReactivation(f) || isSuspension(f) {
				continue
			}
			old := "none"
			if f.Old != nil {
				old = valueText(f.Field, f.Old, loc)
			}
			parts = append(parts, fmt.Sprintf("%s %s → %s", f.Field, quote(old), quote(valueText(f.Field, f.New, loc))))
		case diff.Create:
			if !isDefault(f.Field, f.New) {
				parts = append(parts, string(f.Field)+" "+quote(valueText(f.Field, f.New, loc)))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// collapsedText words a group: "1,108 manual enrolments: end 2026-06-30 → 2027-06-30,
// 160 reactivated", "40 manual enrolments (role student, end 2027-06-30)",
// "12 manual enrolments unenrolled (3 lose their last enrolment)", "25 members of
// group TP1".
func collapsedText(k collapseKey, cs []diff.Change) string {
	n := thousands(len(cs))
	var what string
	if k.kind == string(diff.KindMember) {
		what = n + " members of group " + quote(k.where)
	} else {
		what = n + " " + k.where + " enrolments"
	}
	reactivated, last := 0, 0
	for _, c := range cs {
		for _, f := range c.Fields {
			if isReactivation(f) {
				reactivated++
			}
		}
		if c.Removes != nil {
			last += c.Removes.LastEnrolments
		}
	}
	var b strings.Builder
	b.WriteString(what)
	switch diff.Action(k.action) {
	case diff.Create:
		if k.fields != "" {
			b.WriteString(" (" + k.fields + ")")
		}
	case diff.Update:
		if k.fields != "" {
			b.WriteString(": " + k.fields)
			if reactivated > 0 {
				b.WriteString(", " + thousands(reactivated) + " reactivated")
			}
		} else if k.removal {
			b.WriteString(" suspended")
		} else if reactivated > 0 {
			b.WriteString(" reactivated")
			if reactivated < len(cs) {
				b.WriteString(" (" + thousands(reactivated) + ")")
			}
		}
	case diff.Delete:
		if k.kind == string(diff.KindMember) {
			b.WriteString(" removed")
		} else {
			b.WriteString(" unenrolled")
		}
	}
	if last > 0 {
		fmt.Fprintf(&b, " (%s lose their last enrolment: grades, roles and groups deleted)", thousands(last))
	}
	return b.String()
}

// who names a collapsed change's user, with what sets it apart from the line.
func who(c diff.Change) string {
	var u string
	switch {
	case c.Enrolment != nil:
		u = c.Enrolment.Username
	case c.Member != nil:
		u = c.Member.Username
	default:
		u = addressName(c.Course, c.Address)
	}
	for _, f := range c.Fields {
		if isReactivation(f) {
			return u + " (reactivated)"
		}
	}
	return u
}

// thousands writes n with a comma every three digits: 1108 → "1,108".
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// sharedReason is the reason every change of a group gives, or "" when they differ.
// A reactivation is counted in the line itself, so it does not set its change apart: a
// policy's renewal that also reactivates some keeps "renewed by policy X".
func sharedReason(cs []diff.Change) string {
	r := groupReason(cs[0].Reason)
	for _, c := range cs[1:] {
		if groupReason(c.Reason) != r {
			return ""
		}
	}
	return r
}

// groupReason is a change's reason as its collapsed line gives it: without the
// reactivation, which the line counts.
func groupReason(r *diff.Reason) string {
	if r != nil && r.Code == diff.ReasonReactivate {
		if r.RenewedBy == "" {
			return ""
		}
		return reasonText(&diff.Reason{Code: diff.ReasonPolicyRenewal, Subject: r.RenewedBy})
	}
	return reasonText(r)
}
