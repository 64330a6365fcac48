package review

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// FetchOptions tune FetchPlan.
type FetchOptions struct {
	// Job is the GitLab job that saved the plan (default "enrolctl-plan"); on GitHub
	// the artifact is named Job-<pull request number>.
	Job string
	// Path is the plan file inside the artifact (default "plan.json").
	Path string
	// TokenEnv overrides the token's environment variable.
	TokenEnv   string
	HTTPClient *http.Client
}

// Fetched says where a plan came from.
type Fetched struct {
	Plan         []byte
	MergeRequest int
	// From is the pipeline or artifact it was downloaded from, for the log.
	From string
}

// ErrNoReviewedPlan is returned when the commit has no reviewed plan to apply.
var ErrNoReviewedPlan = errors.New("no reviewed plan")

// FetchPlan downloads the plan saved by the last pipeline of the merge request that
// was merged as ci.Commit, so that the apply job applies what reviewers saw. Whether
// the plan matches the specs being applied is apply's check (the specs digest).
func FetchPlan(ctx context.Context, ci CI, getenv func(string) string, o FetchOptions) (Fetched, error) {
	if o.Job == "" {
		o.Job = "enrolctl-plan"
	}
	if o.Path == "" {
		o.Path = "plan.json"
	}
	if ci.Commit == "" {
		return Fetched{}, fmt.Errorf("the CI variables do not say which commit this is (CI_COMMIT_SHA, GITHUB_SHA)")
	}
	tokenEnv := ci.Platform.tokenEnv(o.TokenEnv)
	if tokenEnv == "" {
		return Fetched{}, fmt.Errorf("fetching a reviewed plan needs GitLab CI or GitHub Actions (no GITLAB_CI nor GITHUB_ACTIONS variable)")
	}
	token := strings.TrimSpace(getenv(tokenEnv))
	if token == "" {
		return Fetched{}, fmt.Errorf("the environment variable %s is empty or not set; it must hold the token that reads merge requests and artifacts (see docs/ci.md)", tokenEnv)
	}
	if ci.Platform == GitLab {
		g := &gitLabFetch{httpAPI: gitLabAPI(o.HTTPClient, token, tokenEnv),
			project: ci.APIURL + "/projects/" + url.PathEscape(ci.Project)}
		return g.fetch(ctx, ci.Commit, o)
	}
	g := &gitHubFetch{httpAPI: gitHubAPI(o.HTTPClient, token, tokenEnv),
		repo: ci.APIURL + "/repos/" + ci.Project}
	return g.fetch(ctx, ci.Commit, o)
}

type gitLabFetch struct {
	httpAPI
	project string
}

func (g *gitLabFetch) fetch(ctx context.Context, sha string, o FetchOptions) (Fetched, error) {
	var mrs []struct {
		IID    int    `json:"iid"`
		State  string `json:"state"`
		WebURL string `json:"web_url"`
	}
	if _, err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/repository/commits/%s/merge_requests", g.project, sha), nil, &mrs); err != nil {
		return Fetched{}, err
	}
	iid := 0
	for _, mr := range mrs {
		if mr.State == "merged" {
			iid = mr.IID
			break
		}
	}
	if iid == 0 {
		return Fetched{}, fmt.Errorf("%w: commit %s is not the merge of a merge request; change the specs through a merge request so that its plan is reviewed", ErrNoReviewedPlan, short(sha))
	}
	var pipelines []struct {
		ID     int64  `json:"id"`
		SHA    string `json:"sha"`
		WebURL string `json:"web_url"`
	}
	if _, err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/merge_requests/%d/pipelines?per_page=1", g.project, iid), nil, &pipelines); err != nil {
		return Fetched{}, err
	}
	if len(pipelines) == 0 {
		return Fetched{}, fmt.Errorf("%w: merge request !%d has no pipeline", ErrNoReviewedPlan, iid)
	}
	last := pipelines[0] // newest first
	var jobs []struct {
		ID     int64  `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
	}
	if _, err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/pipelines/%d/jobs?per_page=100", g.project, last.ID), nil, &jobs); err != nil {
		return Fetched{}, err
	}
	for _, j := range jobs {
		if j.Name != o.Job {
			continue
		}
		if j.Status != "success" {
			return Fetched{}, fmt.Errorf("%w: the %s job of merge request !%d's last pipeline (%d) did not succeed (status %s), so no plan of the merged specs was reviewed", ErrNoReviewedPlan, o.Job, iid, last.ID, j.Status)
		}
		data, err := g.raw(ctx, fmt.Sprintf("%s/jobs/%d/artifacts/%s", g.project, j.ID, o.Path))
		if err != nil {
			return Fetched{}, err
		}
		return Fetched{Plan: data, MergeRequest: iid, From: fmt.Sprintf("job %d of pipeline %d (merge request !%d)", j.ID, last.ID, iid)}, nil
	}
	return Fetched{}, fmt.Errorf("%w: merge request !%d's last pipeline (%d) has no %s job", ErrNoReviewedPlan, iid, last.ID, o.Job)
}

type gitHubFetch struct {
	httpAPI
	repo string
}

func (g *gitHubFetch) fetch(ctx context.Context, sha string, o FetchOptions) (Fetched, error) {
	var pulls []struct {
		Number   int     `json:"number"`
		MergedAt *string `json:"merged_at"`
	}
	if _, err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/commits/%s/pulls", g.repo, sha), nil, &pulls); err != nil {
		return Fetched{}, err
	}
	number := 0
	for _, p := range pulls {
		if p.MergedAt != nil {
			number = p.Number
			break
		}
	}
	if number == 0 {
		return Fetched{}, fmt.Errorf("%w: commit %s is not the merge of a pull request; change the specs through a pull request so that its plan is reviewed", ErrNoReviewedPlan, short(sha))
	}
	name := fmt.Sprintf("%s-%d", o.Job, number)
	var list struct {
		Artifacts []struct {
			ID                 int64  `json:"id"`
			Expired            bool   `json:"expired"`
			ArchiveDownloadURL string `json:"archive_download_url"`
			CreatedAt          string `json:"created_at"`
		} `json:"artifacts"`
	}
	if _, err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/actions/artifacts?name=%s&per_page=100", g.repo, url.QueryEscape(name)), nil, &list); err != nil {
		return Fetched{}, err
	}
	// Newest first; an expired newest one is not replaced by an older plan.
	if len(list.Artifacts) == 0 {
		return Fetched{}, fmt.Errorf("%w: pull request #%d has no artifact %s (did its plan job run?)", ErrNoReviewedPlan, number, name)
	}
	a := list.Artifacts[0]
	for _, b := range list.Artifacts[1:] {
		if b.CreatedAt > a.CreatedAt {
			a = b
		}
	}
	if a.Expired {
		return Fetched{}, fmt.Errorf("%w: the artifact %s of pull request #%d has expired; plan again through a pull request", ErrNoReviewedPlan, name, number)
	}
	zipped, err := g.raw(ctx, a.ArchiveDownloadURL)
	if err != nil {
		return Fetched{}, err
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return Fetched{}, fmt.Errorf("artifact %s is not a zip archive: %v", name, err)
	}
	for _, f := range zr.File {
		if f.Name != o.Path {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return Fetched{}, err
		}
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, 512<<20))
		if err != nil {
			return Fetched{}, err
		}
		return Fetched{Plan: data, MergeRequest: number, From: fmt.Sprintf("artifact %s (id %d, pull request #%d)", name, a.ID, number)}, nil
	}
	return Fetched{}, fmt.Errorf("%w: artifact %s has no %s", ErrNoReviewedPlan, name, o.Path)
}

// raw GETs a URL and returns its body as it is.
func (h *httpAPI) raw(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	data, _, err := h.send(req, 512<<20) // a plan or its artifact archive
	return data, err
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
