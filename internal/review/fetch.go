package review

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/planfile"
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
	// Timeout bounds each request (default defaultTimeout; downloads get more).
	Timeout time.Duration
	// MaxPlanSize bounds the plan (default planfile.MaxSize, what apply reads).
	MaxPlanSize int64
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
	o.Job = cmp.Or(o.Job, "enrolctl-plan")
	o.Path = cmp.Or(o.Path, "plan.json")
	if o.MaxPlanSize <= 0 {
		o.MaxPlanSize = maxPlanSize
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
		g := &gitLabFetch{httpAPI: gitLabAPI(o.HTTPClient, token, tokenEnv, o.Timeout),
			project: ci.APIURL + "/projects/" + url.PathEscape(ci.Project)}
		g.projectID, _ = strconv.ParseInt(ci.Project, 10, 64)
		return g.fetch(ctx, ci.Commit, o)
	}
	g := &gitHubFetch{httpAPI: gitHubAPI(o.HTTPClient, token, tokenEnv, o.Timeout),
		repo: ci.APIURL + "/repos/" + ci.Project}
	return g.fetch(ctx, ci.Commit, o)
}

type gitLabFetch struct {
	httpAPI
	project   string // .../projects/:id
	projectID int64  // CI_PROJECT_ID, 0 when the project is named by its path
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
		return Fetched{}, fmt.Errorf("%w: commit %s is not the merge of a merge request; change the specs through a merge request so that its plan is reviewed", ErrNoReviewedPlan, ShortHash(sha))
	}
	last, err := g.headPipeline(ctx, iid)
	if err != nil {
		return Fetched{}, err
	}
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
		data, err := g.download(ctx, fmt.Sprintf("%s/jobs/%d/artifacts/%s", g.project, j.ID, o.Path), o.MaxPlanSize)
		if err != nil {
			return Fetched{}, fmt.Errorf("%s of job %d: %w", o.Path, j.ID, err)
		}
		return Fetched{Plan: data, MergeRequest: iid, From: fmt.Sprintf("job %d of pipeline %d (merge request !%d)", j.ID, last.ID, iid)}, nil
	}
	return Fetched{}, fmt.Errorf("%w: merge request !%d's last pipeline (%d) has no %s job", ErrNoReviewedPlan, iid, last.ID, o.Job)
}

// headPipeline is the merge request's pipeline for its head commit, in this project:
// the plan reviewers saw last. A pipeline of an older head (the branch moved after
// its last plan), or of another project (a fork's), is refused.
func (g *gitLabFetch) headPipeline(ctx context.Context, iid int) (gitLabPipeline, error) {
	var mr struct {
		SHA          string          `json:"sha"`
		HeadPipeline *gitLabPipeline `json:"head_pipeline"`
	}
	if _, err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/merge_requests/%d", g.project, iid), nil, &mr); err != nil {
		return gitLabPipeline{}, err
	}
	p := mr.HeadPipeline
	switch {
	case p == nil:
		return gitLabPipeline{}, fmt.Errorf("%w: merge request !%d has no pipeline for its head commit %s", ErrNoReviewedPlan, iid, ShortHash(mr.SHA))
	case g.projectID != 0 && p.ProjectID != g.projectID:
		return gitLabPipeline{}, fmt.Errorf("%w: merge request !%d's head pipeline (%d) ran in project %d, not in this project (%d); plan through a merge request of this project's branches", ErrNoReviewedPlan, iid, p.ID, p.ProjectID, g.projectID)
	// A merged-results pipeline runs at a temporary merge of the head, on the merge
	// ref; GitLab makes it the head pipeline only when it merged the current head.
	case p.SHA != mr.SHA && p.Ref != fmt.Sprintf("refs/merge-requests/%d/merge", iid):
		return gitLabPipeline{}, fmt.Errorf("%w: merge request !%d's last pipeline (%d) ran for commit %s, not for its head %s: the branch moved after its last plan, so the merged specs were not reviewed; plan again through a merge request",
			ErrNoReviewedPlan, iid, p.ID, ShortHash(p.SHA), ShortHash(mr.SHA))
	}
	return *p, nil
}

type gitLabPipeline struct {
	ID        int64  `json:"id"`
	SHA       string `json:"sha"`
	Ref       string `json:"ref"`
	ProjectID int64  `json:"project_id"`
}

type gitHubFetch struct {
	httpAPI
	repo string
}

func (g *gitHubFetch) fetch(ctx context.Context, sha string, o FetchOptions) (Fetched, error) {
	var pulls []struct {
		Number   int     `json:"number"`
		MergedAt *string `json:"merged_at"`
		Head     struct {
			SHA string `json:"sha"`
		} `json:"head"`
		Base struct {
			Repo struct {
				ID int64 `json:"id"`
			} `json:"repo"`
		} `json:"base"`
	}
	if _, err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/commits/%s/pulls", g.repo, sha), nil, &pulls); err != nil {
		return Fetched{}, err
	}
	pr := -1
	for i, p := range pulls {
		if p.MergedAt != nil {
			pr = i
			break
		}
	}
	if pr < 0 {
		return Fetched{}, fmt.Errorf("%w: commit %s is not the merge of a pull request; change the specs through a pull request so that its plan is reviewed", ErrNoReviewedPlan, ShortHash(sha))
	}
	number, head, repoID := pulls[pr].Number, pulls[pr].Head.SHA, pulls[pr].Base.Repo.ID
	if head == "" || repoID == 0 {
		return Fetched{}, fmt.Errorf("GitHub API: pull request #%d is listed without its head commit or repository", number)
	}
	name := fmt.Sprintf("%s-%d", o.Job, number)
	var list struct {
		Artifacts []struct {
			ID                 int64  `json:"id"`
			Expired            bool   `json:"expired"`
			ArchiveDownloadURL string `json:"archive_download_url"`
			CreatedAt          string `json:"created_at"`
			WorkflowRun        struct {
				HeadSHA          string `json:"head_sha"`
				HeadRepositoryID int64  `json:"head_repository_id"`
				RepositoryID     int64  `json:"repository_id"`
			} `json:"workflow_run"`
		} `json:"artifacts"`
	}
	if _, err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/actions/artifacts?name=%s&per_page=100", g.repo, url.QueryEscape(name)), nil, &list); err != nil {
		return Fetched{}, err
	}
	// Only a run of this repository, on its own branch (not a fork's), for the pull
	// request's head made the reviewed plan; any run can upload an artifact of that
	// name. Newest first; an expired newest one is not replaced by an older plan.
	found, other := -1, ""
	for i, a := range list.Artifacts {
		run := a.WorkflowRun
		if run.RepositoryID != repoID || run.HeadRepositoryID != repoID || run.HeadSHA != head {
			if other == "" {
				other = fmt.Sprintf("; artifact %d of that name was made by a run for commit %s of repository %d, and is not taken", a.ID, ShortHash(run.HeadSHA), run.HeadRepositoryID)
			}
			continue
		}
		if found < 0 || a.CreatedAt > list.Artifacts[found].CreatedAt {
			found = i
		}
	}
	if found < 0 {
		return Fetched{}, fmt.Errorf("%w: pull request #%d has no artifact %s made by a run of this repository for its head commit %s (did its plan job run on the last push?)%s",
			ErrNoReviewedPlan, number, name, ShortHash(head), other)
	}
	a := list.Artifacts[found]
	if a.Expired {
		return Fetched{}, fmt.Errorf("%w: the artifact %s of pull request #%d has expired; plan again through a pull request", ErrNoReviewedPlan, name, number)
	}
	zipped, err := g.download(ctx, a.ArchiveDownloadURL, o.MaxPlanSize)
	if err != nil {
		return Fetched{}, fmt.Errorf("artifact %s (id %d): %w", name, a.ID, err)
	}
	data, err := unzipPlan(zipped, o.Path, o.MaxPlanSize)
	if err != nil {
		return Fetched{}, fmt.Errorf("artifact %s (id %d): %w", name, a.ID, err)
	}
	return Fetched{Plan: data, MergeRequest: number, From: fmt.Sprintf("artifact %s (id %d, pull request #%d)", name, a.ID, number)}, nil
}

// Bounds on what an artifact's plan may inflate to: a renewal plan of 10,000 alike
// enrolments compresses 74 times (the most measured); deflate reaches 1,000, which
// only a crafted archive does.
const (
	maxInflateRatio = 400
	minInflateBound = 1 << 20 // a small plan is never refused for its ratio
)

// unzipPlan reads the file at path in a zip archive, bounded by limit bytes and by
// maxInflateRatio times its compressed size, whatever the archive declares.
func unzipPlan(zipped []byte, path string, limit int64) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return nil, fmt.Errorf("not a zip archive: %v", err)
	}
	for _, f := range zr.File {
		if f.Name != path {
			continue
		}
		if f.UncompressedSize64 > uint64(limit) {
			return nil, fmt.Errorf("%s is %d bytes, larger than %d bytes, the most apply reads; refused", path, f.UncompressedSize64, limit)
		}
		bound := min(limit, int64(min(f.CompressedSize64, uint64(limit)))*maxInflateRatio)
		bound = min(limit, max(bound, minInflateBound))
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		data, err := readAtMost(rc, bound)
		switch {
		case errors.Is(err, errTooLarge) && bound < limit:
			return nil, fmt.Errorf("%s inflates to more than %d times its compressed size (%d bytes), which no plan does; refused", path, maxInflateRatio, f.CompressedSize64)
		case errors.Is(err, errTooLarge):
			return nil, fmt.Errorf("%s is larger than %d bytes, the most apply reads; refused", path, limit)
		case err != nil:
			return nil, fmt.Errorf("reading %s: %v", path, err)
		}
		return data, nil
	}
	return nil, fmt.Errorf("%w: the artifact has no %s", ErrNoReviewedPlan, path)
}

// download GETs an artifact with the token and returns it whole, at most limit bytes.
// The platform may redirect to its storage (GitHub always does, GitLab with object
// storage): that address is signed, so it is followed without the token, at most
// three times.
func (h *httpAPI) download(ctx context.Context, u string, limit int64) ([]byte, error) {
	timeout := h.timeout * downloadTimeouts
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	h.setAuth(req)
	for hop := 0; ; hop++ {
		resp, cancel, err := h.roundTrip(req, timeout)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 && hop < 3 {
			loc, err := resp.Location()
			resp.Body.Close()
			cancel()
			if err != nil {
				return nil, fmt.Errorf("%s API: a redirect without a valid Location: %v", h.platform.Name(), err)
			}
			// A new request: no token, no header of the platform's.
			if req, err = http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil); err != nil {
				return nil, err
			}
			continue
		}
		data, err := readAtMost(resp.Body, limit)
		status := resp.StatusCode
		resp.Body.Close()
		cancel()
		switch {
		case errors.Is(err, errTooLarge):
			return nil, fmt.Errorf("larger than %d bytes, the most apply reads; refused rather than cut", limit)
		case err != nil:
			return nil, h.timedOut(req, timeout, err)
		case status >= 300:
			return nil, h.apiError(status, data)
		}
		return data, nil
	}
}

// ShortHash is a commit's hash cut to 12 characters, as messages name commits.
func ShortHash(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// maxPlanSize is the most a fetched plan may weigh: what apply reads.
const maxPlanSize int64 = planfile.MaxSize
