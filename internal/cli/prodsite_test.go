package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// prodSiteApp writes dir/enrolctl.yaml naming the Moodle at url as the site "prod",
// whose token (doctorToken) is in ENROLCTL_TOKEN, and returns an App working in dir
// that writes both its streams to out.
func prodSiteApp(tb testing.TB, dir, url string, out io.Writer) *App {
	tb.Helper()
	cfg := "sites:\n  prod:\n    url: " + url + "\n    token_env: ENROLCTL_TOKEN\n    timezone: Europe/Paris\n"
	if err := os.WriteFile(filepath.Join(dir, "enrolctl.yaml"), []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	return &App{Streams: Streams{In: strings.NewReader(""), Out: out, Err: out}, Dir: dir,
		Getenv: func(k string) string {
			if k == "ENROLCTL_TOKEN" {
				return doctorToken
			}
			return ""
		}}
}
