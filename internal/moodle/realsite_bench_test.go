package moodle_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/enrolctl/enrolctl/internal/moodle"
)

// realSite is the client of the real Moodle that ENROLCTL_E2E_URL and ENROLCTL_TOKEN
// name, and ENROLCTL_BENCH_PREFIX, the shortname prefix of the courses to use ("" all).
// ENROLCTL_BENCH_LOG=1 logs every call with its time to stderr.
func realSite(b *testing.B) (*moodle.Client, string) {
	url, token := os.Getenv("ENROLCTL_E2E_URL"), os.Getenv("ENROLCTL_TOKEN")
	if url == "" || token == "" {
		b.Skip("ENROLCTL_E2E_URL and ENROLCTL_TOKEN name no real Moodle")
	}
	cfg := moodle.Config{URL: url, Token: token}
	if os.Getenv("ENROLCTL_BENCH_LOG") != "" {
		cfg.Log = os.Stderr // each call's function and time
	}
	client, err := moodle.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.SiteStatus(context.Background()); err != nil {
		b.Fatal(err)
	}
	return client, os.Getenv("ENROLCTL_BENCH_PREFIX")
}

// BenchmarkRenewRealSite renews 1,200 manual enrolments, 40 in each of 30 courses of a
// real Moodle (see realSite), as apply writes them: one Write of set_enrolments items.
// Each run moves the enrolments' end by a day, so every item is a real renewal that
// fires user_enrolment_updated; the last run leaves them one day later than before
// per run. Target (issue 9): at most 3 write calls.
func BenchmarkRenewRealSite(b *testing.B) {
	const courses, perCourse = 30, 40
	client, prefix := realSite(b)
	ctx := context.Background()
	site, err := client.ReadSite(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for _, r := range site.Catalogue {
		if strings.HasPrefix(r.Shortname, prefix) {
			ids = append(ids, r.ID)
		}
	}
	states, err := client.CourseStates(ctx, ids)
	if err != nil {
		b.Fatal(err)
	}
	var items []moodle.SetEnrolment
	used := 0
	for _, cs := range states {
		manual := map[int64]bool{}
		for _, in := range cs.Instances {
			manual[in.ID] = in.Enrol == "manual"
		}
		roles := map[int64]int64{}
		for _, ra := range cs.Roles {
			if ra.Component == "" {
				roles[ra.UserID] = ra.RoleID
			}
		}
		var picked []moodle.SetEnrolment
		for _, ue := range cs.Enrolments {
			if manual[ue.InstanceID] && len(picked) < perCourse && roles[ue.UserID] != 0 {
				picked = append(picked, moodle.SetEnrolment{CourseID: cs.CourseID, InstanceID: ue.InstanceID, UserID: ue.UserID,
					RoleID: roles[ue.UserID], TimeStart: ue.TimeStart, TimeEnd: max(ue.TimeEnd, ue.TimeStart, 1_900_000_000), Suspended: ue.Status == 1})
			}
		}
		if len(picked) == perCourse && used < courses {
			items = append(items, picked...)
			used++
		}
	}
	if used < courses {
		b.Skipf("only %d courses with %d manual enrolments holding a course role", used, perCourse)
	}
	calls, writes := client.Calls(), 0
	b.ResetTimer()
	for b.Loop() {
		for i := range items {
			items[i].TimeEnd += 86400
		}
		res, err := moodle.Write(ctx, client, items)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range res.Courses {
			if o.Outcome != moodle.Applied {
				b.Fatalf("course %d: %s %s %s", o.CourseID, o.Outcome, o.ErrorCode, o.Message)
			}
		}
		writes += res.Calls
	}
	b.StopTimer()
	b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
	b.ReportMetric(float64(client.Calls()-calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(len(items)), "renewals")
}
