package cli

import (
	"github.com/enrolctl/enrolctl/internal/diff"
)

// reviewHeader is what the comment says above the plan about approvals and what
// apply will refuse; empty until the plan document carries them.
func reviewHeader(p diff.Plan) string {
	return ""
}
