package review

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/enrolctl/enrolctl/internal/diff"
)

// ErrNoMergeRequest is returned by Post outside a merge request pipeline.
var ErrNoMergeRequest = errors.New("not a merge request pipeline")

// PostOptions tune Post.
type PostOptions struct {
	BodyOptions
	// TokenEnv overrides the environment variable the token is read from
	// (ENROLCTL_GITLAB_TOKEN on GitLab, GITHUB_TOKEN on GitHub).
	TokenEnv   string
	HTTPClient *http.Client
	// Timeout bounds each request (default defaultTimeout).
	Timeout time.Duration
}

// newCommenter returns the comment API of the merge request ci describes, with the
// token read from the environment.
func newCommenter(ci CI, getenv func(string) string, o PostOptions) (Commenter, error) {
	if ci.MergeRequest == 0 {
		switch ci.Platform {
		case GitLab:
			return nil, fmt.Errorf("%w: CI_MERGE_REQUEST_IID is not set (run the job with rules: if: $CI_PIPELINE_SOURCE == \"merge_request_event\")", ErrNoMergeRequest)
		case GitHub:
			return nil, fmt.Errorf("%w: the event is not a pull_request (GITHUB_EVENT_PATH has no pull_request.number)", ErrNoMergeRequest)
		default:
			return nil, fmt.Errorf("%w: no GitLab CI (GITLAB_CI) nor GitHub Actions (GITHUB_ACTIONS) variables found", ErrNoMergeRequest)
		}
	}
	tokenEnv := ci.Platform.tokenEnv(o.TokenEnv)
	token := strings.TrimSpace(getenv(tokenEnv))
	if token == "" {
		return nil, fmt.Errorf("the environment variable %s is empty or not set; it must hold the token that comments on merge requests (see docs/ci.md)", tokenEnv)
	}
	if ci.APIURL == "" || ci.Project == "" {
		return nil, fmt.Errorf("the CI variables do not say which project this is (CI_API_V4_URL and CI_PROJECT_ID, or GITHUB_REPOSITORY)")
	}
	if ci.Platform == GitLab {
		return NewGitLab(o.HTTPClient, ci.APIURL, ci.Project, ci.MergeRequest, token, tokenEnv, o.Timeout), nil
	}
	return NewGitHub(o.HTTPClient, ci.APIURL, ci.Project, ci.MergeRequest, token, tokenEnv, o.Timeout), nil
}

// Post renders the plan for ci's platform and creates or updates the site's comment on
// the merge request.
func Post(ctx context.Context, ci CI, getenv func(string) string, p diff.Plan, o PostOptions) (Result, error) {
	c, err := newCommenter(ci, getenv, o)
	if err != nil {
		return Result{}, err
	}
	bo := o.BodyOptions
	bo.Limit = cmp.Or(bo.Limit, ci.Platform.Limit())
	bo.ArtifactsURL = cmp.Or(bo.ArtifactsURL, ci.ArtifactsURL)
	body, err := CommentBody(p, bo)
	if err != nil {
		return Result{}, err
	}
	res, err := Upsert(ctx, c, Marker(bo.Site), body)
	if !isTooLong(err) {
		return res, err
	}
	// The platform's limit is lower than documented (an instance setting, a proxy):
	// post the summary, within a quarter of what was refused, rather than fail for size.
	bo.SummaryOnly = true
	bo.Limit = max(utf8.RuneCountInString(body)/4, 2000)
	if body, err = CommentBody(p, bo); err != nil {
		return Result{}, err
	}
	return Upsert(ctx, c, Marker(bo.Site), body)
}

// isTooLong reports whether the platform refused a comment for its size: GitLab's 400
// "is too long", GitHub's 422 "body is too long".
func isTooLong(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity) &&
		strings.Contains(strings.ToLower(e.Message), "too long")
}
