package apply

import (
	"cmp"
	"os/user"
	"regexp"
	"strings"
)

// Provenance says who runs an apply and from what, so that the audit trail answers
// "who changed this student's access, when, through which merge request".
type Provenance struct {
	// Actor is the CI user who triggered the job, or the operating-system user.
	Actor string `json:"actor"`
	// ActorFrom names where Actor came from: a CI variable (GITLAB_USER_LOGIN,
	// GITHUB_ACTOR, ...) or "os-user".
	ActorFrom string `json:"actor_from"`
	// CI is the CI system ("gitlab", "github", "ci" for another one), empty outside CI.
	CI string `json:"ci,omitempty"`
	// Job is the CI job's URL, when the CI gives one.
	Job string `json:"job,omitempty"`
	// MergeRequest is the merge or pull request the change came through: a URL when
	// the CI says so (a merge-request pipeline), else the reference found in the merge
	// commit's message ("group/project!12", "#34").
	MergeRequest string `json:"merge_request,omitempty"`
	// Commit is the commit checked out where apply runs, and Dirty whether the spec
	// tree had uncommitted changes (then the specs applied are not that commit's).
	Commit string `json:"commit,omitempty"`
	Dirty  bool   `json:"dirty,omitempty"`
}

// actorVars are the CI variables naming the person who triggered a job, most specific
// first.
var actorVars = []struct{ ci, name string }{
	{"gitlab", "GITLAB_USER_LOGIN"},
	{"github", "GITHUB_TRIGGERING_ACTOR"},
	{"github", "GITHUB_ACTOR"},
	{"ci", "BUILD_USER_ID"}, // Jenkins (build-user-vars plugin)
	{"ci", "BITBUCKET_STEP_TRIGGERER_UUID"},
	{"ci", "CI_COMMIT_AUTHOR"}, // Woodpecker, Gitea Actions
}

// mergeRefs find a merge request in a merge commit's message: GitLab's "See merge
// request group/project!12" and GitHub's "Merge pull request #34 from ..." or a
// squash merge's "Subject (#34)".
var mergeRefs = []*regexp.Regexp{
	regexp.MustCompile(`See merge request (\S+![0-9]+)`),
	regexp.MustCompile(`Merge pull request (#[0-9]+)`),
	regexp.MustCompile(`(?m)\((#[0-9]+)\)\s*$`),
}

// DetectProvenance reads who runs enrolctl and through which merge request from the
// CI variables (getenv) and the commit message, falling back to the operating-system
// user. commit, message and dirty describe the checkout (gitsrc).
func DetectProvenance(getenv func(string) string, commit, message string, dirty bool) Provenance {
	p := Provenance{Commit: commit, Dirty: dirty}
	switch {
	case getenv("GITLAB_CI") == "true":
		p.CI, p.Job = "gitlab", getenv("CI_JOB_URL")
		if iid := getenv("CI_MERGE_REQUEST_IID"); iid != "" {
			p.MergeRequest = strings.TrimSuffix(getenv("CI_MERGE_REQUEST_PROJECT_URL"), "/") + "/-/merge_requests/" + iid
		}
		message = cmp.Or(message, getenv("CI_COMMIT_MESSAGE"))
	case getenv("GITHUB_ACTIONS") == "true":
		p.CI = "github"
		server, repo, run := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID")
		if server != "" && repo != "" && run != "" {
			p.Job = server + "/" + repo + "/actions/runs/" + run
		}
		// refs/pull/34/merge on pull-request events.
		if ref := getenv("GITHUB_REF"); strings.HasPrefix(ref, "refs/pull/") && server != "" && repo != "" {
			if n, _, ok := strings.Cut(strings.TrimPrefix(ref, "refs/pull/"), "/"); ok {
				p.MergeRequest = server + "/" + repo + "/pull/" + n
			}
		}
	case getenv("CI") != "":
		p.CI = "ci"
	}
	if p.CI != "" {
		for _, v := range actorVars {
			if val := getenv(v.name); val != "" && (v.ci == p.CI || v.ci == "ci") {
				p.Actor, p.ActorFrom = val, v.name
				break
			}
		}
	}
	if p.Actor == "" {
		p.Actor, p.ActorFrom = osUser(getenv), "os-user"
	}
	if p.MergeRequest == "" {
		for _, re := range mergeRefs {
			if m := re.FindStringSubmatch(message); m != nil {
				p.MergeRequest = m[1]
				break
			}
		}
	}
	return p
}

// osUser is the login name of the user running enrolctl.
func osUser(getenv func(string) string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, k := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return "unknown"
}
