package review

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/review/reviewtest"
)

const testToken = "glpat-s3cr3t-t0k3n"

func gitLabCI(s *reviewtest.Server) CI {
	return CI{Platform: GitLab, APIURL: s.URL + "/api/v4", Project: "42", MergeRequest: 7, ArtifactsURL: "https://gitlab.example/-/jobs/9/artifacts/browse"}
}

func gitHubCI(s *reviewtest.Server) CI {
	return CI{Platform: GitHub, APIURL: s.URL, Project: "acme/specs", MergeRequest: 7, ArtifactsURL: "https://github.example/acme/specs/actions/runs/3#artifacts"}
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// Each platform: the first post creates the comment, the second (a later push) edits
// it, even when it is on the second page behind 150 comments by others.
func TestPostCreatesThenUpdatesInPlace(t *testing.T) {
	tests := []struct {
		name       string
		start      func(string) *reviewtest.Server
		ci         func(*reviewtest.Server) CI
		tokenEnv   string
		create, up string
	}{
		{"gitlab", reviewtest.NewGitLab, gitLabCI, GitLabTokenEnv, "POST /api/v4/projects/42/merge_requests/7/notes", "PUT /api/v4/projects/42/merge_requests/7/notes/"},
		{"github", reviewtest.NewGitHub, gitHubCI, GitHubTokenEnv, "POST /repos/acme/specs/issues/7/comments", "PATCH /repos/acme/specs/issues/comments/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.start(testToken)
			defer srv.Close()
			srv.Seed(150)
			ctx := context.Background()
			getenv := env(map[string]string{tt.tokenEnv: testToken})
			first, err := Post(ctx, tt.ci(srv), getenv, renewalPlan(t, 1, 5), PostOptions{BodyOptions: BodyOptions{Site: "ecampus"}})
			if err != nil {
				t.Fatal(err)
			}
			if !first.Created {
				t.Fatal("first post did not create a comment")
			}
			// Another site's comment lives beside it.
			if _, err := Post(ctx, tt.ci(srv), getenv, renewalPlan(t, 1, 2), PostOptions{BodyOptions: BodyOptions{Site: "other"}}); err != nil {
				t.Fatal(err)
			}
			srv.Seed(30)
			second, err := Post(ctx, tt.ci(srv), getenv, renewalPlan(t, 2, 5), PostOptions{BodyOptions: BodyOptions{Site: "ecampus"}})
			if err != nil {
				t.Fatal(err)
			}
			if second.Created || second.Comment.ID != first.Comment.ID {
				t.Fatalf("second post: created=%v id=%d, want an update of %d", second.Created, second.Comment.ID, first.Comment.ID)
			}
			var ours []reviewtest.StoredComment
			for _, c := range srv.Comments() {
				if strings.Contains(c.Body, Marker("ecampus")) {
					ours = append(ours, c)
				}
			}
			if len(ours) != 1 {
				t.Fatalf("%d comments carry the ecampus marker, want 1", len(ours))
			}
			if !strings.Contains(ours[0].Body, "L1-C0001") {
				t.Error("the comment was not updated with the second plan")
			}
			creates := 0
			for k, n := range srv.Requests {
				if strings.HasPrefix(k, tt.create) {
					creates += n
				}
			}
			if creates != 2 { // ecampus once, other once
				t.Errorf("%d creates, want 2 (%v)", creates, srv.Requests)
			}
			// The same plan again: found, left as it is.
			updates := func() (n int) {
				for k, v := range srv.Requests {
					if strings.HasPrefix(k, tt.up) {
						n += v
					}
				}
				return n
			}
			before := updates()
			again, err := Post(ctx, tt.ci(srv), getenv, renewalPlan(t, 2, 5), PostOptions{BodyOptions: BodyOptions{Site: "ecampus"}})
			if err != nil {
				t.Fatal(err)
			}
			if !again.Unchanged || again.Comment.ID != first.Comment.ID || updates() != before {
				t.Errorf("same plan again: %+v, %d updates more", again, updates()-before)
			}
		})
	}
}

// A 10,000-change plan is posted on both platforms: it fits, it points to the
// artifact when it had to summarise, and no line is cut.
func TestTenThousandChangesFit(t *testing.T) {
	p := renewalPlan(t, 100, 100)
	if n := len(p.Changes); n < 10000 {
		t.Fatalf("fixture has %d changes", n)
	}
	for _, tt := range []struct {
		name  string
		start func(string) *reviewtest.Server
		ci    func(*reviewtest.Server) CI
		env   string
	}{
		{"gitlab", reviewtest.NewGitLab, gitLabCI, GitLabTokenEnv},
		{"github", reviewtest.NewGitHub, gitHubCI, GitHubTokenEnv},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.start(testToken)
			defer srv.Close()
			ci := tt.ci(srv)
			res, err := Post(context.Background(), ci, env(map[string]string{tt.env: testToken}), p, PostOptions{BodyOptions: BodyOptions{Site: "ecampus", MaskUsernames: true}})
			if err != nil {
				t.Fatal(err)
			}
			body := srv.Comments()[0].Body
			if res.Comment.ID == 0 || utf8.RuneCountInString(body) > ci.Platform.Limit() {
				t.Fatalf("comment of %d characters, limit %d", utf8.RuneCountInString(body), ci.Platform.Limit())
			}
			// On GitHub the users' list alone is over the limit: the comment is the
			// summary, pointing to the artifact. GitLab takes the whole plan.
			summarised := strings.Contains(body, "### enrolctl plan (summary)")
			if summarised != (ci.Platform == GitHub) {
				t.Errorf("summarised = %v on %s", summarised, ci.Platform)
			}
			if summarised && !strings.Contains(body, ci.ArtifactsURL) {
				t.Error("the summary does not point to the artifact")
			}
			checkWholeLines(t, body)
		})
	}
}

// When even the rows per course and kind exceed the limit, whole rows are dropped and
// counted.
func TestSummaryDropsWholeRows(t *testing.T) {
	p := renewalPlan(t, 400, 3)
	body, err := CommentBody(p, BodyOptions{Site: "ecampus", Limit: 6000, ArtifactsURL: "https://ci.example/artifacts"})
	if err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(body); n > 6000 {
		t.Fatalf("body of %d characters over a limit of 6000", n)
	}
	if !strings.Contains(body, "more rows, in the artifact") || !strings.Contains(body, "https://ci.example/artifacts") {
		t.Errorf("summary lacks the dropped-rows line or the artifact link:\n%s", body)
	}
	if !strings.HasPrefix(body, Marker("ecampus")+"\n") {
		t.Error("summary lacks the marker")
	}
	checkWholeLines(t, body)
}

// checkWholeLines fails when a table row is cut: every row that starts with | ends
// with |.
func checkWholeLines(t *testing.T, body string) {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "|") && !strings.HasSuffix(line, "|") {
			t.Fatalf("cut line: %q", line)
		}
	}
	if !strings.HasSuffix(body, "\n") {
		t.Fatal("body does not end with a whole line")
	}
}

func TestAuthenticationError(t *testing.T) {
	for _, tt := range []struct {
		name  string
		start func(string) *reviewtest.Server
		ci    func(*reviewtest.Server) CI
		env   string
	}{
		{"gitlab", reviewtest.NewGitLab, gitLabCI, GitLabTokenEnv},
		{"github", reviewtest.NewGitHub, gitHubCI, GitHubTokenEnv},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.start("the-right-token")
			defer srv.Close()
			_, err := Post(context.Background(), tt.ci(srv), env(map[string]string{tt.env: testToken}), renewalPlan(t, 1, 1), PostOptions{})
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("err = %v, want ErrUnauthorized", err)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Errorf("the error shows the token: %v", err)
			}
			if !strings.Contains(err.Error(), tt.env) || !strings.Contains(err.Error(), "Unauthorized") {
				t.Errorf("the error does not name the variable and the refusal: %v", err)
			}
			if len(srv.Comments()) != 0 {
				t.Error("a comment was stored")
			}
		})
	}
}

func TestPostNeedsAMergeRequestAndAToken(t *testing.T) {
	srv := reviewtest.NewGitLab(testToken)
	defer srv.Close()
	ci := gitLabCI(srv)
	ci.MergeRequest = 0
	if _, err := Post(context.Background(), ci, env(nil), renewalPlan(t, 1, 1), PostOptions{}); !errors.Is(err, ErrNoMergeRequest) {
		t.Errorf("outside a merge request: %v", err)
	}
	_, err := Post(context.Background(), gitLabCI(srv), env(nil), renewalPlan(t, 1, 1), PostOptions{})
	if err == nil || !strings.Contains(err.Error(), GitLabTokenEnv) {
		t.Errorf("without a token: %v, want the variable named", err)
	}
}

func TestDetectCI(t *testing.T) {
	dir := t.TempDir()
	event := filepath.Join(dir, "event.json")
	os.WriteFile(event, []byte(`{"number": 12, "pull_request": {"number": 12, "html_url": "https://github.com/acme/specs/pull/12", "head": {"sha": "abc123"}}}`), 0o644)
	push := filepath.Join(dir, "push.json")
	os.WriteFile(push, []byte(`{"ref": "refs/heads/main"}`), 0o644)
	tests := []struct {
		name    string
		vars    map[string]string
		want    CI
		wantErr bool
	}{
		{"gitlab merge request", map[string]string{
			"GITLAB_CI": "true", "CI_API_V4_URL": "https://gitlab.example/api/v4", "CI_PROJECT_ID": "42",
			"CI_MERGE_REQUEST_IID": "7", "CI_COMMIT_SHA": "c0ffee", "GITLAB_USER_LOGIN": "mdupont",
			"CI_PIPELINE_URL": "https://gitlab.example/acme/specs/-/pipelines/5", "CI_JOB_URL": "https://gitlab.example/acme/specs/-/jobs/9",
			"CI_PROJECT_URL": "https://gitlab.example/acme/specs",
		}, CI{Platform: GitLab, APIURL: "https://gitlab.example/api/v4", Project: "42", MergeRequest: 7,
			MergeRequestURL: "https://gitlab.example/acme/specs/-/merge_requests/7", Commit: "c0ffee", Actor: "mdupont",
			PipelineURL: "https://gitlab.example/acme/specs/-/pipelines/5", ArtifactsURL: "https://gitlab.example/acme/specs/-/jobs/9/artifacts/browse"}, false},
		{"gitlab push", map[string]string{"GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.example", "CI_PROJECT_ID": "42"},
			CI{Platform: GitLab, APIURL: "https://gitlab.example/api/v4", Project: "42"}, false},
		{"gitlab bad iid", map[string]string{"GITLAB_CI": "true", "CI_MERGE_REQUEST_IID": "seven"}, CI{Platform: GitLab}, true},
		{"github pull request", map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_API_URL": "https://api.github.com", "GITHUB_REPOSITORY": "acme/specs",
			"GITHUB_EVENT_PATH": event, "GITHUB_SHA": "merge-sha", "GITHUB_ACTOR": "octocat", "GITHUB_RUN_ID": "3",
			"GITHUB_SERVER_URL": "https://github.com",
		}, CI{Platform: GitHub, APIURL: "https://api.github.com", Project: "acme/specs", MergeRequest: 12,
			MergeRequestURL: "https://github.com/acme/specs/pull/12", Commit: "abc123", Actor: "octocat",
			PipelineURL: "https://github.com/acme/specs/actions/runs/3", ArtifactsURL: "https://github.com/acme/specs/actions/runs/3#artifacts"}, false},
		{"github push", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/specs", "GITHUB_EVENT_PATH": push, "GITHUB_SHA": "s"},
			CI{Platform: GitHub, APIURL: "https://api.github.com", Project: "acme/specs", Commit: "s"}, false},
		{"github unreadable event", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": filepath.Join(dir, "missing.json")},
			CI{Platform: GitHub, APIURL: "https://api.github.com"}, true},
		{"local", map[string]string{"USER": "alice"}, CI{Platform: Local, Actor: "alice"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DetectCI(env(tt.vars))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("DetectCI =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestNextPage(t *testing.T) {
	tests := map[string]int{
		"": 0,
		`<https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/issues/7/comments?per_page=100&page=4>; rel="last"`: 2,
		`<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=1>; rel="first"`:                                                                                        0,
	}
	for link, want := range tests {
		if got := nextPage(link); got != want {
			t.Errorf("nextPage(%q) = %d, want %d", link, got, want)
		}
	}
}

// The summary of a plan too long for a comment still says first what apply will
// refuse, and that removals were approved.
func TestSummaryShowsRefusalsAndApprovals(t *testing.T) {
	p := renewalPlan(t, 50, 3)
	p.Refusals = []diff.Refusal{{Code: diff.RefuseProtected, Course: "L1-C0001", Changes: 4}}
	p.Approvals.Removals = true
	body, err := CommentBody(p, BodyOptions{Site: "ecampus", Limit: 8000})
	if err != nil {
		t.Fatal(err)
	}
	refuse := strings.Index(body, "**Apply will refuse:** course L1-C0001 is protected")
	table := strings.Index(body, "| Course | Kind |")
	if refuse < 0 || table < 0 || refuse > table || !strings.Contains(body, "Removals approved at plan time") {
		t.Errorf("summary lacks the refusal before the table, or the approval:\n%s", body[:min(len(body), 2000)])
	}
	if strings.Contains(body, "more rows") {
		t.Error("rows were dropped although they fit")
	}
}

// A platform whose limit is lower than documented refuses the comment for its size;
// the summary is posted instead, never an error.
func TestPostFallsBackToTheSummaryWhenRefusedForSize(t *testing.T) {
	for _, tt := range []struct {
		name  string
		start func(string) *reviewtest.Server
		ci    func(*reviewtest.Server) CI
		env   string
	}{
		{"gitlab", reviewtest.NewGitLab, gitLabCI, GitLabTokenEnv},
		{"github", reviewtest.NewGitHub, gitHubCI, GitHubTokenEnv},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.start(testToken)
			defer srv.Close()
			srv.Limit = 4000
			p := renewalPlan(t, 20, 30)
			if _, err := Post(context.Background(), tt.ci(srv), env(map[string]string{tt.env: testToken}), p, PostOptions{BodyOptions: BodyOptions{Site: "ecampus"}}); err != nil {
				t.Fatal(err)
			}
			cs := srv.Comments()
			if len(cs) != 1 || !strings.Contains(cs[0].Body, "### enrolctl plan (summary)") {
				t.Fatalf("stored %d comments; want the summary", len(cs))
			}
			checkWholeLines(t, cs[0].Body)
		})
	}
}

// A reviewer's reply quoting enrolctl's comment carries the marker too; it is never
// the comment that gets overwritten.
func TestUpsertLeavesQuotingRepliesAlone(t *testing.T) {
	ctx := context.Background()
	getenv := env(map[string]string{GitHubTokenEnv: testToken})
	srv2 := reviewtest.NewGitHub(testToken)
	defer srv2.Close()
	c := NewGitHub(nil, srv2.URL, "acme/specs", 7, testToken, GitHubTokenEnv, 0)
	reply := "> " + Marker("ecampus") + "\n> ### enrolctl plan\n\nWhy is 21000000 renewed?"
	if _, err := c.Create(ctx, reply); err != nil {
		t.Fatal(err)
	}
	res, err := Post(ctx, gitHubCI(srv2), getenv, renewalPlan(t, 1, 2), PostOptions{BodyOptions: BodyOptions{Site: "ecampus"}})
	if err != nil {
		t.Fatal(err)
	}
	cs := srv2.Comments()
	if !res.Created || len(cs) != 2 || cs[0].Body != reply {
		t.Errorf("created=%v, %d comments, first %q", res.Created, len(cs), cs[0].Body)
	}
}
