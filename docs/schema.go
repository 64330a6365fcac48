// Package docs holds enrolctl's documentation and the JSON Schemas it ships, embedded so
// that the program validates with the very files the documentation describes.
//
// Entry points: PlanSchema (plan.schema.json, the plan document of plan-format.md),
// AuditSchema (audit.schema.json, a line of the audit record of audit.md), and
// CompiledPlanSchema and CompiledAuditSchema, each compiled once.
package docs

import (
	"bytes"
	_ "embed"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// PlanSchema is the JSON Schema of the plan document (plan-format.md).
//
//go:embed plan.schema.json
var PlanSchema []byte

// AuditSchema is the JSON Schema of one line of the audit record (audit.md).
//
//go:embed audit.schema.json
var AuditSchema []byte

// CompiledPlanSchema and CompiledAuditSchema are the schemas compiled, the first time
// they are asked for; an error is a build defect.
var (
	CompiledPlanSchema  = sync.OnceValues(func() (*jsonschema.Schema, error) { return compile("plan.schema.json", PlanSchema) })
	CompiledAuditSchema = sync.OnceValues(func() (*jsonschema.Schema, error) { return compile("audit.schema.json", AuditSchema) })
)

func compile(name string, data []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name, doc); err != nil {
		return nil, err
	}
	return c.Compile(name)
}
