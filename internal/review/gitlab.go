package review

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// GitLabTokenEnv is the environment variable holding the GitLab token that posts
// comments: a project or group access token with the api scope (CI_JOB_TOKEN cannot
// create notes).
const GitLabTokenEnv = "ENROLCTL_GITLAB_TOKEN"

// gitLab is the notes API of one merge request (REST API v4).
type gitLab struct {
	httpAPI
	api  string // CI_API_V4_URL
	base string // .../projects/:id/merge_requests/:iid/notes
}

// NewGitLab returns the notes API of merge request iid of project (an ID or a
// path) at apiURL (CI_API_V4_URL). tokenEnv names where token came from, for messages.
func NewGitLab(client *http.Client, apiURL, project string, iid int, token, tokenEnv string, timeout time.Duration) Commenter {
	return &gitLab{
		httpAPI: gitLabAPI(client, token, tokenEnv, timeout),
		api:     apiURL,
		base:    fmt.Sprintf("%s/projects/%s/merge_requests/%d/notes", apiURL, url.PathEscape(project), iid),
	}
}

// gitLabAPI is GitLab's REST API v4 with a private token, for notes and fetches.
func gitLabAPI(client *http.Client, token, tokenEnv string, timeout time.Duration) httpAPI {
	return newHTTPAPI(GitLab, client, tokenEnv, timeout, func(r *http.Request) { r.Header.Set("PRIVATE-TOKEN", token) })
}

type gitLabNote struct {
	ID     int64  `json:"id"`
	Body   string `json:"body"`
	System bool   `json:"system"`
	Author struct {
		Username string `json:"username"`
	} `json:"author"`
}

func (n gitLabNote) comment() Comment {
	return Comment{ID: n.ID, Body: n.Body, Author: n.Author.Username}
}

// Self is the token's user (a project access token has a bot user of its own).
func (g *gitLab) Self(ctx context.Context) (string, error) {
	var u struct {
		Username string `json:"username"`
	}
	if _, err := g.do(ctx, http.MethodGet, g.api+"/user", nil, &u); err != nil {
		return "", g.hint(err)
	}
	if u.Username == "" {
		return "", fmt.Errorf("GitLab API: /user does not name the token's user")
	}
	return u.Username, nil
}

func (g *gitLab) List(ctx context.Context, page int) ([]Comment, int, error) {
	var notes []gitLabNote
	h, err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s?per_page=100&page=%d&sort=asc&order_by=created_at", g.base, page), nil, &notes)
	if err != nil {
		return nil, 0, err
	}
	out := make([]Comment, 0, len(notes))
	for _, n := range notes {
		if !n.System { // "added 1 commit" and the like
			out = append(out, n.comment())
		}
	}
	next, _ := strconv.Atoi(h.Get("X-Next-Page")) // empty on the last page
	return out, next, nil
}

func (g *gitLab) Create(ctx context.Context, body string) (Comment, error) {
	var n gitLabNote
	_, err := g.do(ctx, http.MethodPost, g.base, map[string]string{"body": body}, &n)
	return n.comment(), g.hint(err)
}

func (g *gitLab) Update(ctx context.Context, id int64, body string) (Comment, error) {
	var n gitLabNote
	_, err := g.do(ctx, http.MethodPut, fmt.Sprintf("%s/%d", g.base, id), map[string]string{"body": body}, &n)
	return n.comment(), g.hint(err)
}

// hint adds what GitLab's terse refusals mean for a token.
func (g *gitLab) hint(err error) error {
	if e, ok := err.(*APIError); ok && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden) {
		e.Hint += "; it must be a project or group access token with the api scope, CI_JOB_TOKEN cannot write notes"
	}
	return err
}
