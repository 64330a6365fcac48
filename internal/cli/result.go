package cli

import (
	"errors"
	"fmt"
	"slices"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/diag"
)

// printResult reports, per course, how many changes were applied, failed, are
// unknown or were not attempted, in counts: the changes not attempted are listed only
// with --expand (-o json has them all); the failures themselves are diagnostics
// (apply.FailureDiagnostics), printed before. An interrupted apply never says complete.
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
		if !a.expandPlan {
			continue
		}
		for _, r := range res.Changes {
			if r.Course == course && r.Outcome == apply.NotAttempted {
				fmt.Fprintf(a.Out, "  not attempted  %s\n", r.Address)
			}
		}
	}
	applied, failed, unknown, skipped := res.Count(apply.Applied), res.Count(apply.Failed), res.Count(apply.Unknown), res.Count(apply.NotAttempted)
	counts := fmt.Sprintf("%d applied, %d failed", applied, failed)
	if unknown > 0 {
		counts += fmt.Sprintf(", %d unknown", unknown)
	}
	counts += fmt.Sprintf(", %d not attempted", skipped)
	if skipped > 0 && !a.expandPlan {
		counts += " (--expand lists them)"
	}
	switch {
	case res.Interrupted:
		fmt.Fprintf(a.Out, "Apply interrupted: %s. Run apply again: it converges the rest.\n", counts)
	case failed+unknown+skipped == 0:
		fmt.Fprintf(a.Out, "Apply complete: %d change(s) applied.\n", applied)
	default:
		fmt.Fprintf(a.Out, "Apply incomplete: %s. Fix the errors reported and run apply again: it converges the rest.\n", counts)
	}
}

// applyReport is the apply report document (-o json) of a run that ended with err:
// what run collected, and err's diagnostics (a refusal's, or one of its message).
func (a *App) applyReport(run *applyRun, err error) apply.Report {
	ds := append(slices.Clone(run.warnings), run.failures...)
	status := apply.StatusNoChanges
	if run.ran {
		status = apply.StatusOf(run.res)
	}
	var de *diagnosticsError
	var ee *exitError
	switch {
	case err == nil, run.ran:
		// The outcomes say it all (an incomplete run's error is errReported).
	case errors.As(err, &de):
		status = apply.StatusFailed
		if de.refused {
			status = apply.StatusRefused
		}
		ds = append(ds, de.ds...)
	case errors.As(err, &ee) && ee.err == nil:
		status = apply.StatusFailed // already printed (the specs' diagnostics)
	default:
		status = apply.StatusFailed
		ds = append(ds, diag.Errorf(diag.Pos{}, "%s", err))
	}
	r := apply.NewReport(status, run.res, ds.WithSource(a.readFile))
	r.Site, r.Plan, r.AuditLog = run.site, run.plan, run.auditLog
	return r
}
