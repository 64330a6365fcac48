//go:build linux

package moodle_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
	"github.com/enrolctl/enrolctl/internal/state"
)

// BenchmarkPlanSite plans a whole generated site as `enrolctl plan` does: the site
// status and catalogue, every course's state, the users and cohorts the specs name,
// and the diff, through the REST protocol with 20 ms of latency per call. The site is
// moodlesim's generated university (about 30 enrolments per course, 300,000 at 10,000
// courses); the specs declare every course's methods and renew every manual
// enrolment. peak-MB is the largest heap in use during the runs above the site's own
// and the specs'. Targets (issue 9): 10,000 courses in at most 3 s, 60 calls, 256 MB.
func BenchmarkPlanSite(b *testing.B) {
	for _, size := range []moodlesim.SiteSize{moodlesim.Site1k, moodlesim.Site3k, moodlesim.Site10k} {
		b.Run(fmt.Sprintf("courses=%d", size.Courses), func(b *testing.B) { benchPlanSite(b, size) })
	}
}

func benchPlanSite(b *testing.B, size moodlesim.SiteSize) {
	url := serveSite(b, size)
	client, err := moodle.New(moodle.Config{URL: url, Token: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	desired, renewed := renewEverything(b, client)
	names, users := desired.Shortnames(), desired.Usernames()
	debug.FreeOSMemory() // the setup's garbage is not the plan's
	resetPeakRSS(b)
	calls := client.Calls()
	cpu := processCPU()
	b.ResetTimer()
	for b.Loop() {
		if got := planOnce(b, ctx, client, desired, names, users); got.Change != renewed || got.Add != 0 || got.Remove != 0 {
			b.Fatalf("plan %+v, want %d changes only", got, renewed)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(client.Calls()-calls)/float64(b.N), "calls/op")
	// CPU is enrolctl's own (the site runs in another process), whatever else the
	// machine runs; peak RSS is the whole process's, specs included.
	b.ReportMetric(float64((processCPU()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-MB")
}

// BenchmarkPlanRealSite plans every course of a real Moodle as BenchmarkPlanSite does
// a generated one: ENROLCTL_E2E_URL and ENROLCTL_TOKEN (the least-privilege enrolctl
// account; see dev/moodle-site.sh) name it, and nothing is written. With
// ENROLCTL_BENCH_PREFIX only the courses whose shortname starts with it are planned
// (T- : the seeded timing courses, whatever else tests do on the site). Target (issue
// 9): about 100 courses and 35,000 enrolments in at most 1.5 s and 10 calls.
// dev/realsite-bench.sh runs it beside psql's time to read the same rows.
func BenchmarkPlanRealSite(b *testing.B) {
	client, prefix := realSite(b)
	ctx := context.Background()
	desired, _ := renewEverything(b, client)
	renewed := 0
	kept := desired.Courses[:0]
	for _, c := range desired.Courses {
		if strings.HasPrefix(c.Shortname, prefix) {
			kept = append(kept, c)
			renewed += len(c.Enrolments)
		}
	}
	desired.Courses = kept
	names, users := desired.Shortnames(), desired.Usernames()
	calls := client.Calls()
	b.ResetTimer()
	for b.Loop() {
		if got := planOnce(b, ctx, client, desired, names, users); got.Change != renewed {
			b.Fatalf("plan %+v, want %d changes", got, renewed)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(client.Calls()-calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(len(names)), "courses")
	b.ReportMetric(float64(renewed), "enrolments")
}

// serveSite starts a generated site with 20 ms of latency per call in a child process
// (this test binary, see TestMain), so that the benchmark's memory and CPU are
// enrolctl's alone, and returns its URL.
// planOnce is what plan does: read the site and the courses, then diff.
func planOnce(b *testing.B, ctx context.Context, client *moodle.Client, desired state.Snapshot, names, users []string) diff.Summary {
	site, err := client.ReadSite(ctx)
	if err != nil {
		b.Fatal(err)
	}
	obs, err := client.Observe(ctx, site, names, users, moodle.NeedCohorts(desired.UsesCohorts()))
	if err != nil {
		b.Fatal(err)
	}
	return diff.Compute(desired, obs).Summary()
}

func serveSite(b *testing.B, size moodlesim.SiteSize) string {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", siteServerEnv, size.Courses))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { in.Close(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("site server: %v", err)
	}
	return strings.TrimSpace(line)
}

const siteServerEnv = "ENROLCTL_BENCH_SITE_COURSES"

// TestMain turns the test binary into a site server when serveSite runs it: it
// generates the site, prints its URL and serves until its stdin closes.
func TestMain(m *testing.M) {
	n := os.Getenv(siteServerEnv)
	if n == "" {
		os.Exit(m.Run())
	}
	courses, _ := strconv.Atoi(n)
	sim := moodlesim.GenerateSite(moodlesim.SiteSize{Courses: courses})
	sim.SetLatency(20 * time.Millisecond)
	srv := httptest.NewServer(sim.Handler())
	fmt.Println(srv.URL)
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
	os.Exit(0)
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS starts the process's peak resident size afresh (Linux: clear_refs 5).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot measure peak memory here: %v", err)
	}
}

// peakRSS is the process's peak resident size since resetPeakRSS (VmHWM).
func peakRSS(b *testing.B) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// renewEverything returns specs for every course of the site: its methods as they
// are, and every manual enrolment with a new end date. It returns how many.
func renewEverything(b testing.TB, client *moodle.Client) (state.Snapshot, int) {
	ctx := context.Background()
	site, err := client.ReadSite(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for _, r := range site.Catalogue {
		names = append(names, r.Shortname)
	}
	obs, err := client.Observe(ctx, site, names, nil)
	if err != nil {
		b.Fatal(err)
	}
	end := time.Date(2030, 7, 1, 0, 0, 0, 0, time.UTC).Unix()
	var desired state.Snapshot
	renewed := 0
	for _, c := range obs.Courses {
		d := state.Course{Shortname: c.Shortname}
		for _, m := range c.Methods {
			m.ID = 0
			d.Methods = append(d.Methods, m)
		}
		for _, e := range c.Enrolments {
			if !strings.HasPrefix(e.Method, "manual") {
				continue
			}
			d.Enrolments = append(d.Enrolments, state.Enrolment{Username: e.Username, Method: e.Method, Roles: e.Roles,
				Start: e.Start, End: end, Suspended: e.Suspended})
			renewed++
		}
		desired.Courses = append(desired.Courses, d)
	}
	desired.Normalize()
	return desired, renewed
}
