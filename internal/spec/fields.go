package spec

import (
	"slices"

	"github.com/enrolctl/enrolctl/internal/state"
	"github.com/enrolctl/enrolctl/internal/tree"
)

// The fields of every object a spec file holds. The strict reader accepts exactly these
// (an object read with readObject knows its fields from here, and reports any other as
// unknown, with a did-you-mean over them), and SchemaJSON (a test) builds docs/spec.schema.json
// from the same table, so the editor's schema and the reader cannot disagree on which
// fields exist. Method fields per type are methodFields (decode.go).

// valueType is the shape of a field's value.
type valueType int

const (
	textValue  valueType = iota // a string
	boolValue                   // true or false
	intValue                    // a non-negative integer
	dateValue                   // YYYY-MM-DD, an RFC 3339 timestamp, or never (ends only)
	textList                    // a list of strings
	objectRef                   // an object, defined in specObjects under Ref
	objectList                  // a list of objects (or of their short form), Ref
)

// fieldDef is one field of an object.
type fieldDef struct {
	Name     string
	Type     valueType
	Required bool
	Enum     []string // closed set of values (text fields)
	Ref      string   // objectRef and objectList: the object's name in specObjects
	Doc      string
}

// objectDef is one kind of object.
type objectDef struct {
	Doc    string
	Fields []fieldDef
	// Short is the scalar short form the object may be written as ("a username", "a
	// group name"); "" when there is none.
	Short string
}

func (o objectDef) names() []string {
	out := make([]string, len(o.Fields))
	for i, f := range o.Fields {
		out[i] = f.Name
	}
	return out
}

var commonSpecFields = []fieldDef{
	{Name: "methods", Type: objectList, Ref: "method", Doc: "enrolment methods the course must have"},
	{Name: "groups", Type: objectList, Ref: "group", Doc: "groups the course must have"},
	{Name: "protect", Type: boolValue, Doc: "true: apply refuses every removal in the course"},
	{Name: "methods_prune", Type: boolValue, Doc: "true: delete live methods no spec or policy declares"},
}

// specObjects are the objects of a spec file, by name. "course" and "policy" are the two
// kinds of document.
var specObjects = map[string]objectDef{
	"course": {Doc: "A course spec: the enrolments of one course.", Fields: append([]fieldDef{
		{Name: "course", Type: textValue, Required: true, Doc: "the course shortname"},
		{Name: "manual", Type: objectRef, Ref: "manual", Doc: "manual enrolments"},
	}, commonSpecFields...)},
	"policy": {Doc: "A policy: methods and defaults for every course it selects.", Fields: append([]fieldDef{
		{Name: "policy", Type: textValue, Required: true, Doc: "the policy's name, unique in the site's specs"},
		{Name: "courses", Type: objectRef, Ref: "courses", Required: true, Doc: "which courses: every selector given must match"},
		{Name: "manual", Type: objectRef, Ref: "policy_manual", Doc: "defaults of the manual enrolments; policies list no users"},
		{Name: "renew", Type: objectRef, Ref: "renew", Doc: "renew the live manual enrolments it selects"},
	}, commonSpecFields...)},
	"courses": {Doc: "A policy's course selection.", Fields: []fieldDef{
		{Name: "category", Type: textValue, Doc: "category path (A / B / C), subcategories included"},
		{Name: "shortname", Type: textValue, Doc: "glob: * any text, ? one character, [A-C] a range"},
		{Name: "list", Type: textList, Doc: "course shortnames"},
	}},
	"manual": {Doc: "The manual enrolments of a course.", Fields: []fieldDef{
		{Name: "role", Type: textValue, Doc: "default role of the users listed (default: student)"},
		{Name: "until", Type: dateValue, Doc: "default end date: the last day of access"},
		{Name: "from", Type: dateValue, Doc: "default start date (default: keep the live one)"},
		{Name: "prune", Type: textValue, Enum: pruneModes, Doc: "what happens to manual enrolments of users not listed"},
		{Name: "users", Type: objectList, Ref: "user", Doc: "the users enrolled by hand"},
	}},
	"policy_manual": {Doc: "The manual enrolment defaults a policy gives.", Fields: []fieldDef{
		{Name: "role", Type: textValue, Doc: "default role"},
		{Name: "until", Type: dateValue, Doc: "default end date: the last day of access"},
		{Name: "from", Type: dateValue, Doc: "default start date"},
		{Name: "prune", Type: textValue, Enum: pruneModes, Doc: "what happens to manual enrolments of users not listed"},
	}},
	"user": {Doc: "A user enrolled by hand.", Short: "the username", Fields: []fieldDef{
		{Name: "username", Type: textValue, Required: true, Doc: "the Moodle username (lower case)"},
		{Name: "role", Type: textValue, Doc: "the user's role (default: manual.role)"},
		{Name: "roles", Type: textList, Doc: "several roles the user holds in Moodle, kept as they are (enrolctl sets one role only)"},
		{Name: "until", Type: dateValue, Doc: "the last day of access"},
		{Name: "from", Type: dateValue, Doc: "the first day of access"},
		{Name: "suspended", Type: boolValue, Doc: "true: enrolled but suspended"},
		{Name: "groups", Type: textList, Doc: "groups of this course the user is in"},
	}},
	"group": {Doc: "A group of the course.", Short: "the group name", Fields: []fieldDef{
		{Name: "name", Type: textValue, Required: true, Doc: "the group name"},
		{Name: "prune_members", Type: boolValue, Doc: "true: remove manual members not declared"},
	}},
	"renew": {Doc: "A policy's renewal of live manual enrolments.", Fields: []fieldDef{
		{Name: "role", Type: textValue, Doc: "only enrolments with this role"},
		{Name: "status", Type: textValue, Enum: renewStatuses, Doc: "only enrolments in this status"},
		{Name: "method", Type: textValue, Doc: "manual: renew acts on manual enrolments only"},
		{Name: "until", Type: dateValue, Required: true, Doc: "the new end date"},
		{Name: "reactivate", Type: boolValue, Doc: "true: suspended enrolments become active"},
	}},
}

// methodFieldDefs are the fields a method of type t takes, from methodFields.
func methodFieldDefs(t state.MethodType) []fieldDef {
	out := []fieldDef{{Name: "type", Type: textValue, Required: true, Enum: []string{string(t)}, Doc: "the enrolment plugin"}}
	for _, f := range methodFields(t) {
		out = append(out, methodFieldDef(f, t))
	}
	if k, _ := state.KindOf(t); !k.CheckOnly {
		out = append(out, fieldDef{Name: "absent", Type: boolValue, Doc: "true: the method must not exist (named by its identity only)"})
	}
	return out
}

// methodFieldDef is the spec field of an attribute of a method type (state.Attrs).
func methodFieldDef(name string, t state.MethodType) fieldDef {
	d, _ := state.AttrOf(state.Attr(name))
	k, _ := state.KindOf(t)
	types := map[string]valueType{"text": textValue, "bool": boolValue, "int": intValue}
	return fieldDef{Name: name, Type: types[d.Type], Required: slices.Contains(k.Required, d.Attr), Doc: d.Doc}
}

// readObject starts reading n into o (the caller's, on its stack) as the object def
// names: its fields are the table's.
func (d *decoder) readObject(o *tree.Obj, n *tree.Node, def, what string) *tree.Obj {
	o = o.Read(n, what, d.ds)
	if o != nil {
		o.KnownList(specObjectNames[def])
	}
	return o
}

// specObjectNames are the field names of each of specObjects, made once.
var specObjectNames = func() map[string][]string {
	m := make(map[string][]string, len(specObjects))
	for def, o := range specObjects {
		m[def] = slices.Clip(o.names())
	}
	return m
}()

// allMethodFieldNames are the fields any method type takes, besides type.
func allMethodFieldNames() []string {
	var out []string
	for _, t := range state.MethodTypes {
		for _, f := range methodFieldDefs(t)[1:] {
			if !slices.Contains(out, f.Name) {
				out = append(out, f.Name)
			}
		}
	}
	return out
}
