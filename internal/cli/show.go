package cli

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"
)

func (a *App) showCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show PLAN-FILE",
		Short: "Show a saved plan",
		Long: `Show prints a plan saved by "enrolctl plan -out FILE" as plan printed it: text
(--expand lists every change, --show-unmanaged what is left alone), markdown (the
reviewer's form), json (the plan document), terraform-report (the counts GitLab's
merge-request widget shows, artifacts:reports:terraform) or codequality (the
diagnostics as a GitLab code quality report, usernames masked). It reads the file only: neither the
configuration nor Moodle, so it works anywhere, on a plan downloaded from CI too.

Exit codes: 0 shown, 1 the file is not a plan this enrolctl reads.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(planFormats, format) {
				return fmt.Errorf("-o %s: want %s", format, formatList())
			}
			p, err := readPlanFile(a.path(args[0]))
			if err != nil {
				return err
			}
			return a.renderPlan(p, format)
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: "+formatList())
	a.planViewFlags(cmd)
	return cmd
}
