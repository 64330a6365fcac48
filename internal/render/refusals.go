package render

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/diag"
)

// Refused words a refusal of apply as diagnostics, one per course where a course is at
// fault: a stale plan names each course that changed and each removal that would now
// take more than planned; refused removals give each refusal's reason and numbers.
// Another error that lists its own diagnostics gives those; any other, one made of its
// message. apply keeps its refusals as data, so their words live here only.
func Refused(err error) diag.Diagnostics {
	var stale *apply.StaleError
	var removal *apply.RemovalError
	var own interface{ Diagnostics() diag.Diagnostics }
	switch {
	case errors.As(err, &stale):
		var ds diag.Diagnostics
		for _, course := range stale.Courses {
			msg := fmt.Sprintf("stale plan: course %s changed in Moodle since the plan was made; nothing was applied: run plan again and review the new plan", course)
			var grew []string
			for _, g := range stale.Grew {
				if g.Planned.Course == course {
					grew = append(grew, fmt.Sprintf("%s now %s (planned: %s)", g.Planned.Address, RemovalText(g.Now), RemovalText(g.Planned)))
				}
			}
			if len(grew) > 0 {
				msg += " (" + strings.Join(grew, "; ") + ")"
			}
			ds = append(ds, diag.Errorf(diag.Pos{}, "%s", msg))
		}
		return ds
	case errors.As(err, &removal):
		ds := make(diag.Diagnostics, len(removal.Refusals))
		for i, r := range removal.Refusals {
			ds[i] = diag.Errorf(diag.Pos{}, "removals refused, nothing was applied: %s", RefusalText(r, removal.Limits))
		}
		return ds
	case errors.As(err, &own):
		return slices.Clone(own.Diagnostics())
	}
	return diag.Diagnostics{diag.Errorf(diag.Pos{}, "%s", err)}
}
