package moodle_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
	"github.com/enrolctl/enrolctl/internal/state"
)

// A plan's reads (ReadSiteAhead and ObserveNamed with the same AheadRows, as
// internal/cli's makePlan makes them) finish on every plugin, on a site whose
// catalogue takes more than one page and a read of more batches than the client has
// connections: each batch read holds a connection while its first course waits for
// the site, so the site's own read must still find one. Specs that take longer to
// read than the site's read waits for them (late) are read all the same: the site's
// read went alone, and the read by name asks for every part itself.
func TestReadSiteAheadWithManyBatches(t *testing.T) {
	sim := moodlesim.New(moodlesim.Options{})
	sim.AddToken("tok", moodlesim.ServiceEnrolctl, "admin")
	cat := sim.AddCategory("Big")
	var names []string
	for i := range 5200 {
		name := fmt.Sprintf("C%05d", i)
		sim.AddCourse(moodlesim.Course{Shortname: name, Fullname: name, Category: cat, Visible: true})
		if i < 2600 {
			names = append(names, name)
		}
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		plugin contract.Plugin
		late   bool
	}{
		{plugin: contract.Newest()},
		{plugin: contract.Plugin{Version: contract.PluginCoursesWithStatus, Release: "2.3.0"}},
		{plugin: contract.Newest(), late: true},
	} {
		plugin := tt.plugin
		t.Run(fmt.Sprintf("%s/late=%v", plugin.Release, tt.late), func(t *testing.T) {
			sim.SetPlugin(plugin)
			c, err := moodle.New(moodle.Config{URL: srv.URL, Token: "tok"})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ahead := moodle.NewAheadRows()
			siteIn := make(chan struct{})
			var site *moodle.Site
			var siteErr error
			go func() {
				defer close(siteIn)
				site, siteErr = c.ReadSiteAhead(ctx, nil, ahead)
			}()
			if tt.late {
				<-siteIn // it would wait for ever for courses that nobody asks for yet
			}
			siteOf := func() (*moodle.Site, error) {
				select {
				case <-siteIn:
					return site, siteErr
				case <-ctx.Done():
					return nil, fmt.Errorf("the site's read never ended: %w", ctx.Err())
				}
			}
			var n atomic.Int64 // handed from several goroutines
			_, err = c.ObserveNamed(ctx, siteOf, names, func() []string { return nil }, func(*state.Course) error { n.Add(1); return nil }, moodle.RowsAhead(ahead))
			<-siteIn
			if err != nil || siteErr != nil {
				t.Fatalf("read: %v; site: %v", err, siteErr)
			}
			if n.Load() != int64(len(names)) || len(site.Catalogue) != 5200 {
				t.Errorf("%d courses read, %d in the catalogue", n.Load(), len(site.Catalogue))
			}
		})
	}
}
