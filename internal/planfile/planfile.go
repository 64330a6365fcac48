package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/enrolctl/enrolctl/docs"
	"github.com/enrolctl/enrolctl/internal/diff"
)

// document is the plan document: the plan's own fields plus the summary that the text
// form ends with (derived, and checked on reading).
type document struct {
	diff.Plan
	Summary diff.Summary `json:"summary"`
	// Signature (sign.go) is set in saved plans of sites that sign them.
	Signature string `json:"signature,omitempty"`
}

// Encode writes the plan document as indented JSON.
func Encode(w io.Writer, p diff.Plan) error { return encodeDocument(w, p, "") }

func encodeDocument(w io.Writer, p diff.Plan, signature string) error {
	if p.FormatVersion == "" {
		p.FormatVersion = diff.FormatVersion
	}
	if p.Timezone == "" {
		p.Timezone = "UTC"
	}
	if p.Changes == nil {
		p.Changes = []diff.Change{} // "changes": [] rather than null
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(document{Plan: p, Summary: p.Summary(), Signature: signature})
}

var schema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(docs.PlanSchema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("plan.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("plan.schema.json")
})

// MaxSize bounds the plans read: a site-wide plan of 60,000 enrolments is ~40 MB.
const MaxSize = 256 << 20

// Validate checks data against the plan document's JSON Schema.
func Validate(data []byte) error {
	sch, err := schema()
	if err != nil {
		return fmt.Errorf("the plan schema does not compile: %v", err) // a build defect
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			// The first line names the schema's own location; the rest say what is wrong.
			_, detail, _ := strings.Cut(ve.Error(), "\n")
			return errors.New("not a valid plan document:\n" + strings.TrimRight(detail, "\n"))
		}
		return err
	}
	return nil
}

// Decode reads a plan document: its format version first (a plan from another enrolctl
// version is refused by name), then the schema (required fields, types, closed sets of
// kinds, actions, reasons, fields, effects and refusals), then what the schema cannot
// say: every change's address is in its course, a plan with errors has no changes, and
// the summary matches the changes.
func Decode(data []byte) (diff.Plan, error) {
	if len(data) > MaxSize {
		return diff.Plan{}, fmt.Errorf("%d bytes: larger than any plan enrolctl writes", len(data))
	}
	var head struct {
		Version any `json:"format_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return diff.Plan{}, fmt.Errorf("not a plan document: %v", err)
	}
	if head.Version != diff.FormatVersion {
		return diff.Plan{}, fmt.Errorf("plan format %v; this enrolctl reads format %q: plan again with this version", jsonText(head.Version), diff.FormatVersion)
	}
	if err := Validate(data); err != nil {
		return diff.Plan{}, err
	}
	var d document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return diff.Plan{}, err
	}
	for i, c := range d.Changes {
		if !strings.HasPrefix(c.Address, "course/"+c.Course+"/") {
			return diff.Plan{}, fmt.Errorf("changes[%d]: address %s is not in course %s", i, c.Address, c.Course)
		}
	}
	if d.Diagnostics.HasErrors() && (len(d.Changes) > 0 || len(d.Unmanaged) > 0 || len(d.Drift) > 0) {
		return diff.Plan{}, fmt.Errorf("the plan has errors and changes: nothing is planned while an error stands, so the file was edited")
	}
	if got := d.Plan.Summary(); got != d.Summary {
		return diff.Plan{}, fmt.Errorf("the summary %+v does not count the changes (%+v): the file was edited", d.Summary, got)
	}
	return d.Plan, nil
}

func jsonText(v any) string {
	if v == nil {
		return "missing"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
