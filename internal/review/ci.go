package review

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Platform is the CI system a job runs on.
type Platform string

const (
	GitLab Platform = "gitlab"
	GitHub Platform = "github"
	// Local is a run outside CI.
	Local Platform = "local"
)

// tokenEnv is the environment variable the platform's token is read from: override
// when set, else the platform's default ("" outside GitLab CI and GitHub Actions).
func (p Platform) tokenEnv(override string) string {
	if override != "" {
		return override
	}
	return map[Platform]string{GitLab: GitLabTokenEnv, GitHub: GitHubTokenEnv}[p]
}

// CI describes the job enrolctl runs in, from the platform's predefined variables.
type CI struct {
	Platform Platform `json:"platform"`
	// APIURL is the REST API root: CI_API_V4_URL or GITHUB_API_URL.
	APIURL string `json:"-"`
	// Project is GitLab's CI_PROJECT_ID or GitHub's owner/name.
	Project string `json:"project,omitempty"`
	// MergeRequest is the merge request IID (GitLab) or pull request number (GitHub);
	// 0 outside merge request pipelines.
	MergeRequest int `json:"merge_request,omitempty"`
	// MergeRequestURL is the merge request's web address, when known.
	MergeRequestURL string `json:"merge_request_url,omitempty"`
	// Commit is the commit the job runs for (CI_COMMIT_SHA, GITHUB_SHA).
	Commit string `json:"commit,omitempty"`
	// Actor is who started the pipeline (GITLAB_USER_LOGIN, GITHUB_ACTOR), or the OS
	// user outside CI.
	Actor string `json:"actor,omitempty"`
	// PipelineURL is the pipeline's or workflow run's web address.
	PipelineURL string `json:"pipeline_url,omitempty"`
	// ArtifactsURL is where the job's artifacts can be browsed (the full plan when the
	// comment only summarises it).
	ArtifactsURL string `json:"artifacts_url,omitempty"`
}

// DetectCI reads the CI variables through getenv. On GitHub the pull request number
// comes from the event file (GITHUB_EVENT_PATH). Outside CI it returns Platform Local
// with the OS user as the actor. An error means the variables are there but
// inconsistent (an unreadable event file, a non-numeric merge request IID).
func DetectCI(getenv func(string) string) (CI, error) {
	switch {
	case getenv("GITLAB_CI") == "true":
		return detectGitLab(getenv)
	case getenv("GITHUB_ACTIONS") == "true":
		return detectGitHub(getenv)
	}
	ci := CI{Platform: Local}
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := getenv(k); v != "" {
			ci.Actor = v
			break
		}
	}
	return ci, nil
}

func detectGitLab(getenv func(string) string) (CI, error) {
	ci := CI{
		Platform:    GitLab,
		APIURL:      strings.TrimRight(getenv("CI_API_V4_URL"), "/"),
		Project:     getenv("CI_PROJECT_ID"),
		Commit:      getenv("CI_COMMIT_SHA"),
		Actor:       getenv("GITLAB_USER_LOGIN"),
		PipelineURL: getenv("CI_PIPELINE_URL"),
	}
	if ci.APIURL == "" && getenv("CI_SERVER_URL") != "" {
		ci.APIURL = strings.TrimRight(getenv("CI_SERVER_URL"), "/") + "/api/v4"
	}
	if job := getenv("CI_JOB_URL"); job != "" {
		ci.ArtifactsURL = job + "/artifacts/browse"
	}
	if iid := getenv("CI_MERGE_REQUEST_IID"); iid != "" {
		n, err := strconv.Atoi(iid)
		if err != nil || n <= 0 {
			return ci, fmt.Errorf("CI_MERGE_REQUEST_IID is %q, not a merge request number", iid)
		}
		ci.MergeRequest = n
		if p := getenv("CI_MERGE_REQUEST_PROJECT_URL"); p != "" {
			ci.MergeRequestURL = fmt.Sprintf("%s/-/merge_requests/%d", p, n)
		} else if p := getenv("CI_PROJECT_URL"); p != "" {
			ci.MergeRequestURL = fmt.Sprintf("%s/-/merge_requests/%d", p, n)
		}
	}
	return ci, nil
}

// githubEvent is the part of GitHub's event payload enrolctl reads.
type githubEvent struct {
	Number      int `json:"number"`
	PullRequest *struct {
		Number  int    `json:"number"`
		HTMLURL string `json:"html_url"`
		Head    struct {
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
}

func detectGitHub(getenv func(string) string) (CI, error) {
	server := strings.TrimRight(getenv("GITHUB_SERVER_URL"), "/")
	ci := CI{
		Platform: GitHub,
		APIURL:   strings.TrimRight(getenv("GITHUB_API_URL"), "/"),
		Project:  getenv("GITHUB_REPOSITORY"),
		Commit:   getenv("GITHUB_SHA"),
		Actor:    getenv("GITHUB_ACTOR"),
	}
	ci.APIURL = cmp.Or(ci.APIURL, "https://api.github.com")
	if server != "" && ci.Project != "" && getenv("GITHUB_RUN_ID") != "" {
		ci.PipelineURL = fmt.Sprintf("%s/%s/actions/runs/%s", server, ci.Project, getenv("GITHUB_RUN_ID"))
		// Artifacts are listed at the bottom of the run's summary page.
		ci.ArtifactsURL = ci.PipelineURL + "#artifacts"
	}
	path := getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return ci, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ci, fmt.Errorf("reading GitHub's event file (GITHUB_EVENT_PATH): %w", err)
	}
	var ev githubEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return ci, fmt.Errorf("GitHub's event file %s is not JSON: %v", path, err)
	}
	if ev.PullRequest != nil {
		ci.MergeRequest = ev.PullRequest.Number
		ci.MergeRequestURL = ev.PullRequest.HTMLURL
		// On pull_request events GITHUB_SHA is a merge commit GitHub made; the branch's
		// own head is what was pushed and reviewed.
		if ev.PullRequest.Head.SHA != "" {
			ci.Commit = ev.PullRequest.Head.SHA
		}
	}
	if ci.MergeRequest == 0 && ev.PullRequest != nil {
		ci.MergeRequest = ev.Number
	}
	if ci.MergeRequestURL == "" && ci.MergeRequest > 0 && server != "" && ci.Project != "" {
		ci.MergeRequestURL = fmt.Sprintf("%s/%s/pull/%d", server, ci.Project, ci.MergeRequest)
	}
	return ci, nil
}
