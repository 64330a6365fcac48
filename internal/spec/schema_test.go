package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/enrolctl/enrolctl/internal/golden"
	"github.com/enrolctl/enrolctl/internal/state"
)

// The shipped schema is exactly what the generator makes from the reader's field table
// (go test ./internal/spec -update rewrites it).
func TestShippedSchema(t *testing.T) {
	golden.Check(t, filepath.Join("..", "..", "docs", "spec.schema.json"), SchemaJSON())
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaJSON()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("spec.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("spec.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// validateYAML checks one YAML document against the schema.
func validateYAML(t *testing.T, sch *jsonschema.Schema, src []byte) error {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%v (a YAML value JSON cannot hold)", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return sch.Validate(inst)
}

// Every example spec the reader accepts, the schema accepts too.
func TestSchemaAcceptsValidSpecs(t *testing.T) {
	sch := compileSchema(t)
	files, _ := filepath.Glob("testdata/site/*/*.y*ml")
	more, _ := filepath.Glob("testdata/same/yaml/*.yaml")
	files = append(files, more...)
	if len(files) < 3 {
		t.Fatalf("found %d example specs", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if set := LoadBytes(f, src, Options{Roles: []string{"tutor"}}); set.Diagnostics.HasErrors() {
			t.Fatalf("%s: the example has errors: %v", f, set.Diagnostics)
		}
		if err := validateYAML(t, sch, src); err != nil {
			t.Errorf("%s: the reader accepts it, the schema does not:\n%v", f, err)
		}
	}
}

// sample writes a YAML value for a field, from its definition.
func sample(f fieldDef, depth int) any {
	switch f.Type {
	case boolValue:
		return f.Name != "absent"
	case intValue:
		return 30
	case dateValue:
		return "2027-06-30"
	case textList:
		return []any{"TP1"}
	case objectRef:
		return sampleObject(specObjects[f.Ref].Fields, depth+1)
	case objectList:
		if f.Ref == "method" {
			var out []any
			for _, t := range state.MethodTypes {
				out = append(out, sampleObject(methodFieldDefs(t), depth+1))
			}
			return out
		}
		return []any{sampleObject(specObjects[f.Ref].Fields, depth+1)}
	}
	switch {
	case len(f.Enum) > 0:
		return f.Enum[len(f.Enum)-1]
	case f.Name == "role":
		return "student"
	case f.Name == "method":
		return "manual"
	}
	return "x-" + f.Name
}

func sampleObject(fields []fieldDef, depth int) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		out[f.Name] = sample(f, depth)
	}
	return out
}

// The reader and the schema know the same fields: a document holding every field of
// every object in the table reads without an "unknown field", and validates; one more
// field is refused by both.
func TestReaderAndSchemaKnowTheSameFields(t *testing.T) {
	sch := compileSchema(t)
	for _, kind := range []string{"course", "policy"} {
		t.Run(kind, func(t *testing.T) {
			doc := sampleObject(specObjects[kind].Fields, 0)
			src, err := yaml.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			set := LoadBytes("s.yaml", src, Options{})
			for _, d := range set.Diagnostics {
				if strings.Contains(d.Message, "unknown field") {
					t.Errorf("the reader refuses a field of the table: %v\n%s", d, src)
				}
			}
			if err := validateYAML(t, sch, src); err != nil {
				t.Errorf("the schema refuses the table's fields: %v\n%s", err, src)
			}
			for _, obj := range []map[string]any{doc, doc["manual"].(map[string]any), doc["groups"].([]any)[0].(map[string]any)} {
				obj["zzz_extra"] = true
				src, _ := yaml.Marshal(doc)
				set := LoadBytes("s.yaml", src, Options{})
				if !strings.Contains(set.Diagnostics.Error(), `unknown field "zzz_extra"`) {
					t.Errorf("the reader accepts a field the table lacks:\n%s", src)
				}
				if validateYAML(t, sch, src) == nil {
					t.Errorf("the schema accepts a field the table lacks:\n%s", src)
				}
				delete(obj, "zzz_extra")
			}
		})
	}
}

// The documentation tells editors where the schema is.
func TestDocsNameTheSchema(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "spec.md"))
	if err != nil {
		t.Fatal(err)
	}
	const modeline = "# yaml-language-server: $schema="
	if !strings.Contains(string(b), modeline) || !strings.Contains(string(b), "spec.schema.json") {
		t.Error(fmt.Sprintf("docs/spec.md does not show the %sspec.schema.json line", modeline))
	}
}
