package planfile

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// samplePlan has one of everything the document holds.
func samplePlan() diff.Plan {
	desired := state.Snapshot{Courses: []state.Course{{
		Shortname: "C", Options: state.Options{ManualPrune: state.PruneUnenrol, Protect: true},
		Methods: []state.Method{{Type: state.Manual, Enabled: true}, {Type: state.Cohort, Cohort: "K", Role: "student", Group: "G", Enabled: true}},
		Enrolments: []state.Enrolment{
			{Username: "u1", Roles: []string{"student"}, End: 1814392800},
		},
	}}}
	observed := state.Snapshot{
		Directory: state.Directory{Users: map[string]int64{"u1": 1, "u2": 2}, Cohorts: map[string]state.CohortInfo{"K": {ID: 1}}},
		Courses: []state.Course{{Shortname: "C", ID: 1,
			Methods:    []state.Method{{Type: state.Manual, Enabled: true, ID: 1}, {Type: state.Database, Enabled: true, ID: 2}},
			Enrolments: []state.Enrolment{{Username: "u1", Method: "manual", Roles: []string{"student"}, End: 1782856800, UserID: 1}, {Username: "u2", Method: "manual", Roles: []string{"student"}, UserID: 2}, {Username: "u2", Method: "database", UserID: 2}},
		}},
	}
	p := diff.Compute(desired, observed)
	p.Site, p.Commit, p.Dirty, p.CreatedAt = "prod", "4f9c2e1", true, "2026-11-30T02:00:00Z"
	p.Diagnostics = diag.Diagnostics{diag.Warnf(diag.Pos{File: "specs/c.yaml", Line: 3, Col: 5}, "a warning").WithSuggestion("x")}
	return p
}

func encode(t *testing.T, p diff.Plan) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	p := samplePlan()
	if len(p.Changes) < 3 || len(p.Unmanaged) == 0 || len(p.Refusals) == 0 || len(p.Fingerprints) == 0 {
		t.Fatalf("the sample lacks something the document holds: %+v", p)
	}
	data := encode(t, p)
	back, err := Decode(data)
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, data)
	}
	// Sources of state objects are not serialised (json:"-"); the change keeps its own.
	if d := cmp.Diff(p, back, cmp.FilterPath(func(path cmp.Path) bool {
		return path.Last().String() == ".Source" && path.Index(-2).Type().String() != "diff.Change"
	}, cmp.Ignore())); d != "" {
		t.Errorf("round trip (-plan +decoded):\n%s", d)
	}
}

// edit decodes the sample's JSON into a generic value, changes it, and encodes it again.
func edit(t *testing.T, f func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(encode(t, samplePlan()), &doc); err != nil {
		t.Fatal(err)
	}
	f(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func change(doc map[string]any, i int) map[string]any {
	return doc["changes"].([]any)[i].(map[string]any)
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not JSON", []byte("plan: yes"), "not a plan document"},
		{"empty", nil, "not a plan document"},
		{"not an object", []byte(`["format_version", "2"]`), "not a plan document: not a JSON object"},
		{"trailing data", append(encode(t, samplePlan()), `{}`...), "not a plan document"},
		{"old version", edit(t, func(d map[string]any) { d["format_version"] = "1" }), `plan format "1"; this enrolctl reads format "2"`},
		{"no version", edit(t, func(d map[string]any) { delete(d, "format_version") }), "plan format missing"},
		{"missing changes", edit(t, func(d map[string]any) { delete(d, "changes") }), "missing property 'changes'"},
		{"unknown action", edit(t, func(d map[string]any) { change(d, 0)["action"] = "replace" }), "/changes/0/action"},
		{"unknown reason", edit(t, func(d map[string]any) {
			for _, c := range d["changes"].([]any) {
				if r, ok := c.(map[string]any)["reason"].(map[string]any); ok {
					r["code"] = "because"
				}
			}
		}), "/reason/code"},
		{"method change without its method", edit(t, func(d map[string]any) {
			for _, c := range d["changes"].([]any) {
				if c.(map[string]any)["kind"] == "method" {
					delete(c.(map[string]any), "method")
				}
			}
		}), "missing property 'method'"},
		{"value of the wrong type", edit(t, func(d map[string]any) {
			for _, c := range d["changes"].([]any) {
				fields, _ := c.(map[string]any)["fields"].([]any)
				for _, f := range fields {
					if f.(map[string]any)["field"] == "end" {
						f.(map[string]any)["new"] = "2027-06-30"
					}
				}
			}
		}), "/new"},
		{"unknown top-level field", edit(t, func(d map[string]any) { d["apply_anyway"] = true }), "apply_anyway"},
		{"bad approval", edit(t, func(d map[string]any) { d["approvals"] = map[string]any{"removals": "yes"} }), "/approvals/removals"},
		{"bad refusal code", edit(t, func(d map[string]any) { d["refusals"].([]any)[0].(map[string]any)["code"] = "maybe" }), "/refusals/0/code"},
		{"bad severity", edit(t, func(d map[string]any) { d["diagnostics"].([]any)[0].(map[string]any)["severity"] = "info" }), "/diagnostics/0/severity"},
		{"address in another course", edit(t, func(d map[string]any) { change(d, 0)["address"] = "course/OTHER/method/manual" }), "is not in course C"},
		{"errors with changes", edit(t, func(d map[string]any) { d["diagnostics"].([]any)[0].(map[string]any)["severity"] = "error" }), "the plan has errors and changes"},
		{"no fingerprint", edit(t, func(d map[string]any) { delete(d, "fingerprints") }), "course C: no fingerprint"},
		{"a no-op change", edit(t, func(d map[string]any) { change(d, 0)["action"] = "no-op" }), `unknown action "no-op"`},
		{"a method change with an enrolment too", edit(t, func(d map[string]any) {
			for _, c := range d["changes"].([]any) {
				if c.(map[string]any)["kind"] == "method" {
					c.(map[string]any)["enrolment"] = map[string]any{"username": "admin", "method": "manual"}
				}
			}
		}), "a method change needs its method, and nothing else"},
		{"summary that does not count the changes", edit(t, func(d map[string]any) { d["summary"].(map[string]any)["remove"] = 0.0 }), "does not count the changes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// compact compares JSON values whatever their spacing.
var compact = cmp.FilterValues(func(a, b json.RawMessage) bool { return len(a) > 0 && len(b) > 0 },
	cmp.Comparer(func(a, b json.RawMessage) bool {
		var ca, cb bytes.Buffer
		return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
	}))

// FuzzDecode: whatever the bytes, Decode does not panic; what it accepts is the
// Document encoding/json reads from the bytes, and encodes to a document it accepts
// again, equal to the first, whose Document is the plan's.
func FuzzDecode(f *testing.F) {
	var b bytes.Buffer
	if err := Encode(&b, samplePlan()); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`{"format_version":"2"}`))
	f.Add([]byte(`{"format_version":"2","timezone":"UTC","changes":[{"address":"course/C/x","course":"C","kind":"method","action":"create","method":{"type":"x","enabled":true}}],"limits":{"max_removals":1,"max_share":0,"max_site_removals":1},"approvals":{"removals":false},"summary":{"add":1,"change":0,"remove":0,"unmanaged":0}}`))
	goldens, _ := filepath.Glob(filepath.Join("..", "render", "testdata", "*.json.golden"))
	for _, g := range goldens {
		data, err := os.ReadFile(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode(data)
		if err != nil {
			return
		}
		// The document is filled from the parsed tree as encoding/json fills it from
		// the bytes (a field's JSON values compared compact). A member written twice is
		// read once, the last, as the schema and the signature read it: encoding/json
		// reads both, and refuses a first one of the wrong type.
		tree, _ := parse(data)
		viaTree, err := fill(tree.(map[string]any))
		if err != nil {
			t.Fatal(err)
		}
		if viaJSON := (Document{}); json.Unmarshal(data, &viaJSON) == nil && !cmp.Equal(viaJSON, viaTree, compact) {
			t.Fatalf("filled from the tree, the document differs:\n%s", cmp.Diff(viaJSON, viaTree, compact))
		}
		var again bytes.Buffer
		if err := Encode(&again, p); err != nil {
			t.Fatalf("an accepted plan does not encode: %v", err)
		}
		q, err := Decode(again.Bytes())
		if err != nil {
			t.Fatalf("a re-encoded plan is refused: %v\n%s", err, again.Bytes())
		}
		// An empty list and an absent one are the same plan: the encoder omits both.
		if !cmp.Equal(p, q, cmpopts.EquateEmpty()) {
			t.Fatalf("re-encoding changed the plan:\n%s", cmp.Diff(p, q, cmpopts.EquateEmpty()))
		}
		// The document read back is the document of the plan: the conversions agree.
		var d Document
		if err := json.Unmarshal(again.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		want, err := toDocument(q)
		if err != nil {
			t.Fatal(err)
		}
		if !cmp.Equal(want, d, cmpopts.EquateEmpty(), compact) {
			t.Fatalf("the document read differs from the plan's:\n%s", cmp.Diff(want, d, cmpopts.EquateEmpty(), compact))
		}
	})
}

// The document's own types round-trip through JSON unchanged, and so does the plan
// they carry: document → JSON → document, and document → plan → document.
func TestDocumentRoundTrip(t *testing.T) {
	d, err := toDocument(samplePlan())
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back Document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, back); diff != "" {
		t.Errorf("document → JSON → document (-before +after):\n%s", diff)
	}
	p, err := back.plan()
	if err != nil {
		t.Fatal(err)
	}
	again, err := toDocument(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, again); diff != "" {
		t.Errorf("document → plan → document (-before +after):\n%s", diff)
	}
}

// Plan documents written before the document had its own types (the render golden
// files) still decode, and encode again to the same bytes.
func TestEarlierDocumentsStillRead(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "render", "testdata", "*.json.golden"))
	if len(files) == 0 {
		t.Fatal("no plan documents in ../render/testdata")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Decode(data)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if again := encode(t, p); !bytes.Equal(again, data) {
			t.Errorf("%s encodes to other bytes:\n%s", f, cmp.Diff(string(data), string(again)))
		}
	}
}

// A change's source is written as file:line:col and read back as the same position.
func TestParseSource(t *testing.T) {
	tests := map[string]state.Source{
		"specs/a.yaml:7:14":   {File: "specs/a.yaml", Line: 7, Col: 14},
		"specs/a.yaml":        {File: "specs/a.yaml"},
		`C:\specs\a.yaml:3:5`: {File: `C:\specs\a.yaml`, Line: 3, Col: 5},
		"a.yaml:x:5":          {File: "a.yaml:x:5"},
		"":                    {},
	}
	for in, want := range tests {
		if got := parseSource(in); got != want {
			t.Errorf("parseSource(%q) = %+v, want %+v", in, got, want)
		}
		if in != "" && want.Line > 0 && diag.Pos(want).String() != in {
			t.Errorf("%+v written as %q, want %q", want, diag.Pos(want).String(), in)
		}
	}
}
