package diff

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/spec/diag"
	"github.com/enrolctl/enrolctl/internal/state"
)

// Options tune how Compute displays values; they never change which changes are planned.
type Options struct {
	// Location is the site's time zone. Dates in FieldChange values are shown in it
	// ("2027-06-30" for a whole-day end); nil shows them in UTC.
	Location *time.Location
}

// Compute plans the changes that turn observed into desired, with dates shown in UTC.
// It is a pure, deterministic function: no I/O, and equal inputs give equal plans.
func Compute(desired, observed state.Snapshot) Plan {
	return ComputeWithOptions(desired, observed, Options{})
}

// ComputeWithOptions is Compute with display options (the site's time zone).
func ComputeWithOptions(desired, observed state.Snapshot, opts Options) Plan {
	p := Plan{FormatVersion: FormatVersion, Changes: []Change{}}

	live := make(map[string]*state.Course, len(observed.Courses))
	for i := range observed.Courses {
		if _, dup := live[observed.Courses[i].Shortname]; !dup {
			live[observed.Courses[i].Shortname] = &observed.Courses[i]
		}
	}

	order := make([]int, len(desired.Courses))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return strings.Compare(desired.Courses[a].Shortname, desired.Courses[b].Shortname)
	})

	// Nothing is planned while an error stands: a half plan would be reviewed as whole.
	p.Diagnostics = Check(desired, observed)
	if p.Diagnostics.HasErrors() {
		return p
	}
	seen := map[string]bool{}
	var planned []*coursePlanner
	for _, i := range order {
		d := &desired.Courses[i]
		if seen[d.Shortname] {
			continue // spec.Load refuses a course declared twice; the first one wins here
		}
		seen[d.Shortname] = true
		o, ok := live[d.Shortname]
		if !ok {
			// spec.Resolve refuses courses the catalogue lacks; this is a course the
			// caller did not read from Moodle, which must not be planned as empty.
			p.Diagnostics = append(p.Diagnostics, diag.Errorf(courseAt(d), "course %s was not read from Moodle; nothing can be planned for it", d.Shortname))
			continue
		}
		cp := newCoursePlanner(d, o, orUTC(opts.Location))
		cp.plan()
		planned = append(planned, cp)
	}
	// Concatenate once: a site-wide plan holds tens of thousands of changes.
	total := 0
	for _, cp := range planned {
		total += len(cp.changes)
	}
	p.Changes = slices.Grow(p.Changes, total)
	for _, cp := range planned {
		p.Changes = append(p.Changes, cp.changes...)
		p.Unmanaged = append(p.Unmanaged, cp.unmanaged...)
		p.Diagnostics = append(p.Diagnostics, cp.diags...)
	}

	if !slices.IsSortedFunc(p.Changes, compareChanges) { // courses are planned in order already
		slices.SortStableFunc(p.Changes, compareChanges)
	}
	slices.SortStableFunc(p.Unmanaged, func(a, b Unmanaged) int {
		return cmp.Or(strings.Compare(a.Course, b.Course), strings.Compare(a.Address, b.Address))
	})
	p.Diagnostics = p.Diagnostics.Sort()
	if p.Diagnostics.HasErrors() {
		p.Changes, p.Unmanaged = []Change{}, nil
	}
	return p
}

// coursePlanner plans one course. Its maps are indexes over the two courses; the
// planned* fields record what earlier steps decided, because later steps depend on
// them (a membership needs the user enrolled after the plan, a method deletion must
// not also unenrol its users one by one).
type coursePlanner struct {
	d, o *state.Course
	loc  *time.Location

	liveMethods   map[string]state.Method       // by key; first instance when Moodle has duplicates
	liveEnrolByM  map[string][]*state.Enrolment // pointers into o.Enrolments, never written
	liveEnrolOfU  map[string][]*state.Enrolment
	manualDeclare bool // the specs manage the manual method (declared, or implied by enrolments)

	deletedMethods map[string]bool   // method keys this plan deletes
	createdManual  map[string]bool   // usernames that get a new manual enrolment
	unenrolled     map[string]bool   // usernames whose manual enrolment this plan deletes
	renewedBy      map[string]string // usernames a policy's renew selected -> the policy

	changes   []Change
	unmanaged []Unmanaged
	diags     diag.Diagnostics
}

func newCoursePlanner(d, o *state.Course, loc *time.Location) *coursePlanner {
	cp := &coursePlanner{
		d: d, o: o, loc: loc,
		liveMethods:    make(map[string]state.Method, len(o.Methods)),
		liveEnrolByM:   make(map[string][]*state.Enrolment, len(o.Methods)),
		liveEnrolOfU:   make(map[string][]*state.Enrolment, len(o.Enrolments)),
		deletedMethods: map[string]bool{},
		createdManual:  map[string]bool{},
		unenrolled:     map[string]bool{},
	}
	for _, m := range o.Methods {
		if _, dup := cp.liveMethods[m.Key()]; !dup {
			cp.liveMethods[m.Key()] = m
		}
	}
	for i := range o.Enrolments {
		e := &o.Enrolments[i]
		cp.liveEnrolByM[e.Method] = append(cp.liveEnrolByM[e.Method], e)
		cp.liveEnrolOfU[e.Username] = append(cp.liveEnrolOfU[e.Username], e)
	}
	return cp
}

func (cp *coursePlanner) plan() {
	cp.planMethods()
	cp.planGroups()
	cp.planEnrolments()
	cp.labelRenewals()
	cp.planMemberships()
	cp.restoreSyncedMemberships()
	slices.SortStableFunc(cp.changes, compareChanges)
	cp.fillRemovals()
}

func (cp *coursePlanner) errorf(src state.Source, format string, args ...any) {
	cp.diags = append(cp.diags, errorAt(src, format, args...))
}

func (cp *coursePlanner) add(c Change) {
	c.Course = cp.d.Shortname
	cp.changes = append(cp.changes, c)
}

// ---- methods

func (cp *coursePlanner) planMethods() {
	course := cp.d.Shortname
	declared := map[string]bool{}
	methods := slices.Clone(cp.d.Methods)
	slices.SortStableFunc(methods, func(a, b state.Method) int { return strings.Compare(a.Key(), b.Key()) })
	for _, m := range methods {
		if m.Type == state.Manual && !m.Absent {
			cp.manualDeclare = true
		}
	}
	if !cp.manualDeclare && len(cp.d.Enrolments) > 0 {
		// Manual enrolments need the manual method: manage it implicitly, create it
		// enabled if missing, and never compare or prune it.
		cp.manualDeclare = true
		declared[string(state.Manual)] = true
		if _, ok := cp.liveMethods[string(state.Manual)]; !ok {
			m := state.Method{Type: state.Manual, Enabled: true}
			cp.add(Change{
				Address: state.MethodAddress(course, m.Key()), Kind: KindMethod, Action: Create,
				Reason: "needed by the manual enrolments the specs list", Fields: methodFields(state.Method{}, m, true),
				Method: &m,
			})
		}
	}

	for _, m := range methods {
		key := m.Key()
		addr := state.MethodAddress(course, key)
		if declared[key] {
			continue // a duplicate the spec loader should have refused; the first one wins
		}
		declared[key] = true
		live, exists := cp.liveMethods[key]

		if m.Absent {
			cp.planAbsent(m, live, exists)
			continue
		}
		if !m.Type.Known() || m.Type == state.Database {
			continue // Check refused the first; the second is owned by the sync: never created, updated, deleted or compared
		}
		if !exists {
			mm := m
			cp.add(Change{
				Address: addr, Kind: KindMethod, Action: Create,
				Fields: methodFields(state.Method{}, m, true), Method: &mm, Source: m.Source,
			})
			continue
		}
		fields := methodFields(live, m, false)
		if len(fields) == 0 {
			continue
		}
		mm := m
		mm.ID = live.ID
		c := Change{Address: addr, Kind: KindMethod, Action: Update, Fields: fields, Method: &mm, Source: m.Source}
		if live.Enabled && !m.Enabled {
			c.Removes = &Removal{} // filled by fillRemovals
		}
		cp.add(c)
	}

	// Live methods nobody declares.
	for _, key := range slices.Sorted(maps.Keys(cp.liveMethods)) {
		if declared[key] {
			continue
		}
		m := cp.liveMethods[key]
		addr := state.MethodAddress(course, key)
		n := len(cp.liveEnrolByM[key])
		// methods_prune never takes the manual method (and every manual enrolment with
		// it): that needs the method declared absent.
		if cp.d.Options.MethodsPrune && m.Type.Known() && m.Type != state.Database && m.Type != state.Manual {
			mm := m
			cp.deletedMethods[key] = true
			cp.add(Change{
				Address: addr, Kind: KindMethod, Action: Delete, Method: &mm,
				Reason: "not declared and methods_prune is on", Removes: &Removal{},
			})
			continue
		}
		cp.unmanaged = append(cp.unmanaged, Unmanaged{
			Address: addr, Course: course, Kind: KindMethod, Description: describeMethod(m, n),
		})
	}
	// Further instances with an identity Moodle already has (two manual instances, two
	// equal cohort syncs) are reported, never touched.
	first := map[string]int64{}
	for _, m := range cp.o.Methods {
		if id, dup := first[m.Key()]; dup && id != m.ID {
			cp.unmanaged = append(cp.unmanaged, Unmanaged{
				Address: state.MethodAddress(course, fmt.Sprintf("%s#%d", m.Key(), m.ID)), Course: course,
				Kind: KindMethod, Description: "duplicate " + describeMethod(m, -1),
			})
			continue
		}
		first[m.Key()] = m.ID
	}
}

// methodFields lists the managed fields of a method that differ between old and new;
// with create set, every managed field of new (Old left empty).
func methodFields(old, new state.Method, create bool) []FieldChange {
	var out []FieldChange
	field := func(name, o, n string) {
		if create {
			out = append(out, FieldChange{Field: name, New: n})
		} else if o != n {
			out = append(out, FieldChange{Field: name, Old: o, New: n})
		}
	}
	field("enabled", fmt.Sprint(old.Enabled), fmt.Sprint(new.Enabled))
	switch new.Type {
	case state.Self:
		field("role", formatName(old.Role), formatName(new.Role))
		field("max_users", formatMaxUsers(old.MaxUsers), formatMaxUsers(new.MaxUsers))
	case state.Cohort, state.Meta:
		field("group", formatName(old.Group), formatName(new.Group))
	}
	return out
}

func describeMethod(m state.Method, enrolments int) string {
	var s string
	switch m.Type {
	case state.Manual:
		s = "manual enrolments"
	case state.Self:
		s = fmt.Sprintf("self enrolment %q", m.Name)
		if m.Role != "" {
			s += " → " + m.Role
		}
	case state.Guest:
		s = "guest access"
	case state.Cohort:
		s = "cohort sync " + m.Cohort
		if m.Role != "" {
			s += " → " + m.Role
		}
	case state.Meta:
		s = "meta link from " + m.Course
	case state.Database:
		s = "external database sync"
	default:
		s = fmt.Sprintf("%s instance %d (a plugin enrolctl does not manage)", m.Type, m.ID)
	}
	if m.Type != state.Guest && enrolments >= 0 {
		s += ", " + plural(enrolments, "enrolment", "enrolments")
	}
	if !m.Enabled {
		s += ", disabled"
	}
	return s
}

// ---- groups

// planGroups creates declared groups and the groups desired methods put members in.
// Groups are never deleted or renamed; undeclared live groups are not even reported.
func (cp *coursePlanner) planGroups() {
	course := cp.d.Shortname
	type need struct {
		src    state.Source
		reason string
	}
	needed := map[string]need{}
	for _, g := range cp.d.Groups {
		if _, ok := needed[g.Name]; !ok && g.Name != "" {
			needed[g.Name] = need{src: g.Source}
		}
	}
	for _, m := range cp.d.Methods {
		if (m.Type == state.Cohort || m.Type == state.Meta) && m.Group != "" && !m.Absent {
			if _, ok := needed[m.Group]; !ok {
				needed[m.Group] = need{src: m.Source, reason: "method " + m.Key() + " puts its members in it"}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(needed)) {
		if _, ok := cp.o.Group(name); ok {
			continue
		}
		n := needed[name]
		cp.add(Change{
			Address: state.GroupAddress(course, name), Kind: KindGroup, Action: Create,
			Reason: n.reason, Group: &state.Group{Name: name}, Source: n.src,
		})
	}
}

// ---- enrolments

func (cp *coursePlanner) planEnrolments() {
	course := cp.d.Shortname
	manualKey := string(state.Manual)
	desired := map[string]bool{}
	wanted := cp.withRenewals(slices.Clone(cp.d.Enrolments))
	slices.SortStableFunc(wanted, func(a, b state.Enrolment) int { return strings.Compare(a.Username, b.Username) })

	for _, e := range wanted {
		addr := state.EnrolmentAddress(course, manualKey, e.Username)
		if desired[e.Username] {
			continue
		}
		desired[e.Username] = true
		roles := sortedRoles(e.Roles)
		want := e
		want.Method = manualKey
		want.Roles = roles

		live, exists := cp.liveManual(e.Username)
		if !exists {
			cp.createdManual[e.Username] = true
			c := Change{
				Address: addr, Kind: KindEnrolment, Action: Create, Enrolment: &want, Source: e.Source,
				Fields: []FieldChange{
					{Field: "role", New: formatRoles(roles)},
					{Field: "start", New: FormatStart(e.Start, cp.loc)},
					{Field: "end", New: FormatEnd(e.End, cp.loc)},
					{Field: "suspended", New: fmt.Sprint(e.Suspended)},
				},
				Reason: cp.keepAccessReason(e.Username),
			}
			cp.add(c)
			continue
		}
		var fields []FieldChange
		liveRoles := sortedRoles(live.Roles)
		// No role declared (want.Roles nil) leaves the live roles alone.
		if len(roles) > 0 && !slices.Equal(liveRoles, roles) {
			fields = append(fields, FieldChange{Field: "role", Old: formatRoles(liveRoles), New: formatRoles(roles)})
		}
		if e.KeepStart {
			want.Start = live.Start // the full state apply sends keeps the live start
		}
		if live.Start != want.Start {
			fields = append(fields, FieldChange{Field: "start", Old: FormatStart(live.Start, cp.loc), New: FormatStart(want.Start, cp.loc)})
		}
		if live.End != e.End {
			fields = append(fields, FieldChange{Field: "end", Old: FormatEnd(live.End, cp.loc), New: FormatEnd(e.End, cp.loc)})
		}
		if live.Suspended != e.Suspended {
			fields = append(fields, FieldChange{Field: "suspended", Old: fmt.Sprint(live.Suspended), New: fmt.Sprint(e.Suspended)})
		}
		if len(fields) == 0 {
			continue
		}
		want.UserID = live.UserID
		c := Change{Address: addr, Kind: KindEnrolment, Action: Update, Fields: fields, Enrolment: &want, Source: e.Source}
		switch {
		case !live.Suspended && e.Suspended:
			c.Removes = &Removal{}
		case live.Suspended && !e.Suspended:
			c.Reason = "reactivates a suspended enrolment"
		}
		cp.add(c)
	}

	// Manual enrolments of users the specs do not list.
	if cp.deletedMethods[manualKey] {
		return // they go with the method
	}
	prune := cp.d.Options.ManualPrune
	for _, e := range cp.liveEnrolByM[manualKey] {
		if desired[e.Username] {
			continue
		}
		addr := state.EnrolmentAddress(course, manualKey, e.Username)
		switch prune {
		case state.PruneSuspend:
			if e.Suspended {
				continue // already where the prune mode wants it
			}
			want := *e // a copy: the observed snapshot is never written
			want.Suspended = true
			cp.add(Change{
				Address: addr, Kind: KindEnrolment, Action: Update, Enrolment: &want,
				Fields: []FieldChange{{Field: "suspended", Old: "false", New: "true"}},
				Reason: "not listed in the specs and manual.prune is suspend", Removes: &Removal{},
			})
		case state.PruneUnenrol:
			gone := *e
			cp.unenrolled[e.Username] = true
			cp.add(Change{
				Address: addr, Kind: KindEnrolment, Action: Delete, Enrolment: &gone,
				Reason: "not listed in the specs and manual.prune is unenrol", Removes: &Removal{},
			})
		default: // keep, or not set: never prune without being told
			cp.unmanaged = append(cp.unmanaged, Unmanaged{
				Address: addr, Course: course, Kind: KindEnrolment, Description: cp.describeEnrolment(*e),
			})
		}
	}
}

func (cp *coursePlanner) liveManual(username string) (state.Enrolment, bool) {
	for _, e := range cp.liveEnrolOfU[username] {
		if e.Method == string(state.Manual) {
			return *e, true
		}
	}
	return state.Enrolment{}, false
}

// keepAccessReason explains a new manual enrolment for a user who already has an
// automatic one: the point is usually to keep access after the sync drops them.
func (cp *coursePlanner) keepAccessReason(username string) string {
	for _, e := range cp.liveEnrolOfU[username] { // sorted by method key in a normalised course
		m, ok := cp.liveMethods[e.Method]
		if !ok || !m.Type.Automatic() {
			continue
		}
		if cp.deletedMethods[e.Method] {
			return fmt.Sprintf("converts the %s enrolment to manual before that method is deleted", e.Method)
		}
		switch m.Type {
		case state.Database:
			return "keeps access when the database sync removes them"
		case state.Cohort:
			return fmt.Sprintf("keeps access when they leave cohort %s", m.Cohort)
		default:
			return fmt.Sprintf("keeps access when their enrolment in %s ends", m.Course)
		}
	}
	return ""
}

func (cp *coursePlanner) describeEnrolment(e state.Enrolment) string {
	s := "manual enrolment not in the specs, role " + formatRoles(e.Roles)
	if e.End != 0 {
		s += ", ends " + FormatEnd(e.End, cp.loc)
	}
	if e.Suspended {
		s += ", suspended"
	}
	return s
}

func sortedRoles(roles []string) []string {
	if len(roles) == 0 {
		return nil
	}
	out := slices.Clone(roles)
	slices.Sort(out)
	return slices.Compact(out)
}

// ---- memberships

// enrolledAfter reports whether username still has an enrolment (any method, any
// status) once the plan is applied: Moodle only puts enrolled users in groups.
func (cp *coursePlanner) enrolledAfter(username string) bool {
	if cp.createdManual[username] {
		return true
	}
	for _, e := range cp.liveEnrolOfU[username] {
		if cp.deletedMethods[e.Method] {
			continue
		}
		if e.Method == string(state.Manual) && cp.unenrolled[username] {
			continue
		}
		return true
	}
	return false
}

func (cp *coursePlanner) planMemberships() {
	course := cp.d.Shortname
	groups := slices.Clone(cp.d.Groups)
	slices.SortStableFunc(groups, func(a, b state.Group) int { return strings.Compare(a.Name, b.Name) })
	done := map[string]bool{}
	for _, g := range groups {
		if done[g.Name] || g.Name == "" {
			continue
		}
		done[g.Name] = true
		live, _ := cp.o.Group(g.Name)
		liveMember := map[string]state.Member{}
		for _, m := range live.Members {
			if _, dup := liveMember[m.Username]; !dup || m.Component == "" {
				liveMember[m.Username] = m
			}
		}
		declared := map[string]bool{}
		members := slices.Clone(g.Members)
		slices.SortStableFunc(members, func(a, b state.Member) int { return strings.Compare(a.Username, b.Username) })
		for _, m := range members {
			if declared[m.Username] {
				continue
			}
			declared[m.Username] = true
			addr := state.MemberAddress(course, g.Name, m.Username)
			if !cp.enrolledAfter(m.Username) {
				cp.errorf(m.Source, "user %q is not enrolled in %s, neither now nor by this plan; Moodle only puts enrolled users in groups", m.Username, course)
				continue
			}
			c := Change{Address: addr, Kind: KindMember, Action: Create, GroupName: g.Name, Source: m.Source}
			if lm, ok := liveMember[m.Username]; ok {
				if lm.Component == "" || !cp.syncedMembershipGoes(m.Username, lm.Component) {
					continue // already a member, whoever added them
				}
				// Moodle ignores adding a member who already is one, so the manual
				// membership can only be added once the method took its own away.
				c.AfterMethodRemoval = true
				c.Reason = fmt.Sprintf("a member through %s, whose method this plan deletes: added back as a manual member afterwards", lm.Component)
			}
			c.Member = &state.Member{Username: m.Username, Source: m.Source}
			cp.add(c)
		}
		if !g.PruneMembers {
			continue
		}
		for _, m := range live.Members {
			if m.Component != "" || declared[m.Username] {
				continue // owned by a method's sync, or wanted
			}
			gone := m
			cp.add(Change{
				Address: state.MemberAddress(course, g.Name, m.Username), Kind: KindMember, Action: Delete,
				Member: &gone, GroupName: g.Name, Source: g.Source,
				Reason: "not declared in a group with prune_members", Removes: &Removal{},
			})
		}
	}
}

// syncedMembershipGoes reports whether a membership owned by component ("enrol_cohort")
// disappears with the methods this plan deletes: Moodle removes a method's own
// memberships when it unenrols the user from it. Memberships carry no instance id in
// the model, so this holds when every enrolment of the user in that plugin goes.
func (cp *coursePlanner) syncedMembershipGoes(username, component string) bool {
	plugin, ok := strings.CutPrefix(component, "enrol_")
	if !ok {
		return false
	}
	goes := false
	for _, e := range cp.liveEnrolOfU[username] {
		m, ok := cp.liveMethods[e.Method]
		if !ok || string(m.Type) != plugin {
			continue
		}
		if !cp.deletedMethods[e.Method] {
			return false
		}
		goes = true
	}
	return goes
}

// ---- removal consequences

// fillRemovals works out, in apply order, what each removal takes away. Walking the
// sorted changes counts every enrolment the plan creates first, so a user converted
// from an automatic method to manual does not lose their last enrolment when the
// method goes; and two removals of the same user count the last one only once.
func (cp *coursePlanner) fillRemovals() { fillRemovals(cp.changes, cp.o) }

// Reassess recomputes what the removals among changes (one course's changes, in plan
// order) would take away from the course as it is now. Apply uses it to refuse a saved
// plan whose removals would now take more than the reviewers saw.
func Reassess(changes []Change, live state.Course) []Change {
	out := slices.Clone(changes)
	for i := range out {
		if out[i].Removes != nil {
			out[i].Removes = &Removal{}
		}
	}
	fillRemovals(out, &live)
	return out
}

func fillRemovals(changes []Change, live *state.Course) {
	remaining := map[string]int{}              // enrolments per user
	inMethod := map[string]int{}               // enrolments per method key
	byMethod := map[string][]state.Enrolment{} // live enrolments per method key
	deleted := map[string]bool{}               // methods deleted so far, in apply order
	for _, e := range live.Enrolments {
		remaining[e.Username]++
		inMethod[e.Method]++
		byMethod[e.Method] = append(byMethod[e.Method], e)
	}
	for i := range changes {
		c := &changes[i]
		switch {
		case c.Kind == KindEnrolment && c.Action == Create:
			remaining[c.Enrolment.Username]++
			inMethod[c.Enrolment.Method]++
		case c.Kind == KindEnrolment && c.Action == Delete:
			u := c.Enrolment.Username
			remaining[u]--
			inMethod[c.Enrolment.Method]--
			r := &Removal{Enrolments: 1, Detail: "unenrols; other enrolments keep the user in the course (their manual roles are kept)"}
			if remaining[u] <= 0 {
				r.LastEnrolments = 1
				r.Detail = "unenrols; last enrolment: roles, groups and grades deleted"
			}
			c.Removes = r
		case c.Kind == KindEnrolment && c.Removes != nil:
			c.Removes = &Removal{Enrolments: 1, Detail: "suspends access; roles and grades are kept"}
		case c.Kind == KindMethod && c.Action == Delete:
			key := c.Method.Key()
			r := &Removal{}
			for _, e := range byMethod[key] {
				r.Enrolments++
				remaining[e.Username]--
				if remaining[e.Username] <= 0 {
					r.LastEnrolments++
				}
			}
			r.Detail = fmt.Sprintf("deletes the method and unenrols %s", plural(r.Enrolments, "user", "users"))
			switch {
			case r.LastEnrolments > 0:
				r.Detail += fmt.Sprintf("; %s their last enrolment: roles, groups and grades deleted",
					plural(r.LastEnrolments, "loses", "lose"))
			case r.Enrolments > 0:
				r.Detail += "; all keep another enrolment in the course"
			}
			accountMemberships(r, changes, live, *c.Method, deleted)
			deleted[key] = true
			c.Removes = r
		case c.Kind == KindMethod && c.Removes != nil:
			n := inMethod[c.Method.Key()]
			// Cohort and meta syncs strip their roles from a disabled instance (seen on
			// Moodle 5.1); manual and self roles stay.
			kept := "roles and grades are kept"
			if c.Method.Type.Automatic() {
				kept = "the method's roles are removed; grades are kept"
			}
			c.Removes = &Removal{
				Enrolments: n,
				Detail:     fmt.Sprintf("disables the method: %s Not current; %s", plural(n, "enrolment becomes", "enrolments become"), kept),
			}
		case c.Kind == KindMember && c.Action == Delete:
			c.Removes = &Removal{Detail: "removes the membership; the enrolment is kept"}
		}
	}
}
