package moodle

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const secret = "0123456789abcdef0123456789abcdef"

func TestNewRefusesUnsafeURLs(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string
	}{
		{"https://moodle.example.edu", ""},
		{"http://127.0.0.1:8081", ""},
		{"http://localhost/moodle", ""},
		{"http://[::1]:8080", ""},
		{"http://moodle.example.edu", "HTTPS is required"},
		{"https://moodle.example.edu/?wstoken=" + secret, "must not carry credentials or a query"},
		{"https://user:pw@moodle.example.edu", "must not carry credentials"},
		{"moodle.example.edu", "not an http(s) URL"},
		{"ftp://moodle.example.edu", "not an http(s) URL"},
	}
	for _, tt := range tests {
		_, err := New(Config{URL: tt.url, Token: secret})
		got := ""
		if err != nil {
			got = err.Error()
			if strings.Contains(got, secret) {
				t.Errorf("New(%q) error leaks the token: %s", tt.url, got)
			}
		}
		if (tt.wantErr == "") != (err == nil) || !strings.Contains(got, tt.wantErr) {
			t.Errorf("New(%q) error = %q, want containing %q", tt.url, got, tt.wantErr)
		}
	}
	if _, err := New(Config{URL: "https://x.example"}); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("New without token: %v", err)
	}
}

// recorder is a minimal Moodle endpoint that records requests and answers with canned
// bodies per function. Protocol behaviour only; Moodle semantics are tested against
// moodlesim.
type recorder struct {
	calls    atomic.Int32
	answer   func(fn string, form url.Values, n int32) (int, string)
	lastForm url.Values
	lastURL  string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	n := r.calls.Add(1)
	body, _ := io.ReadAll(req.Body)
	form, _ := url.ParseQuery(string(body))
	r.lastForm, r.lastURL = form, req.URL.String()
	status, out := r.answer(form.Get("wsfunction"), form, n)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, out)
}

func newTestClient(t *testing.T, r *recorder, log io.Writer) *Client {
	t.Helper()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL, Token: secret, Backoff: time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenOnlyInBody(t *testing.T) {
	r := &recorder{answer: func(string, url.Values, int32) (int, string) { return 200, `{"sitename":"S","functions":[]}` }}
	c := newTestClient(t, r, nil)
	if _, err := c.SiteInfo(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.lastURL, secret) || strings.Contains(r.lastURL, "wstoken") {
		t.Errorf("token in URL %q", r.lastURL)
	}
	want := url.Values{"wstoken": {secret}, "wsfunction": {"core_webservice_get_site_info"}, "moodlewsrestformat": {"json"}}
	if d := cmp.Diff(want, r.lastForm); d != "" {
		t.Errorf("form (-want +got):\n%s", d)
	}
}

func TestMoodleErrorsAreTypedAndRedacted(t *testing.T) {
	r := &recorder{answer: func(string, url.Values, int32) (int, string) {
		return 200, `{"exception":"moodle_exception","errorcode":"invalidtoken","message":"Invalid token - token not found","debuginfo":"token ` + secret + `"}`
	}}
	var log strings.Builder
	c := newTestClient(t, r, &log)
	_, err := c.SiteInfo(context.Background())
	var me *Error
	if !errors.As(err, &me) || me.ErrorCode != "invalidtoken" || me.Function != "core_webservice_get_site_info" {
		t.Fatalf("err = %#v, want *Error invalidtoken", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(log.String(), secret) {
		t.Errorf("token leaked: %q / log %q", err.Error(), log.String())
	}
	if r.calls.Load() != 1 {
		t.Errorf("a Moodle error was retried: %d calls", r.calls.Load())
	}
}

func TestWebServicesDisabled(t *testing.T) {
	r := &recorder{answer: func(string, url.Values, int32) (int, string) { return 403, "" }}
	c := newTestClient(t, r, nil)
	_, err := c.SiteInfo(context.Background())
	if !errors.Is(err, ErrWebServicesDisabled) {
		t.Fatalf("err = %v, want ErrWebServicesDisabled", err)
	}
}

func TestReadsRetry(t *testing.T) {
	flaky := func(_ string, _ url.Values, n int32) (int, string) {
		if n < 3 {
			return 503, "busy"
		}
		return 200, `{"pluginversion":1,"enabledplugins":["manual"],"roles":[]}`
	}
	r := &recorder{answer: flaky}
	c := newTestClient(t, r, nil)
	st, err := c.SiteStatus(context.Background())
	if err != nil || st.PluginVersion != 1 || r.calls.Load() != 3 {
		t.Fatalf("read: %+v, %v after %d calls; want success after 3", st, err, r.calls.Load())
	}
}

// A read that meets a restarting database is read again; an error about the request
// itself is not.
func TestReadsRetryARestartingDatabase(t *testing.T) {
	for _, tc := range []struct {
		code      string
		wantCalls int32
	}{
		{"dbconnectionfailed", 2},
		{"dmlreadexception", 2},
		{"invalidparameter", 1},
		{"dmlwriteexception", 1}, // a read writes nothing: not a fault of the database
	} {
		t.Run(tc.code, func(t *testing.T) {
			r := &recorder{answer: func(_ string, _ url.Values, n int32) (int, string) {
				if n < 2 {
					return 200, `{"exception":"moodle_exception","errorcode":"` + tc.code + `","message":"<p>Error: Database connection failed</p>"}`
				}
				return 200, `{"pluginversion":1,"enabledplugins":["manual"],"roles":[]}`
			}}
			c := newTestClient(t, r, nil)
			_, err := c.SiteStatus(context.Background())
			if got := r.calls.Load(); got != tc.wantCalls {
				t.Fatalf("%s: %d calls (err %v), want %d", tc.code, got, err, tc.wantCalls)
			}
			if (err == nil) != (tc.wantCalls == 2) {
				t.Errorf("%s: err = %v", tc.code, err)
			}
		})
	}
}

// local_enrolctl_get_user_ids takes the usernames as one JSON array and answers one
// JSON string holding {username: id}; anything else is an error, never an empty map.
func TestUserIDsWireShape(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		want         map[string]int64 // nil: an error
	}{
		{"ids", `"{\"u1\":5,\"u\\/2\":7}"`, map[string]int64{"u1": 5, "u/2": 7}},
		{"none", `"{}"`, map[string]int64{}},
		{"an empty PHP array", `"[]"`, nil},
		{"null in the string", `"null"`, nil},
		{"an id that is not a number", `"{\"u1\":\"5\"}"`, nil},
		{"not a string", `{"u1":5}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{answer: func(fn string, _ url.Values, _ int32) (int, string) {
				if fn == "local_enrolctl_get_site_status" {
					return 200, `{"pluginversion":2026113002,"enabledplugins":["manual"],"roles":[]}`
				}
				return 200, tc.answer
			}}
			c := newTestClient(t, r, nil)
			if _, err := c.SiteStatus(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, err := c.UserIDs(context.Background(), []string{"u1", "u/2", "u1"})
			if fn, sent := r.lastForm.Get("wsfunction"), r.lastForm.Get("usernames"); fn != "local_enrolctl_get_user_ids" || sent != `["u/2","u1"]` {
				t.Errorf("sent %s usernames=%s, want local_enrolctl_get_user_ids usernames=[\"u/2\",\"u1\"]", fn, sent)
			}
			if tc.want == nil {
				if err == nil {
					t.Errorf("answer %s: %v, want an error", tc.answer, got)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("answer %s: %v, %v; want %v", tc.answer, got, err, tc.want)
			}
		})
	}
}
