package spec

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
	"github.com/enrolctl/enrolctl/internal/tree"
)

// StandardRoles are the role shortnames of a standard Moodle install.
var StandardRoles = []string{"manager", "coursecreator", "editingteacher", "teacher", "student", "guest", "user", "frontpage"}

// DefaultRole is the role given when a spec names none.
const DefaultRole = "student"

// hclRules map HCL blocks onto the YAML shape of specs and policies.
var hclRules = map[string]tree.BlockRule{
	"course":  {Field: "$courses", Label: "course", List: true},
	"policy":  {Field: "$policies", Label: "policy", List: true},
	"method":  {Field: "methods", Label: "type", List: true},
	"user":    {Field: "users", Label: "username", List: true},
	"group":   {Field: "groups", Label: "name", List: true},
	"manual":  {Field: "manual"},
	"renew":   {Field: "renew"},
	"courses": {Field: "courses"},
}

// decoder reads the documents of one file.
type decoder struct {
	loc   *time.Location
	roles []string
	// siteRoles: roles are the site's own (read from Moodle), not the standard list.
	siteRoles bool
	ds        *diag.Diagnostics
}

// document reads one YAML document (or HCL block body): a course spec or a policy.
func (d *decoder) document(n *tree.Node, file string) (*CourseSpec, *Policy) {
	if n.Kind != tree.Object {
		*d.ds = append(*d.ds, diag.Errorf(n.Pos, "a spec file holds a mapping with course: (a course spec) or policy: (a policy), not %s", n.Kind))
		return nil, nil
	}
	hasCourse, hasPolicy := n.Field("course") != nil, n.Field("policy") != nil
	switch {
	case hasCourse && hasPolicy:
		*d.ds = append(*d.ds, diag.Errorf(n.Field("policy").KeyPos, "a file is either a course spec (course:) or a policy (policy:), not both"))
		return nil, nil
	case hasPolicy:
		return nil, d.policy(n, file)
	case hasCourse:
		return d.course(n, file), nil
	}
	*d.ds = append(*d.ds, diag.Errorf(n.Pos, "missing course: (a course spec) or policy: (a policy)"))
	return nil, nil
}

func (d *decoder) course(n *tree.Node, file string) *CourseSpec {
	var oBuf tree.Obj
	o := d.readObject(&oBuf, n, "course", "course spec")
	name := o.String("course")
	c := &CourseSpec{Shortname: name.V, File: file, Pos: name.Pos}
	if name.Set && strings.TrimSpace(name.V) == "" {
		o.Errorf(name.Pos, "course: the shortname is empty")
	}
	c.methods = d.methods(o, c.Shortname)
	if f := o.Get("manual"); f != nil {
		c.manual = d.manual(f.Value, false)
	}
	c.groups, c.groupsDeclared = d.groups(o)
	c.protect = o.Bool("protect")
	c.methodsPrune = o.Bool("methods_prune")
	o.Done()
	if !name.Set {
		return nil
	}
	return c
}

func (d *decoder) policy(n *tree.Node, file string) *Policy {
	var oBuf tree.Obj
	o := d.readObject(&oBuf, n, "policy", "policy")
	name := o.String("policy")
	p := &Policy{Name: name.V, File: file, Pos: name.Pos}
	if name.Set && strings.TrimSpace(name.V) == "" {
		o.Errorf(name.Pos, "policy: the name is empty")
	}
	if f := o.Get("courses"); f != nil {
		p.sel = d.selector(f.Value)
	} else {
		o.Errorf(p.Pos, "policy %q selects no courses: add courses: with category, shortname or list", p.Name)
	}
	p.methods = d.methods(o, "")
	if f := o.Get("manual"); f != nil {
		p.manual = d.manual(f.Value, true)
	}
	if f := o.Get("renew"); f != nil {
		p.renew = d.renew(f.Value)
	}
	p.groups, _ = d.groups(o)
	p.protect = o.Bool("protect")
	p.methodsPrune = o.Bool("methods_prune")
	o.Done()
	if !name.Set {
		return nil
	}
	return p
}

func (d *decoder) selector(n *tree.Node) selector {
	s := selector{pos: n.Pos}
	var oBuf tree.Obj
	o := d.readObject(&oBuf, n, "courses", "courses")
	if o == nil {
		return s
	}
	s.category = o.String("category")
	s.shortname = o.String("shortname")
	s.list = o.Strings("list")
	if s.shortname.Set {
		if _, err := matchGlob(s.shortname.V, ""); err != nil {
			o.Errorf(s.shortname.Pos, "shortname: bad pattern %q: %v", s.shortname.V, err)
		}
	}
	if !s.category.Set && !s.shortname.Set && s.list == nil {
		o.Errorf(n.Pos, "courses: give at least one of category, shortname or list")
	}
	o.Done()
	return s
}

// methodFields lists the fields a method type takes besides type (state.Kinds).
func methodFields(t state.MethodType) []string {
	k, _ := state.KindOf(t)
	out := make([]string, len(k.Fields))
	for i, a := range k.Fields {
		out[i] = string(a)
	}
	return out
}

// allMethodFields are the fields any method type takes, besides type (fields.go).
var allMethodFields = allMethodFieldNames()

// identityFields are the fields an absent method keeps: those that say which method.
var identityFields = []string{"cohort", "role", "course", "name"}

func (d *decoder) methods(o *tree.Obj, self string) []methodDecl {
	list := o.List("methods")
	if len(list) == 0 {
		return nil
	}
	out := make([]methodDecl, 0, len(list))
	// A course has a few methods: a scan of their keys finds a repeat, no map.
	var buf [8]string
	keys := buf[:0]
	for _, n := range list {
		m, ok := d.method(n, self)
		if !ok {
			continue
		}
		key := m.m.Key()
		if i := slices.Index(keys, key); i >= 0 {
			o.Errorf(m.pos, "%s is declared twice in this file (first at %s)", m.m.Describe(), out[i].pos)
			continue
		}
		keys = append(keys, key)
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// methodKnown are the fields of any method: a method reads them all (those its type
// does not take are refused by name), so they are declared once, not collected.
var methodKnown = append([]string{"type"}, allMethodFields...)

// methodAllowed are the fields each method type takes besides type ("absent" too
// where it may be deleted), made once and never written.
var methodAllowed = func() map[state.MethodType][]string {
	m := map[state.MethodType][]string{}
	for _, t := range state.MethodTypes {
		allowed := methodFields(t)
		if k, _ := state.KindOf(t); !k.CheckOnly {
			allowed = append(allowed, "absent")
		}
		m[t] = slices.Clip(allowed)
	}
	return m
}()

// methodWhat names each type's method in messages ("cohort method"), made once.
var methodWhat = func() map[state.MethodType]string {
	m := map[state.MethodType]string{}
	for _, t := range state.MethodTypes {
		m[t] = string(t) + " method"
	}
	return m
}()

func (d *decoder) method(n *tree.Node, self string) (methodDecl, bool) {
	var oBuf tree.Obj
	o := oBuf.Read(n, "method", d.ds)
	if o == nil {
		return methodDecl{}, false
	}
	o.KnownList(methodKnown)
	typ := o.String("type")
	if !typ.Set {
		if o.Get("type") == nil {
			o.Errorf(n.Pos, "method: missing required field \"type\" (one of %s)", typeList())
		}
		o.Done()
		return methodDecl{}, false
	}
	t := state.MethodType(typ.V)
	if !t.Known() {
		tree.OneOf(typ, "method type", typeNames(), d.ds)
		o.Done()
		return methodDecl{}, false
	}
	m := state.Method{Type: t, Enabled: true}
	pos := typ.Pos
	o.What = methodWhat[t]
	kind, _ := state.KindOf(t)
	allowed := methodAllowed[t]
	if b := o.Bool("absent"); b.Set && b.V && !kind.CheckOnly {
		// A method declared absent is named by its identity only.
		m.Absent = true
		for _, f := range allowed {
			if fl := o.Get(f); fl != nil && f != "absent" && !slices.Contains(identityFields, f) {
				o.Errorf(fl.KeyPos, "an absent %s method is named by its identity only: remove %s", t, f)
			}
		}
	}
	for _, f := range allMethodFields {
		if slices.Contains(allowed, f) {
			continue
		}
		if fl := o.Get(f); fl != nil {
			o.Errorf(fl.KeyPos, "%s", notForType(t, f))
		}
	}
	ok := true
	if slices.Contains(allowed, "enabled") {
		if b := o.Bool("enabled"); b.Set {
			m.Enabled = b.V
		}
	}
	for _, a := range kind.Fields {
		var s tree.Str
		switch {
		case a == state.AttrEnabled:
			continue
		case a == state.AttrMaxUsers:
			m.MaxUsers = o.Int(string(a)).V
			continue
		case a == state.AttrRole:
			m.Role = d.role(o.String(string(a)))
			continue
		case slices.Contains(kind.Required, a):
			s = o.RequireString(string(a))
			ok = s.Set && ok
		default:
			s = o.String(string(a))
		}
		m.SetText(a, s.V)
		switch {
		case a == state.AttrCohort:
			m.CohortSource = source(s.Pos)
		case a == state.AttrCourse && s.Set && self != "" && s.V == self:
			o.Errorf(s.Pos, "a meta method links another course; %q is this course", s.V)
		}
	}
	o.Done()
	m.Source = source(pos)
	return methodDecl{m: m, pos: pos}, ok
}

func notForType(t state.MethodType, field string) string {
	switch {
	case t == state.Manual && field == "role":
		return "the manual method takes no role: set manual.role, the default role of the users listed under manual"
	case t == state.Database && field == "enabled":
		return "the database method is never changed by enrolctl, only checked: remove enabled"
	case t == state.Database && field == "absent":
		return "the database method is never deleted by enrolctl (it belongs to the nightly sync): remove absent"
	}
	var takes []string
	for _, mt := range state.MethodTypes {
		if slices.Contains(methodFields(mt), field) {
			takes = append(takes, string(mt))
		}
	}
	return fmt.Sprintf("field %q does not apply to a %s method (only to %s)", field, t, strings.Join(takes, ", "))
}

func typeNames() []string {
	out := make([]string, len(state.MethodTypes))
	for i, t := range state.MethodTypes {
		out[i] = string(t)
	}
	return out
}

func typeList() string { return strings.Join(typeNames(), ", ") }

// role checks a role shortname; unset gives DefaultRole.
func (d *decoder) role(s tree.Str) string {
	if !s.Set {
		return DefaultRole
	}
	d.checkRole(s)
	return s.V
}

func (d *decoder) checkRole(s tree.Str) {
	if !s.Set || slices.Contains(d.roles, s.V) {
		return
	}
	*d.ds = append(*d.ds, unknownRole(s.Pos, s.V, d.roles, d.siteRoles))
}

// unknownRole is the one wording of a role the specs cannot use, with its suggestion:
// checked against the site's roles (siteRoles), or offline against Moodle's standard
// ones and the configuration's (known). Offline, unless the name is a misspelling of a
// known role (editingteachr), it may well be a role of this site that the configuration
// does not declare (tutor, observer), even when it translates to a standard one (tutor,
// teacher): the message then says where site roles are declared.
func unknownRole(pos diag.Pos, role string, known []string, siteRoles bool) diag.Diagnostic {
	msg := fmt.Sprintf("unknown role %q: neither a standard Moodle role nor one of the configuration's roles", role)
	switch {
	case siteRoles:
		msg = fmt.Sprintf("unknown role %q: the site has no role with this shortname", role)
	case diag.Suggest(role, known) == "":
		msg += "; a role your site has is declared in enrolctl.yaml, under roles: (in defaults or the site)"
	}
	return diag.Errorf(pos, "%s", msg).WithSuggestion(SuggestRole(role, known))
}

// roleTranslations are role names people type in other languages (or Moodle's display
// names), mapped to the standard shortnames; Suggest's edit distance cannot find them.
var roleTranslations = map[string]string{
	"etudiant": "student", "étudiant": "student", "eleve": "student", "élève": "student",
	"apprenant": "student", "alumno": "student", "estudiante": "student", "studierende": "student",
	"enseignant": "editingteacher", "professeur": "editingteacher", "prof": "editingteacher",
	"formateur": "editingteacher", "profesor": "editingteacher", "lehrer": "editingteacher",
	"teacher-editing": "editingteacher", "editing-teacher": "editingteacher",
	"enseignant-non-editeur": "teacher", "tuteur": "teacher", "tutor": "teacher",
	"non-editing-teacher": "teacher", "noneditingteacher": "teacher",
	"gestionnaire": "manager", "invite": "guest", "invité": "guest",
}

// SuggestRole proposes a known role for an unknown one: a translation of a common
// role name ("etudiant" → student) when the site has it, else the closest name.
func SuggestRole(name string, known []string) string {
	key := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), " ", "-")
	if r, ok := roleTranslations[key]; ok && slices.Contains(known, r) {
		return r
	}
	return diag.Suggest(name, known)
}

var pruneModes = []string{string(state.PruneKeep), string(state.PruneSuspend), string(state.PruneUnenrol)}

func (d *decoder) manual(n *tree.Node, policy bool) *manualDecl {
	def := "manual"
	if policy {
		def = "policy_manual"
	}
	var oBuf tree.Obj
	o := d.readObject(&oBuf, n, def, "manual")
	if o == nil {
		return nil
	}
	m := &manualDecl{pos: n.Pos}
	m.role = o.String("role")
	d.checkRole(m.role)
	m.until = readDate(o.String("until"), "until", true, d.loc, d.ds)
	m.from = readDate(o.String("from"), "from", false, d.loc, d.ds)
	checkOrder(m.from, m.until, d.ds)
	m.prune = o.String("prune")
	if !tree.OneOf(m.prune, "prune mode", pruneModes, d.ds) {
		m.prune = tree.Str{}
	}
	if policy {
		if f := o.Get("users"); f != nil {
			o.Errorf(f.KeyPos, "a policy sets defaults for many courses and lists no users: list users in each course's spec")
		}
		o.Done()
		return m
	}
	list := o.List("users")
	// Most courses list a few users: a scan of those read finds a repeat without a
	// map; long lists use one.
	var seen map[string]diag.Pos
	if len(list) > 16 {
		seen = make(map[string]diag.Pos, len(list))
	}
	if len(list) > 0 {
		m.users = make([]userDecl, 0, len(list))
	}
	for _, un := range list {
		u, pos, ok := d.user(un)
		if !ok {
			continue
		}
		first, dup := seen[u.username]
		if seen == nil {
			if i := slices.IndexFunc(m.users, func(v userDecl) bool { return v.username == u.username }); i >= 0 {
				first, dup = m.users[i].at.in(pos.File), true
			}
		}
		if dup {
			*o.Diags() = append(*o.Diags(), diag.Errorf(pos, "user %q is listed twice in this course (first at %s)", u.username, first).
				About(diag.DuplicateUser, diag.Subject{User: u.username}))
			continue
		}
		if seen != nil {
			seen[u.username] = pos
		}
		m.users = append(m.users, u)
	}
	o.Done()
	return m
}

func checkOrder(from, until date, ds *diag.Diagnostics) {
	if from.Set && until.Set && until.Unix != 0 && from.Unix != 0 && until.Unix <= from.Unix {
		*ds = append(*ds, diag.Errorf(until.Pos, "until %s is not after from %s", until.Text, from.Text))
	}
}

// user reads one user entry, and where its username is written.
func (d *decoder) user(n *tree.Node) (userDecl, diag.Pos, bool) {
	if n.Kind == tree.Null && !n.Bad {
		*d.ds = append(*d.ds, diag.Errorf(n.Pos, "empty user entry: write a username, or a mapping with username:"))
		return userDecl{}, diag.Pos{}, false
	}
	if n.Kind == tree.Scalar {
		s := tree.AsString(n, "user", d.ds)
		return userDecl{username: s.V, at: spotOf(s.Pos)}, s.Pos, d.checkUsername(s)
	}
	var oBuf tree.Obj
	o := d.readObject(&oBuf, n, "user", "user")
	if o == nil {
		return userDecl{}, diag.Pos{}, false
	}
	name := o.RequireString("username")
	u := userDecl{username: name.V, at: spotOf(name.Pos)}
	var more userMore
	more.role = o.String("role")
	d.checkRole(more.role)
	more.roles = o.Strings("roles")
	for _, r := range more.roles {
		d.checkRole(r)
	}
	if f := o.Get("roles"); f != nil && more.role.Set {
		o.Errorf(f.KeyPos, "give role (one role) or roles (several, kept as Moodle has them), not both")
	}
	more.until = readDate(o.String("until"), "until", true, d.loc, d.ds)
	more.from = readDate(o.String("from"), "from", false, d.loc, d.ds)
	checkOrder(more.from, more.until, d.ds)
	more.suspended = o.Bool("suspended")
	if more.role.Set || more.roles != nil || more.until.Set || more.from.Set || more.suspended.Set {
		u.more = new(userMore)
		*u.more = more
	}
	// A user is in a few groups: a scan finds a repeat without a map per user.
	groups := o.Strings("groups")
	if len(groups) > 0 {
		u.groups = make([]groupRef, 0, len(groups))
	}
	for _, g := range groups {
		if slices.ContainsFunc(u.groups, func(h groupRef) bool { return h.name == g.V }) {
			o.Errorf(g.Pos, "group %q is listed twice for this user", g.V)
			continue
		}
		u.groups = append(u.groups, groupRef{name: g.V, at: spotOf(g.Pos)})
	}
	o.Done()
	return u, name.Pos, name.Set && d.checkUsername(name)
}

// checkUsername applies Moodle's rules: usernames are stored in lower case and hold no
// spaces.
func (d *decoder) checkUsername(s tree.Str) bool {
	switch {
	case !s.Set:
		return false
	case s.V == "":
		*d.ds = append(*d.ds, diag.Errorf(s.Pos, "empty username"))
	case strings.ContainsFunc(s.V, unicode.IsSpace):
		*d.ds = append(*d.ds, diag.Errorf(s.Pos, "username %q contains a space; Moodle usernames have none", s.V))
	case strings.ToLower(s.V) != s.V:
		*d.ds = append(*d.ds, diag.Diagnostic{
			File: s.Pos.File, Line: s.Pos.Line, Col: s.Pos.Col,
			Message:    fmt.Sprintf("username %q has capital letters; Moodle usernames are lower case", s.V),
			Suggestion: strings.ToLower(s.V),
		})
	default:
		return true
	}
	return false
}

func (d *decoder) groups(o *tree.Obj) ([]groupDecl, bool) {
	f := o.Get("groups")
	if f == nil {
		return nil, false
	}
	var out []groupDecl
	seen := map[string]diag.Pos{}
	for _, n := range o.List("groups") {
		var g groupDecl
		if n.Kind == tree.Scalar {
			s := tree.AsString(n, "group", d.ds)
			if !s.Set {
				continue
			}
			g = groupDecl{name: s.V, pos: s.Pos}
		} else {
			var go_Buf tree.Obj
			go_ := d.readObject(&go_Buf, n, "group", "group")
			if go_ == nil {
				continue
			}
			nf := go_.Require("name")
			if nf == nil {
				go_.Known("prune_members")
				go_.Done()
				continue
			}
			s := tree.AsString(nf.Value, "name", d.ds)
			g = groupDecl{name: s.V, pos: s.Pos, pruneMembers: go_.Bool("prune_members")}
			go_.Done()
			if !s.Set {
				continue
			}
		}
		if strings.TrimSpace(g.name) == "" {
			o.Errorf(g.pos, "empty group name")
			continue
		}
		if first, dup := seen[g.name]; dup {
			o.Errorf(g.pos, "group %q is declared twice (first at %s)", g.name, first)
			continue
		}
		seen[g.name] = g.pos
		out = append(out, g)
	}
	return out, true
}
