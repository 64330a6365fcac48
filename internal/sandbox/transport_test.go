package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The in-process transport answers as a server would: the status and headers the
// handler set when it started its answer (not what it set later), the body as written,
// 200 when the handler wrote nothing; a cancelled request is not served.
func TestHandlerTransport(t *testing.T) {
	for _, tc := range []struct {
		name        string
		handler     http.HandlerFunc
		code        int
		contentType string
		body        string
	}{
		{"answer", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.Header().Set("Content-Type", "text/plain") // too late: not sent
			io.WriteString(w, `{"a":`)
			io.WriteString(w, strings.Repeat(" ", 100_000)+`1}`)
		}, 200, "application/json", `{"a":` + strings.Repeat(" ", 100_000) + `1}`},
		{"status only", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) }, 403, "", ""},
		{"nothing", func(w http.ResponseWriter, r *http.Request) {}, 200, "", ""},
		{"not found", http.NotFound, 404, "text/plain; charset=utf-8", "404 page not found\n"},
		{"echo", func(w http.ResponseWriter, r *http.Request) { io.Copy(w, r.Body) }, 200, "", "wsfunction=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &http.Client{Transport: handlerTransport{tc.handler}}
			res, err := c.Post(URL+"/webservice/rest/server.php", "application/x-www-form-urlencoded", strings.NewReader("wsfunction=x"))
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if want := fmt.Sprintf("%d %s", tc.code, http.StatusText(tc.code)); res.StatusCode != tc.code || res.Status != want {
				t.Errorf("status %d %q, want %d", res.StatusCode, res.Status, tc.code)
			}
			if got := res.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			if string(body) != tc.body {
				t.Errorf("body %.80q (%d bytes), want %.80q (%d bytes)", body, len(body), tc.body, len(tc.body))
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		served := false
		c := &http.Client{Transport: handlerTransport{http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served = true })}}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, URL, nil)
		if _, err := c.Do(req); !errors.Is(err, context.Canceled) || served {
			t.Errorf("a cancelled request: %v, served %v", err, served)
		}
	})
	t.Run("body left unread", func(t *testing.T) {
		done := make(chan error)
		c := &http.Client{Transport: handlerTransport{http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, err := w.Write(make([]byte, 1<<20))
			done <- err
		})}}
		res, err := c.Get(URL)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close() // the handler's write ends instead of waiting for a reader
		if err := <-done; err == nil {
			t.Error("the handler's write succeeded with nobody reading")
		}
	})
}
