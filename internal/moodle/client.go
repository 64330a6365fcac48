package moodle

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/enrolctl/enrolctl/internal/redact"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Config says how to reach one Moodle.
type Config struct {
	// URL is the site's wwwroot, e.g. https://moodle.example.edu.
	URL string
	// Token is the web-service token. It is sent only in request bodies.
	Token string
	// HTTPClient defaults to a client that waits at most 60 s for a read's answer to
	// start and then at most 60 s for each next piece of it (callTimeout): a whole
	// answer of thousands of courses may take longer, decoded as it arrives. A client
	// given here with a Timeout keeps it; one without gets the same bound. A write call's timeout is WriteTimeout plus
	// WriteTimePerItem for each item it carries, never less than HTTPClient's: a write
	// is never given up while it may still be running within what a site needs for it.
	HTTPClient *http.Client
	// WriteTimeout (default 60s) and WriteTimePerItem (default 40ms: 5,000 items, close
	// to a minute on a real site, get 4m20s).
	WriteTimeout, WriteTimePerItem time.Duration
	// Concurrency bounds parallel requests (default 4).
	Concurrency int
	// ReadRetries is how many times a failed read is retried (default 3).
	ReadRetries int
	// WriteRetries is how many times a write call that failed transiently is resent
	// whole (default 4); writes are idempotent, so a resend never applies twice.
	WriteRetries int
	// Backoff is the first retry delay, doubled each time (default 500ms).
	Backoff time.Duration
	// Log, when set, receives one line per call: function, duration, outcome. Never the token.
	Log io.Writer
}

// Client calls one Moodle's web services.
type Client struct {
	cfg      Config
	endpoint string
	sem      chan struct{}
	calls    atomic.Int64
	// pluginVersion is local_enrolctl's version once SiteStatus has read it: it picks
	// the contract's read limits.
	pluginVersion atomic.Int64
	// writeHTTP is HTTPClient without its timeout: write calls carry their own.
	writeHTTP *http.Client

	maxWriteItems, maxWriteBytes int
	// idle bounds the wait for each next piece of an answer (0: the HTTP client's
	// own timeout only).
	idle time.Duration
}

// callTimeout is how long the default HTTP client waits for an answer to start, and
// then for each next piece of it. A bound on the whole call (the default was 60 s)
// failed large reads that were arriving all along: a 2,500-course answer is decoded
// as it arrives, and on a loaded machine that took longer.
const callTimeout = 60 * time.Second

// errNoStart and errStalled end a read whose answer did not start, or stopped
// arriving, within callTimeout.
var (
	errNoStart = fmt.Errorf("the answer did not start within %s", callTimeout)
	errStalled = fmt.Errorf("the answer stopped arriving for %s", callTimeout)
)

// New checks cfg and returns a client. HTTPS is required except for loopback hosts.
func New(cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, errors.New("moodle: no token: set the site's token_env or token_file")
	}
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("moodle: site URL %q is not an http(s) URL", cfg.URL)
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("moodle: site URL must not carry credentials or a query (tokens go in the request body)")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("moodle: site URL %s uses http: HTTPS is required except on loopback, since the token travels in the request", u.Redacted())
	}
	if cfg.HTTPClient == nil {
		// No whole-call timeout and no ResponseHeaderTimeout on the transport: the
		// transport is shared with writes, which must wait up to their own deadline.
		cfg.HTTPClient = &http.Client{}
	}
	idle := time.Duration(0)
	if cfg.HTTPClient.Timeout == 0 {
		idle = callTimeout // a client without a bound of its own gets this one
	}
	// Never follow a redirect: a 307 or 308 re-sends the body, token included, to
	// wherever Location points. A copy, so the caller's client is left as it is.
	hc := *cfg.HTTPClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.HTTPClient = &hc
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 60 * time.Second
	}
	if cfg.WriteTimePerItem <= 0 {
		cfg.WriteTimePerItem = 40 * time.Millisecond
	}
	// Writes set their own deadline (writeTimeout), so their client has none.
	whc := hc
	whc.Timeout = 0
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.ReadRetries < 0 {
		cfg.ReadRetries = 0
	} else if cfg.ReadRetries == 0 {
		cfg.ReadRetries = 3
	}
	if cfg.WriteRetries < 0 {
		cfg.WriteRetries = 0
	} else if cfg.WriteRetries == 0 {
		cfg.WriteRetries = 4
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	return &Client{cfg: cfg, endpoint: u.String() + "/webservice/rest/server.php", sem: make(chan struct{}, cfg.Concurrency),
		writeHTTP: &whc, maxWriteItems: maxWriteItems, maxWriteBytes: maxWriteBytes, idle: idle}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Calls counts the web-service calls this client has made, resends included.
func (c *Client) Calls() int64 { return c.calls.Load() }

// SiteURL is the site's wwwroot as configured.
func (c *Client) SiteURL() string {
	return strings.TrimSuffix(c.endpoint, "/webservice/rest/server.php")
}

// read calls a read-only function, retrying with backoff transport failures and the
// errors of a database that is restarting (measured on Moodle 5.1 + PostgreSQL: a read
// during the restart answers dbconnectionfailed, and the database is back within 3 s).
func (c *Client) read(ctx context.Context, fn string, args *Form, out any) error {
	delay := c.cfg.Backoff
	for attempt := 0; ; attempt++ {
		err := c.call(withAttempt(ctx, attempt), fn, args, out)
		if err == nil || !retryableRead(err) || attempt >= c.cfg.ReadRetries {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

type attemptKey struct{}

// withAttempt marks a call's context with its attempt: 0 for the first send, n for the
// nth resend.
func withAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

// Attempt is which send of a call a request's context is (0: the first; n: the nth
// resend), so that a log of requests can tell a retry from the same read made again.
func Attempt(ctx context.Context) int {
	n, _ := ctx.Value(attemptKey{}).(int)
	return n
}

// retryableRead says whether a failed read may be sent again: no answer, HTTP 5xx, or
// a database that could not be reached or failed mid-read.
func retryableRead(err error) bool {
	var te *TransportError
	if errors.As(err, &te) {
		return te.Status == 0 || te.Status >= 500
	}
	var me *Error
	return errors.As(err, &me) && databaseUnavailable(me.ErrorCode)
}

// write calls a function that changes Moodle, once.
func (c *Client) write(ctx context.Context, fn string, args *Form, out any) error {
	return c.call(ctx, fn, args, out)
}

// writeTimeout is how long a write call of n items may take before it is given up
// (and its outcome is unknown: it may still be running).
func (c *Client) writeTimeout(n int) time.Duration {
	return max(c.cfg.WriteTimeout+time.Duration(n)*c.cfg.WriteTimePerItem, c.cfg.HTTPClient.Timeout)
}

// writeItems calls a write function carrying n items, under its own deadline
// (writeTimeout), once.
func (c *Client) writeItems(ctx context.Context, fn string, n int, args *Form, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.writeTimeout(n))
	defer cancel()
	return c.callWith(ctx, c.writeHTTP, fn, args, out)
}

func (c *Client) call(ctx context.Context, fn string, args *Form, out any) error {
	return c.callWith(ctx, c.cfg.HTTPClient, fn, args, out)
}

func (c *Client) callWith(ctx context.Context, hc *http.Client, fn string, args *Form, out any) error {
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return &TransportError{Function: fn, Err: ctx.Err()}
	}
	c.calls.Add(1)
	body := args.encode("wstoken", c.cfg.Token, "wsfunction", fn, "moodlewsrestformat", "json")
	start := time.Now()
	err := c.do(ctx, hc, fn, body, out)
	if c.cfg.Log != nil {
		outcome := "ok"
		if err != nil {
			outcome = c.redact(err.Error())
		}
		fmt.Fprintf(c.cfg.Log, "moodle %s %dms %s\n", fn, time.Since(start).Milliseconds(), outcome)
	}
	return err
}

// maxAnswer is the most of an answer read: a bound on what a broken or hostile server
// can make the client hold. maxPresized is the most of it a buffer is sized for before
// it arrives, from the Content-Length a server announces: one that announces more than
// it sends makes the client hold that much at most.
const (
	maxAnswer   = 256 << 20
	maxPresized = 16 << 20
)

func (c *Client) do(ctx context.Context, hc *http.Client, fn, body string, out any) (err error) {
	// Reads of the default client are bounded per piece (watchdog), never as a whole;
	// writes only by their own deadline (writeItems), so never given up sooner.
	var w *watchdog
	if c.idle > 0 && hc == c.cfg.HTTPClient {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		w = newWatchdog(c.idle, cancel)
		defer w.stop()
		defer func() {
			if cause := context.Cause(ctx); err != nil && (errors.Is(cause, errStalled) || errors.Is(cause, errNoStart)) {
				err = &TransportError{Function: fn, Err: cause, Timeout: true}
			}
		}()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(body))
	if err != nil {
		return &TransportError{Function: fn, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		// net/http errors quote the URL, never the body, so the token cannot leak here;
		// redact anyway in case a proxy echoes it. Whether it timed out or was cancelled
		// is kept: such a call may still be running on the site.
		te := &TransportError{Function: fn, Err: errors.New(c.redact(err.Error()))}
		var ne net.Error
		switch {
		case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
			// net/http gives the context's cause (a signal), not context.Canceled.
			te.Err = fmt.Errorf("%w: %s", context.Canceled, c.redact(err.Error()))
		case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
			te.Timeout = true
		}
		return te
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return &TransportError{Function: fn, Status: resp.StatusCode, Err: fmt.Errorf("%w to %s, not followed (the token would go with it): is the site URL Moodle's wwwroot exactly (scheme, host, path)?",
			ErrRedirect, c.redact(resp.Header.Get("Location")))}
	}
	// Whatever Moodle echoes, the token never reaches a decoded value: it is cut
	// from the answer as it is read.
	var in io.Reader = resp.Body
	if w != nil {
		w.r = resp.Body
		w.started.Store(true)
		w.timer.Reset(w.idle)
		in = w
	}
	answer := bufio.NewReaderSize(redact.NewReader(io.LimitReader(in, maxAnswer), c.cfg.Token), 64<<10)
	if s, ok := out.(streamDecoder); ok && resp.StatusCode == http.StatusOK && startsWith(answer, s.opens()) {
		// A large list is decoded as it is read, never held whole.
		if err := s.decodeStream(answer); err != nil {
			return c.decodeFailed(ctx, fn, err)
		}
		return nil
	}
	// Read into a buffer of the size Moodle announces (it sends Content-Length): a
	// site's read with rows ahead is megabytes, which io.ReadAll's doubling copied and
	// allocated twice over.
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 {
		buf.Grow(int(min(n, maxPresized)) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(answer); err != nil {
		return &TransportError{Function: fn, Status: resp.StatusCode, Err: err}
	}
	data := buf.Bytes()
	if resp.StatusCode == http.StatusForbidden && len(bytes.TrimSpace(data)) == 0 {
		return &TransportError{Function: fn, Status: resp.StatusCode, Err: ErrWebServicesDisabled}
	}
	if resp.StatusCode != http.StatusOK {
		return &TransportError{Function: fn, Status: resp.StatusCode, Err: fmt.Errorf("unexpected response %q", snippet(c.redact(string(data))))}
	}
	return c.decode(fn, data, out)
}

// watchdog gives a read's answer idle to start, then each read of it idle to bring
// something; when it does not, the call is cancelled with errNoStart or errStalled.
type watchdog struct {
	r       io.Reader
	idle    time.Duration
	timer   *time.Timer
	started atomic.Bool
}

func newWatchdog(idle time.Duration, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{idle: idle}
	w.timer = time.AfterFunc(idle, func() {
		if w.started.Load() {
			cancel(errStalled)
		} else {
			cancel(errNoStart)
		}
	})
	return w
}

func (w *watchdog) stop() { w.timer.Stop() }

func (w *watchdog) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.timer.Reset(w.idle)
	}
	return n, err
}

func (c *Client) decode(fn string, data []byte, out any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' && bytes.Contains(trimmed, []byte(`"errorcode"`)) {
		var e struct {
			Exception string `json:"exception"`
			ErrorCode string `json:"errorcode"`
			Message   string `json:"message"`
			DebugInfo string `json:"debuginfo"`
		}
		if json.Unmarshal(trimmed, &e) == nil && e.ErrorCode != "" {
			// Moodle echoes parameters in messages (invalidparameter does), the token too.
			// Some messages are HTML (dbconnectionfailed's three paragraphs): kept as text.
			return &Error{Function: fn, ErrorCode: c.redact(e.ErrorCode), Message: c.redact(PlainText(e.Message)), DebugInfo: c.redact(PlainText(e.DebugInfo)), Exception: c.redact(e.Exception)}
		}
	}
	if len(trimmed) == 0 || trimmed[0] == '<' {
		return &TransportError{Function: fn, Status: http.StatusOK, Err: fmt.Errorf("response is not JSON (is moodlewsrestformat honoured?): %q", snippet(c.redact(string(trimmed))))}
	}
	if out == nil {
		return nil
	}
	if s, ok := out.(streamDecoder); ok {
		if err := s.decodeStream(bytes.NewReader(trimmed)); err != nil {
			return &TransportError{Function: fn, Status: http.StatusOK, Err: fmt.Errorf("decoding response: %s", c.redact(err.Error()))}
		}
		return nil
	}
	if err := json.Unmarshal(trimmed, out); err != nil {
		return &TransportError{Function: fn, Status: http.StatusOK, Err: fmt.Errorf("decoding response: %s", c.redact(err.Error()))}
	}
	return nil
}

// redact removes the token from a string that came from Moodle or the network, before
// it is cut, printed, logged or audited: the whole token, and any run of 8 or more of its
// characters (an echo Moodle or a proxy cut short).
func (c *Client) redact(s string) string {
	return Redact(s, c.cfg.Token)
}

// Redact returns s without token, whole or in fragments of 8 characters or more
// (redact.One: redaction has one home).
func Redact(s, token string) string { return redact.One(s, token) }

// startsWith reports whether the body's first non-blank byte is first (an array or a string; an
// error is an object), leaving the body unread.
func startsWith(r *bufio.Reader, first byte) bool {
	for n := 1; ; n++ {
		b, err := r.Peek(n)
		if err != nil || len(b) < n {
			return false
		}
		switch b[n-1] {
		case ' ', '\t', '\r', '\n':
			continue
		default:
			return b[n-1] == first
		}
	}
}

// snippet cuts s for an error message; callers redact before, never after.
func snippet(s string) string {
	if len(s) > 200 {
		return strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// decodeFailed is the error of an answer that could not be decoded. When the call was
// cancelled meanwhile (a signal, a sibling call's failure), the answer was cut by
// that, and the cancellation is kept for the caller to say so.
func (c *Client) decodeFailed(ctx context.Context, fn string, err error) error {
	e := fmt.Errorf("decoding response: %s", c.redact(err.Error()))
	if errors.Is(ctx.Err(), context.Canceled) {
		e = fmt.Errorf("%w: %w", context.Canceled, e)
	}
	return &TransportError{Function: fn, Status: http.StatusOK, Err: e}
}
