package moodle_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/state"
)

// BenchmarkPlanSite plans a whole generated site as `enrolctl plan` does: the site
// status and catalogue, every course's state, the users the specs name, and the diff,
// through the REST protocol with 20 ms of latency per call. 30 enrolments per course
// (300,000 at 10,000 courses), every one renewed by the specs.
// Targets (issue 9): 10,000 courses in at most 3 s, 60 calls and 256 MB peak.
func BenchmarkPlanSite(b *testing.B) {
	for _, n := range []int{1000, 3000, 10000} {
		b.Run(fmt.Sprintf("courses=%d", n), func(b *testing.B) { benchPlanSite(b, n) })
	}
}

func benchPlanSite(b *testing.B, courses int) {
	const perCourse = 30
	sim, _ := simSite(b, courses, perCourse, courses*3)
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		sim.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	client, err := moodle.New(moodle.Config{URL: srv.URL, Token: simToken})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	desired := renewEverything(b, client)
	names, users := desired.Shortnames(), desired.Usernames()
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	peak := newPeakSampler()
	calls.Store(0)
	b.ResetTimer()
	for b.Loop() {
		site, err := client.ReadSite(ctx)
		if err != nil {
			b.Fatal(err)
		}
		obs, err := client.Observe(ctx, site, names, users, moodle.NeedCohorts(desired.UsesCohorts()))
		if err != nil {
			b.Fatal(err)
		}
		if got := diff.Compute(desired, obs).Summary().Change; got != courses*perCourse {
			b.Fatalf("plan has %d changes, want %d", got, courses*perCourse)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(calls.Load())/float64(b.N), "calls/op")
	b.ReportMetric(float64(peak.stop()-base.HeapInuse)/(1<<20), "peak-MB")
}

// renewEverything returns specs for every course of the site, each enrolment with a
// new end date.
func renewEverything(b testing.TB, client *moodle.Client) state.Snapshot {
	ctx := context.Background()
	site, err := client.ReadSite(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for _, r := range site.Catalogue {
		names = append(names, r.Shortname)
	}
	obs, err := client.Observe(ctx, site, names, nil, moodle.NeedCohorts(false))
	if err != nil {
		b.Fatal(err)
	}
	end := time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC).Unix()
	var desired state.Snapshot
	for _, c := range obs.Courses {
		d := state.Course{Shortname: c.Shortname, Methods: []state.Method{{Type: state.Manual, Enabled: true}}}
		for _, e := range c.Enrolments {
			d.Enrolments = append(d.Enrolments, state.Enrolment{Username: e.Username, Method: "manual", Roles: []string{"student"}, End: end, KeepStart: true})
		}
		desired.Courses = append(desired.Courses, d)
	}
	desired.Normalize()
	return desired
}

// peakSampler records the largest heap in use while it runs.
type peakSampler struct {
	done chan struct{}
	max  chan uint64
}

func newPeakSampler() *peakSampler {
	p := &peakSampler{done: make(chan struct{}), max: make(chan uint64)}
	go func() {
		var peak uint64
		var m runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-p.done:
				p.max <- peak
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakSampler) stop() uint64 { close(p.done); return <-p.max }
