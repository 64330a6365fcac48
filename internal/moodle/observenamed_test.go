package moodle_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
	"github.com/enrolctl/enrolctl/internal/state"
)

// ObserveNamed, begun before the site is read, observes what ObserveEach does once it
// is: with plugin 2.2.0 by shortname, in one call made before the catalogue is in
// (names the site lacks left out); with a site still on 2.1.2, which refuses names,
// by id once the site is read. A read of several batches costs an older plugin one
// refused call, not one a batch; so does a read of many rows, which the newest plugin
// answers in two calls.
func TestObserveNamedIsObserveEach(t *testing.T) {
	old := contract.Plugin{Version: contract.PluginAccountsByID, Release: "2.1.2"}
	for _, tc := range []struct {
		plugin      contract.Plugin
		courses     int
		rows, reads int // rows: ExpectRows; reads: the get_course_rows calls wanted (0: any)
	}{{contract.Newest(), 40, 0, 1}, {old, 40, 0, 0}, {contract.Plugin{Version: contract.PluginReadService, Release: "2.0.2"}, 40, 0, 0},
		{contract.Newest(), 40, 20000, 2}, {contract.Newest(), 16, 20000, 2}, {old, 40, 20000, 0}, {contract.Newest(), 1600, 0, 0}, {old, 1600, 0, 0}} {
		plugin := tc.plugin
		t.Run(fmt.Sprintf("%s/courses=%d/rows=%d", plugin.Release, tc.courses, tc.rows), func(t *testing.T) {
			sim := moodlesim.GenerateSite(moodlesim.SiteSize{Courses: tc.courses})
			sim.SetPlugin(plugin)
			srv := httptest.NewServer(sim.Handler())
			t.Cleanup(srv.Close)
			c, err := moodle.New(moodle.Config{URL: srv.URL, Token: "bench"})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			site, err := c.ReadSite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range site.Catalogue[5 : tc.courses-10] {
				names = append(names, r.Shortname)
			}
			users := []string{"nobody-here", site.Catalogue[0].Shortname}
			want, err := c.Observe(ctx, site, names, users)
			if err != nil {
				t.Fatal(err)
			}

			// A new client: nothing known of the site when the read begins, and
			// the site is read only once the first call has reached the server.
			c2, _ := moodle.New(moodle.Config{URL: srv.URL, Token: "bench"})
			sim.ResetLog()
			siteIn := make(chan struct{})
			var read *moodle.Site
			go func() {
				for len(sim.Requests()) == 0 {
					time.Sleep(time.Millisecond)
				}
				read, _ = c2.ReadSite(ctx)
				close(siteIn)
			}()
			var got state.Snapshot
			var mu sync.Mutex
			got.Directory, err = c2.ObserveNamed(ctx, func() (*moodle.Site, error) { <-siteIn; return read, nil },
				append(names, "NO-SUCH-COURSE"), func() []string { return users }, func(co *state.Course) error {
					mu.Lock() // handed from several goroutines
					defer mu.Unlock()
					got.Courses = append(got.Courses, *co)
					return nil
				}, moodle.NeedCohorts(true), moodle.ExpectRows(tc.rows))
			if err != nil {
				t.Fatal(err)
			}
			got.Normalize()
			want.Normalize()
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ObserveNamed (-ObserveEach +ObserveNamed):\n%s", d)
			}
			var fns []string
			for _, r := range sim.Requests() {
				if strings.HasPrefix(r.Function, "local_enrolctl_get_course_") {
					fns = append(fns, strings.TrimPrefix(r.Function, "local_enrolctl_get_")+" "+r.Outcome)
				}
			}
			// One refusal at most, then as many reads as the names take calls.
			var refused []string
			reads := "course_rows ok"
			switch {
			case plugin.Version < contract.PluginCourseRows: // no get_course_rows
				refused, reads = []string{"course_rows invalidrecordunknown"}, "course_state_json ok"
			case plugin.Version < contract.PluginRowsByName:
				refused = []string{"course_rows invalidparameter"}
			}
			wantCalls := append(refused, slices.Repeat([]string{reads}, max(1, len(fns)-len(refused)))...)
			if len(fns) < 1+tc.courses/1000 || !cmp.Equal(fns, wantCalls) || tc.reads > 0 && len(fns) != tc.reads {
				t.Errorf("get_course_rows calls %v, want %v (reads wanted: %d, 0 any)", fns, wantCalls, tc.reads)
			}
		})
	}
}

// A site that cannot be read ends a read begun before it, with that error.
func TestObserveNamedWithoutSite(t *testing.T) {
	sim := moodlesim.GenerateSite(moodlesim.SiteSize{Courses: 5})
	sim.SetPlugin(contract.Plugin{Version: contract.PluginAccountsByID, Release: "2.1.2"})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, _ := moodle.New(moodle.Config{URL: srv.URL, Token: "bench"})
	unread := errors.New("unread")
	_, err := c.ObserveNamed(context.Background(), func() (*moodle.Site, error) { return nil, unread }, []string{"X"},
		func() []string { return nil }, func(*state.Course) error { return nil })
	if !errors.Is(err, unread) {
		t.Fatalf("err %v", err)
	}
}
