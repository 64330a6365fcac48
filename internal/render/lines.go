package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
)

// changeLine is one change as every human form shows it.
type changeLine struct {
	Symbol string // "+", "~", "-"
	Object string // "method cohort:L1-INFO-2026:student"
	Attrs  string // creates: ` (group "Promo 2026")`; updates: `  end: a → b`
	Detail string // removals: `  (unenrols; ...)`
	Reason string // "" or the change's reason
}

func (l changeLine) text() string { return l.Object + l.Attrs + l.Detail }

func lineOf(c diff.Change, loc *time.Location) changeLine {
	l := changeLine{Symbol: c.Action.Symbol(), Object: objectName(c), Reason: reasonText(c.Reason)}
	switch c.Action {
	case diff.Create:
		var attrs []string
		for _, f := range c.Fields {
			if isDefault(f.Field, f.New) {
				continue
			}
			attrs = append(attrs, string(f.Field)+" "+quote(valueText(f.Field, f.New, loc)))
		}
		if len(attrs) > 0 {
			l.Attrs = " (" + strings.Join(attrs, ", ") + ")"
		}
	case diff.Update:
		var attrs []string
		for _, f := range c.Fields {
			old := "none"
			if f.Old != nil {
				old = valueText(f.Field, f.Old, loc)
			}
			attrs = append(attrs, fmt.Sprintf("%s: %s → %s", f.Field, quote(old), quote(valueText(f.Field, f.New, loc))))
		}
		if len(attrs) > 0 {
			l.Attrs = "  " + strings.Join(attrs, ", ")
		}
	}
	if c.Removes != nil {
		l.Detail = "  (" + RemovalText(c) + ")"
	}
	return l
}

func quote(s string) string {
	if s == "" || needsQuote(s) {
		return strconv.Quote(s)
	}
	return s
}

// needsQuote reports whether quote quotes a non-empty s.
func needsQuote(s string) bool { return strings.ContainsAny(s, " \t\"") }

// objectName names a change's object within its course: "method cohort:X:student",
// "enrolment manual/21009539", "group TP1", "membership TP1/21009539".
func objectName(c diff.Change) string {
	switch {
	case c.Kind == diff.KindMethod && c.Method != nil:
		return "method " + c.Method.Key()
	case c.Kind == diff.KindEnrolment && c.Enrolment != nil:
		return "enrolment " + c.Enrolment.Key()
	case c.Kind == diff.KindGroup && c.Group != nil:
		return "group " + quote(c.Group.Name)
	case c.Kind == diff.KindMember && c.Member != nil:
		return "membership " + quote(c.GroupName+"/"+c.Member.Username)
	}
	return addressName(c.Course, c.Address)
}

// unmanagedName names an object left alone from the object itself: "method
// cohort:X:student", "method self:Open#12" (a duplicate instance), "enrolment manual/u".
func unmanagedName(u diff.Unmanaged) string {
	switch {
	case u.Method != nil && u.Duplicate:
		return fmt.Sprintf("method %s#%d", u.Method.Key(), u.Method.ID)
	case u.Method != nil:
		return "method " + u.Method.Key()
	case u.Enrolment != nil:
		return "enrolment " + u.Enrolment.Key()
	}
	return addressName(u.Course, u.Address)
}

// addressName names an object from its address alone (unmanaged objects have no
// object): "course/C/method/cohort:X:student" -> "method cohort:X:student".
func addressName(course, address string) string {
	rest, inCourse := strings.CutPrefix(address, "course/"+course+"/")
	seg, tail, found := strings.Cut(rest, "/")
	if !inCourse || !found {
		return address
	}
	switch seg {
	case "group":
		if g, u, ok := strings.Cut(tail, "/member/"); ok {
			return string(diff.KindMember) + " " + quote(g+"/"+u)
		}
		return "group " + quote(tail)
	case "method", "enrolment":
		return seg + " " + tail
	}
	return address // not an address inside the course: show it whole
}

// courseSummaries counts each course's changes and unmanaged objects, in course order.
func courseSummaries(p diff.Plan) ([]string, map[string]diff.Summary) {
	sums := map[string]diff.Summary{}
	var names []string
	touch := func(c string) diff.Summary {
		if _, ok := sums[c]; !ok {
			names = append(names, c)
		}
		return sums[c]
	}
	for _, c := range p.Changes {
		s := touch(c.Course)
		switch c.Action {
		case diff.Create:
			s.Add++
		case diff.Update:
			s.Change++
		case diff.Delete:
			s.Remove++
		}
		sums[c.Course] = s
	}
	for _, u := range p.Unmanaged {
		s := touch(u.Course)
		s.Unmanaged++
		sums[u.Course] = s
	}
	slices.Sort(names)
	return names, sums
}

// summaryLine is the plan's last line. A plan with errors does not claim that Moodle
// matches the specs.
func summaryLine(s diff.Summary, hasChanges bool, errors int) string {
	if errors > 0 {
		return fmt.Sprintf("No changes planned: fix the %s first.", plural(errors, "error", "errors"))
	}
	if !hasChanges && s.Drift > 0 {
		// Not "Moodle matches the specs": it holds what they do not list.
		line := fmt.Sprintf("No changes. Drift: %s made by hand that the specs do not list", plural(s.Drift, "object", "objects"))
		if s.Unmanaged > 0 {
			line += fmt.Sprintf(" (%s left alone)", plural(s.Unmanaged, "unmanaged object", "unmanaged objects"))
		}
		return line + "."
	}
	if !hasChanges {
		switch s.Unmanaged {
		case 0:
			return "No changes. Moodle matches the specs."
		case 1:
			return "No changes. Moodle matches the specs (1 unmanaged object left alone)."
		default:
			return fmt.Sprintf("No changes. Moodle matches the specs (%d unmanaged objects left alone).", s.Unmanaged)
		}
	}
	if s.Drift > 0 {
		return fmt.Sprintf("Plan: %d to add, %d to change, %d to remove, %d unmanaged, %d made by hand (drift).", s.Add, s.Change, s.Remove, s.Unmanaged, s.Drift)
	}
	return fmt.Sprintf("Plan: %d to add, %d to change, %d to remove, %d unmanaged.", s.Add, s.Change, s.Remove, s.Unmanaged)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
