package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/redact"
)

// logLevel is ENROLCTL_LOG: "debug" prints a line per REST call to stderr (function,
// duration, request and response sizes, retries), "trace" also the names of the
// call's parameters. Values are never printed: they hold the token and usernames.
func (a *App) logLevel() string {
	switch l := strings.ToLower(strings.TrimSpace(a.Getenv("ENROLCTL_LOG"))); l {
	case "debug", "trace":
		return l
	}
	return ""
}

// siteHTTP is the HTTP client of a site's REST calls: base (nil: a client with the
// moodle package's 60 s timeout) with its transport wrapped to say at once, in words,
// when the site cannot be reached, and to log each call under ENROLCTL_LOG.
func (a *App) siteHTTP(base *http.Client, site, token string) *http.Client {
	if base == nil {
		// No whole-call timeout: the moodle client bounds each piece of a read (a
		// 5,000-course answer may take more than a minute in all) and each write.
		base = &http.Client{}
	}
	hc := *base
	rt := cmp.Or(hc.Transport, http.DefaultTransport)
	hc.Transport = &callLog{base: rt, w: a.Err, level: a.logLevel(), site: site, token: token, reading: &a.reading, since: time.Now()}
	return &hc
}

// callLog is a RoundTripper that reports REST calls on stderr.
type callLog struct {
	base        http.RoundTripper
	w           io.Writer
	level, site string
	token       string
	mu          sync.Mutex
	unreachable bool
	reading     *atomic.Pointer[readProgress] // the plan's progress, while it reads
	// since is when the client was made: each call says when it was sent after it,
	// which shows which calls waited for which.
	since time.Time
}

func (l *callLog) RoundTrip(req *http.Request) (*http.Response, error) {
	fn, params := l.describe(req)
	start := time.Now()
	resp, err := l.base.RoundTrip(req)
	l.mu.Lock()
	defer l.mu.Unlock()
	attempt := ""
	// The client's own count: apply reads again what plan read, which is no retry.
	if n := moodle.Attempt(req.Context()); n > 0 {
		attempt = fmt.Sprintf(" (retry %d)", n)
	}
	if err != nil {
		// A call the client gave up on (a sibling failed, Ctrl-C) did not fail to reach
		// the site: its context says so whatever its error (errgroup's cause).
		if !l.unreachable && req.Context().Err() == nil {
			// Said once, at once: the client retries for a few seconds before giving up.
			l.unreachable = true
			fmt.Fprintf(l.w, "Cannot reach %s: %s; trying again for a few seconds.\n", l.site, l.redact(connectionCause(err.Error())))
		}
		if l.level != "" {
			fmt.Fprintf(l.w, "moodle %s%s: failed after %s, request %s: %s\n", fn, attempt, ms(time.Since(start)), size(req.ContentLength), l.redact(err.Error()))
		}
		return nil, err
	}
	if l.level == "trace" && params != "" {
		fmt.Fprintf(l.w, "moodle %s%s: parameters %s\n", fn, attempt, params)
	}
	resp.Body = &loggedBody{ReadCloser: resp.Body, progress: l.reading.Load(), done: func(n int64) {
		if l.level == "" {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		fmt.Fprintf(l.w, "moodle %s%s: HTTP %d in %s, request %s, response %s, sent at +%s\n", fn, attempt, resp.StatusCode, ms(time.Since(start)), size(req.ContentLength), size(n), ms(start.Sub(l.since)))
	}}
	return resp, nil
}

var indexSuffix = regexp.MustCompile(`\[\d+\]`)

// describe reads the function's name and the parameters' names from the request's
// form body (a copy: GetBody).
func (l *callLog) describe(req *http.Request) (fn, params string) {
	if req.GetBody == nil {
		return "?", ""
	}
	body, err := req.GetBody()
	if err != nil {
		return "?", ""
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, 64<<20))
	if err != nil {
		return "?", ""
	}
	form, err := url.ParseQuery(string(data))
	if err != nil {
		return "?", ""
	}
	fn = form.Get("wsfunction")
	counts := map[string]int{}
	for k, v := range form {
		switch k {
		case "wstoken", "wsfunction", "moodlewsrestformat":
			continue
		}
		counts[indexSuffix.ReplaceAllString(k, "[]")] += len(v)
	}
	var names []string
	for k, n := range counts {
		names = append(names, fmt.Sprintf("%s×%d", k, n))
	}
	slices.Sort(names)
	return fn, strings.Join(names, " ")
}

// redact cuts the client's token (whole or in part) and every secret loaded out of a
// message, should a proxy or a library echo one. The lines are written to the
// command's stderr, which passes the redactor as well (secrets.go): the log is never a
// way around it.
func (l *callLog) redact(s string) string {
	return redact.String(redact.One(s, l.token))
}

// loggedBody counts a response's bytes and reports them when it is closed.
type loggedBody struct {
	io.ReadCloser
	n        int64
	once     sync.Once
	done     func(int64)
	progress *readProgress // nil when no plan is reading
}

func (b *loggedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if b.progress != nil && n > 0 {
		b.progress.add(int64(n))
	}
	return n, err
}

func (b *loggedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.done(b.n) })
	return err
}

func ms(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

func size(n int64) string {
	switch {
	case n < 0:
		return "? B"
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// connectionCause is the last, plainest part of a network error: "connection
// refused" of "dial tcp 127.0.0.1:9: connect: connection refused", "no such host",
// "certificate signed by unknown authority".
func connectionCause(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		return msg[i+2:]
	}
	return msg
}

// siteReadError words a failure to read the site: one that never got an answer says
// the site could not be reached and what to check, rather than Go's raw error.
func siteReadError(conn *siteConn, err error) error {
	var te *moodle.TransportError
	var interrupted *signalError // Ctrl-C or SIGTERM, not the network
	if !errors.As(err, &te) || te.Status != 0 || errors.Is(err, context.Canceled) || errors.As(err, &interrupted) || conn.sandbox != nil {
		return err
	}
	where := "the site's url in the configuration"
	return fmt.Errorf("cannot reach %s: %s. Check %s, the network and that Moodle is up (enrolctl doctor checks the connection)", conn.describe(), connectionCause(te.Err.Error()), where)
}
