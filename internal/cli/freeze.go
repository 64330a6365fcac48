package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/config"
	"github.com/enrolctl/enrolctl/internal/diag"
)

// freezeFlag registers apply's --ignore-freeze REASON.
func freezeFlag(cmd *cobra.Command, reason *string) {
	cmd.Flags().StringVar(reason, "ignore-freeze", "", "apply during a freeze window of the site; the reason (required) is kept in the audit record")
}

// checkFreeze refuses an apply inside one of the site's freeze windows, naming the
// window and its end, unless --ignore-freeze gives a reason. It returns the audit
// notes to keep with the run: f's, and the override's reason.
func (a *App) checkFreeze(site *config.Site, f applyFlags, now time.Time) ([]string, error) {
	given := f.set != nil && f.set("ignore-freeze")
	reason := strings.TrimSpace(f.ignoreFreeze)
	if given && reason == "" {
		return nil, refused(fmt.Errorf("--ignore-freeze needs a reason, e.g. --ignore-freeze \"exam board decision 2027-01-12: re-enrol resit students\"; it is kept in the audit record"), "")
	}
	if site == nil {
		return f.notes, nil
	}
	w, active := site.ActiveFreeze(now)
	if !active {
		return f.notes, nil
	}
	if reason == "" {
		// At the window's line in enrolctl.yaml, which the diagnostic shows.
		return nil, &diagnosticsError{refused: true, ds: diag.Diagnostics{diag.Errorf(w.Pos,
			"apply refused: site %q is in the freeze window %q until %s; nothing was changed. Apply after it ends, or pass --ignore-freeze REASON (kept in the audit record)",
			site.Name, w.Name, w.Until)}}
	}
	warning := diag.Diagnostics{diag.Warnf(w.Pos, "applying during the freeze window %q (until %s): %s", w.Name, w.Until, reason)}
	if f.run != nil {
		f.run.warnings = append(f.run.warnings, warning...)
	}
	a.printDiagnostics(warning)
	return append(f.notes, fmt.Sprintf("freeze window %q (until %s) ignored: %s", w.Name, w.Until, reason)), nil
}
