package moodle_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
)

// manualOf returns the manual instance of a course of simSite.
func manualOf(t *testing.T, sim *moodlesim.Sim, course int64) int64 {
	t.Helper()
	for _, in := range sim.Instances(course) {
		if in.Enrol == "manual" {
			return in.ID
		}
	}
	t.Fatalf("course %d has no manual instance", course)
	return 0
}

// renewAll returns a renewal to end of every enrolment of the given courses.
func renewAll(t *testing.T, sim *moodlesim.Sim, courses []int64, end int64) []moodle.SetEnrolment {
	var items []moodle.SetEnrolment
	for _, cid := range courses {
		inst := manualOf(t, sim, cid)
		for _, ue := range sim.UserEnrolments(cid) {
			items = append(items, moodle.SetEnrolment{CourseID: cid, InstanceID: inst, UserID: ue.UserID, RoleID: 5, TimeEnd: end})
		}
	}
	return items
}

func TestWriteRenewsAcrossCoursesInOneCallOnMoodlesim(t *testing.T) {
	sim, c := simSite(t, 30, 40, 300) // 1,200 enrolments in 30 courses
	var courses []int64
	for i := range 30 {
		courses = append(courses, sim.CourseID(courseName(i)))
	}
	end := time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC).Unix()
	items := renewAll(t, sim, courses, end)
	sim.ResetLog()
	res, err := moodle.Write(context.Background(), c, items)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sim.Requests()); n != 1 || res.Calls != 1 {
		t.Errorf("1,200 renewals in 30 courses took %d calls, want 1", n)
	}
	for _, o := range res.Courses {
		if o.Outcome != moodle.Applied || o.Committed != 40 {
			t.Errorf("course %d: %+v, want applied", o.CourseID, o)
		}
	}
	for _, cid := range courses {
		for _, ue := range sim.UserEnrolments(cid) {
			if ue.TimeEnd != end {
				t.Fatalf("course %d user %d ends %d, want %d", cid, ue.UserID, ue.TimeEnd, end)
			}
		}
	}

	// Resending the same call changes nothing (items are idempotent).
	res, err = moodle.Write(context.Background(), c, items)
	if err != nil || res.Courses[0].Outcome != moodle.Applied {
		t.Fatalf("resend: %+v, %v", res.Courses[0], err)
	}
}

func TestWriteReportsTheFailingItemOnMoodlesim(t *testing.T) {
	sim, c := simSite(t, 2, 2, 4)
	a, b := sim.CourseID(courseName(0)), sim.CourseID(courseName(1))
	items := []moodle.SetEnrolment{
		{CourseID: a, InstanceID: manualOf(t, sim, a), UserID: sim.UserID("u0002"), RoleID: 5},
		{CourseID: b, InstanceID: manualOf(t, sim, b), UserID: sim.UserID("u0003"), RoleID: 5},
		{CourseID: b, InstanceID: manualOf(t, sim, b), UserID: 999999, RoleID: 5}, // no such user
	}
	res, err := moodle.Write(context.Background(), c, items)
	if err != nil {
		t.Fatal(err)
	}
	oa, _ := res.Course(a)
	ob, _ := res.Course(b)
	if oa.Outcome != moodle.Applied || ob.Outcome != moodle.Failed || ob.Index != 2 || ob.ErrorCode == "" {
		t.Fatalf("outcomes %+v / %+v; want course a applied, course b failed at item 2", oa, ob)
	}
	if len(sim.UserEnrolments(b)) != 2 {
		t.Errorf("course b has %d enrolments; its failed transaction should have rolled back", len(sim.UserEnrolments(b)))
	}
	if len(sim.UserEnrolments(a)) != 3 {
		t.Errorf("course a has %d enrolments, want 3", len(sim.UserEnrolments(a)))
	}
}

func TestWriteNewIDsOnMoodlesim(t *testing.T) {
	sim, c := simSite(t, 2, 0, 1)
	a, b := sim.CourseID(courseName(0)), sim.CourseID(courseName(1))
	items := []moodle.CreateGroup{{CourseID: a, Name: "G1"}, {CourseID: b, Name: "G1"}, {CourseID: a, Name: "G2"}}
	res, err := moodle.Write(context.Background(), c, items)
	if err != nil {
		t.Fatal(err)
	}
	oa, _ := res.Course(a)
	if len(oa.IDs) != 2 || oa.IDs[0] != sim.GroupID(a, "G1") || oa.IDs[1] != sim.GroupID(a, "G2") {
		t.Errorf("course a ids %v, want the ids of G1 and G2", oa.IDs)
	}
	// create_groups answers an existing group's id instead of duplicating it.
	again, err := moodle.Write(context.Background(), c, items)
	if err != nil {
		t.Fatal(err)
	}
	if oa2, _ := again.Course(a); len(oa2.IDs) != 2 || oa2.IDs[0] != oa.IDs[0] {
		t.Errorf("resend answered %v, want %v", oa2.IDs, oa.IDs)
	}
}

// Two runners renewing courses that share users at the same moment: the deadlock
// victim's courses are resent with backoff, never item by item, and both converge.
func TestWriteRetriesDeadlocksOnMoodlesim(t *testing.T) {
	sim, c := simSite(t, 2, 300, 300) // both courses enrol the same 300 users
	sim.SetDeadlockFaults(50 * time.Millisecond)
	end := time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC).Unix()
	a, b := sim.CourseID(courseName(0)), sim.CourseID(courseName(1))
	var wg sync.WaitGroup
	results := make([]moodle.WriteResult, 2)
	errs := make([]error, 2)
	for i, cid := range []int64{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = moodle.Write(context.Background(), c, renewAll(t, sim, []int64{cid}, end))
		}()
	}
	wg.Wait()
	if sim.Deadlocks() == 0 {
		t.Fatal("the two writes did not deadlock: the test proves nothing")
	}
	for i := range results {
		if errs[i] != nil || results[i].Courses[0].Outcome != moodle.Applied {
			t.Errorf("runner %d: %+v, %v; want applied after resending", i, results[i].Courses, errs[i])
		}
		if results[i].Calls > 1+4 {
			t.Errorf("runner %d made %d calls", i, results[i].Calls)
		}
	}
	for _, cid := range []int64{a, b} {
		for _, ue := range sim.UserEnrolments(cid) {
			if ue.TimeEnd != end {
				t.Fatalf("course %d user %d not renewed", cid, ue.UserID)
			}
		}
	}
}

func courseName(i int) string { return fmt.Sprintf("C%05d", i) }
