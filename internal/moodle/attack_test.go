package moodle

// Attack and fault cases (issue 10): what a hostile or broken server, or a careless
// operator's setup, could make the client leak or trust. Each case failed before its fix.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// leaks reports the token, or any 8-character piece of it, found in s.
func leaks(s string) string {
	for i := 0; i+8 <= len(secret); i++ {
		if strings.Contains(s, secret[i:i+8]) {
			return secret[i : i+8]
		}
	}
	return ""
}

func TestAttackNoTokenInErrorsOrLogs(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		// invalidparameter echoes the request in its message.
		{"message echoes the token", 200, `{"exception":"invalid_parameter_exception","errorcode":"invalidparameter","message":"Invalid parameter value detected (wstoken=` + secret + `)","debuginfo":"` + secret + `"}`},
		{"errorcode and exception echo it", 200, `{"exception":"x` + secret + `","errorcode":"e` + secret + `","message":"m"}`},
		// Cut at 200 bytes before redaction, the token's first half was printed.
		{"non-JSON error body, token across the cut", 500, strings.Repeat("x", 180) + "wstoken=" + secret + " trailing"},
		{"non-JSON 200 body", 200, "<html>" + strings.Repeat("y", 185) + secret + "</html>"},
		{"token cut short by the server", 502, "proxy error for body wstoken=" + secret[:20]},
		{"JSON answer cut short", 200, `{"sitename":"` + secret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{answer: func(string, url.Values, int32) (int, string) { return tt.status, tt.body }}
			var log strings.Builder
			c := newTestClient(t, r, &log)
			_, err := c.SiteInfo(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			if l := leaks(err.Error()); l != "" {
				t.Errorf("error leaks %q: %s", l, err)
			}
			if l := leaks(log.String()); l != "" {
				t.Errorf("log leaks %q: %s", l, log.String())
			}
			var me *Error
			if errors.As(err, &me) {
				for _, f := range []string{me.Message, me.DebugInfo, me.ErrorCode, me.Exception} {
					if l := leaks(f); l != "" {
						t.Errorf("a field of the error leaks %q: %q", l, f)
					}
				}
			}
		})
	}
}

func TestAttackNoTokenInWriteOutcomes(t *testing.T) {
	s := &writeServer{fail: func(_ int, course int64, _ []map[string]any) (string, bool) {
		return `{"courseid":1,"status":"error` + secret + `","index":0,"errorcode":"x","message":"` + secret[:16] + `","ids":[]}`, course == 1
	}}
	c := newWriteClient(t, s)
	res, _ := Write(context.Background(), c, []DeleteInstance{{CourseID: 1, ID: 3}})
	o := res.Courses[0]
	if l := leaks(o.Message + o.ErrorCode + o.Err.Error()); l != "" {
		t.Errorf("write outcome leaks %q: %+v", l, o)
	}
}

func TestAttackRedirectsAreRefused(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		var elsewhere atomic.Int32
		var got atomic.Value
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			elsewhere.Add(1)
			b, _ := io.ReadAll(r.Body)
			got.Store(string(b) + r.URL.String())
			io.WriteString(w, `{"sitename":"evil","username":"admin","functions":[]}`)
		}))
		defer other.Close()
		target := other.URL + "/moodle/webservice/rest/server.php"
		site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target, status)
		}))
		defer site.Close()
		c, err := New(Config{URL: site.URL, Token: secret, Backoff: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.SiteInfo(context.Background())
		if !errors.Is(err, ErrRedirect) || !strings.Contains(err.Error(), target) || !strings.Contains(err.Error(), "wwwroot") {
			t.Errorf("HTTP %d: err = %v, want a refused redirect naming %s and the wwwroot", status, err, target)
		}
		if n := elsewhere.Load(); n != 0 {
			t.Errorf("HTTP %d: the redirect was followed (%d requests, got %v)", status, n, got.Load())
		}
		// Writes too, and without resending.
		if _, err := Write(context.Background(), c, []DeleteInstance{{CourseID: 1, ID: 2}}); !errors.Is(err, ErrRedirect) || elsewhere.Load() != 0 {
			t.Errorf("HTTP %d: write err = %v, %d requests elsewhere", status, err, elsewhere.Load())
		}
	}
}

func TestAttackCallerHTTPClientKeepsItsRedirectPolicy(t *testing.T) {
	hc := &http.Client{}
	if _, err := New(Config{URL: "https://moodle.example.edu", Token: secret, HTTPClient: hc}); err != nil {
		t.Fatal(err)
	}
	if hc.CheckRedirect != nil {
		t.Error("New changed the caller's http.Client")
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a " + secret + " b", "a [token] b"},
		{"wstoken=" + secret[:12] + "…", "wstoken=[token]…"},
		{"wstoken=" + secret[5:13], "wstoken=[token]"},
		{"user 21009539 in course 42", "user 21009539 in course 42"},
		{"short 0123456", "short 0123456"}, // 7 characters of the token: too short to tell
		{"", ""},
	}
	for _, tt := range tests {
		if got := Redact(tt.in, secret); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// A server echoing the token in an ordinary answer (here a site name, a course state)
// must not hand it to whoever prints what Moodle answered.
func TestAttackNoTokenInDecodedAnswers(t *testing.T) {
	r := &recorder{answer: func(fn string, _ url.Values, _ int32) (int, string) {
		if fn == "local_enrolctl_get_course_state" {
			return 200, `[{"courseid":1,"shortname":"` + secret + `","groups":[{"id":1,"name":"` + strings.Repeat("g", 40000) + secret + `"}]}]`
		}
		return 200, `{"sitename":"` + secret + `","username":"x` + secret + `y","functions":[]}`
	}}
	c := newTestClient(t, r, nil)
	info, err := c.SiteInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if l := leaks(info.SiteName + info.Username); l != "" || info.Username != "x[token]y" {
		t.Errorf("site info leaks %q: %+v", l, info)
	}
	states, err := c.CourseStates(context.Background(), []int64{1})
	if err != nil {
		t.Fatal(err)
	}
	if l := leaks(states[0].Shortname + states[0].Groups[0].Name); l != "" {
		t.Errorf("course state leaks %q", l)
	}
}

// A server that announces a huge answer (Content-Length) and sends a few bytes must not
// make the client allocate what it announced: the buffer is sized from it up to
// maxPresized, and grows only with what arrives.
func TestAttackAnnouncedLengthIsNotAllocated(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(maxAnswer))
		io.WriteString(w, `{"sitename":`)
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL, Token: secret, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := c.SiteInfo(context.Background()); err == nil {
		t.Fatal("an answer cut short was accepted")
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 4*maxPresized {
		t.Errorf("the client allocated %d MiB for answers of a few bytes that announced %d MiB each", got>>20, maxAnswer>>20)
	}
}
