package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/enrolctl/enrolctl/docs"
	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
)

// Encode writes the plan document as indented JSON.
func Encode(w io.Writer, p diff.Plan) error {
	d, err := toDocument(p)
	if err != nil {
		return err
	}
	return encodeDocument(w, d)
}

func encodeDocument(w io.Writer, d Document) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// MaxSize bounds the plans read: a site-wide plan of 60,000 enrolments is ~40 MB.
const MaxSize = 256 << 20

// Validate checks data against the plan document's JSON Schema.
func Validate(data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	return validate(inst)
}

// validate checks a parsed document against the schema.
func validate(inst any) error {
	sch, err := docs.CompiledPlanSchema()
	if err != nil {
		return fmt.Errorf("the plan schema does not compile: %v", err) // a build defect
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

// Decode reads a plan document and validates it whole, once, before anything acts on
// it: its format version first (a plan from another enrolctl version is refused by
// name), then the schema (required fields, types, closed sets of kinds, actions,
// reasons, fields, effects and refusals), then what the schema cannot say (check).
// The file is parsed twice: as generic JSON for the version and the schema, then
// into the document's types.
func Decode(data []byte) (diff.Plan, error) {
	if len(data) > MaxSize {
		return diff.Plan{}, fmt.Errorf("%d bytes: larger than any plan enrolctl writes", len(data))
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return diff.Plan{}, fmt.Errorf("not a plan document: %v", err)
	}
	obj, ok := inst.(map[string]any)
	if !ok {
		return diff.Plan{}, errors.New("not a plan document: not a JSON object")
	}
	if v := obj["format_version"]; v != diff.FormatVersion {
		return diff.Plan{}, fmt.Errorf("plan format %v; this enrolctl reads format %q: plan again with this version", jsonText(v), diff.FormatVersion)
	}
	if err := validate(inst); err != nil {
		return diff.Plan{}, err
	}
	var d Document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return diff.Plan{}, err
	}
	p, err := d.plan()
	if err != nil {
		return diff.Plan{}, err
	}
	if err := check(p, d.Summary); err != nil {
		return diff.Plan{}, err
	}
	return p, nil
}

// InvalidPlanError lists what is wrong with a plan file beyond its schema.
type InvalidPlanError struct{ Problems []string }

func (e *InvalidPlanError) Error() string {
	const show = 10
	msg := "the plan file is not a valid enrolctl plan; nothing was applied:\n  " + strings.Join(e.Problems[:min(show, len(e.Problems))], "\n  ")
	if n := len(e.Problems) - show; n > 0 {
		msg += fmt.Sprintf("\n  and %d more", n)
	}
	return msg
}

// Diagnostics gives each problem of the file.
func (e *InvalidPlanError) Diagnostics() diag.Diagnostics {
	ds := make(diag.Diagnostics, len(e.Problems))
	for i, p := range e.Problems {
		ds[i] = diag.Errorf(diag.Pos{}, "not a valid enrolctl plan, nothing was applied: %s", p)
	}
	return ds
}

// check is what the schema cannot say about a plan: every change is a create, update
// or delete of exactly the object its kind names, at an address in its course; every
// course changed has the fingerprint apply's staleness check needs; a plan with errors
// has no changes; the summary counts the changes. It is the one validator of a plan
// file: apply trusts a decoded plan's shape and never its content (apply.VerifySaved).
func check(p diff.Plan, summary Summary) error {
	var probs []string
	for i, c := range p.Changes {
		bad := func(format string, args ...any) {
			probs = append(probs, fmt.Sprintf("change %d (%s): %s", i+1, c.Address, fmt.Sprintf(format, args...)))
		}
		if c.Action == diff.NoOp {
			bad("unknown action %q", c.Action)
		}
		if !strings.HasPrefix(c.Address, "course/"+c.Course+"/") {
			bad("the address is not in course %s", c.Course)
		}
		objects := 0
		for _, set := range []bool{c.Method != nil, c.Enrolment != nil, c.Group != nil, c.Member != nil} {
			if set {
				objects++
			}
		}
		var has bool
		switch c.Kind {
		case diff.KindGroup:
			has = c.Group != nil
		case diff.KindMethod:
			has = c.Method != nil
		case diff.KindEnrolment:
			has = c.Enrolment != nil
		case diff.KindMember:
			has = c.Member != nil && c.GroupName != ""
		}
		if !has || objects != 1 {
			bad("a %s change needs its %s, and nothing else", c.Kind, c.Kind)
		}
	}
	for _, course := range p.Courses() {
		if _, ok := p.Fingerprints[course]; !ok {
			probs = append(probs, fmt.Sprintf("course %s: no fingerprint (enrolctl plan -out records one for every course a plan changes)", course))
		}
	}
	if p.Diagnostics.HasErrors() && (len(p.Changes) > 0 || len(p.Unmanaged) > 0 || len(p.Drift) > 0) {
		probs = append(probs, "the plan has errors and changes: nothing is planned while an error stands, so the file was edited")
	}
	if got := Summary(p.Summary()); got != summary {
		probs = append(probs, fmt.Sprintf("the summary %+v does not count the changes (%+v): the file was edited", summary, got))
	}
	if len(probs) > 0 {
		return &InvalidPlanError{Problems: probs}
	}
	return nil
}

func jsonText(v any) string {
	if v == nil {
		return "missing"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
