package planfile

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"

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
	doc, err := parse(data)
	if err != nil {
		return err
	}
	return validate(doc)
}

// parse reads data as generic JSON, numbers as written: the one parse of a plan file,
// which the version check, the schema, the signature's canonical form and the
// document's types all read.
func parse(data []byte) (any, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a plan document: %v", err)
	}
	return doc, nil
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

// Saved is a plan file read and validated: its plan, and what its signature covers.
type Saved struct {
	Plan diff.Plan

	canon     []byte // the canonical form (sign.go), when the file has a signature
	signature string
}

// Decode is the plan of the document data holds (Read).
func Decode(data []byte) (diff.Plan, error) {
	s, err := Read(data)
	if err != nil {
		return diff.Plan{}, err
	}
	return s.Plan, nil
}

// Read reads a plan document and validates it whole, once, before anything acts on
// it: its format version first (a plan from another enrolctl version is refused by
// name), then the schema (required fields, types, closed sets of kinds, actions,
// reasons, fields, effects and refusals), then what the schema cannot say (check).
// The file is parsed once, as generic JSON: the document's types are filled from that
// tree (fill), and the signature's canonical form is written from it.
func Read(data []byte) (*Saved, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%d bytes: larger than any plan enrolctl writes", len(data))
	}
	inst, err := parse(data)
	if err != nil {
		return nil, err
	}
	obj, ok := inst.(map[string]any)
	if !ok {
		return nil, errors.New("not a plan document: not a JSON object")
	}
	if v := obj["format_version"]; v != diff.FormatVersion {
		return nil, fmt.Errorf("plan format %v; this enrolctl reads format %q: plan again with this version", jsonText(v), diff.FormatVersion)
	}
	if err := validate(obj); err != nil {
		return nil, err
	}
	d, err := fill(obj)
	if err != nil {
		return nil, err
	}
	p, err := d.plan()
	if err != nil {
		return nil, err
	}
	if err := check(p, d.Summary); err != nil {
		return nil, err
	}
	s := &Saved{Plan: p}
	if signature, _ := obj["signature"].(string); signature != "" {
		// Written only for a signed file: tens of megabytes for a site-wide plan.
		if s.canon, s.signature, err = canonicalOf(obj); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// fill sets a Document from the parsed, validated document, as encoding/json would set
// it from the bytes: members matched to the json tags exactly, numbers converted as
// written (an integer field refuses 1.5), a type with its own JSON or text form (a
// field's old and new values, which stay JSON; a diagnostic's severity) handed its
// value. The schema has checked every member and type already: what fill refuses is a
// defect of either. (mapstructure does this too, eight times slower and with twice the
// allocations on a 60,000-change plan: longer than the parse it saves.)
func fill(obj map[string]any) (Document, error) {
	var d Document
	if err := fillValue(reflect.ValueOf(&d).Elem(), obj); err != nil {
		return Document{}, fmt.Errorf("not a plan document: %v", err)
	}
	return d, nil
}

func fillValue(v reflect.Value, x any) error {
	t := v.Type()
	if x == nil {
		return nil // null leaves the zero value, as encoding/json does
	}
	if p := reflect.PointerTo(t); p.Implements(jsonUnmarshaler) || p.Implements(textUnmarshaler) {
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, v.Addr().Interface())
	}
	wrong := func() error { return fmt.Errorf("%T where the document has %s", x, t) }
	switch t.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(t.Elem()))
		return fillValue(v.Elem(), x)
	case reflect.Struct:
		obj, ok := x.(map[string]any)
		if !ok {
			return wrong()
		}
		fields := fieldsOf(t)
		for name, member := range obj {
			i, ok := fields[name]
			if !ok {
				return fmt.Errorf("unknown member %q in %s", name, t)
			}
			if err := fillValue(v.Field(i), member); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	case reflect.Slice:
		arr, ok := x.([]any)
		if !ok {
			return wrong()
		}
		v.Set(reflect.MakeSlice(t, len(arr), len(arr)))
		for i, item := range arr {
			if err := fillValue(v.Index(i), item); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case reflect.Map:
		obj, ok := x.(map[string]any)
		if !ok || t.Key().Kind() != reflect.String {
			return wrong()
		}
		v.Set(reflect.MakeMapWithSize(t, len(obj)))
		for k, member := range obj {
			e := reflect.New(t.Elem()).Elem()
			if err := fillValue(e, member); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			v.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), e)
		}
	case reflect.String:
		s, ok := x.(string)
		if !ok {
			return wrong()
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := x.(bool)
		if !ok {
			return wrong()
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, ok := x.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil {
			return wrong()
		}
		v.SetInt(i)
	case reflect.Float64:
		n, ok := x.(json.Number)
		f, err := n.Float64()
		if !ok || err != nil {
			return wrong()
		}
		v.SetFloat(f)
	default:
		return wrong()
	}
	return nil
}

// fields maps each document type's json member names to its fields' indexes.
var fields sync.Map // reflect.Type → map[string]int

func fieldsOf(t reflect.Type) map[string]int {
	if m, ok := fields.Load(t); ok {
		return m.(map[string]int)
	}
	m := map[string]int{}
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			m[name] = i
		}
	}
	fields.Store(t, m)
	return m
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

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
