package moodlesim

import (
	"bytes"
	"testing"
	"time"
)

func TestGenerateSite(t *testing.T) {
	s := GenerateSite(SiteSize{Courses: 300})
	ids := s.CourseIDs()
	if len(ids) != 300 {
		t.Fatalf("%d courses", len(ids))
	}
	s.mu.RLock()
	d := s.d
	methods := map[string]int{}
	for _, e := range d.Instances {
		methods[e.Enrol]++
	}
	enrolled := map[int64]bool{}
	for _, ue := range d.UEs {
		enrolled[ue.UserID] = true
	}
	hidden := 0
	for _, c := range d.Courses {
		if !c.Visible {
			hidden++
		}
	}
	mean := float64(len(d.UEs)) / 300
	s.mu.RUnlock()
	if mean < 27 || mean > 33 {
		t.Errorf("%.1f enrolments per course, want about 30", mean)
	}
	for _, m := range []string{"manual", "database", "cohort", "meta", "self", "guest"} {
		if methods[m] == 0 {
			t.Errorf("no %s instance: %v", m, methods)
		}
	}
	if perUser := mean * 300 / float64(len(enrolled)); perUser < 4 {
		t.Errorf("users are in %.1f courses each; want shared users", perUser)
	}
	if hidden == 0 {
		t.Error("no hidden course")
	}
	// The same size and seed make the same site.
	var a, b bytes.Buffer
	if err := GenerateSite(SiteSize{Courses: 40, Seed: 3}).Save(&a); err != nil {
		t.Fatal(err)
	}
	if err := GenerateSite(SiteSize{Courses: 40, Seed: 3}).Save(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("GenerateSite is not deterministic")
	}
}

func TestLatency(t *testing.T) {
	st := newSite(t)
	st.s.SetLatency(30 * time.Millisecond)
	start := time.Now()
	st.admin.ok(nil, "local_enrolctl_get_site_status")
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Errorf("a call with 30 ms latency took %v", took)
	}
	// The latency is spent outside the site's lock: while a slow call waits, a writer
	// (the admin API takes the lock alone) gets through.
	st.s.SetLatency(time.Second)
	done := make(chan bool)
	go func() { st.admin.ok(nil, "local_enrolctl_get_site_status"); close(done) }()
	for len(st.s.Requests()) < 2 { // the slow call has run and now waits
		time.Sleep(time.Millisecond)
	}
	st.s.AddUser(User{Username: "during", Firstname: "D", Lastname: "U"})
	select {
	case <-done:
		t.Error("the admin API waited for the slow call's latency")
	default:
	}
	<-done
}
