//go:build linux

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/moodle"
)

// BenchmarkPlanCommandRealSite is `enrolctl plan` as a process (see BenchmarkPlanCommand)
// against a real Moodle: ENROLCTL_E2E_URL and ENROLCTL_TOKEN (and ENROLCTL_READ_TOKEN,
// when set, as the site's read token) name it, ENROLCTL_BENCH_PREFIX limits the specs
// to the courses whose shortname starts with it ("" every course). Each spec renews
// every manual enrolment of its course; nothing is written. The configuration names
// the site's time zone, as enrolctl init writes it. dev/realsite-bench.sh runs it
// beside psql's time to read the same rows (issue 20: at most twice that).
// calls/op is counted from the command's own call log (ENROLCTL_LOG=debug).
func BenchmarkPlanCommandRealSite(b *testing.B) {
	url, token := os.Getenv("ENROLCTL_E2E_URL"), os.Getenv("ENROLCTL_TOKEN")
	if url == "" || token == "" {
		b.Skip("ENROLCTL_E2E_URL and ENROLCTL_TOKEN name no real Moodle")
	}
	prefix := os.Getenv("ENROLCTL_BENCH_PREFIX")
	dir := b.TempDir()
	cfg := "sites:\n  dev:\n    url: " + url + "\n    token_env: ENROLCTL_TOKEN\n    timezone: Europe/Paris\n"
	if os.Getenv("ENROLCTL_READ_TOKEN") != "" {
		cfg += "    read_token_env: ENROLCTL_READ_TOKEN\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "enrolctl.yaml"), []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	writeRenewingSpecs(b, moodle.Config{URL: url, Token: token}, filepath.Join(dir, "specs"),
		func(shortname string) bool { return strings.HasPrefix(shortname, prefix) })
	enrolctlBinary(b)
	var calls int
	var runs childRuns
	for b.Loop() {
		res := runs.add(runChild(b, dir, []string{"ENROLCTL_LOG=debug"}, "plan"))
		if !strings.Contains(res.stdout, "manual enrolment") {
			b.Fatalf("the plan renews no manual enrolment:\n%.2000s", res.stdout)
		}
		calls += strings.Count(res.stderr, "moodle ")
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	runs.report(b)
}
