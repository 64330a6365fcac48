package cli

import (
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

// BenchmarkCSV1000 is issue 9's CSV case through the commands a team runs: ten courses
// adopted with import moodle, then one 1,000-row upload-users CSV (each user a student
// in two courses, in one of four groups in each) enrolled with import csv and apply,
// against moodlesim at 20 ms a call. It reports the web-service calls and write calls
// of import csv + apply: the users are looked up in one call, and apply writes in one
// call per stage (groups, enrolments, memberships). On a real Moodle the time is
// Moodle's, per item (README, "CSV against Moodle's own upload").
func BenchmarkCSV1000(b *testing.B) {
	const rows, courses = 1000, 10
	var calls, writes int64
	for b.Loop() {
		b.StopTimer()
		sim, ids, app, done := csvBenchSite(b, rows, courses)
		if code := app.Run([]string{"import", "moodle"}); code != 0 {
			b.Fatalf("import moodle: exit %d", code)
		}
		sim.ResetLog()
		b.StartTimer()
		if code := app.Run([]string{"import", "csv", "users.csv"}); code != 0 {
			b.Fatalf("import csv: exit %d", code)
		}
		if code := app.Run([]string{"apply", "--auto-approve"}); code != 0 {
			b.Fatalf("apply: exit %d", code)
		}
		b.StopTimer()
		for _, r := range sim.Requests() {
			calls++
			if r.Write && !strings.Contains(r.Function, "lease") {
				writes++
			}
		}
		n := 0
		for _, id := range ids {
			n += len(sim.UserEnrolments(id))
		}
		if n != 2*rows {
			b.Fatalf("%d enrolments after apply, want %d", n, 2*rows)
		}
		done()
		b.StartTimer()
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
}

// csvBenchSite serves a site of empty courses (their ids returned) and rows users over
// HTTP, with a workspace holding its configuration and the CSV.
func csvBenchSite(b *testing.B, rows, courses int) (*moodlesim.Sim, []int64, *App, func()) {
	sim := moodlesim.New(moodlesim.Options{Latency: 20 * time.Millisecond})
	sim.AddToken(doctorToken, "enrolctl", "admin")
	cat := sim.AddCategory("CSV")
	var ids []int64
	for c := range courses {
		short := fmt.Sprintf("CSV-%d", c)
		id := sim.AddCourse(moodlesim.Course{Shortname: short, Fullname: short, Category: cat, Visible: true})
		sim.AddInstance(moodlesim.Instance{Enrol: "manual", CourseID: id, RoleID: 5})
		ids = append(ids, id)
	}
	var csv strings.Builder
	csv.WriteString("username,firstname,lastname,email,course1,role1,group1,course2,role2,group2\n")
	for n := range rows {
		u := fmt.Sprintf("csv%05d", n)
		sim.AddUser(moodlesim.User{Username: u, Firstname: "F", Lastname: "L"})
		first := n % courses
		second := (first + 1 + n/courses%(courses-1)) % courses
		fmt.Fprintf(&csv, "%s,F,L,%s@example.invalid,CSV-%d,student,TD%d,CSV-%d,student,TD%d\n",
			u, u, first, n%4+1, second, n/4%4+1)
	}
	srv := httptest.NewServer(sim.Handler())
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(csv.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	app := prodSiteApp(b, dir, srv.URL, io.Discard)
	return sim, ids, app, srv.Close
}
