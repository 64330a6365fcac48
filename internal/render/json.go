package render

import (
	"io"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/planfile"
)

// JSON writes the plan document (docs/plan-format.md): exactly what `plan -out` saves.
func JSON(w io.Writer, p diff.Plan) error { return planfile.Encode(w, p) }
