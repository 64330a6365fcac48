package spec

import (
	"encoding/json"

	"github.com/enrolctl/enrolctl/internal/state"
)

// SchemaJSON is the JSON Schema of YAML spec files (docs/spec.schema.json), built from
// the field table the strict reader uses (fields.go). Editors that run
// yaml-language-server use it for completion and checking once a spec file starts with
//
//	# yaml-language-server: $schema=../docs/spec.schema.json
//
// (the path relative to the spec file). The schema checks shapes only; enrolctl
// validate still checks what needs more (dates of the calendar, duplicates, roles).
func SchemaJSON() []byte {
	defs := map[string]any{}
	for name, o := range specObjects {
		defs[name] = objectSchema(o)
	}
	var methods []any
	for _, t := range state.MethodTypes {
		methods = append(methods, objectSchema(objectDef{Doc: "A " + string(t) + " enrolment method.", Fields: methodFieldDefs(t)}))
	}
	defs["method"] = map[string]any{"description": "An enrolment method, by type.", "oneOf": methods}
	schema := map[string]any{
		"$schema":     "http://json-schema.org/draft-07/schema#",
		"$id":         "https://github.com/enrolctl/enrolctl/docs/spec.schema.json",
		"title":       "enrolctl spec file (YAML)",
		"description": "A course spec (course:) or a policy (policy:). Generated from the field table of enrolctl's spec reader (internal/spec/fields.go); do not edit by hand.",
		"oneOf":       []any{map[string]any{"$ref": "#/definitions/course"}, map[string]any{"$ref": "#/definitions/policy"}},
		"definitions": defs,
	}
	b, err := json.MarshalIndent(schema, "", "  ")
	if err != nil {
		panic(err) // maps of strings and slices always marshal
	}
	return append(b, '\n')
}

// datePattern is a day, an RFC 3339 timestamp, or never.
const datePattern = `^([0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}))?|never)$`

func objectSchema(o objectDef) map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range o.Fields {
		props[f.Name] = fieldSchema(f)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	s := map[string]any{"type": "object", "description": o.Doc, "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	if o.Short != "" {
		return map[string]any{"description": o.Doc, "anyOf": []any{map[string]any{"type": "string", "description": o.Short}, s}}
	}
	return s
}

func fieldSchema(f fieldDef) map[string]any {
	var s map[string]any
	switch f.Type {
	case boolValue:
		s = map[string]any{"type": "boolean"}
	case intValue:
		s = map[string]any{"type": "integer", "minimum": 0}
	case dateValue:
		s = map[string]any{"type": "string", "pattern": datePattern}
	case textList:
		s = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	case objectRef:
		s = map[string]any{"$ref": "#/definitions/" + f.Ref}
	case objectList:
		s = map[string]any{"type": "array", "items": map[string]any{"$ref": "#/definitions/" + f.Ref}}
	default:
		s = map[string]any{"type": "string"}
		if len(f.Enum) == 1 {
			s["const"] = f.Enum[0]
		} else if len(f.Enum) > 0 {
			s["enum"] = f.Enum
		}
	}
	if f.Doc != "" {
		if _, isRef := s["$ref"]; isRef {
			// draft-07 ignores siblings of $ref: wrap it so editors still show the doc.
			s = map[string]any{"allOf": []any{s}}
		}
		s["description"] = f.Doc
	}
	return s
}
