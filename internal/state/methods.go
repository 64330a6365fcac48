package state

import (
	"fmt"
	"slices"
	"strings"
)

// MethodType is the name of a Moodle enrolment plugin (the enrol.enrol column).
type MethodType string

// The enrolment methods enrolctl knows. Any other plugin found live (enrol_muprog,
// enrol_lti, ...) is carried with its own name and only ever reported as unmanaged.
const (
	Manual   MethodType = "manual"
	Self     MethodType = "self"
	Guest    MethodType = "guest"
	Cohort   MethodType = "cohort"
	Meta     MethodType = "meta"
	Database MethodType = "database"
)

// Method is one enrolment method instance of a course.
//
// Identity within a course (Key) follows Moodle's own matching rules: manual, guest and
// database are single per course; cohort is (cohort, role); meta is the linked course;
// self is its name.
type Method struct {
	Type    MethodType `json:"type"`
	Name    string     `json:"name,omitempty"`   // self: identity; others: display name only
	Cohort  string     `json:"cohort,omitempty"` // cohort: cohort idnumber
	Role    string     `json:"role,omitempty"`   // cohort: role given (part of identity); self: role given
	Course  string     `json:"course,omitempty"` // meta: linked (parent) course shortname
	Group   string     `json:"group,omitempty"`  // cohort, meta: name of the group members are put in ("" none)
	Enabled bool       `json:"enabled"`
	// MaxUsers is self's "max enrolled users" (0 = unlimited).
	MaxUsers int `json:"max_users,omitempty"`
	// Absent (desired only): the method must not exist; a live one is deleted.
	Absent bool `json:"absent,omitempty"`

	ID     int64  `json:"id,omitempty"` // observed: enrol.id
	Source Source `json:"-"`
	// CohortSource (desired cohort methods) is where the cohort idnumber is written, so
	// that a site check of the cohort points at it.
	CohortSource Source `json:"-"`
}

// Attr is a setting of an enrolment method: one field of Method and the spec field of
// the same name. Its value is text, a bool (enabled) or an int (max_users).
type Attr string

const (
	AttrName     Attr = "name"      // Method.Name: the instance's name
	AttrCohort   Attr = "cohort"    // Method.Cohort: the cohort's idnumber
	AttrRole     Attr = "role"      // Method.Role: the role given, a shortname
	AttrCourse   Attr = "course"    // Method.Course: the linked (parent) course's shortname
	AttrGroup    Attr = "group"     // Method.Group: the group the sync puts members in
	AttrEnabled  Attr = "enabled"   // Method.Enabled
	AttrMaxUsers Attr = "max_users" // Method.MaxUsers: most users who may enrol themselves
)

// AttrDef is what an attribute holds: its value type (text, bool or int) and, for the
// spec schema, what its field means.
type AttrDef struct {
	Attr Attr
	Type string // "text", "bool" or "int"
	Doc  string
}

// Attrs are the attributes, settings first, in the order plans list fields.
var Attrs = []AttrDef{
	{AttrEnabled, "bool", "false: the method exists but is disabled"},
	{AttrRole, "text", "the role given (default: student)"},
	{AttrMaxUsers, "int", "most users who may enrol themselves (0: unlimited)"},
	{AttrGroup, "text", "the group the method puts its members in"},
	{AttrName, "text", "the instance's name, its identity"},
	{AttrCohort, "text", "the cohort's idnumber"},
	{AttrCourse, "text", "the linked (parent) course's shortname"},
}

// AttrOf returns the definition of a; ok is false for a name that is no attribute.
func AttrOf(a Attr) (AttrDef, bool) {
	i := slices.IndexFunc(Attrs, func(d AttrDef) bool { return d.Attr == a })
	if i < 0 {
		return AttrDef{}, false
	}
	return Attrs[i], true
}

// Kind describes one enrolment method type: what identifies an instance, which fields
// a spec gives it, which settings enrolctl manages, and how plans word it. It is the
// one place a method type is described; spec, diff, render, apply, moodle and adopt
// read it. Adding a method type is adding a row to Kinds (docs/architecture.md).
type Kind struct {
	Type MethodType
	// Identity are the attributes that tell a course's instances apart (Key); none
	// means Moodle allows one instance per course.
	Identity []Attr
	// Fields are the spec fields besides type and absent, in the order the spec
	// schema lists them; Required those a spec must give.
	Fields   []Attr
	Required []Attr
	// Settings are what enrolctl compares and writes on a live instance, in the order
	// a plan lists them.
	Settings []Attr
	// Synced: the enrolments are a Moodle sync's (cohort, meta, database); enrolctl never
	// changes them, only the method. Their roles are the plugin's, not plain roles.
	Synced bool
	// CheckOnly: the method is never created, changed or deleted, only checked (the
	// database sync creates its own).
	CheckOnly bool
	// Noun names an instance in a plan ("cohort sync L1 → student").
	Noun func(Method) string
	// Describe names an instance by its identity in spec messages.
	Describe func(Method) string
}

// Kinds are the method types a spec may declare, in display order.
var Kinds = []Kind{
	{Type: Manual, Fields: []Attr{AttrEnabled}, Settings: []Attr{AttrEnabled},
		Noun: func(Method) string { return "manual enrolments" }},
	{Type: Self, Identity: []Attr{AttrName}, Fields: []Attr{AttrName, AttrRole, AttrEnabled, AttrMaxUsers}, Required: []Attr{AttrName},
		Settings: []Attr{AttrEnabled, AttrRole, AttrMaxUsers},
		Noun:     func(m Method) string { return fmt.Sprintf("self enrolment %q", m.Name) + arrow(m.Role) },
		Describe: func(m Method) string { return fmt.Sprintf("self method %q", m.Name) }},
	{Type: Guest, Fields: []Attr{AttrEnabled}, Settings: []Attr{AttrEnabled},
		Noun: func(Method) string { return "guest access" }},
	{Type: Cohort, Identity: []Attr{AttrCohort, AttrRole}, Fields: []Attr{AttrCohort, AttrRole, AttrGroup, AttrEnabled}, Required: []Attr{AttrCohort},
		Settings: []Attr{AttrEnabled, AttrGroup}, Synced: true,
		Noun:     func(m Method) string { return "cohort sync " + m.Cohort + arrow(m.Role) },
		Describe: func(m Method) string { return fmt.Sprintf("cohort method (cohort %q, role %q)", m.Cohort, m.Role) }},
	{Type: Meta, Identity: []Attr{AttrCourse}, Fields: []Attr{AttrCourse, AttrGroup, AttrEnabled}, Required: []Attr{AttrCourse},
		Settings: []Attr{AttrEnabled, AttrGroup}, Synced: true,
		Noun:     func(m Method) string { return "meta link from " + m.Course },
		Describe: func(m Method) string { return fmt.Sprintf("meta method linked to %q", m.Course) }},
	{Type: Database, Synced: true, CheckOnly: true,
		Noun: func(Method) string { return "external database sync" }},
}

func arrow(role string) string {
	if role == "" {
		return ""
	}
	return " → " + role
}

// MethodTypes lists the method types a spec may declare, in display order.
var MethodTypes = func() []MethodType {
	out := make([]MethodType, len(Kinds))
	for i, k := range Kinds {
		out[i] = k.Type
	}
	return out
}()

// KindOf returns the row of Kinds of t; false for a plugin enrolctl does not know.
func KindOf(t MethodType) (Kind, bool) {
	i := slices.IndexFunc(Kinds, func(k Kind) bool { return k.Type == t })
	if i < 0 {
		return Kind{}, false
	}
	return Kinds[i], true
}

// Known reports whether t is a method type enrolctl can declare.
func (t MethodType) Known() bool { _, ok := KindOf(t); return ok }

// SingleInstance reports whether Moodle allows at most one instance of t per course.
func (t MethodType) SingleInstance() bool { k, ok := KindOf(t); return ok && len(k.Identity) == 0 }

// Automatic reports whether enrolments of this method are owned by a Moodle sync
// (cohort, meta, database); enrolctl never changes such enrolments, only the method.
func (t MethodType) Automatic() bool { k, ok := KindOf(t); return ok && k.Synced }

// Has reports whether the kind manages attribute a as a setting.
func (k Kind) Has(a Attr) bool { return slices.Contains(k.Settings, a) }

// Describe names the method by its identity, for spec messages: "self method "x"".
func (m Method) Describe() string {
	if k, ok := KindOf(m.Type); ok && k.Describe != nil {
		return k.Describe(m)
	}
	return fmt.Sprintf("%s method", m.Type)
}

// Text is the value of a text attribute (name, cohort, role, course, group).
func (m Method) Text(a Attr) string {
	switch a {
	case AttrName:
		return m.Name
	case AttrCohort:
		return m.Cohort
	case AttrRole:
		return m.Role
	case AttrCourse:
		return m.Course
	case AttrGroup:
		return m.Group
	}
	return ""
}

// SetText sets a text attribute.
func (m *Method) SetText(a Attr, v string) {
	switch a {
	case AttrName:
		m.Name = v
	case AttrCohort:
		m.Cohort = v
	case AttrRole:
		m.Role = v
	case AttrCourse:
		m.Course = v
	case AttrGroup:
		m.Group = v
	}
}

// Same reports whether two methods agree on attribute a.
func (m Method) Same(a Attr, o Method) bool {
	switch a {
	case AttrEnabled:
		return m.Enabled == o.Enabled
	case AttrMaxUsers:
		return m.MaxUsers == o.MaxUsers
	}
	return m.Text(a) == o.Text(a)
}

// Key is the method's identity within its course: its type, then the values of its
// kind's identity attributes ("cohort:L1-2026:student", "self:Accès", "manual").
func (m Method) Key() string {
	k, ok := KindOf(m.Type)
	if !ok {
		// Unknown plugins may have several instances; the id keeps them apart.
		return fmt.Sprintf("%s#%d", m.Type, m.ID)
	}
	if len(k.Identity) == 0 {
		return string(m.Type)
	}
	var b strings.Builder
	b.WriteString(string(m.Type))
	for _, a := range k.Identity {
		b.WriteByte(':')
		b.WriteString(m.Text(a))
	}
	return b.String()
}

// CheckOnly reports whether enrolctl only checks methods of type t, never writes them.
func (t MethodType) CheckOnly() bool { k, ok := KindOf(t); return ok && k.CheckOnly }
