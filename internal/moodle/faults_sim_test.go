package moodle_test

import (
	"context"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/moodle"
)

// A course whose transaction fails for its database on every resend ends Failed with
// Moodle's errorcode, never Applied: the resends used to reset it to applied before
// they were made, so that running out of them reported the course written.
func TestWriteCourseFailingOnEveryResendIsFailedOnMoodlesim(t *testing.T) {
	sim, c0 := simSite(t, 2, 3, 10)
	var resends []moodle.Resend
	c, err := moodle.New(moodle.Config{URL: c0.SiteURL(), Token: simToken, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	bad, good := sim.CourseID("C00000"), sim.CourseID("C00001")
	html := "<p>Error: Database connection failed</p>\n<p>It is possible that the database is overloaded or otherwise not running properly.</p>"
	sim.FailCourse(bad, "dbconnectionfailed", html, 0)
	items := renewAll(t, sim, []int64{bad, good}, time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC).Unix())
	ctx := moodle.WithWriteHooks(context.Background(), moodle.WriteHooks{BeforeResend: func(r moodle.Resend) error {
		resends = append(resends, r)
		return nil
	}})
	res, err := moodle.Write(ctx, c, items)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := res.Course(bad)
	if o.Outcome != moodle.Failed || o.ErrorCode != "dbconnectionfailed" {
		t.Errorf("the failing course: %+v, want failed with dbconnectionfailed", o)
	}
	if o.Message != "Error: Database connection failed It is possible that the database is overloaded or otherwise not running properly." {
		t.Errorf("message %q: want Moodle's HTML as one line of text", o.Message)
	}
	if g, _ := res.Course(good); g.Outcome != moodle.Applied {
		t.Errorf("the other course: %+v", g)
	}
	if len(resends) != 4 || resends[0].Attempt != 2 || resends[3].Attempt != 5 || resends[0].Items != 3 || resends[0].Courses != 1 {
		t.Errorf("resends said: %+v; want attempts 2 to 5 of the failing course's 3 items", resends)
	}
}

// The database back after two failures: the course is written, once. PostgreSQL
// restarting mid-call fails a course with dmlreadexception (seen on Moodle 5.1).
func TestWriteCourseRecoversAfterTheDatabaseIsBackOnMoodlesim(t *testing.T) {
	for _, code := range []string{"dbconnectionfailed", "dmlreadexception", "dmlwriteexception"} {
		t.Run(code, func(t *testing.T) {
			sim, c0 := simSite(t, 1, 3, 10)
			c, err := moodle.New(moodle.Config{URL: c0.SiteURL(), Token: simToken, Backoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			id := sim.CourseID("C00000")
			sim.FailCourse(id, code, "<p>Error: Database connection failed</p>", 2)
			res, err := moodle.Write(context.Background(), c, renewAll(t, sim, []int64{id}, time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC).Unix()))
			if err != nil {
				t.Fatal(err)
			}
			if o, _ := res.Course(id); o.Outcome != moodle.Applied || res.Calls != 3 {
				t.Errorf("outcome %+v after %d calls, want applied after 3", o, res.Calls)
			}
		})
	}
}

// A stop (Ctrl-C) refuses every resend.
func TestWriteStopRefusesResends(t *testing.T) {
	sim, c0 := simSite(t, 1, 3, 10)
	c, err := moodle.New(moodle.Config{URL: c0.SiteURL(), Token: simToken, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	id := sim.CourseID("C00000")
	sim.FailCourse(id, "dmlwriteexception", "Error writing to database", 0)
	stop := make(chan struct{})
	close(stop)
	res, err := moodle.Write(moodle.WithWriteHooks(context.Background(), moodle.WriteHooks{Stop: stop}), c,
		renewAll(t, sim, []int64{id}, time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC).Unix()))
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := res.Course(id); o.Outcome != moodle.Failed || res.Calls != 1 {
		t.Errorf("outcome %+v after %d calls, want failed after 1", o, res.Calls)
	}
}

func TestPlainText(t *testing.T) {
	for in, want := range map[string]string{
		"Role 9 cannot be assigned in course 4.":                                  "Role 9 cannot be assigned in course 4.",
		"<p>Error: Database connection failed</p>\n<p>It is &quot;down&quot;</p>": `Error: Database connection failed It is "down"`,
		"a < b and c > d": "a < b and c > d",
	} {
		if got := moodle.PlainText(in); got != want {
			t.Errorf("PlainText(%q) = %q, want %q", in, got, want)
		}
	}
}
