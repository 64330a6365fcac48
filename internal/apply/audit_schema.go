package apply

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/enrolctl/enrolctl/docs"
)

var auditSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(docs.AuditSchema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("audit.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("audit.schema.json")
})

// ValidateAuditLine checks one line of the audit record against the shipped schema
// (docs/audit.schema.json), so that what apply writes and what docs/audit.md promises
// cannot drift apart.
func ValidateAuditLine(line []byte) error {
	sch, err := auditSchema()
	if err != nil {
		return fmt.Errorf("audit schema: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}
