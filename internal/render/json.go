package render

import (
	"encoding/json"
	"io"

	"github.com/enrolctl/enrolctl/internal/diff"
)

// jsonPlan is the JSON form: the plan's own fields (format_version first) plus the
// summary the text form ends with.
type jsonPlan struct {
	diff.Plan
	Summary diff.Summary `json:"summary"`
}

// JSON writes the plan as indented JSON, with its format_version and summary. Decoding
// it into a diff.Plan gives the plan back (apply reads saved plans this way).
func JSON(w io.Writer, p diff.Plan) error {
	if p.FormatVersion == "" {
		p.FormatVersion = diff.FormatVersion
	}
	if p.Changes == nil {
		p.Changes = []diff.Change{} // "changes": [] rather than null
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(jsonPlan{Plan: p, Summary: p.Summary()})
}
