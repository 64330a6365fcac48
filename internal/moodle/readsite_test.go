package moodle_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

// ReadSiteWith hands the status over while the catalogue is still being read: with a
// plugin older than 2.3.0 (status and catalogue apart), the catalogue is answered here
// only once onStatus has run, so a ReadSiteWith that waited for the catalogue first
// would never return. With 2.3.0 the status comes with the catalogue's first page, in
// one call.
func TestReadSiteWithStatusBeforeCatalogue(t *testing.T) {
	for _, plugin := range []contract.Plugin{{Version: contract.PluginRowsByName, Release: "2.2.0"}, contract.Newest()} {
		t.Run(plugin.Release, func(t *testing.T) {
			sim := moodlesim.GenerateSite(moodlesim.SiteSize{Courses: 20})
			sim.SetPlugin(plugin)
			statusSeen := make(chan struct{})
			h := sim.Handler()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				if strings.Contains(string(body), "wsfunction=local_enrolctl_get_courses") && !strings.Contains(string(body), "withstatus") {
					select {
					case <-statusSeen:
					case <-time.After(10 * time.Second):
						http.Error(w, "the status was not handed over first", http.StatusInternalServerError)
						return
					}
				}
				h.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			c, err := moodle.New(moodle.Config{URL: srv.URL, Token: "bench", ReadRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			var got moodle.SiteStatus
			site, err := c.ReadSiteWith(context.Background(), func(st moodle.SiteStatus) {
				got = st
				close(statusSeen)
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.PluginVersion != plugin.Version || got.PluginVersion != site.Status.PluginVersion || len(got.Roles) == 0 || len(site.Catalogue) != 20 {
				t.Fatalf("onStatus got %+v; site status %+v, %d courses", got, site.Status, len(site.Catalogue))
			}
			var calls []string
			for _, r := range sim.Requests() {
				calls = append(calls, r.Function+" "+r.Outcome)
			}
			want := []string{"local_enrolctl_get_courses ok"}
			if plugin.Version < contract.PluginCoursesWithStatus {
				want = []string{"local_enrolctl_get_courses invalidparameter", "local_enrolctl_get_courses ok", "local_enrolctl_get_site_status ok"}
				slices.Sort(calls)
			}
			if !slices.Equal(calls, want) {
				t.Errorf("calls %v, want %v", calls, want)
			}
		})
	}
}

// A large read is cut into a few rounds of calls, so that the first answers are
// decoded while the server builds the next (it builds each whole before sending it);
// a small one stays one round.
func TestObserveReadsALargeSiteInRounds(t *testing.T) {
	sim := moodlesim.GenerateSite(moodlesim.SiteSize{Courses: 1200})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	for _, tc := range []struct{ courses, calls int }{{1200, 3}, {300, 1}} {
		c, err := moodle.New(moodle.Config{URL: srv.URL, Token: "bench", Concurrency: 1})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		site, err := c.ReadSite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range site.Catalogue[:tc.courses] {
			names = append(names, r.Shortname)
		}
		sim.ResetLog()
		obs, err := c.Observe(ctx, site, names, nil, moodle.NeedCohorts(false))
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		for _, r := range sim.Requests() {
			if r.Function == "local_enrolctl_get_course_rows" {
				calls++
			}
		}
		if len(obs.Courses) != tc.courses || calls != tc.calls {
			t.Errorf("%d courses: read %d in %d calls, want %d calls", tc.courses, len(obs.Courses), calls, tc.calls)
		}
	}
}
