package render

import (
	"fmt"
	"slices"
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
	Course string
	// Changes point into the plan's changes, which render never writes.
	Changes []*diff.Change
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
	l := lineOf(*g.Changes[0], loc)
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
//
// A site-wide plan has tens of thousands of changes: each group's changes are a
// window of one array of pointers, filled in a second pass once every group's size is
// known, rather than a slice per group grown by appending copies.
func groupLines(changes []diff.Change, loc *time.Location, collapse bool) []lineGroup {
	// A group in the making: small, as a plan has tens of thousands of them. Its key
	// is made again from its first change when it collapses.
	type pending struct {
		first, at, n, filled int32 // its first change; its window of all, and its size
		keyed, collapse      bool  // keyed: it may collapse
	}
	var gs []pending
	of := make([]int32, len(changes)) // each change's group; -1 for a no-op
	index := map[collapseKey]int{}
	// A key holds its course: in a plan sorted by course (as diff makes them), the
	// keys of the courses before are never asked for again, and the index holds one
	// course's at a time rather than the whole plan's.
	byCourse := slices.IsSortedFunc(changes, func(a, b diff.Change) int { return strings.Compare(a.Course, b.Course) })
	fields := fieldsCache{loc: loc}
	total := 0
	for i := range changes {
		c := &changes[i]
		if c.Action == diff.NoOp {
			of[i] = -1
			continue
		}
		total++
		if byCourse && i > 0 && c.Course != changes[i-1].Course {
			clear(index)
		}
		if collapse {
			if k, ok := keyOf(c, &fields); ok {
				if j, seen := index[k]; seen {
					of[i] = int32(j)
					gs[j].n++
					continue
				}
				index[k] = len(gs)
				gs = append(gs, pending{first: int32(i), keyed: true, n: 1})
				of[i] = int32(len(gs) - 1)
				continue
			}
		}
		gs = append(gs, pending{first: int32(i), n: 1})
		of[i] = int32(len(gs) - 1)
	}
	all := make([]*diff.Change, total)
	lines, at := 0, int32(0)
	for j := range gs {
		g := &gs[j]
		g.at, at = at, at+g.n
		// Groups too small to collapse go back to one line per change, in place.
		g.collapse = g.keyed && g.n >= collapseMin
		if g.collapse {
			lines++
		} else {
			lines += int(g.n)
		}
	}
	for i := range changes {
		if j := of[i]; j >= 0 {
			g := &gs[j]
			all[g.at+g.filled] = &changes[i]
			g.filled++
		}
	}
	final := make([]lineGroup, 0, lines)
	for _, g := range gs {
		cs := all[g.at : g.at+g.n : g.at+g.n]
		sym := cs[0].Action.Symbol()
		if !g.collapse {
			for i, c := range cs {
				final = append(final, lineGroup{Course: c.Course, Changes: cs[i : i+1 : i+1], Symbol: sym})
			}
			continue
		}
		k, _ := keyOf(&changes[g.first], &fields)
		final = append(final, lineGroup{Course: cs[0].Course, Changes: cs, Symbol: sym,
			Text: collapsedText(k, cs), Reason: sharedReason(cs)})
	}
	return final
}

func keyOf(c *diff.Change, fields *fieldsCache) (collapseKey, bool) {
	k := collapseKey{course: c.Course, action: string(c.Action), kind: string(c.Kind), removal: c.IsRemoval()}
	switch {
	case c.Kind == diff.KindEnrolment && c.Enrolment != nil:
		k.where = c.Enrolment.Method
	case c.Kind == diff.KindMember && c.Member != nil:
		k.where = c.GroupName
	default:
		return k, false
	}
	k.fields = fields.shared(c)
	return k, true
}

// fieldsCache remembers sharedFields by the values of a change's fields: a
// site-wide renewal words the same "end: never → 2030-06-30" for every enrolment,
// and formatting each one's dates was most of grouping a plan.
type fieldsCache struct {
	loc  *time.Location
	text map[fieldsKey]string
	// last is the key and text of the change before: the plan lists a course's
	// alike changes one after the other, and comparing is cheaper than hashing.
	last     fieldsKey
	lastText string
	hasLast  bool
}

// fieldsKey is what sharedFields reads of up to four field changes.
type fieldsKey struct {
	update bool
	n      int
	f      [4]fieldKey
}

type fieldKey struct {
	field    diff.Field
	old, new valueKey
}

// valueKey is a Value whose roles are at most one (role values of enrolments).
type valueKey struct {
	set  bool
	b    bool
	i    int64
	text string
	role string
}

func keyOfValue(v *diff.Value) (valueKey, bool) {
	if v == nil {
		return valueKey{}, true
	}
	k := valueKey{set: true, b: v.Bool, i: v.Int, text: v.Text}
	switch len(v.Roles) {
	case 0:
	case 1:
		k.role = v.Roles[0]
		if k.role == "" {
			return k, false // [""] would read as []
		}
	default:
		return k, false
	}
	return k, true
}

func (fc *fieldsCache) shared(c *diff.Change) string {
	k := fieldsKey{update: c.Action == diff.Update, n: len(c.Fields)}
	ok := len(c.Fields) <= len(k.f) && (c.Action == diff.Update || c.Action == diff.Create)
	for i := 0; ok && i < len(c.Fields); i++ {
		f := c.Fields[i]
		var okOld, okNew bool
		k.f[i].field = f.Field
		k.f[i].old, okOld = keyOfValue(f.Old)
		k.f[i].new, okNew = keyOfValue(f.New)
		ok = okOld && okNew
	}
	if !ok {
		return sharedFields(*c, fc.loc)
	}
	if fc.hasLast && k == fc.last {
		return fc.lastText
	}
	s, hit := fc.text[k]
	if !hit {
		s = sharedFields(*c, fc.loc)
		if fc.text == nil {
			fc.text = map[fieldsKey]string{}
		}
		fc.text[k] = s
	}
	fc.last, fc.lastText, fc.hasLast = k, s, true
	return s
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
func collapsedText(k collapseKey, cs []*diff.Change) string {
	n := thousands(len(cs))
	var what string
	if k.kind == string(diff.KindMember) {
		what = n + " members of group " + quote(k.where)
	} else {
		what = n + " " + k.where + " enrolments"
	}
	reactivated, last, meta := 0, 0, 0
	var linked []string // one course's changes: the same meta links
	for _, c := range cs {
		for _, f := range c.Fields {
			if isReactivation(f) {
				reactivated++
			}
		}
		if c.Removes != nil {
			last += c.Removes.LastEnrolments
			meta += c.Removes.MetaUsers
			if linked == nil {
				linked = c.Removes.MetaCourses
			}
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
	if meta > 0 {
		b.WriteString(" (" + metaReachText(thousands(meta)+" lose", linked) + ")")
	}
	return b.String()
}

// who names a collapsed change's user, with what sets it apart from the line.
func who(c *diff.Change) string {
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
func sharedReason(cs []*diff.Change) string {
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
