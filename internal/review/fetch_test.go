package review

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/review/reviewtest"
)

func TestFetchPlan(t *testing.T) {
	plan := []byte(`{"format_version": "x", "changes": []}` + "\n")
	for _, tt := range []struct {
		name  string
		start func(string) *reviewtest.Server
		ci    func(*reviewtest.Server) CI
		env   string
		from  string
	}{
		{"gitlab", reviewtest.NewGitLab, gitLabCI, GitLabTokenEnv, "job 202 of pipeline 101 (merge request !7)"},
		{"github", reviewtest.NewGitHub, gitHubCI, GitHubTokenEnv, "artifact enrolctl-plan-7 (id 300, pull request #7)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.start(testToken)
			defer srv.Close()
			srv.SetReviewedPlan("merge-sha", plan, "success")
			ci := tt.ci(srv)
			ci.MergeRequest = 0 // the apply job runs on the default branch
			getenv := env(map[string]string{tt.env: testToken})
			ctx := context.Background()

			ci.Commit = "merge-sha"
			got, err := FetchPlan(ctx, ci, getenv, FetchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Plan) != string(plan) || got.MergeRequest != 7 || got.From != tt.from {
				t.Errorf("fetched %q from %q (MR %d)", got.Plan, got.From, got.MergeRequest)
			}

			// A commit pushed straight to the branch: no reviewed plan.
			ci.Commit = "pushed-sha"
			if _, err := FetchPlan(ctx, ci, getenv, FetchOptions{}); !errors.Is(err, ErrNoReviewedPlan) || !strings.Contains(err.Error(), "not the merge of a") {
				t.Errorf("direct push: %v", err)
			}

			// A wrong token: refused, not shown.
			ci.Commit = "merge-sha"
			_, err = FetchPlan(ctx, ci, env(map[string]string{tt.env: "nope-token"}), FetchOptions{})
			if !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), "nope-token") {
				t.Errorf("wrong token: %v", err)
			}
		})
	}
}

// On GitLab, a merge request whose last plan job failed has no reviewed plan, even if
// an older pipeline had one.
func TestFetchPlanFailedJob(t *testing.T) {
	srv := reviewtest.NewGitLab(testToken)
	defer srv.Close()
	srv.SetReviewedPlan("merge-sha", []byte("{}"), "failed")
	ci := gitLabCI(srv)
	ci.Commit = "merge-sha"
	_, err := FetchPlan(context.Background(), ci, env(map[string]string{GitLabTokenEnv: testToken}), FetchOptions{})
	if !errors.Is(err, ErrNoReviewedPlan) || !strings.Contains(err.Error(), "did not succeed (status failed)") {
		t.Errorf("failed plan job: %v", err)
	}
}

// A GitLab merged-results pipeline runs at a temporary merge commit, on the merge ref:
// as the merge request's head pipeline, its plan is the reviewed one.
func TestFetchPlanMergedResultsPipeline(t *testing.T) {
	srv := reviewtest.NewGitLab(testToken)
	defer srv.Close()
	srv.SetReviewedPlan("merge-sha", []byte("{}"), "success")
	srv.SetMergedResults()
	ci := gitLabCI(srv)
	ci.Commit = "merge-sha"
	got, err := FetchPlan(context.Background(), ci, env(map[string]string{GitLabTokenEnv: testToken}), FetchOptions{})
	if err != nil || string(got.Plan) != "{}" {
		t.Fatalf("merged-results pipeline: %q, %v", got.Plan, err)
	}
}
