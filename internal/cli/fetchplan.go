package cli

import (
	"fmt"
	"github.com/enrolctl/enrolctl/internal/redact"
	"os"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/review"
)

func (a *App) fetchPlanCommand() *cobra.Command {
	var out string
	var o review.FetchOptions
	cmd := &cobra.Command{
		Use:   "fetch-plan",
		Short: "Download the reviewed plan of the merge request merged as this commit",
		Long: `Fetch-plan runs in the apply job after a merge: it finds the merge request (GitLab)
or pull request (GitHub) that was merged as the current commit, and downloads the plan
its last pipeline saved, so that "enrolctl apply FILE" applies what the reviewers saw.

It takes the plan only from this project's pipeline for the merge request's head
commit (GitLab: the merge request's head pipeline; GitHub: an artifact whose workflow
run is of this repository, not a fork, for the pull request's head). It fails when
the commit is not the merge of a merge request (a direct push: nothing was reviewed),
when the branch moved after its last plan, when the plan job did not succeed, or when
its artifact is gone or larger than a plan can be.
Apply then refuses the plan if it was made from other specs than the commit being
applied, or if Moodle changed since (stale).

GitLab: the job artifact plan.json of the job --job (default enrolctl-plan), read with
the token in ENROLCTL_GITLAB_TOKEN. GitHub: the artifact named JOB-<pull request number>,
read with GITHUB_TOKEN (permissions: actions: read, pull-requests: read).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ci, err := review.DetectCI(a.Getenv)
			if err != nil {
				return err
			}
			got, err := review.FetchPlan(cmd.Context(), ci, a.Getenv, o)
			if err != nil {
				return err
			}
			if err := refuseNonPlan(a.path(out), out); err != nil {
				return err
			}
			if err := os.WriteFile(a.path(out), redact.Bytes(got.Plan), 0o644); err != nil {
				return fmt.Errorf("saving the plan: %w", err)
			}
			fmt.Fprintf(a.Out, "Fetched the plan reviewed on %s into %s. Apply it with: enrolctl apply %s\n", got.From, out, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "plan.json", "where to save the plan")
	cmd.Flags().StringVar(&o.Job, "job", "enrolctl-plan", "the plan job (GitLab) or artifact name prefix (GitHub)")
	cmd.Flags().StringVar(&o.TokenEnv, "token-env", "", "environment variable holding the token (default: ENROLCTL_GITLAB_TOKEN on GitLab, GITHUB_TOKEN on GitHub)")
	return cmd
}
