package cli

import (
	"fmt"

	"github.com/enrolctl/enrolctl/internal/apply"
)

// printResult reports, per course, what was applied, what failed with Moodle's error
// code, and what was not attempted.
func (a *App) printResult(res apply.Result) {
	type tally struct{ applied, failed, skipped int }
	per := map[string]*tally{}
	var order []string
	for _, r := range res.Changes {
		t := per[r.Course]
		if t == nil {
			t = &tally{}
			per[r.Course] = t
			order = append(order, r.Course)
		}
		switch r.Outcome {
		case apply.Applied:
			t.applied++
		case apply.Failed:
			t.failed++
		default:
			t.skipped++
		}
	}
	fmt.Fprintln(a.Out)
	for _, course := range order {
		t := per[course]
		if t.failed == 0 && t.skipped == 0 {
			fmt.Fprintf(a.Out, "course %s: %d applied\n", course, t.applied)
			continue
		}
		fmt.Fprintf(a.Out, "course %s: %d applied, %d failed, %d not attempted\n", course, t.applied, t.failed, t.skipped)
		for _, r := range res.Changes {
			if r.Course != course || r.Outcome == apply.Applied {
				continue
			}
			if r.Outcome == apply.Failed {
				fmt.Fprintf(a.Out, "  failed         %s [%s]: %s\n", r.Address, r.ErrorCode, r.Error)
			} else {
				fmt.Fprintf(a.Out, "  not attempted  %s\n", r.Address)
			}
		}
	}
	applied, failed, skipped := res.Count(apply.Applied), res.Count(apply.Failed), res.Count(apply.NotAttempted)
	if failed == 0 && skipped == 0 {
		fmt.Fprintf(a.Out, "Apply complete: %d change(s) applied.\n", applied)
		return
	}
	fmt.Fprintf(a.Out, "Apply incomplete: %d applied, %d failed, %d not attempted. Fix the errors above and run apply again: it converges the rest.\n", applied, failed, skipped)
}
