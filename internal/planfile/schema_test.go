package planfile

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/golden"
)

// docs/plan.schema.json is generated from the document's types (document.go) and the
// closed sets of the code: `go test ./internal/planfile -update` rewrites it, and this
// test fails when it drifts, so that a change to the document, or a value added to a
// closed set (a reason, a field, a diagnostic code), changes the schema with it.
func TestPlanSchemaIsGenerated(t *testing.T) {
	golden.Check(t, filepath.Join("..", "..", "docs", "plan.schema.json"), planSchema())
}

// enums are the closed sets, by the type of the document's fields that hold them.
var enums = map[reflect.Type][]string{
	reflect.TypeFor[diff.Kind]():          names(diff.Kinds),
	reflect.TypeFor[diff.Action]():        names(diff.Actions),
	reflect.TypeFor[diff.ReasonCode]():    names(diff.ReasonCodes),
	reflect.TypeFor[diff.Field]():         names(diff.Fields),
	reflect.TypeFor[diff.RemovalEffect](): names(diff.RemovalEffects),
	reflect.TypeFor[diff.RefusalCode]():   names(diff.RefusalCodes),
	reflect.TypeFor[diff.DriftCode]():     names(diff.DriftCodes),
	reflect.TypeFor[diag.Code]():          names(diag.Codes),
	reflect.TypeFor[diag.Severity]():      {diag.Error.String(), diag.Warning.String()},
}

func names[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

type object = map[string]any

func planSchema() []byte {
	defs := object{}
	root := schemaOf(reflect.TypeFor[Document](), nil, defs)
	props := root["properties"].(object)
	props["format_version"] = object{"const": diff.FormatVersion}
	props["signature"].(object)["description"] = "HMAC-SHA256 of the canonical document without this member, under the site's plan signing key"

	// What the types cannot say: which object a kind needs, the JSON type of each
	// field's value, which refusals name a course.
	var needs []any
	for _, kind := range diff.Kinds {
		req := []string{string(kind)}
		if kind == diff.KindMember {
			req = []string{"member", "group_name"}
		}
		needs = append(needs, object{"if": object{"properties": object{"kind": object{"const": kind}}}, "then": object{"required": req}})
	}
	defs["change"].(object)["allOf"] = needs
	var values []any
	for _, f := range diff.Fields {
		zero, err := f.Encode(diff.Value{})
		if err != nil {
			panic(err)
		}
		var v any
		_ = json.Unmarshal(zero, &v)
		var typ object
		switch v.(type) {
		case bool:
			typ = object{"type": "boolean"}
		case float64:
			typ = object{"type": "integer", "minimum": 0}
		case string:
			typ = object{"type": "string"}
		default:
			typ = object{"type": "array", "items": object{"type": "string"}}
		}
		values = append(values, object{"if": object{"properties": object{"field": object{"const": f}}}, "then": object{"properties": object{"old": typ, "new": typ}}})
	}
	defs["field"].(object)["allOf"] = values
	defs["unmanaged"].(object)["oneOf"] = []any{object{"required": []string{"method"}}, object{"required": []string{"enrolment"}}}
	defs["drift"].(object)["oneOf"] = []any{object{"required": []string{"method"}}, object{"required": []string{"enrolment"}}, object{"required": []string{"member", "group_name"}}}
	defs["drift"].(object)["properties"].(object)["kind"] = object{"enum": []diff.Kind{diff.KindMethod, diff.KindEnrolment, diff.KindMember}}
	refusal := defs["refusal"].(object)
	refusal["if"] = object{"properties": object{"code": object{"const": diff.RefuseSiteLimit}}}
	refusal["then"] = object{"required": []string{"courses"}}
	refusal["else"] = object{"required": []string{"course"}}

	schema := object{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         "https://github.com/enrolctl/enrolctl/docs/plan.schema.json",
		"title":       "enrolctl plan document, format " + diff.FormatVersion,
		"description": "What `enrolctl plan -o json` prints and `enrolctl plan -out FILE` saves. Documented in docs/plan-format.md. Generated from internal/planfile/document.go; do not edit by hand.",
		"$defs":       defs,
	}
	for k, v := range root {
		schema[k] = v
	}
	b, err := json.MarshalIndent(schema, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// schemaOf is the schema of a value of type t, with the constraints of its field's
// schema tag. A struct reached through a pointer or a list is a $defs entry named
// after its type; one held directly is written in place.
func schemaOf(t reflect.Type, tag map[string]string, defs object) object {
	if e, ok := enums[t]; ok {
		return object{"enum": e}
	}
	switch {
	case t == reflect.TypeFor[json.RawMessage]():
		return object{} // any JSON value: the field's own type is said by "allOf"
	case t.Kind() == reflect.Pointer:
		return schemaOf(t.Elem(), tag, defs)
	case t.Kind() == reflect.Slice:
		s := object{"type": "array", "items": item(t.Elem(), tag, defs)}
		if _, ok := tag["unique"]; ok {
			s["uniqueItems"] = true
		}
		return s
	case t.Kind() == reflect.Map:
		return object{"type": "object", "additionalProperties": schemaOf(t.Elem(), tag, defs)}
	case t.Kind() == reflect.Struct:
		return structSchema(t, defs)
	}
	s := object{}
	switch t.Kind() {
	case reflect.String:
		s["type"] = "string"
		if v, ok := tag["min"]; ok {
			s["minLength"] = atoi(v)
		}
		for _, k := range []string{"pattern", "format"} {
			if v, ok := tag[k]; ok {
				s[k] = v
			}
		}
	case reflect.Bool:
		s["type"] = "boolean"
	case reflect.Int, reflect.Int64, reflect.Float64:
		s["type"], s["minimum"] = "integer", 0
		if t.Kind() == reflect.Float64 {
			s["type"] = "number"
		}
		if v, ok := tag["min"]; ok {
			s["minimum"] = atoi(v)
		}
		if v, ok := tag["max"]; ok {
			s["maximum"] = atoi(v)
		}
	default:
		panic(fmt.Sprintf("no schema for %s", t))
	}
	return s
}

// item is the schema of a list's element: a reference to a struct's $defs entry.
func item(t reflect.Type, tag map[string]string, defs object) object {
	if t.Kind() != reflect.Struct {
		return schemaOf(t, tag, defs)
	}
	name := strings.ToLower(t.Name())
	if t == reflect.TypeFor[diag.JSONForm]() {
		name = "diagnostic"
	}
	if _, ok := defs[name]; !ok {
		defs[name] = nil // a type that holds itself stops here
		defs[name] = structSchema(t, defs)
	}
	return object{"$ref": "#/$defs/" + name}
}

func structSchema(t reflect.Type, defs object) object {
	props := object{}
	required := []string{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		tag := map[string]string{}
		for _, kv := range strings.Fields(f.Tag.Get("schema")) {
			if k, v, _ := strings.Cut(kv, "="); k != "" {
				tag[k] = v
			}
		}
		if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			props[name] = item(f.Type.Elem(), tag, defs)
		} else {
			props[name] = schemaOf(f.Type, tag, defs)
		}
		if !strings.Contains(opts, "omit") {
			required = append(required, name)
		}
	}
	s := object{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}
