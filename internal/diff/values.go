package diff

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/enrolctl/enrolctl/internal/state"
)

// Field is a managed attribute a change can set. The set is closed, and each field has
// one value type (see Value).
type Field string

const (
	FieldEnabled   Field = "enabled"   // methods: Bool
	FieldRole      Field = "role"      // self methods and enrolments: Roles (one role for a method)
	FieldMaxUsers  Field = "max_users" // self methods: Int, 0 = unlimited
	FieldGroup     Field = "group"     // cohort and meta methods: Text, "" = none
	FieldStart     Field = "start"     // enrolments: Int, unix seconds, 0 = none
	FieldEnd       Field = "end"       // enrolments: Int, unix seconds (exclusive), 0 = never
	FieldSuspended Field = "suspended" // enrolments: Bool
)

// Fields is the closed set of fields: the settings of every method kind (state.Attrs,
// where each is named), then the enrolments'.
var Fields = func() []Field {
	var out []Field
	for _, d := range state.Attrs {
		if slices.ContainsFunc(state.Kinds, func(k state.Kind) bool { return k.Has(d.Attr) }) {
			out = append(out, Field(d.Attr))
		}
	}
	return append(out, FieldStart, FieldEnd, FieldSuspended)
}()

// valueType is "bool", "int", "text" or "roles": which member of Value holds the field's.
func (fl Field) valueType() string {
	switch fl {
	case FieldSuspended:
		return "bool"
	case FieldStart, FieldEnd:
		return "int"
	case FieldRole:
		return "roles"
	}
	d, _ := state.AttrOf(state.Attr(fl))
	return d.Type
}

// Value is a field's value. Which member holds it depends on the field (see Field);
// the others are zero.
type Value struct {
	Bool  bool
	Int   int64
	Text  string
	Roles []string
}

// FieldChange is one attribute that a change sets: Old is nil for creates (every
// managed field is listed, with its new value), New is never nil.
type FieldChange struct {
	Field Field
	Old   *Value
	New   *Value
}

// Encode is v as the field's JSON value: a boolean, an integer, a string or an array
// of strings (the plan document's old and new).
func (fl Field) Encode(v Value) ([]byte, error) {
	switch fl.valueType() {
	case "bool":
		return json.Marshal(v.Bool)
	case "int":
		return json.Marshal(v.Int)
	case "text":
		return json.Marshal(v.Text)
	case "roles":
		if v.Roles == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(v.Roles)
	}
	return nil, fmt.Errorf("unknown field %q", fl)
}

// Decode reads the field's JSON value, refusing one of another type.
func (fl Field) Decode(b []byte) (Value, error) {
	var v Value
	var err error
	switch fl.valueType() {
	case "bool":
		err = json.Unmarshal(b, &v.Bool)
	case "int":
		err = json.Unmarshal(b, &v.Int)
	case "text":
		err = json.Unmarshal(b, &v.Text)
	case "roles":
		err = json.Unmarshal(b, &v.Roles)
		if len(v.Roles) == 0 {
			v.Roles = nil
		}
	default:
		err = fmt.Errorf("unknown field %q", fl)
	}
	if err != nil {
		return Value{}, fmt.Errorf("field %s: %v", fl, err)
	}
	return v, nil
}

func boolValue(b bool) *Value { return &Value{Bool: b} }
func intValue(n int64) *Value { return &Value{Int: n} }

// intValues hands out one Value per integer, shared by every change of a plan that
// has it: renewing a site's enrolments to one end date otherwise allocates that date
// once per enrolment. Likewise one list per role. Values are never written after they
// are made.
type intValues struct {
	byInt  map[int64]*Value
	byDate map[FieldChange][]FieldChange
	byRole map[string][]string
}

// roles is the one-role list of role.
func (iv *intValues) roles(role string) []string {
	if iv == nil {
		return []string{role}
	}
	return shared(&iv.byRole, role, func() []string { return []string{strings.Clone(role)} })
}

func (iv *intValues) value(n int64) *Value {
	if iv == nil {
		return intValue(n)
	}
	return shared(&iv.byInt, n, func() *Value { return intValue(n) })
}

// list is the one-field list of fc, a start or end changed between two of these
// values, shared likewise: renewing a site's enrolments is otherwise a list each.
func (iv *intValues) list(fc FieldChange) []FieldChange {
	if iv == nil {
		return []FieldChange{fc}
	}
	return shared(&iv.byDate, fc, func() []FieldChange { return []FieldChange{fc} })
}

// shared is (*m)[k], made by mk the first time k is asked for.
func shared[K comparable, V any](m *map[K]V, k K, mk func() V) V {
	if v, ok := (*m)[k]; ok {
		return v
	}
	if *m == nil {
		*m = map[K]V{}
	}
	v := mk()
	(*m)[k] = v
	return v
}

func textValue(s string) *Value    { return &Value{Text: s} }
func rolesValue(r []string) *Value { return &Value{Roles: slices.Clone(r)} }
func roleValue(role string) *Value {
	if role == "" {
		return &Value{}
	}
	return &Value{Roles: []string{role}}
}

// created is the FieldChange of a create: no old value.
func created(f Field, v *Value) FieldChange { return FieldChange{Field: f, New: v} }

// changed is the FieldChange of an update.
func changed(f Field, old, new *Value) FieldChange { return FieldChange{Field: f, Old: old, New: new} }
