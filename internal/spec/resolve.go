package spec

import (
	"fmt"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
	"github.com/enrolctl/enrolctl/internal/tree"
)

// CourseRef is one course of the live catalogue: what policies select on.
type CourseRef struct {
	Shortname string
	// Category is the category path, names joined by " / " ("Ecampus / Sciences / L1").
	Category string
}

// Resolve merges every course spec with the policies that select it and returns the
// desired state of each managed course, sorted by shortname and normalised, together
// with every diagnostic: the Set's own and those found here (unknown courses, policy
// conflicts, undeclared groups), sorted.
//
// catalogue is every course of the site. Nil means "not known" (offline validation):
// courses are then not checked for existence, and policies select only among the
// courses that have specs or that they list by name (category selectors select none).
func Resolve(set *Set, catalogue []CourseRef) ([]state.Course, Diagnostics) {
	r := &resolver{set: set, ds: slices.Clone(set.Diagnostics)}
	courses, _ := r.run(catalogue, true)
	return courses, r.ds.Sort()
}

// Check is Resolve for its diagnostics: it resolves every course the same way and
// returns how many there are, letting each go once resolved (validate of 10,000 specs
// held 40 MB of desired state it never looked at).
func Check(set *Set, catalogue []CourseRef) (int, Diagnostics) {
	r := &resolver{set: set, ds: slices.Clone(set.Diagnostics), check: true}
	_, n := r.run(catalogue, false)
	return n, r.ds.Sort()
}

type resolver struct {
	set *Set
	ds  diag.Diagnostics
	// check: only the diagnostics are wanted (Check), not the enrolments and group
	// members, which say nothing of their own.
	check bool
	// refs and names are the catalogue (nil when not known).
	refs  map[string]CourseRef
	names []string
}

func (r *resolver) errorf(p diag.Pos, format string, args ...any) {
	r.ds = append(r.ds, diag.Errorf(p, format, args...))
}

func (r *resolver) warnf(p diag.Pos, format string, args ...any) {
	d := diag.Errorf(p, format, args...)
	d.Severity = diag.Warning
	r.ds = append(r.ds, d)
}

// run resolves every managed course, returning them when keep and how many there are.
func (r *resolver) run(catalogue []CourseRef, keep bool) ([]state.Course, int) {
	known := catalogue != nil
	refs := make(map[string]CourseRef, len(catalogue))
	names := make([]string, 0, len(catalogue))
	for _, c := range catalogue {
		refs[c.Shortname] = c
		names = append(names, c.Shortname)
	}
	if known {
		r.refs, r.names = refs, slices.Clone(names)
	}
	// Courses with specs.
	specs := make(map[string]*CourseSpec, len(r.set.Courses))
	for _, c := range r.set.Courses {
		if known {
			if _, ok := refs[c.Shortname]; !ok {
				r.ds = append(r.ds, diag.Diagnostic{File: c.Pos.File, Line: c.Pos.Line, Col: c.Pos.Col,
					Message:    fmt.Sprintf("unknown course %q: no course has this shortname on the site", c.Shortname),
					Suggestion: diag.Suggest(c.Shortname, names)})
				continue
			}
		} else if _, ok := refs[c.Shortname]; !ok {
			refs[c.Shortname] = CourseRef{Shortname: c.Shortname}
			names = append(names, c.Shortname)
		}
		specs[c.Shortname] = c
	}
	// Policy selections.
	selected := map[string][]*Policy{}
	for _, p := range r.set.Policies {
		for _, sn := range r.selection(p, refs, names, known) {
			selected[sn] = append(selected[sn], p)
		}
	}
	for _, p := range r.set.Policies {
		if p.manual == nil || !p.manual.prune.Set || p.manual.prune.V == string(state.PruneKeep) {
			continue
		}
		var bare []string
		for sn, ps := range selected {
			if _, ok := specs[sn]; !ok && slices.Contains(ps, p) {
				bare = append(bare, sn)
			}
		}
		if len(bare) > 0 {
			slices.Sort(bare)
			shown := strings.Join(bare[:min(len(bare), 3)], ", ")
			if len(bare) > 3 {
				shown += ", ..."
			}
			r.warnf(p.manual.prune.Pos, "prune: %s reaches %d selected course(s) without a spec (%s), where no user is listed: it acts on every manual enrolment there",
				p.manual.prune.V, len(bare), shown)
		}
	}
	for _, p := range r.set.Policies {
		var sel []string
		for sn, ps := range selected {
			if slices.Contains(ps, p) {
				sel = append(sel, sn)
			}
		}
		r.ineffectiveDefaults(p, sel, specs)
	}
	var managed []string
	for sn := range specs {
		managed = append(managed, sn)
	}
	for sn := range selected {
		if _, ok := specs[sn]; !ok {
			managed = append(managed, sn)
		}
	}
	slices.Sort(managed)
	var out []state.Course
	if keep {
		out = make([]state.Course, len(managed))
	}
	// On every core: a plan waits for the 10,000 courses of a large site to be
	// resolved before planning any. Each worker keeps its own diagnostics, merged
	// here; Resolve and Check sort them, so the order they were found in is lost.
	var next atomic.Int64
	workers := make([]resolver, min(runtime.GOMAXPROCS(0), len(managed)/64+1))
	var wg sync.WaitGroup
	for k := range workers {
		w := &workers[k]
		*w = resolver{set: r.set, check: r.check, refs: r.refs, names: r.names}
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(managed); i = int(next.Add(1) - 1) {
				sn := managed[i]
				c := w.course(sn, specs[sn], selected[sn])
				if keep {
					c.Category = refs[sn].Category
					c.Normalize()
					out[i] = c
				}
			}
		})
	}
	wg.Wait()
	for k := range workers {
		r.ds = append(r.ds, workers[k].ds...)
	}
	return out, len(managed)
}

// selection returns the shortnames a policy selects, sorted.
func (r *resolver) selection(p *Policy, refs map[string]CourseRef, names []string, known bool) []string {
	s := p.sel
	candidates := names
	if !known {
		candidates = slices.Clone(names)
		for _, l := range s.list {
			if _, ok := refs[l.V]; !ok {
				candidates = append(candidates, l.V)
			}
		}
	} else {
		for _, l := range s.list {
			if _, ok := refs[l.V]; !ok {
				r.ds = append(r.ds, diag.Diagnostic{File: l.Pos.File, Line: l.Pos.Line, Col: l.Pos.Col,
					Message:    fmt.Sprintf("unknown course %q: no course has this shortname on the site", l.V),
					Suggestion: diag.Suggest(l.V, names)})
			}
		}
	}
	category := normCategory(s.category.V)
	var out []string
	for _, sn := range candidates {
		ref := refs[sn]
		ref.Shortname = sn
		if s.category.Set && !inCategory(normCategory(ref.Category), category) {
			continue
		}
		if s.shortname.Set {
			if ok, _ := matchGlob(s.shortname.V, sn); !ok {
				continue
			}
		}
		if s.list != nil && !slices.ContainsFunc(s.list, func(l tree.Str) bool { return l.V == sn }) {
			continue
		}
		out = append(out, sn)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if known && s.category.Set && !r.categoryExists(category, refs) {
		var cats []string
		for _, ref := range refs {
			cats = append(cats, normCategory(ref.Category))
		}
		slices.Sort(cats)
		r.ds = append(r.ds, diag.Diagnostic{File: s.category.Pos.File, Line: s.category.Pos.Line, Col: s.category.Pos.Col,
			Severity: diag.Warning, Message: fmt.Sprintf("no course is in category %q or below it", s.category.V),
			Suggestion: diag.Suggest(category, slices.Compact(cats))})
	} else if known && len(out) == 0 {
		r.warnf(p.Pos, "policy %q selects no course", p.Name)
	}
	return out
}

func (r *resolver) categoryExists(category string, refs map[string]CourseRef) bool {
	for _, ref := range refs {
		if inCategory(normCategory(ref.Category), category) {
			return true
		}
	}
	return false
}

// normCategory writes a category path the one way: names trimmed, joined by " / ".
func normCategory(c string) string {
	parts := strings.Split(c, "/")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return strings.Join(parts, " / ")
}

// inCategory reports whether a course in category c is in want or one of its subcategories.
func inCategory(c, want string) bool {
	return c == want || strings.HasPrefix(c, want+" / ")
}

// matchGlob matches a shortname against a glob (* ? [...]).
func matchGlob(pattern, name string) (bool, error) { return path.Match(pattern, name) }

// setting is one value that several sources may set, remembered with where it was set.
type setting struct {
	text string
	pos  diag.Pos
	set  bool
}

// merge records a policy's value; a different value from another policy is a conflict.
func (r *resolver) merge(course, what string, cur *setting, text string, pos diag.Pos) {
	if !cur.set {
		*cur = setting{text: text, pos: pos, set: true}
		return
	}
	if cur.text != text {
		r.errorf(pos, "course %q: %s %s here conflicts with %s at %s", course, what, text, cur.text, cur.pos)
	}
}

func (r *resolver) course(sn string, spec *CourseSpec, policies []*Policy) state.Course {
	c := state.Course{Shortname: sn}
	var files []string
	if spec != nil {
		files = append(files, spec.File)
		c.Spec = spec.File
	}
	for _, p := range policies {
		files = append(files, p.File)
	}
	slices.Sort(files)
	c.Sources = slices.Compact(files)

	// Methods and groups are sized once (the manual method may be added).
	nm, ng := 1, 0
	if spec != nil {
		nm, ng = nm+len(spec.methods), len(spec.groups)
	}
	for _, p := range policies {
		nm, ng = nm+len(p.methods), ng+len(p.groups)
	}
	if nm > 1 {
		c.Methods = make([]state.Method, 0, nm)
	}
	if ng > 0 {
		c.Groups = make([]state.Group, 0, ng)
	}

	// Methods: the same identity from two sources must have the same settings. The
	// first declaration of each key, searched in a list: a course has a few methods,
	// and a map of them made per course was a fifth of resolving 10,000 courses.
	byKey := make([]keyedMethod, 0, nm)
	addMethod := func(m *methodDecl, fromPolicy bool) {
		if fromPolicy && m.m.Type == state.Meta && m.m.Course == sn {
			r.errorf(m.pos, "course %q: a meta method cannot link the course to itself", sn)
			return
		}
		if _, exists := r.refs[m.m.Course]; r.refs != nil && m.m.Type == state.Meta && !exists {
			// Said once per declaration, however many courses a policy selects.
			r.ds = append(r.ds, diag.Diagnostic{File: m.pos.File, Line: m.pos.Line, Col: m.pos.Col,
				Message:    fmt.Sprintf("meta method: unknown course %q to link: no course has this shortname on the site", m.m.Course),
				Suggestion: diag.Suggest(m.m.Course, r.names)})
		}
		k := m.m.Key()
		prev, ok := declared(byKey, k)
		if !ok {
			byKey = append(byKey, keyedMethod{key: k, decl: m})
			c.Methods = append(c.Methods, m.m)
			return
		}
		if d := methodDifference(prev.m, m.m); d != "" {
			r.errorf(m.pos, "course %q: %s is declared differently here and at %s (%s)", sn, m.m.Describe(), prev.pos, d)
		}
	}
	if spec != nil {
		for i := range spec.methods {
			addMethod(&spec.methods[i], false)
		}
	}
	for _, p := range policies {
		for i := range p.methods {
			addMethod(&p.methods[i], true)
		}
	}

	// Manual defaults: the course's own spec wins over policies; policies must agree.
	var role, until, from, prune setting
	var untilDate, fromDate date
	for _, p := range policies {
		if p.manual == nil {
			continue
		}
		if p.manual.role.Set {
			r.merge(sn, "manual.role", &role, fmt.Sprintf("%q", p.manual.role.V), p.manual.role.Pos)
		}
		if p.manual.until.Set {
			r.merge(sn, "manual.until", &until, p.manual.until.String(), p.manual.until.Pos)
			if !untilDate.Set {
				untilDate = p.manual.until
			}
		}
		if p.manual.from.Set {
			r.merge(sn, "manual.from", &from, p.manual.from.String(), p.manual.from.Pos)
			if !fromDate.Set {
				fromDate = p.manual.from
			}
		}
		if p.manual.prune.Set {
			r.merge(sn, "manual.prune", &prune, p.manual.prune.V, p.manual.prune.Pos)
		}
	}
	defRole := DefaultRole
	if role.set {
		defRole = strings.Trim(role.text, `"`)
	}
	prunes := prune.text
	if spec != nil && spec.manual != nil {
		m := spec.manual
		if m.role.Set {
			defRole = m.role.V
		}
		if m.until.Set {
			untilDate = m.until
		}
		if m.from.Set {
			fromDate = m.from
		}
		if m.prune.Set {
			prunes = m.prune.V
		}
	}
	c.Options.ManualPrune = state.PruneKeep
	if prunes != "" {
		c.Options.ManualPrune = state.Prune(prunes)
	}

	// Groups: declared by the spec and by policies, plus the ones users name.
	groups := map[string]int{}
	groupPos := make([]diag.Pos, 0, ng)
	declare := func(g groupDecl) {
		if i, ok := groups[g.name]; ok {
			prev := c.Groups[i]
			if g.pruneMembers.Set && g.pruneMembers.V != prev.PruneMembers {
				r.errorf(g.pruneMembers.Pos, "course %q: group %q has prune_members %v here and %v at %s", sn, g.name, g.pruneMembers.V, prev.PruneMembers, groupPos[i])
			}
			return
		}
		groups[g.name] = len(c.Groups)
		groupPos = append(groupPos, g.pos)
		c.Groups = append(c.Groups, state.Group{Name: g.name, PruneMembers: g.pruneMembers.V, Source: source(g.pos)})
	}
	strict := false
	if spec != nil {
		strict = spec.groupsDeclared
		for _, g := range spec.groups {
			declare(g)
		}
	}
	for _, p := range policies {
		for _, g := range p.groups {
			declare(g)
		}
	}
	methodGroups := map[string]bool{}
	for _, m := range c.Methods {
		if m.Group != "" {
			methodGroups[m.Group] = true
		}
	}

	// Enrolments.
	if spec != nil && spec.manual != nil && len(spec.manual.users) > 0 {
		m, ok := declared(byKey, string(state.Manual))
		if ok && m.m.Absent {
			r.errorf(m.pos, "course %q: the manual method is declared absent but %s lists manual users", sn, spec.File)
		}
		if !ok {
			c.Methods = append(c.Methods, state.Method{Type: state.Manual, Enabled: true, Source: source(spec.manual.pos)})
		}
		// One role each, windows of one array (capped, so an append copies): not an
		// allocation per enrolment.
		var oneRole []string
		if !r.check {
			c.Enrolments = slices.Grow(c.Enrolments, len(spec.manual.users))
			oneRole = make([]string, 0, len(spec.manual.users))
		}
		users := spec.manual.users
		for k := range users {
			u := &users[k]
			more := u.opts()
			end, start := untilDate, fromDate
			if more.until.Set {
				end = more.until
			}
			if more.from.Set {
				start = more.from
			}
			// Dates set side by side were checked when the file was read; here, pairs
			// that come from different places (a user's until and a default from).
			checked := (more.until.Set && more.from.Set) || (!more.until.Set && !more.from.Set && end.Pos.File == start.Pos.File)
			if !checked && end.Unix != 0 && start.Unix != 0 && end.Unix <= start.Unix {
				r.ds = append(r.ds, diag.Errorf(end.Pos, "course %q: user %q would end (%s) before they start (%s at %s)", sn, u.username, end.Text, start.Text, start.Pos).
					About(diag.EndBeforeStart, diag.Subject{Course: sn, User: u.username}))
			}
			if !r.check {
				role := defRole
				if more.role.Set {
					role = more.role.V
				}
				oneRole = append(oneRole, role)
				e := state.Enrolment{Username: u.username, Method: string(state.Manual), Roles: oneRole[len(oneRole)-1 : len(oneRole) : len(oneRole)], Source: source(u.at.in(spec.File))}
				if len(more.roles) > 0 {
					e.Roles = nil
					for _, r := range more.roles {
						e.Roles = append(e.Roles, r.V)
					}
				}
				e.End, e.Start = end.Unix, start.Unix
				// No from anywhere: a live enrolment keeps its start (renewals change the end only).
				e.KeepStart = !start.Set
				e.Suspended = more.suspended.V
				c.Enrolments = append(c.Enrolments, e)
			}
			for _, g := range u.groups {
				gpos := g.at.in(spec.File)
				i, ok := groups[g.name]
				if !ok {
					if strict && !methodGroups[g.name] {
						var candidates []string
						for name := range groups {
							candidates = append(candidates, name)
						}
						for name := range methodGroups {
							candidates = append(candidates, name)
						}
						r.ds = append(r.ds, diag.Diagnostic{File: gpos.File, Line: gpos.Line, Col: gpos.Col,
							Message:    fmt.Sprintf("group %q is not declared in this course's groups", g.name),
							Suggestion: diag.Suggest(g.name, candidates)})
						continue
					}
					declare(groupDecl{name: g.name, pos: gpos})
					i = groups[g.name]
				}
				if r.check {
					continue
				}
				// Each group's members are counted at its first: one allocation a group,
				// not a slice that grows (a third of resolving a large course).
				if c.Groups[i].Members == nil {
					c.Groups[i].Members = make([]state.Member, 0, membersOf(users[k:], g.name))
				}
				c.Groups[i].Members = append(c.Groups[i].Members, state.Member{Username: u.username, Source: source(gpos)})
			}
		}
	}

	c.Renewals = r.renewals(sn, policies)

	// Options: protection from any source wins; methods_prune from the spec wins over policies.
	var mp setting
	for _, p := range policies {
		if p.protect.V {
			c.Options.Protect = true
		}
		if p.methodsPrune.Set {
			r.merge(sn, "methods_prune", &mp, fmt.Sprint(p.methodsPrune.V), p.methodsPrune.Pos)
		}
	}
	c.Options.MethodsPrune = mp.text == "true"
	if spec != nil {
		if spec.protect.V {
			c.Options.Protect = true
		}
		if spec.methodsPrune.Set {
			c.Options.MethodsPrune = spec.methodsPrune.V
		}
	}
	return c
}

// keyedMethod is a method declaration and its key (state.Method.Key).
type keyedMethod struct {
	key  string
	decl *methodDecl
}

// declared returns the declaration of the method with key k, if any.
func declared(ms []keyedMethod, k string) (*methodDecl, bool) {
	for i := range ms {
		if ms[i].key == k {
			return ms[i].decl, true
		}
	}
	return nil, false
}

// membersOf counts the users that name group.
func membersOf(users []userDecl, group string) int {
	n := 0
	for i := range users {
		for _, g := range users[i].groups {
			if g.name == group {
				n++
			}
		}
	}
	return n
}

// methodDifference names the settings in which two methods of the same identity
// differ, or returns "".
func methodDifference(a, b state.Method) string {
	var d []string
	if a.Absent != b.Absent {
		return fmt.Sprintf("absent %v and %v", b.Absent, a.Absent)
	}
	if a.Enabled != b.Enabled {
		d = append(d, fmt.Sprintf("enabled %v and %v", b.Enabled, a.Enabled))
	}
	if a.Group != b.Group {
		d = append(d, fmt.Sprintf("group %q and %q", b.Group, a.Group))
	}
	if a.Role != b.Role {
		d = append(d, fmt.Sprintf("role %q and %q", b.Role, a.Role))
	}
	if a.MaxUsers != b.MaxUsers {
		d = append(d, fmt.Sprintf("max_users %d and %d", b.MaxUsers, a.MaxUsers))
	}
	return strings.Join(d, ", ")
}

// InCategory reports whether a course whose category path is course lies in category
// want or below it, the way policies select by category (spaces around "/" do not
// matter).
func InCategory(course, want string) bool {
	return inCategory(normCategory(course), normCategory(want))
}
