package cli

import (
	"fmt"

	"github.com/enrolctl/enrolctl/internal/apply"
)

// printResult reports, per course, what was applied, what failed with Moodle's error
// code, and what was not attempted.
func (a *App) printResult(res apply.Result) {
	type tally struct{ applied, failed, unknown, skipped int }
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
		case apply.Unknown:
			t.unknown++
		default:
			t.skipped++
		}
	}
	fmt.Fprintln(a.Out)
	for _, course := range order {
		t := per[course]
		if t.failed == 0 && t.unknown == 0 && t.skipped == 0 {
			fmt.Fprintf(a.Out, "course %s: %d applied\n", course, t.applied)
			continue
		}
		unknown := ""
		if t.unknown > 0 {
			unknown = fmt.Sprintf(", %d unknown", t.unknown)
		}
		fmt.Fprintf(a.Out, "course %s: %d applied, %d failed%s, %d not attempted\n", course, t.applied, t.failed, unknown, t.skipped)
		for _, r := range res.Changes {
			if r.Course != course || r.Outcome == apply.Applied {
				continue
			}
			switch r.Outcome {
			case apply.Failed:
				fmt.Fprintf(a.Out, "  failed         %s [%s]: %s\n", r.Address, r.ErrorCode, r.Error)
			case apply.Unknown:
				fmt.Fprintf(a.Out, "  unknown        %s [%s]: %s (run plan to see whether it landed)\n", r.Address, r.ErrorCode, r.Error)
			default:
				fmt.Fprintf(a.Out, "  not attempted  %s\n", r.Address)
			}
		}
	}
	applied, failed, skipped := res.Count(apply.Applied), res.Count(apply.Failed), res.Count(apply.NotAttempted)
	failed += res.Count(apply.Unknown)
	if failed == 0 && skipped == 0 {
		fmt.Fprintf(a.Out, "Apply complete: %d change(s) applied.\n", applied)
		return
	}
	if res.Interrupted {
		fmt.Fprintf(a.Out, "Apply interrupted: %d applied, %d failed, %d not attempted. Run apply again: it converges the rest.\n", applied, failed, skipped)
		return
	}
	fmt.Fprintf(a.Out, "Apply incomplete: %d applied, %d failed, %d not attempted. Fix the errors above and run apply again: it converges the rest.\n", applied, failed, skipped)
}
