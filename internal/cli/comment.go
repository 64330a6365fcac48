package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/review"
)

func (a *App) commentCommand() *cobra.Command {
	var tokenEnv string
	var print, showUnmanaged bool
	cmd := &cobra.Command{
		Use:   "comment PLAN-FILE",
		Short: "Post a saved plan on the current merge request, or update the comment already there",
		Long: `Comment posts the plan saved by "enrolctl plan -out" on the merge request (GitLab)
or pull request (GitHub) the CI job runs for, and on later pushes edits that same
comment: one comment per site, found again by a hidden marker.

GitLab: the CI_* variables say where; the token is a project or group access token
with the api scope in ENROLCTL_GITLAB_TOKEN (CI_JOB_TOKEN cannot write notes).
GitHub: the GITHUB_* variables and the event file say where; the token is the
workflow's GITHUB_TOKEN (permissions: pull-requests: write).

A plan longer than the platform allows (GitHub 65,536 characters, GitLab 1,000,000)
is summarised as counts per course and kind, with a link to the job's artifacts.
Usernames are masked unless the site sets mask_usernames: false. With --print the
comment is written to standard output instead of being posted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := readPlanFile(a.path(args[0]))
			if err != nil {
				return err
			}
			if a.siteName == "" && p.Site != "" {
				a.siteName = p.Site
			}
			site, err := a.loadConfig()
			if err != nil {
				return err
			}
			ci, err := review.DetectCI(a.Getenv)
			if err != nil {
				return err
			}
			opts := review.PostOptions{TokenEnv: tokenEnv, BodyOptions: review.BodyOptions{
				Site: site.Name, MaskUsernames: site.MaskUsernames, Limit: ci.Platform.Limit(),
				ArtifactsURL: ci.ArtifactsURL, Header: reviewHeader(site, time.Now()), ShowUnmanaged: showUnmanaged,
			}}
			if print {
				body, err := review.CommentBody(p, opts.BodyOptions)
				if err != nil {
					return err
				}
				fmt.Fprint(a.Out, body)
				return nil
			}
			res, err := review.Post(cmd.Context(), ci, a.Getenv, p, opts)
			if err != nil {
				return err
			}
			verb := "Updated"
			switch {
			case res.Created:
				verb = "Posted"
			case res.Unchanged:
				verb = "Kept (unchanged)"
			}
			where := fmt.Sprintf("merge request %d", ci.MergeRequest)
			if ci.MergeRequestURL != "" {
				where = ci.MergeRequestURL
			}
			for _, h := range res.Hijacked {
				fmt.Fprintf(a.Err, "Warning: comment %d, by %q, starts with the marker of site %s but was not written by the token's account: left alone; the plan is in comment %d, which names it.\n",
					h.ID, h.Author, site.Name, res.Comment.ID)
			}
			fmt.Fprintf(a.Out, "%s the plan of site %s on %s (comment %d).\n", verb, site.Name, where, res.Comment.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&tokenEnv, "token-env", "", "environment variable holding the token (default: ENROLCTL_GITLAB_TOKEN on GitLab, GITHUB_TOKEN on GitHub)")
	cmd.Flags().BoolVar(&showUnmanaged, "show-unmanaged", false, "list the objects left alone instead of counting them")
	cmd.Flags().BoolVar(&print, "print", false, "write the comment to standard output instead of posting it")
	return cmd
}
