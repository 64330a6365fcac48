//go:build linux

package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/adopt"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

// The whole-command benchmarks (issue 20) time what a user waits for: enrolctl run as
// its own process (cmd/enrolctl built once per run; with ENROLCTL_BENCH_PROFILE, this
// test binary, which then writes profiles: see benchChild), from the spec files on disk
// through HTTP to moodlesim at 20 ms a call to the rendered plan. The site is served
// by another child process, so neither the site's memory nor its CPU is counted.
//
// peak-MB is the enrolctl process's peak resident size, as the kernel counts it
// (Maxrss of getrusage(2) of the child): the whole process, runtime and binary
// included, as a user's `/usr/bin/time -v` would show it. Linux carries into a
// process's Maxrss the peak of the memory it was started from (os/exec starts it
// sharing the parent's memory until exec), and this benchmark process holds the site
// it read for the specs, hundreds of megabytes: so enrolctl is started by a small
// helper process (this test binary in the "rusage" role), which reports its child's
// rusage, as /usr/bin/time does.
// ns/op is that process's wall time as the helper measures it, from its start to its
// exit, as /usr/bin/time's elapsed time: not the helper's own start, a test binary
// whose initialisation took 40-50 ms of a 2-core machine, which no user waits for.
// calls/op is the number of web-service calls the site received during the run.
//
// Setting up 100,000 courses (the site, then its specs written by reading it) takes
// minutes; it happens once per benchmark process and size. None of this runs without
// -bench.

// BenchmarkPlanCommand is `enrolctl plan` of every course of moodlesim's generated
// university, each spec renewing every manual enrolment (so the plan has about 40,000
// changes at 10,000 courses, collapsed per course). Targets (issue 20): 10,000
// courses in 1.5 s and 150 MB, 100,000 in 15 s, 1.2 GB and 60 calls.
func BenchmarkPlanCommand(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("courses=%d", n), func(b *testing.B) {
			ws := benchWorkspace(b, n)
			if !ws.planned {
				// Untimed: the timed runs find the parse cache (.enrolctl/cache) as a
				// user's earlier plan left it. BenchmarkValidateCommand times it cold too.
				runChild(b, ws.dir, ws.env(), "plan")
				ws.planned = true
			}
			var calls int64
			var siteCPU time.Duration
			var runs childRuns
			for b.Loop() {
				before, siteBefore := ws.site.collect(b)
				res := runs.add(runChild(b, ws.dir, ws.env(), "plan"))
				after, siteAfter := ws.site.calls(b)
				calls, siteCPU = calls+after-before, siteCPU+siteAfter-siteBefore
				if !strings.Contains(res.stdout, "manual enrolment") {
					b.Fatalf("the plan renews no manual enrolment:\n%.2000s", res.stdout)
				}
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
			// The site's CPU while it served the plan: it shares the machine's cores with
			// enrolctl, so it is part of what the wall time waits for.
			b.ReportMetric(float64(siteCPU.Milliseconds())/float64(b.N), "site-cpu-ms/op")
			runs.report(b)
		})
	}
}

// BenchmarkValidateCommand is `enrolctl validate` of the specs of the 10,000-course
// site (no server call), with the parse cache in .enrolctl/ cold (removed before each
// run, as in a fresh clone) and warm (filled by a first, untimed run). Target (issue
// 20): 0.5 s.
func BenchmarkValidateCommand(b *testing.B) {
	b.Run("specs=10000", func(b *testing.B) {
		for _, cache := range []string{"cold", "warm"} {
			b.Run("cache="+cache, func(b *testing.B) {
				ws := benchWorkspace(b, 10000)
				cacheDir := filepath.Join(ws.dir, sandboxDir, "cache")
				if cache == "warm" {
					runChild(b, ws.dir, ws.env(), "validate")
				}
				var runs childRuns
				for b.Loop() {
					if cache == "cold" {
						b.StopTimer()
						if err := os.RemoveAll(cacheDir); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					res := runs.add(runChild(b, ws.dir, ws.env(), "validate"))
					if !strings.Contains(res.stdout, "10000 course(s)") {
						b.Fatalf("validate: %s", res.stdout)
					}
				}
				runs.report(b)
			})
		}
	})
}

// BenchmarkSandboxPlan is the first `enrolctl plan` of the repository's example specs
// against a fresh sandbox (no site configured): what someone trying enrolctl runs.
// Target (issue 20): under 30 MiB.
func BenchmarkSandboxPlan(b *testing.B) {
	dir := b.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "specs"), os.DirFS("../../specs")); err != nil {
		b.Fatal(err)
	}
	enrolctlBinary(b) // built before the clock runs
	var runs childRuns
	for b.Loop() {
		b.StopTimer()
		if err := os.RemoveAll(filepath.Join(dir, sandboxDir)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res := runs.add(runChild(b, dir, nil, "plan"))
		if !strings.Contains(res.stdout, "IFSI-S1-ANAT") {
			b.Fatalf("sandbox plan: %s", res.stdout)
		}
	}
	runs.report(b)
}

// childRuns sums the enrolctl processes of a benchmark's timed runs.
type childRuns struct {
	peak      int64
	cpu, wall time.Duration
}

// add counts one run and returns it.
func (r *childRuns) add(run childRun) childRun {
	r.peak, r.cpu, r.wall = max(r.peak, run.maxRSS), r.cpu+run.cpu, r.wall+run.wall
	return run
}

// report reports the processes' mean wall time as ns/op (see the top of this file),
// their largest peak resident size and their mean CPU time (user and system, from
// rusage): on a machine others share, CPU is steadier than the wall time.
func (r *childRuns) report(b *testing.B) {
	b.ReportMetric(float64(r.wall.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(float64(r.peak)/(1<<20), "peak-MB")
	b.ReportMetric(float64(r.cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// benchChildEnv makes this test binary enrolctl ("main") or a generated site's server
// ("site:N"): see TestMain.
const benchChildEnv = "ENROLCTL_BENCH_CHILD"

// benchChild runs the role benchChildEnv names and reports whether it did.
func benchChild() bool {
	role := os.Getenv(benchChildEnv)
	switch {
	case role == "main":
		os.Exit(profiled(func() int { return Main(os.Args[1:], StdStreams()) }))
	case role == "rusage":
		os.Exit(runMeasured(os.Args[1], os.Args[2:]))
	case strings.HasPrefix(role, "site:"):
		n, _ := strconv.Atoi(strings.TrimPrefix(role, "site:"))
		profiled(func() int { serveGenerated(n); return 0 })
		os.Exit(0)
	}
	return false
}

// benchProfileEnv names a folder where each enrolctl child writes its CPU profile
// and heap profile (cpu-PID.pprof, heap-PID.pprof), for go tool pprof: go test's own
// -cpuprofile sees only the benchmark's process.
const benchProfileEnv = "ENROLCTL_BENCH_PROFILE"

func profiled(run func() int) int {
	dir := os.Getenv(benchProfileEnv)
	if dir == "" {
		return run()
	}
	cpu, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", os.Getpid())))
	if err != nil {
		panic(err)
	}
	defer cpu.Close()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		panic(err)
	}
	code := run()
	pprof.StopCPUProfile()
	heap, err := os.Create(filepath.Join(dir, fmt.Sprintf("heap-%d.pprof", os.Getpid())))
	if err != nil {
		panic(err)
	}
	defer heap.Close()
	if err := pprof.Lookup("allocs").WriteTo(heap, 0); err != nil {
		panic(err)
	}
	return code
}

// serveGenerated serves moodlesim's generated site of n courses at 20 ms a call,
// prints its URL and then, for each line read on stdin, the number of calls served so
// far and its own CPU time so far (ns); it ends when stdin closes. A line "collect"
// first collects its garbage (see benchSite.collect).
func serveGenerated(n int) {
	sim := moodlesim.GenerateSite(moodlesim.SiteSize{Courses: n})
	sim.SetLatency(20 * time.Millisecond)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	fmt.Println(srv.URL)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "collect" {
			runtime.GC()
		}
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		fmt.Println(len(sim.Requests()), ru.Utime.Nano()+ru.Stime.Nano())
	}
}

// benchSite is a generated site served by a child process.
type benchSite struct {
	url string
	in  io.Writer
	out *bufio.Reader
}

// calls returns the number of calls the site served so far and its CPU time so far.
func (s *benchSite) calls(b *testing.B) (int64, time.Duration) { return s.ask(b, "calls") }

// collect has the site collect its garbage, then returns what calls does. The
// generated site holds gigabytes at 100,000 courses (2.5 GB live), and each plan
// leaves it about 1 GB of answers to collect: its collector then marked the whole
// site during one timed run in two, 4.5-7 s of the site's CPU on the cores enrolctl
// runs on (site-cpu-ms/op 6.5 s in a run it did not mark the site in, 11-14 s in the
// runs it did). A Moodle's
// PHP frees a request's memory when it ends, and it runs on a server of its own:
// the site is collected before each run, so that every run measures the plan alone.
func (s *benchSite) collect(b *testing.B) (int64, time.Duration) { return s.ask(b, "collect") }

func (s *benchSite) ask(b *testing.B, what string) (int64, time.Duration) {
	if _, err := io.WriteString(s.in, what+"\n"); err != nil {
		b.Fatal(err)
	}
	line, err := s.out.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	var n, cpu int64
	if _, err := fmt.Sscan(line, &n, &cpu); err != nil {
		b.Fatalf("site server: %q: %v", line, err)
	}
	return n, time.Duration(cpu)
}

// benchWS is a workspace (enrolctl.yaml and specs/) planning a served site.
type benchWS struct {
	dir     string
	site    *benchSite
	planned bool // a plan has run: the parse cache is warm
}

func (w *benchWS) env() []string { return []string{"ENROLCTL_TOKEN=bench"} }

// benchWorkspaces holds the workspaces set up in this process, by size.
var benchWorkspaces = map[int]*benchWS{}

// benchWorkspace serves the generated site of n courses and writes a spec per course
// from what it holds, with every manual enrolment ending on 2030-07-01: once per
// process and size.
func benchWorkspace(b *testing.B, n int) *benchWS {
	enrolctlBinary(b) // built before the clock runs
	if ws, ok := benchWorkspaces[n]; ok {
		return ws
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("enrolctl-bench-%d-", n))
	if err != nil {
		b.Fatal(err)
	}
	site := startBenchSite(b, n)
	cfg := "sites:\n  prod:\n    url: " + site.url + "\n    token_env: ENROLCTL_TOKEN\n    timezone: Europe/Paris\n"
	if err := os.WriteFile(filepath.Join(dir, "enrolctl.yaml"), []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	writeRenewingSpecs(b, moodle.Config{URL: site.url, Token: "bench"}, filepath.Join(dir, "specs"), func(string) bool { return true })
	ws := &benchWS{dir: dir, site: site}
	benchWorkspaces[n] = ws
	return ws
}

func startBenchSite(b *testing.B, n int) *benchSite {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=site:%d", benchChildEnv, n))
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
	// The site lives as long as the benchmark process: closing its stdin ends it, and
	// the kernel closes it when this process exits.
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil {
		b.Fatalf("site server: %v", err)
	}
	return &benchSite{url: strings.TrimSpace(line), in: in, out: r}
}

// writeRenewingSpecs writes into dir the spec import moodle would write for every
// course of the site that keep selects, but with every manual enrolment ending on
// 2030-07-01.
func writeRenewingSpecs(b *testing.B, cfg moodle.Config, dir string, keep func(shortname string) bool) {
	ctx := context.Background()
	client, err := moodle.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	site, err := client.ReadSite(ctx)
	if err != nil {
		b.Fatal(err)
	}
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		b.Fatal(err)
	}
	end := time.Date(2030, 7, 1, 0, 0, 0, 0, loc).Unix()
	// A thousand courses at a time: the whole observed site of 100,000 courses would
	// hold gigabytes.
	for start := 0; start < len(site.Catalogue); start += 1000 {
		var names []string
		for _, r := range site.Catalogue[start:min(start+1000, len(site.Catalogue))] {
			if keep(r.Shortname) {
				names = append(names, r.Shortname)
			}
		}
		obs, err := client.Observe(ctx, site, names, nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range obs.Courses {
			for i, e := range c.Enrolments {
				if strings.HasPrefix(e.Method, "manual") {
					c.Enrolments[i].End = end
				}
			}
			file := adopt.Path(dir, c.Category, c.Shortname)
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				b.Fatal(err)
			}
			res := adopt.Render(c, adopt.Options{Location: loc})
			if err := os.WriteFile(file, res.YAML, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// builtEnrolctl is the enrolctl binary built for the benchmarks, once per process.
var builtEnrolctl string

// enrolctlBinary builds cmd/enrolctl as a user installs it: the memory of the test
// binary, with its test code and libraries, would not be the command's.
func enrolctlBinary(b *testing.B) string {
	if builtEnrolctl != "" {
		return builtEnrolctl
	}
	dir, err := os.MkdirTemp("", "enrolctl-bench-bin-")
	if err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "enrolctl")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/enrolctl/enrolctl/cmd/enrolctl").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	builtEnrolctl = bin
	return bin
}

// childRun is one enrolctl process's outcome.
type childRun struct {
	stdout string
	stderr string
	maxRSS int64         // bytes
	cpu    time.Duration // user + system
	wall   time.Duration // from its start to its exit
}

// runChild runs enrolctl args in dir as a process of its own, with env added to the
// environment, and fails unless it exits 0. The process is started by the "rusage"
// helper (see peak-MB above), which writes its rusage to a file.
func runChild(b *testing.B, dir string, env []string, args ...string) childRun {
	bin := enrolctlBinary(b)
	if os.Getenv(benchProfileEnv) != "" {
		bin = os.Args[0] // this test binary, which profiles
	}
	usage := filepath.Join(b.TempDir(), "rusage")
	cmd := exec.Command(os.Args[0], append([]string{bin}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), benchChildEnv+"=rusage", benchRusageEnv+"="+usage, "NO_COLOR=1")
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		b.Fatalf("enrolctl %s: %v\n%s%.2000s", strings.Join(args, " "), err, errb.String(), out.String())
	}
	data, err := os.ReadFile(usage)
	if err != nil {
		b.Fatal(err)
	}
	var maxRSS, cpu, wall int64
	if _, err := fmt.Sscan(string(data), &maxRSS, &cpu, &wall); err != nil {
		b.Fatalf("rusage %q: %v", data, err)
	}
	return childRun{stdout: out.String(), stderr: errb.String(), maxRSS: maxRSS, cpu: time.Duration(cpu), wall: time.Duration(wall)}
}

// benchRusageEnv names the file where the "rusage" helper writes its child's peak
// resident size (bytes), CPU time (ns) and wall time (ns).
const benchRusageEnv = "ENROLCTL_BENCH_RUSAGE"

// runMeasured runs bin args as enrolctl (benchChildEnv=main, for this test binary)
// and writes its rusage to the file benchRusageEnv names; it returns its exit code.
func runMeasured(bin string, args []string) int {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), benchChildEnv+"=main")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "no rusage on this system")
		return 1
	}
	line := fmt.Sprintf("%d %d %d\n", ru.Maxrss<<10, ru.Utime.Nano()+ru.Stime.Nano(), wall.Nanoseconds()) // Linux: kilobytes
	if err := os.WriteFile(os.Getenv(benchRusageEnv), []byte(line), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return cmd.ProcessState.ExitCode()
}

// benchCleanup removes the benchmark workspaces when the tests and benchmarks end.
type benchCleanup struct{ *testing.M }

func (m benchCleanup) Run() int {
	code := m.M.Run()
	for _, ws := range benchWorkspaces {
		os.RemoveAll(ws.dir)
	}
	if builtEnrolctl != "" {
		os.RemoveAll(filepath.Dir(builtEnrolctl))
	}
	return code
}
