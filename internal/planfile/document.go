package planfile

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// The plan document's own types (format diff.FormatVersion), apart from the types of
// diff, state and diag: toDocument and Document.plan map them both ways, field by
// field, so that an internal type can change without changing the file. The file
// changes only with these types, and docs/plan.schema.json with them: schema_test.go
// generates it from them and fails when the shipped file drifts.
// Enumerated values use the closed sets' types (diff.Kind, diff.Action, ...): the
// schema's enums are generated from those sets. Diagnostics are diag.JSONForm, the
// JSON form diag keeps apart from Diagnostic for every document that holds them.
//
// Struct tags: json as written; schema (read only by the schema generator) adds
// constraints, space-separated: min=N and max=N (numbers; strings: minLength), pattern=RE,
// format=F, unique (arrays). A field without omitempty is required.

// Document is the plan document.
type Document struct {
	FormatVersion string `json:"format_version"`
	CreatedAt     string `json:"created_at,omitempty" schema:"format=date-time"`
	Site          string `json:"site,omitempty"`
	Commit        string `json:"commit,omitempty" schema:"pattern=^[0-9a-f]{4,64}$"`
	Dirty         bool   `json:"dirty,omitempty"`
	Timezone      string `json:"timezone" schema:"min=1"`

	Diagnostics []diag.JSONForm `json:"diagnostics,omitempty"`
	Limits      Limits          `json:"limits"`
	Approvals   Approvals       `json:"approvals"`
	Refusals    []Refusal       `json:"refusals,omitempty"`

	Changes   []Change    `json:"changes"`
	Unmanaged []Unmanaged `json:"unmanaged,omitempty"`
	Drift     []Drift     `json:"drift,omitempty"`

	Fingerprints map[string]string `json:"fingerprints,omitempty" schema:"pattern=^sha256:[0-9a-f]+$"`
	Protected    []string          `json:"protected,omitempty" schema:"min=1 unique"`
	SpecsDigest  string            `json:"specs_digest,omitempty"`

	// Summary counts the changes (derived, checked on reading).
	Summary Summary `json:"summary"`
	// Signature (sign.go) is set in saved plans of sites that sign them.
	Signature string `json:"signature,omitempty" schema:"pattern=^hmac-sha256:[0-9a-f]{64}$"`
}

// Limits are the removal limits the plan was checked against.
type Limits struct {
	MaxRemovals     int     `json:"max_removals"`
	MaxShare        float64 `json:"max_share" schema:"max=1"`
	MaxSiteRemovals int     `json:"max_site_removals"`
}

// Approvals are what the planner approved.
type Approvals struct {
	Removals bool `json:"removals"`
}

// Summary counts the changes as a human plan's last line does.
type Summary struct {
	Add       int `json:"add"`
	Change    int `json:"change"`
	Remove    int `json:"remove"`
	Unmanaged int `json:"unmanaged"`
	Drift     int `json:"drift,omitempty"`
}

// Change is one planned action; the object its kind names is set.
type Change struct {
	Address   string      `json:"address" schema:"pattern=^course/"`
	Course    string      `json:"course" schema:"min=1"`
	Kind      diff.Kind   `json:"kind"`
	Action    diff.Action `json:"action"`
	Reason    *Reason     `json:"reason,omitempty"`
	Fields    []Field     `json:"fields,omitempty"`
	Method    *Method     `json:"method,omitempty"`
	Enrolment *Enrolment  `json:"enrolment,omitempty"`
	Group     *Group      `json:"group,omitempty"`
	Member    *Member     `json:"member,omitempty"`
	GroupName string      `json:"group_name,omitempty"`
	Removes   *Removal    `json:"removes,omitempty"`
	// Source is file:line:col of the spec that declared the object.
	Source             string `json:"source,omitempty"`
	AfterMethodRemoval bool   `json:"after_method_removal,omitempty"`
}

// Reason is why a change is planned.
type Reason struct {
	Code      diff.ReasonCode `json:"code"`
	Subject   string          `json:"subject,omitempty"`
	RenewedBy string          `json:"renewed_by,omitempty"`
}

// Field is one attribute a change sets; old and new have the field's JSON type.
type Field struct {
	Field diff.Field      `json:"field"`
	Old   json.RawMessage `json:"old,omitempty"`
	New   json.RawMessage `json:"new"`
}

// Removal is what Moodle takes away with a removal.
type Removal struct {
	Effect          diff.RemovalEffect `json:"effect"`
	Enrolments      int                `json:"enrolments"`
	LastEnrolments  int                `json:"last_enrolments"`
	Memberships     int                `json:"memberships,omitempty"`
	MembershipsKept int                `json:"memberships_kept,omitempty"`
	// MetaUsers lose access in MetaCourses too, through their meta links to the course.
	MetaUsers   int      `json:"meta_users,omitempty"`
	MetaCourses []string `json:"meta_courses,omitempty" schema:"unique"`
}

// Method is an enrolment method instance.
type Method struct {
	Type     string `json:"type" schema:"min=1"`
	Name     string `json:"name,omitempty"`
	Cohort   string `json:"cohort,omitempty"`
	Role     string `json:"role,omitempty"`
	Course   string `json:"course,omitempty"`
	Group    string `json:"group,omitempty"`
	Enabled  bool   `json:"enabled"`
	MaxUsers int    `json:"max_users,omitempty"`
	ID       int64  `json:"id,omitempty"`
}

// Enrolment is one user enrolment; dates are unix seconds, the end exclusive.
type Enrolment struct {
	Username  string   `json:"username" schema:"min=1"`
	Method    string   `json:"method" schema:"min=1"`
	Roles     []string `json:"roles,omitempty"`
	Start     int64    `json:"start,omitempty"`
	End       int64    `json:"end,omitempty"`
	Suspended bool     `json:"suspended,omitempty"`
	KeepStart bool     `json:"keep_start,omitempty"`
	UserID    int64    `json:"user_id,omitempty"`
}

// Group is a course group.
type Group struct {
	Name         string   `json:"name" schema:"min=1"`
	Members      []Member `json:"members,omitempty"`
	PruneMembers bool     `json:"prune_members,omitempty"`
	ID           int64    `json:"id,omitempty"`
}

// Member is one group membership.
type Member struct {
	Username  string `json:"username" schema:"min=1"`
	Component string `json:"component,omitempty"`
}

// Unmanaged is a live object no spec declares.
type Unmanaged struct {
	Address    string     `json:"address" schema:"pattern=^course/"`
	Course     string     `json:"course" schema:"min=1"`
	Kind       diff.Kind  `json:"kind"`
	Method     *Method    `json:"method,omitempty"`
	Enrolment  *Enrolment `json:"enrolment,omitempty"`
	Enrolments int        `json:"enrolments,omitempty"`
	Duplicate  bool       `json:"duplicate,omitempty"`
}

// Drift is a live object made by hand where the specs say who belongs.
type Drift struct {
	Address    string         `json:"address" schema:"pattern=^course/"`
	Course     string         `json:"course" schema:"min=1"`
	Kind       diff.Kind      `json:"kind"`
	Code       diff.DriftCode `json:"code"`
	Method     *Method        `json:"method,omitempty"`
	Enrolment  *Enrolment     `json:"enrolment,omitempty"`
	Member     *Member        `json:"member,omitempty"`
	GroupName  string         `json:"group_name,omitempty" schema:"min=1"`
	Enrolments int            `json:"enrolments,omitempty"`
}

// Refusal is one reason apply refuses the plan's removals.
type Refusal struct {
	Code       diff.RefusalCode `json:"code"`
	Course     string           `json:"course,omitempty" schema:"min=1"`
	Changes    int              `json:"changes"`
	Enrolments int              `json:"enrolments"`
	Total      int              `json:"total,omitempty"`
	Courses    int              `json:"courses,omitempty"`
}

// toDocument is the document of p, with the defaults a document always has.
func toDocument(p diff.Plan) (Document, error) {
	s := p.Summary()
	d := Document{
		FormatVersion: p.FormatVersion, CreatedAt: p.CreatedAt, Site: p.Site, Commit: p.Commit, Dirty: p.Dirty, Timezone: p.Timezone,
		Diagnostics:  each(p.Diagnostics, diag.Diagnostic.JSONForm),
		Limits:       Limits(p.Limits),
		Approvals:    Approvals(p.Approvals),
		Refusals:     each(p.Refusals, func(r diff.Refusal) Refusal { return Refusal(r) }),
		Changes:      make([]Change, len(p.Changes)), // "changes": [] rather than null
		Unmanaged:    each(p.Unmanaged, toUnmanaged),
		Drift:        each(p.Drift, toDrift),
		Fingerprints: p.Fingerprints, Protected: p.Protected, SpecsDigest: p.SpecsDigest,
		Summary: Summary(s),
	}
	if d.FormatVersion == "" {
		d.FormatVersion = diff.FormatVersion
	}
	if d.Timezone == "" {
		d.Timezone = "UTC"
	}
	for i, c := range p.Changes {
		fields := make([]Field, len(c.Fields))
		for j, f := range c.Fields {
			if f.New == nil {
				return Document{}, fmt.Errorf("%s: field %s has no new value", c.Address, f.Field)
			}
			fields[j].Field = f.Field
			var err error
			if f.Old != nil {
				if fields[j].Old, err = f.Field.Encode(*f.Old); err != nil {
					return Document{}, err
				}
			}
			if fields[j].New, err = f.Field.Encode(*f.New); err != nil {
				return Document{}, err
			}
		}
		d.Changes[i] = Change{Address: c.Address, Course: c.Course, Kind: c.Kind, Action: c.Action,
			Reason: ptr(c.Reason, func(r diff.Reason) Reason { return Reason(r) }), Fields: nilIfEmpty(fields),
			Method: ptr(c.Method, toMethod), Enrolment: ptr(c.Enrolment, toEnrolment), Group: ptr(c.Group, toGroup),
			Member: ptr(c.Member, toMember), GroupName: c.GroupName,
			Removes: ptr(c.Removes, func(r diff.Removal) Removal { return Removal(r) }),
			Source:  diag.Pos(c.Source).String(), AfterMethodRemoval: c.AfterMethodRemoval}
	}
	return d, nil
}

// plan is the diff.Plan the document holds.
func (d Document) plan() (diff.Plan, error) {
	p := diff.Plan{
		FormatVersion: d.FormatVersion, CreatedAt: d.CreatedAt, Site: d.Site, Commit: d.Commit, Dirty: d.Dirty, Timezone: d.Timezone,
		Diagnostics:  each(d.Diagnostics, diag.JSONForm.Diagnostic),
		Limits:       diff.Limits(d.Limits),
		Approvals:    diff.Approvals(d.Approvals),
		Refusals:     each(d.Refusals, func(r Refusal) diff.Refusal { return diff.Refusal(r) }),
		Changes:      make([]diff.Change, len(d.Changes)),
		Unmanaged:    each(d.Unmanaged, Unmanaged.unmanaged),
		Drift:        each(d.Drift, Drift.drift),
		Fingerprints: d.Fingerprints, Protected: d.Protected, SpecsDigest: d.SpecsDigest,
	}
	for i, c := range d.Changes {
		var fields []diff.FieldChange
		for _, f := range c.Fields {
			fc := diff.FieldChange{Field: f.Field}
			if len(f.Old) > 0 && string(f.Old) != "null" {
				v, err := f.Field.Decode(f.Old)
				if err != nil {
					return diff.Plan{}, fmt.Errorf("changes[%d]: %v", i, err)
				}
				fc.Old = &v
			}
			v, err := f.Field.Decode(f.New)
			if err != nil {
				return diff.Plan{}, fmt.Errorf("changes[%d]: %v", i, err)
			}
			fc.New = &v
			fields = append(fields, fc)
		}
		p.Changes[i] = diff.Change{Address: c.Address, Course: c.Course, Kind: c.Kind, Action: c.Action,
			Reason: ptr(c.Reason, func(r Reason) diff.Reason { return diff.Reason(r) }), Fields: fields,
			Method: ptr(c.Method, Method.method), Enrolment: ptr(c.Enrolment, Enrolment.enrolment), Group: ptr(c.Group, Group.group),
			Member: ptr(c.Member, Member.member), GroupName: c.GroupName,
			Removes: ptr(c.Removes, func(r Removal) diff.Removal { return diff.Removal(r) }),
			Source:  parseSource(c.Source), AfterMethodRemoval: c.AfterMethodRemoval}
	}
	return p, nil
}

func toMethod(m state.Method) Method {
	return Method{Type: string(m.Type), Name: m.Name, Cohort: m.Cohort, Role: m.Role, Course: m.Course, Group: m.Group,
		Enabled: m.Enabled, MaxUsers: m.MaxUsers, ID: m.ID}
}

func (m Method) method() state.Method {
	return state.Method{Type: state.MethodType(m.Type), Name: m.Name, Cohort: m.Cohort, Role: m.Role, Course: m.Course, Group: m.Group,
		Enabled: m.Enabled, MaxUsers: m.MaxUsers, ID: m.ID}
}

func toEnrolment(e state.Enrolment) Enrolment {
	return Enrolment{Username: e.Username, Method: e.Method, Roles: e.Roles, Start: e.Start, End: e.End,
		Suspended: e.Suspended, KeepStart: e.KeepStart, UserID: e.UserID}
}

func (e Enrolment) enrolment() state.Enrolment {
	return state.Enrolment{Username: e.Username, Method: e.Method, Roles: e.Roles, Start: e.Start, End: e.End,
		Suspended: e.Suspended, KeepStart: e.KeepStart, UserID: e.UserID}
}

func toGroup(g state.Group) Group {
	return Group{Name: g.Name, Members: each(g.Members, toMember), PruneMembers: g.PruneMembers, ID: g.ID}
}

func (g Group) group() state.Group {
	return state.Group{Name: g.Name, Members: each(g.Members, Member.member), PruneMembers: g.PruneMembers, ID: g.ID}
}

func toMember(m state.Member) Member { return Member{Username: m.Username, Component: m.Component} }

func (m Member) member() state.Member {
	return state.Member{Username: m.Username, Component: m.Component}
}

func toUnmanaged(u diff.Unmanaged) Unmanaged {
	return Unmanaged{Address: u.Address, Course: u.Course, Kind: u.Kind, Method: ptr(u.Method, toMethod),
		Enrolment: ptr(u.Enrolment, toEnrolment), Enrolments: u.Enrolments, Duplicate: u.Duplicate}
}

func (u Unmanaged) unmanaged() diff.Unmanaged {
	return diff.Unmanaged{Address: u.Address, Course: u.Course, Kind: u.Kind, Method: ptr(u.Method, Method.method),
		Enrolment: ptr(u.Enrolment, Enrolment.enrolment), Enrolments: u.Enrolments, Duplicate: u.Duplicate}
}

func toDrift(d diff.Drift) Drift {
	return Drift{Address: d.Address, Course: d.Course, Kind: d.Kind, Code: d.Code, Method: ptr(d.Method, toMethod),
		Enrolment: ptr(d.Enrolment, toEnrolment), Member: ptr(d.Member, toMember), GroupName: d.GroupName, Enrolments: d.Enrolments}
}

func (d Drift) drift() diff.Drift {
	return diff.Drift{Address: d.Address, Course: d.Course, Kind: d.Kind, Code: d.Code, Method: ptr(d.Method, Method.method),
		Enrolment: ptr(d.Enrolment, Enrolment.enrolment), Member: ptr(d.Member, Member.member), GroupName: d.GroupName, Enrolments: d.Enrolments}
}

// parseSource reads a change's "file:line:col" (or a bare file) back into a position.
func parseSource(s string) state.Source {
	rest, colText, ok := cutLast(s)
	if !ok {
		return state.Source{File: s}
	}
	file, lineText, ok := cutLast(rest)
	line, err1 := strconv.Atoi(lineText)
	col, err2 := strconv.Atoi(colText)
	if !ok || err1 != nil || err2 != nil || line <= 0 || col < 0 {
		return state.Source{File: s}
	}
	return state.Source{File: file, Line: line, Col: col}
}

func cutLast(s string) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// each converts a list; nil stays nil, so that omitempty lists stay absent.
func each[A, B any](xs []A, f func(A) B) []B {
	if xs == nil {
		return nil
	}
	out := make([]B, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// ptr converts an optional object.
func ptr[A, B any](x *A, f func(A) B) *B {
	if x == nil {
		return nil
	}
	y := f(*x)
	return &y
}

func nilIfEmpty[T any](xs []T) []T {
	if len(xs) == 0 {
		return nil
	}
	return xs
}
