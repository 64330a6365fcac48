package moodle_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/moodle"
)

// An answer that keeps arriving is read to its end however long it takes in all; one
// that stops arriving ends the call.
func TestAnswersMayTakeLongButNotStall(t *testing.T) {
	var stall atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"pluginversion": 2026113000, "pluginrelease": "`))
		for range 6 {
			w.(http.Flusher).Flush()
			time.Sleep(40 * time.Millisecond) // 240 ms in all, 40 ms at a time
			w.Write([]byte("x"))
		}
		if stall.Load() {
			time.Sleep(300 * time.Millisecond)
		}
		w.Write([]byte(`", "roles": []}`))
	}))
	defer srv.Close()
	c, err := moodle.New(moodle.Config{URL: srv.URL, Token: "t", ReadRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	moodle.SetIdle(c, 150*time.Millisecond)
	st, err := c.SiteStatus(context.Background())
	if err != nil || st.PluginRelease != strings.Repeat("x", 6) {
		t.Fatalf("a slow answer: %+v, %v; want it read whole", st, err)
	}
	stall.Store(true)
	_, err = c.SiteStatus(context.Background())
	var te *moodle.TransportError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "stopped arriving") {
		t.Fatalf("a stalled answer: %v; want a transport error saying it stopped arriving", err)
	}
}
