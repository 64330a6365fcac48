package adopt

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/enrolctl/enrolctl/internal/state"
)

// DefaultRole is the role a spec gives when it names none.
const DefaultRole = "student"

// Options say how a course is written.
type Options struct {
	// Location is the site's time zone: end dates at midnight there are written as days.
	Location *time.Location
	// AsManual lists the automatic method types (database, cohort, meta) whose users
	// are written as manual users, with Until as their end date.
	AsManual []state.MethodType
	// Until is the end date of converted users: a day (YYYY-MM-DD) or "never".
	Until string
	// RemoveConverted declares the converted cohort and meta methods absent, so that
	// applying the spec deletes them once the manual enrolments exist (database
	// methods are never deleted and stay declared).
	RemoveConverted bool
	// Header is a comment line written at the top of the file ("" none).
	Header string
}

// Result is one course's spec.
type Result struct {
	YAML []byte
	// Users is the number of manual users written; Converted how many of them come
	// from automatic methods.
	Users, Converted int
	// Notes name what the spec leaves out or cannot say exactly; they are also written
	// as comments at the top of the file.
	Notes []string
}

// user is one manual user as the spec will write it.
type user struct {
	username  string
	role      string
	roles     []string // several roles, written as roles: and kept as Moodle has them
	until     string   // "never" for no end
	suspended bool
	groups    []string
}

// Render writes the course spec of an observed course.
func Render(c state.Course, opts Options) Result {
	loc := cmp.Or(opts.Location, time.UTC)
	var res Result
	note := func(format string, args ...any) { res.Notes = append(res.Notes, fmt.Sprintf(format, args...)) }

	root := &yaml.Node{Kind: yaml.MappingNode}
	set(root, "course", str(c.Shortname))

	// Methods, each identity once (Moodle may hold duplicates; the first is declared).
	methods := &yaml.Node{Kind: yaml.SequenceNode}
	seen := map[string]bool{}
	for _, m := range c.Methods {
		if seen[m.Key()] {
			note("a second %s method (id %d) is left out: a course declares each method once", m.Type, m.ID)
			continue
		}
		seen[m.Key()] = true
		if opts.RemoveConverted && slices.Contains(opts.AsManual, m.Type) && !m.Type.CheckOnly() {
			m = state.Method{Type: m.Type, Cohort: m.Cohort, Role: m.Role, Course: m.Course, Absent: true}
		}
		if n := methodNode(m, note); n != nil {
			methods.Content = append(methods.Content, n)
		}
	}
	if len(methods.Content) > 0 {
		set(root, "methods", methods)
	}

	users := manualUsers(c, loc, note)
	converted := convertedUsers(c, opts, users, note)
	res.Users, res.Converted = len(users)+len(converted), len(converted)
	users = append(users, converted...)
	slices.SortFunc(users, func(a, b user) int { return strings.Compare(a.username, b.username) })
	if len(users) > 0 {
		set(root, "manual", manualNode(users))
	}

	if len(c.Groups) > 0 {
		groups := &yaml.Node{Kind: yaml.SequenceNode}
		for _, g := range c.Groups {
			groups.Content = append(groups.Content, str(g.Name))
		}
		set(root, "groups", groups)
	}

	var head strings.Builder
	if opts.Header != "" {
		fmt.Fprintf(&head, "# %s\n", commentText(opts.Header))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&head, "# Not in this spec: %s\n", commentText(n))
	}
	var b bytes.Buffer
	b.WriteString(head.String())
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		panic(err) // the tree holds only scalars, maps and lists
	}
	_ = enc.Close()
	res.YAML = b.Bytes()
	return res
}

// methodNode writes one method, or nil (with a note) when a spec cannot declare it.
func methodNode(m state.Method, note func(string, ...any)) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	set(n, "type", str(string(m.Type)))
	k, ok := state.KindOf(m.Type)
	if !ok {
		note("%s method id %d: enrolctl does not manage this plugin", m.Type, m.ID)
		return nil
	}
	for _, a := range k.Fields {
		v := m.Text(a)
		switch {
		case a == state.AttrCohort && strings.HasPrefix(v, "#"):
			note("cohort method of cohort id %s: the cohort has no idnumber, which specs name cohorts by", strings.TrimPrefix(v, "#"))
			return nil
		case a == state.AttrName && v == "":
			note("%s method id %d has no name, which specs tell %s methods apart by (name it in Moodle, then import again)", m.Type, m.ID, m.Type)
			return nil
		case a == state.AttrMaxUsers && m.MaxUsers != 0:
			set(n, string(a), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(m.MaxUsers)})
		case a == state.AttrEnabled, a == state.AttrMaxUsers, v == "",
			a == state.AttrRole && v == DefaultRole, a == state.AttrGroup && m.Absent:
		default:
			set(n, string(a), str(v))
		}
	}
	if m.Absent {
		set(n, "absent", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
		return n
	}
	if !m.Enabled && !k.CheckOnly {
		set(n, "enabled", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "false"})
	}
	return n
}

// manualUsers are the live manual enrolments, with their manual group memberships.
func manualUsers(c state.Course, loc *time.Location, note func(string, ...any)) []user {
	manualGroups := membershipsOf(c, func(m state.Member) bool { return m.Component == "" })
	var out []user
	for _, e := range c.Enrolments {
		if e.Method != string(state.Manual) {
			continue
		}
		u := user{username: e.Username, until: endText(e.End, loc), suspended: e.Suspended, groups: manualGroups[e.Username]}
		switch roles := sortedRoles(e.Roles); len(roles) {
		case 0:
			u.role = DefaultRole
			note("user %s is enrolled manually without a role; the spec gives them %s", e.Username, DefaultRole)
		case 1:
			u.role = roles[0]
		default:
			u.role, u.roles = mainRole(roles), roles // kept as they are: roles: [...]
		}
		out = append(out, u)
	}
	return out
}

// convertedUsers are the users the AsManual methods enrol who have no manual enrolment:
// they become manual users ending at opts.Until, with their roles and every group they
// are in (a cohort or meta sync's groups too, so that the memberships survive the
// method's removal).
func convertedUsers(c state.Course, opts Options, manual []user, note func(string, ...any)) []user {
	if len(opts.AsManual) == 0 {
		return nil
	}
	types := map[string]state.MethodType{}
	for _, m := range c.Methods {
		if slices.Contains(opts.AsManual, m.Type) {
			types[m.Key()] = m.Type
		}
	}
	isManual := map[string]bool{}
	for _, u := range manual {
		isManual[u.username] = true
	}
	allGroups := membershipsOf(c, func(state.Member) bool { return true })
	byUser := map[string]*user{}
	var order []string
	for _, e := range c.Enrolments {
		if _, ok := types[e.Method]; !ok || isManual[e.Username] {
			continue
		}
		u, ok := byUser[e.Username]
		if !ok {
			u = &user{username: e.Username, until: opts.Until, suspended: true, groups: allGroups[e.Username]}
			byUser[e.Username] = u
			order = append(order, e.Username)
		}
		// Active through any converted method: active as a manual user.
		u.suspended = u.suspended && e.Suspended
		if roles := sortedRoles(e.Roles); len(roles) > 0 && u.role == "" {
			u.role = mainRole(roles)
		}
	}
	out := make([]user, 0, len(order))
	for _, name := range order {
		u := byUser[name]
		if u.role == "" {
			u.role = DefaultRole
			note("user %s holds no role through the converted methods; the spec gives them %s", name, DefaultRole)
		}
		out = append(out, *u)
	}
	return out
}

// membershipsOf maps usernames to the names of the groups they are in, among the
// memberships keep accepts, sorted.
func membershipsOf(c state.Course, keep func(state.Member) bool) map[string][]string {
	out := map[string][]string{}
	for _, g := range c.Groups {
		for _, m := range g.Members {
			if keep(m) && !slices.Contains(out[m.Username], g.Name) {
				out[m.Username] = append(out[m.Username], g.Name)
			}
		}
	}
	for _, gs := range out {
		slices.Sort(gs)
	}
	return out
}

// manualNode writes the manual section: the most common role and end as defaults,
// and each user with only what differs from them.
func manualNode(users []user) *yaml.Node {
	role := mostCommon(users, func(u user) string { return u.role }, DefaultRole)
	until := mostCommon(users, func(u user) string { return u.until }, "never")
	n := &yaml.Node{Kind: yaml.MappingNode}
	if role != DefaultRole {
		set(n, "role", str(role))
	}
	if until != "never" {
		set(n, "until", day(until))
	}
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, u := range users {
		e := &yaml.Node{Kind: yaml.MappingNode}
		set(e, "username", str(u.username))
		switch {
		case len(u.roles) > 1:
			seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, r := range u.roles {
				seq.Content = append(seq.Content, str(r))
			}
			set(e, "roles", seq)
		case u.role != role:
			set(e, "role", str(u.role))
		}
		if u.until != until {
			set(e, "until", day(u.until))
		}
		if u.suspended {
			set(e, "suspended", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
		}
		if len(u.groups) > 0 {
			seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, g := range u.groups {
				seq.Content = append(seq.Content, str(g))
			}
			set(e, "groups", seq)
		}
		if len(e.Content) == 2 {
			e = str(u.username) // a bare username takes every default
		}
		list.Content = append(list.Content, e)
	}
	set(n, "users", list)
	return n
}

// mostCommon is the value of f most users share; ties go to preferred, then to the
// smallest value, so the output does not depend on map order.
func mostCommon(users []user, f func(user) string, preferred string) string {
	count := map[string]int{}
	for _, u := range users {
		count[f(u)]++
	}
	best, n := preferred, count[preferred]
	for _, v := range slices.Sorted(maps.Keys(count)) {
		if count[v] > n {
			best, n = v, count[v]
		}
	}
	return best
}

// endText writes an enrolment end the way specs say it: a day when the end is a
// midnight in the site's zone (ends are exclusive, state.LastDay: 2027-07-01T00:00 is
// until 2027-06-30), an RFC 3339 timestamp otherwise, never for none.
func endText(unix int64, loc *time.Location) string {
	if unix == 0 {
		return "never"
	}
	if day, ok := state.LastDay(unix, loc); ok {
		return day.Format(time.DateOnly)
	}
	return time.Unix(unix, 0).In(loc).Format(time.RFC3339)
}

// mainRole picks the role a spec writes for a user holding several: the one that
// gives most rights among the standard roles, else the first.
func mainRole(roles []string) string {
	for _, r := range []string{"manager", "editingteacher", "teacher", "student"} {
		if slices.Contains(roles, r) {
			return r
		}
	}
	return roles[0]
}

func sortedRoles(roles []string) []string {
	out := slices.Clone(roles)
	slices.Sort(out)
	return slices.Compact(out)
}

func str(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

// day writes a date unquoted (YAML reads it as a timestamp, the spec as a day).
func day(v string) *yaml.Node {
	if v == "never" {
		return str(v)
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!timestamp", Value: v}
}

func set(m *yaml.Node, key string, v *yaml.Node) { m.Content = append(m.Content, str(key), v) }

// Converted is a user that Options.AsManual turns into a manual user.
type Converted struct {
	Username  string
	Role      string
	Until     string // a day or "never"
	Suspended bool
	Groups    []string
}

// Conversions lists, sorted by username, the users of the AsManual methods of an
// observed course who have no manual enrolment, as Render would write them: for
// adding them to a course's existing spec (spec.WriteAdditions) rather than
// rewriting it.
func Conversions(c state.Course, opts Options) []Converted {
	note := func(string, ...any) {}
	loc := cmp.Or(opts.Location, time.UTC)
	users := convertedUsers(c, opts, manualUsers(c, loc, note), note)
	slices.SortFunc(users, func(a, b user) int { return strings.Compare(a.username, b.username) })
	out := make([]Converted, len(users))
	for i, u := range users {
		out[i] = Converted{Username: u.username, Role: u.role, Until: u.until, Suspended: u.suspended, Groups: u.groups}
	}
	return out
}

// commentText makes s safe on one YAML comment line: a note names what Moodle holds (a
// plugin's name, a cohort), and a name with a line break would end the comment and
// write YAML of its own (issue 19: "paypal\nmanual:\n  users: [admin]\n#" planned
// + enrolment manual/admin). Control characters are written escaped, as Go quotes them.
func commentText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
