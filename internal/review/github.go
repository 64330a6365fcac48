package review

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// GitHubTokenEnv is the environment variable holding the GitHub token: the workflow's
// own GITHUB_TOKEN, with permissions pull-requests: write.
const GitHubTokenEnv = "GITHUB_TOKEN"

// gitHub is the issue comments API of one pull request (REST API).
type gitHub struct {
	httpAPI
	api, repo string
	number    int
}

// NewGitHub returns the comments API of pull request number of repo (owner/name) at
// apiURL (GITHUB_API_URL). tokenEnv names where token came from, for messages.
func NewGitHub(client *http.Client, apiURL, repo string, number int, token, tokenEnv string, timeout time.Duration) Commenter {
	return &gitHub{
		httpAPI: gitHubAPI(client, token, tokenEnv, timeout),
		api:     apiURL, repo: repo, number: number,
	}
}

// gitHubAPI is GitHub's REST API with the token as a bearer, for comments and fetches.
func gitHubAPI(client *http.Client, token, tokenEnv string, timeout time.Duration) httpAPI {
	return newHTTPAPI(GitHub, client, tokenEnv, timeout, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Accept", "application/vnd.github+json")
		r.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	})
}

type gitHubComment struct {
	ID   int64  `json:"id"`
	Body string `json:"body"`
	User struct {
		Login string `json:"login"`
	} `json:"user"`
}

func (c gitHubComment) comment() Comment {
	return Comment{ID: c.ID, Body: c.Body, Author: c.User.Login}
}

// GitHubActionsAccount writes the comments of the workflow's GITHUB_TOKEN.
const GitHubActionsAccount = "github-actions[bot]"

// Self is the token's user; the workflow's GITHUB_TOKEN, an installation token, has
// none (GitHub answers 403), and writes as github-actions[bot].
func (g *gitHub) Self(ctx context.Context) (string, error) {
	var u struct {
		Login string `json:"login"`
	}
	_, err := g.do(ctx, http.MethodGet, g.api+"/user", nil, &u)
	var e *APIError
	switch {
	case errors.As(err, &e) && e.Status == http.StatusForbidden:
		return GitHubActionsAccount, nil
	case err != nil:
		return "", g.hint(err)
	case u.Login == "":
		return "", fmt.Errorf("GitHub API: /user does not name the token's user")
	}
	return u.Login, nil
}

func (g *gitHub) List(ctx context.Context, page int) ([]Comment, int, error) {
	var cs []gitHubComment
	h, err := g.do(ctx, http.MethodGet, fmt.Sprintf("%s/repos/%s/issues/%d/comments?per_page=100&page=%d", g.api, g.repo, g.number, page), nil, &cs)
	if err != nil {
		return nil, 0, g.hint(err)
	}
	out := make([]Comment, len(cs))
	for i, c := range cs {
		out[i] = c.comment()
	}
	return out, nextPage(h.Get("Link")), nil
}

func (g *gitHub) Create(ctx context.Context, body string) (Comment, error) {
	var c gitHubComment
	_, err := g.do(ctx, http.MethodPost, fmt.Sprintf("%s/repos/%s/issues/%d/comments", g.api, g.repo, g.number), map[string]string{"body": body}, &c)
	return c.comment(), g.hint(err)
}

func (g *gitHub) Update(ctx context.Context, id int64, body string) (Comment, error) {
	var c gitHubComment
	_, err := g.do(ctx, http.MethodPatch, fmt.Sprintf("%s/repos/%s/issues/comments/%d", g.api, g.repo, id), map[string]string{"body": body}, &c)
	return c.comment(), g.hint(err)
}

func (g *gitHub) hint(err error) error {
	if e, ok := err.(*APIError); ok && e.Status == http.StatusForbidden {
		e.Hint += "; the workflow needs permissions: pull-requests: write"
	}
	return err
}

// nextPage reads the page number of rel="next" in a Link header, 0 when there is none:
// <https://api.github.com/repositories/1/issues/2/comments?page=3>; rel="next", ...
func nextPage(link string) int {
	for _, part := range strings.Split(link, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.Contains(params, `rel="next"`) {
			continue
		}
		u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
		if err != nil {
			return 0
		}
		n, err := strconv.Atoi(u.Query().Get("page"))
		if err != nil || n < 0 {
			return 0
		}
		return n
	}
	return 0
}
