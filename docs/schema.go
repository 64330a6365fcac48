// Package docs holds enrolctl's documentation and the JSON Schemas it ships, embedded so
// that the program validates with the very files the documentation describes.
//
// Entry points: PlanSchema (plan.schema.json, the plan document of plan-format.md),
// AuditSchema (audit.schema.json, a line of the audit record of audit.md).
package docs

import _ "embed"

// PlanSchema is the JSON Schema of the plan document (plan-format.md).
//
//go:embed plan.schema.json
var PlanSchema []byte

// AuditSchema is the JSON Schema of one line of the audit record (audit.md).
//
//go:embed audit.schema.json
var AuditSchema []byte
