package review

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/planfile"
	"github.com/enrolctl/enrolctl/internal/review/reviewtest"
)

// An API that redirects is never followed with the token: not to another host (GitLab's
// PRIVATE-TOKEN header would go with it), not on the same host (Bearer would). The
// error names where it pointed.
func TestAttackAPIRedirectsAreRefused(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, platform := range []Platform{GitLab, GitHub} {
			var elsewhere atomic.Int32
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				elsewhere.Add(1)
				w.Write([]byte("[]"))
			}))
			target := other.URL + "/collect"
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target, status)
			}))
			ci := CI{Platform: platform, APIURL: api.URL, Project: "42", MergeRequest: 7, Commit: "merge-sha"}
			getenv := env(map[string]string{GitLabTokenEnv: testToken, GitHubTokenEnv: testToken})
			_, err := Post(context.Background(), ci, getenv, renewalPlan(t, 1, 1), PostOptions{})
			if !errors.Is(err, ErrRedirect) || !strings.Contains(err.Error(), target) {
				t.Errorf("%s HTTP %d: comment err = %v, want a refused redirect naming %s", platform, status, err, target)
			}
			_, err = FetchPlan(context.Background(), ci, getenv, FetchOptions{})
			if !errors.Is(err, ErrRedirect) || !strings.Contains(err.Error(), target) {
				t.Errorf("%s HTTP %d: fetch-plan err = %v, want a refused redirect naming %s", platform, status, err, target)
			}
			if n := elsewhere.Load(); n != 0 {
				t.Errorf("%s HTTP %d: the redirect was followed (%d requests)", platform, status, n)
			}
			api.Close()
			other.Close()
		}
	}
}

// The caller's client is copied, not changed.
func TestAttackCallerHTTPClientKeepsItsRedirectPolicy(t *testing.T) {
	hc := &http.Client{}
	srv := reviewtest.NewGitLab(testToken)
	defer srv.Close()
	if _, err := Post(context.Background(), gitLabCI(srv), env(map[string]string{GitLabTokenEnv: testToken}), renewalPlan(t, 1, 1), PostOptions{HTTPClient: hc}); err != nil {
		t.Fatal(err)
	}
	if hc.CheckRedirect != nil || hc.Timeout != 0 {
		t.Error("Post changed the caller's http.Client")
	}
}

// A platform that accepts the connection and never answers does not hang the job.
func TestAttackHungAPITimesOut(t *testing.T) {
	release := make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer api.Close()
	defer close(release)
	getenv := env(map[string]string{GitLabTokenEnv: testToken, GitHubTokenEnv: testToken})
	for _, platform := range []Platform{GitLab, GitHub} {
		ci := CI{Platform: platform, APIURL: api.URL, Project: "42", MergeRequest: 7, Commit: "merge-sha"}
		done := make(chan error, 2)
		go func() {
			_, err := Post(context.Background(), ci, getenv, renewalPlan(t, 1, 1), PostOptions{Timeout: 200 * time.Millisecond})
			done <- err
			_, err = FetchPlan(context.Background(), ci, getenv, FetchOptions{Timeout: 200 * time.Millisecond})
			done <- err
		}()
		for _, what := range []string{"comment", "fetch-plan"} {
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") {
					t.Errorf("%s %s: err = %v, want a timeout naming its length", platform, what, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s %s: still waiting after 10s", platform, what)
			}
		}
	}
	if defaultTimeout <= 0 || defaultTimeout > 2*time.Minute {
		t.Errorf("default timeout %v", defaultTimeout)
	}
}

func zipOf(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A small artifact that inflates a thousand times is refused after reading a bounded
// amount, never held whole in memory.
func TestAttackZipBombArtifactIsRefused(t *testing.T) {
	srv := reviewtest.NewGitHub(testToken)
	defer srv.Close()
	srv.SetReviewedPlan("merge-sha", []byte("{}"), "success")
	bomb := zipOf(t, "plan.json", bytes.Repeat([]byte(" "), 8<<20))
	srv.SetArtifactZip(bomb)
	ci := gitHubCI(srv)
	ci.Commit = "merge-sha"
	_, err := FetchPlan(context.Background(), ci, env(map[string]string{GitHubTokenEnv: testToken}), FetchOptions{})
	if err == nil || !strings.Contains(err.Error(), "times its compressed size") {
		t.Fatalf("zip bomb of %d bytes: err = %v, want a refusal", len(bomb), err)
	}
}

// A plan over the size bound is refused with its size, on both platforms; never cut
// to the bound and handed to apply.
func TestAttackOversizedPlanIsRefusedNotTruncated(t *testing.T) {
	if maxPlanSize != planfile.MaxSize {
		t.Errorf("plans fetched are bounded by %d, planfile reads %d", maxPlanSize, planfile.MaxSize)
	}
	big := []byte(`{"format_version": "x", "pad": "` + strings.Repeat("ab", 40<<10) + `"}`)
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
			srv.SetReviewedPlan("merge-sha", big, "success")
			ci := tt.ci(srv)
			ci.Commit = "merge-sha"
			got, err := FetchPlan(context.Background(), ci, env(map[string]string{tt.env: testToken}), FetchOptions{MaxPlanSize: 64 << 10})
			if err == nil || !strings.Contains(err.Error(), "larger than 65536 bytes") {
				t.Errorf("plan of %d bytes over a bound of 64 KiB: %d bytes fetched, err = %v", len(big), len(got.Plan), err)
			}
			// Under the bound it is fetched whole.
			got, err = FetchPlan(context.Background(), ci, env(map[string]string{tt.env: testToken}), FetchOptions{})
			if err != nil || !bytes.Equal(got.Plan, big) {
				t.Errorf("plan under the bound: %d bytes, err = %v", len(got.Plan), err)
			}
		})
	}
}

// fetch-plan takes the plan of a run of this repository for the merged pull request's
// head, never another artifact of the same name: one from a fork's run or another
// branch's run, however new.
func TestAttackGitHubArtifactFromAnotherRunIsIgnored(t *testing.T) {
	reviewed := []byte(`{"reviewed": true}`)
	forged := []byte(`{"forged": true}`)
	for _, tt := range []struct {
		name string
		run  reviewtest.ArtifactRun
	}{
		{"another branch", reviewtest.ArtifactRun{HeadSHA: "other-branch-sha", HeadRepositoryID: reviewtest.RepositoryID, RepositoryID: reviewtest.RepositoryID}},
		{"a fork", reviewtest.ArtifactRun{HeadSHA: "head-sha", HeadRepositoryID: 666, RepositoryID: reviewtest.RepositoryID}},
		{"another repository", reviewtest.ArtifactRun{HeadSHA: "head-sha", HeadRepositoryID: 666, RepositoryID: 666}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := reviewtest.NewGitHub(testToken)
			defer srv.Close()
			srv.SetReviewedPlan("merge-sha", reviewed, "success")
			id := srv.AddArtifact(tt.run, forged) // newer than the reviewed one
			ci := gitHubCI(srv)
			ci.Commit = "merge-sha"
			got, err := FetchPlan(context.Background(), ci, env(map[string]string{GitHubTokenEnv: testToken}), FetchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Plan, reviewed) || !strings.Contains(got.From, "id 300") {
				t.Errorf("fetched %s from %s, want the reviewed plan of artifact 300, not %d", got.Plan, got.From, id)
			}
		})
	}
}

// When the merge request's head moved after its last plan, no plan of the merged
// specs was reviewed: refused on both platforms, naming both commits.
func TestAttackPlanOfAnOlderHeadIsRefused(t *testing.T) {
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
			srv.SetReviewedPlan("merge-sha", []byte("{}"), "success")
			srv.SetHead("pushed-later")
			ci := tt.ci(srv)
			ci.Commit = "merge-sha"
			got, err := FetchPlan(context.Background(), ci, env(map[string]string{tt.env: testToken}), FetchOptions{})
			if !errors.Is(err, ErrNoReviewedPlan) || !strings.Contains(err.Error(), "pushed-later") || !strings.Contains(err.Error(), "head-sha") {
				t.Errorf("head moved after the plan: fetched %q from %q, err = %v", got.Plan, got.From, err)
			}
		})
	}
}

// On GitLab, the pipeline is the merge request's head pipeline, in this project.
func TestAttackGitLabPipelineOfAnotherProjectIsRefused(t *testing.T) {
	srv := reviewtest.NewGitLab(testToken)
	defer srv.Close()
	srv.SetReviewedPlan("merge-sha", []byte("{}"), "success")
	srv.SetPipelineProject(666)
	ci := gitLabCI(srv)
	ci.Commit = "merge-sha"
	_, err := FetchPlan(context.Background(), ci, env(map[string]string{GitLabTokenEnv: testToken}), FetchOptions{})
	if !errors.Is(err, ErrNoReviewedPlan) || !strings.Contains(err.Error(), "project 666") {
		t.Errorf("pipeline of a fork's project: err = %v", err)
	}
}

// A comment by someone else that starts with the marker is not enrolctl's: it is left
// as it is, reported, and the plan is posted in a comment of enrolctl's own, which
// later pushes edit.
func TestAttackHijackedMarkerIsReportedAndBypassed(t *testing.T) {
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
			srv.Seed(3)
			forged := Marker("ecampus") + "\n### enrolctl plan\n\n**No changes. Moodle matches the specs.**\n"
			fake := srv.AddComment("mallory", forged)
			getenv := env(map[string]string{tt.env: testToken})
			ctx := context.Background()
			res, err := Post(ctx, tt.ci(srv), getenv, renewalPlan(t, 1, 2), PostOptions{BodyOptions: BodyOptions{Site: "ecampus"}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Created || res.Comment.ID == fake || len(res.Hijacked) != 1 || res.Hijacked[0].ID != fake || res.Hijacked[0].Author != "mallory" {
				t.Fatalf("result %+v, want a new comment and comment %d by mallory reported", res, fake)
			}
			for _, c := range srv.Comments() {
				if c.ID == fake && c.Body != forged {
					t.Error("mallory's comment was changed")
				}
				if c.ID == res.Comment.ID && (!strings.HasPrefix(c.Body, Marker("ecampus")+"\n") || !strings.Contains(c.Body, "`mallory`") || !strings.Contains(c.Body, "not written by enrolctl")) {
					t.Errorf("the plan's comment does not warn of the imitation:\n%s", c.Body)
				}
			}
			again, err := Post(ctx, tt.ci(srv), getenv, renewalPlan(t, 2, 2), PostOptions{BodyOptions: BodyOptions{Site: "ecampus"}})
			if err != nil {
				t.Fatal(err)
			}
			if again.Created || again.Comment.ID != res.Comment.ID {
				t.Errorf("second push: %+v, want an edit of comment %d", again, res.Comment.ID)
			}
		})
	}
}
