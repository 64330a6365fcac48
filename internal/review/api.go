package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/render"
)

// Comment is one comment of a merge request.
type Comment struct {
	ID     int64
	Body   string
	Author string // the account that wrote it (GitLab username, GitHub login)
}

// Commenter is a platform's comment API for one merge request.
type Commenter interface {
	// List returns one page of comments and the next page's number (0 on the last).
	List(ctx context.Context, page int) ([]Comment, int, error)
	Create(ctx context.Context, body string) (Comment, error)
	Update(ctx context.Context, id int64, body string) (Comment, error)
	// Self is the account the token writes as: only its comments are enrolctl's.
	Self(ctx context.Context) (string, error)
}

// Result says what Upsert did.
type Result struct {
	Comment Comment
	Created bool
	// Hijacked are comments that start with the marker but were written by another
	// account: left alone, and named in the comment.
	Hijacked []Comment
	// Unchanged: the comment already said exactly this; it was left as it was.
	Unchanged bool
}

// maxPages bounds the search for the marker (100 comments a page).
const maxPages = 100

// Upsert finds the comment that starts with marker, across every page, and replaces
// its body; without one it creates the comment. Only a comment written by the
// token's own account is enrolctl's: anyone may write one that starts with the
// marker, to be edited in its place (a 403) or to stand as the plan (issue 18). Such
// a comment is left alone, reported in Result.Hijacked and named at the top of
// enrolctl's own comment, so that reviewers know which one is the plan.
func Upsert(ctx context.Context, c Commenter, marker, body string) (Result, error) {
	var ours *Comment
	var hijacked []Comment
	self := ""
	for page := 1; page > 0 && page <= maxPages; {
		comments, next, err := c.List(ctx, page)
		if err != nil {
			return Result{}, err
		}
		for _, cm := range comments {
			// The marker opens enrolctl's comment; a reply quoting it ("> <!-- ...")
			// or mentioning it is someone else's and is never overwritten.
			if !strings.HasPrefix(strings.TrimLeft(cm.Body, " \r\n"), marker) {
				continue
			}
			if self == "" {
				if self, err = c.Self(ctx); err != nil {
					return Result{}, err
				}
			}
			switch {
			case cm.Author != self:
				hijacked = append(hijacked, cm)
			case ours == nil:
				ours = &cm
			}
		}
		if next <= page {
			break
		}
		page = next
	}
	body = withImitations(body, marker, hijacked, self)
	if ours == nil {
		created, err := c.Create(ctx, body)
		return Result{Comment: created, Created: true, Hijacked: hijacked}, err
	}
	if ours.Body == body { // a re-run of the same plan: no edit, no "edited" mark
		return Result{Comment: *ours, Unchanged: true, Hijacked: hijacked}, nil
	}
	updated, err := c.Update(ctx, ours.ID, body)
	return Result{Comment: updated, Hijacked: hijacked}, err
}

// withImitations puts, under the marker line, a note naming the comments that imitate
// enrolctl's.
func withImitations(body, marker string, hijacked []Comment, self string) string {
	if len(hijacked) == 0 {
		return body
	}
	var note strings.Builder
	for _, h := range hijacked {
		fmt.Fprintf(&note, "> **Note:** comment %d, by %s, starts like this one but was not written by enrolctl (%s): it is not the plan; this comment is.\n",
			h.ID, render.MarkdownCode(h.Author), render.MarkdownCode(self))
	}
	rest, ok := strings.CutPrefix(body, marker+"\n")
	if !ok {
		return body
	}
	return marker + "\n" + note.String() + "\n" + rest
}

// APIError is a refusal from the platform, with what to do about it. It never holds
// the token.
type APIError struct {
	Platform Platform
	Status   int
	Message  string // the platform's message, shortened
	Hint     string
}

// Name is the platform's name as its users write it.
func (p Platform) Name() string {
	if n, ok := map[Platform]string{GitLab: "GitLab", GitHub: "GitHub"}[p]; ok {
		return n
	}
	return string(p)
}

func (e *APIError) Error() string {
	name := e.Platform.Name()
	s := fmt.Sprintf("%s API: %s", name, http.StatusText(e.Status))
	if e.Status == 0 {
		s = name + " API"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// ErrUnauthorized is matched by errors.Is for a refused or missing token.
var ErrUnauthorized = errors.New("unauthorized")

func (e *APIError) Is(target error) bool {
	return target == ErrUnauthorized && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden)
}

// httpAPI is what both platforms share: a client, a token header, JSON bodies.
type httpAPI struct {
	platform  Platform
	client    *http.Client
	setAuth   func(*http.Request)
	tokenName string        // the environment variable the token came from, for messages
	timeout   time.Duration // per request
}

// newHTTPAPI is the API of platform with a copy of client (nil: a new one) that
// never follows a redirect: a redirected request keeps PRIVATE-TOKEN on any host and
// Authorization on the same one, so following it could hand the token to whoever
// the Location names.
func newHTTPAPI(platform Platform, client *http.Client, tokenEnv string, timeout time.Duration, setAuth func(*http.Request)) httpAPI {
	hc := http.Client{}
	if client != nil {
		hc = *client
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	return httpAPI{platform: platform, client: &hc, setAuth: setAuth, tokenName: tokenEnv, timeout: timeout}
}

func (h *httpAPI) do(ctx context.Context, method, url string, in any, out any) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	data, header, err := h.send(req, 64<<20, h.timeout)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("%s API: unexpected answer to %s: %v", h.platform, method, err)
		}
	}
	return header, nil
}

// errTooLarge is the cause of an answer longer than the reader's limit.
var errTooLarge = errors.New("too large")

// send adds the token, sends req and reads at most limit bytes of the answer, within
// timeout; a longer answer is errTooLarge, never cut. An answer of 300 or above is an
// *APIError, a redirect an ErrRedirect naming its Location.
func (h *httpAPI) send(req *http.Request, limit int64, timeout time.Duration) ([]byte, http.Header, error) {
	h.setAuth(req)
	resp, cancel, err := h.roundTrip(req, timeout)
	if err != nil {
		return nil, nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, nil, fmt.Errorf("%s API: %w (HTTP %d) to %s, not followed: the token would go with it; is the API address right (CI_API_V4_URL, GITHUB_API_URL)?",
			h.platform.Name(), ErrRedirect, resp.StatusCode, resp.Header.Get("Location"))
	}
	data, err := readAtMost(resp.Body, limit)
	if err != nil {
		return nil, nil, h.timedOut(req, timeout, err)
	}
	if resp.StatusCode >= 300 {
		return nil, nil, h.apiError(resp.StatusCode, data)
	}
	return data, resp.Header, nil
}

// roundTrip sends req with a deadline; the caller calls cancel once the body is read.
func (h *httpAPI) roundTrip(req *http.Request, timeout time.Duration) (*http.Response, context.CancelFunc, error) {
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	resp, err := h.client.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, nil, h.timedOut(req, timeout, err)
	}
	return resp, cancel, nil
}

// timedOut words a request that ran out of time; other errors are returned as they are.
func (h *httpAPI) timedOut(req *http.Request, timeout time.Duration, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && req.Context().Err() == nil {
		return fmt.Errorf("%s API: no answer within %v to %s %s", h.platform.Name(), timeout, req.Method, req.URL.Redacted())
	}
	return err
}

// readAtMost reads r whole, or fails with errTooLarge past limit bytes.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: larger than %d bytes", errTooLarge, limit)
	}
	return data, nil
}

func (h *httpAPI) apiError(status int, data []byte) error {
	var m struct {
		Message any    `json:"message"`
		Error   string `json:"error"`
		Errors  []struct {
			Message string `json:"message"`
		} `json:"errors"` // GitHub's validation details
	}
	e := &APIError{Platform: h.platform, Status: status}
	if json.Unmarshal(data, &m) == nil {
		switch v := m.Message.(type) {
		case string:
			e.Message = v
		case nil:
			e.Message = m.Error
		default:
			b, _ := json.Marshal(v)
			e.Message = string(b)
		}
		for _, d := range m.Errors {
			if d.Message != "" {
				e.Message += ": " + d.Message
			}
		}
	}
	if len(e.Message) > 300 {
		e.Message = e.Message[:300] + "…"
	}
	switch status {
	case http.StatusUnauthorized:
		e.Hint = "the token in " + h.tokenName + " is missing, expired or revoked"
	case http.StatusForbidden:
		e.Hint = "the token in " + h.tokenName + " may not comment on this merge request"
	case http.StatusNotFound:
		e.Hint = "no such project or merge request, or the token in " + h.tokenName + " cannot see it"
	}
	return e
}

// ErrRedirect is matched by errors.Is for an API answer that redirected: never
// followed, since the token would go with it.
var ErrRedirect = errors.New("the API answered with a redirect")

// defaultTimeout bounds one API request; a download gets downloadTimeouts of them.
const (
	defaultTimeout   = 60 * time.Second
	downloadTimeouts = 5
)
