package moodle

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The per-piece bound of reads never cuts a write short: a write waits for its own
// deadline (writeItems), since it may still be running on the site. A read whose
// answer does not start in time fails as a timeout.
func TestReadIdleBoundLeavesWritesAlone(t *testing.T) {
	s := &writeServer{}
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		s.ServeHTTP(w, r)
	})
	c := newWriteClientFor(t, slow)
	c.idle = 100 * time.Millisecond
	res, err := Write(context.Background(), c, renewals(10, 2))
	if err != nil || res.Calls != 1 || s.calls != 1 {
		t.Fatalf("a write answered after 300 ms with a 100 ms read bound: %d calls, %v; want it applied in one call", s.calls, err)
	}
	c.cfg.ReadRetries = 0
	_, err = c.SiteStatus(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not start") || !MayStillRun(err) {
		t.Fatalf("a read answered after 300 ms with a 100 ms bound: %v; want a timeout saying the answer did not start", err)
	}
}

func newWriteClientFor(t *testing.T, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL, Token: secret, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A client given without a timeout of its own (the CLI's, which logs calls) gets the
// per-piece bound; one with a timeout keeps it alone.
func TestReadIdleBoundForClientsWithoutTimeout(t *testing.T) {
	for _, tc := range []struct {
		hc   *http.Client
		want time.Duration
	}{{nil, callTimeout}, {&http.Client{}, callTimeout}, {&http.Client{Timeout: 5 * time.Second}, 0}} {
		c, err := New(Config{URL: "http://127.0.0.1:1", Token: secret, HTTPClient: tc.hc})
		if err != nil {
			t.Fatal(err)
		}
		if c.idle != tc.want {
			t.Errorf("HTTPClient %+v: idle bound %v, want %v", tc.hc, c.idle, tc.want)
		}
	}
}
