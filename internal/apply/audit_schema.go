package apply

import (
	"bytes"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/enrolctl/enrolctl/docs"
)

// ValidateAuditLine checks one line of the audit record against the shipped schema
// (docs/audit.schema.json), so that what apply writes and what docs/audit.md promises
// cannot drift apart.
func ValidateAuditLine(line []byte) error {
	sch, err := docs.CompiledAuditSchema()
	if err != nil {
		return fmt.Errorf("audit schema: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}
