package moodlesim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// processCPU is the user and system time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

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

// BenchmarkGetCourseState measures local_enrolctl_get_course_state on generated
// sites of 1k, 3k and 10k courses, 100 random courses per call: the cost per course
// must stay flat as the site grows (indexes, not table scans). "cold" drops the
// course-state cache before every call (every course read from the tables, as after
// writes); "warm" is a repeated plan of an unchanged site.
func BenchmarkGetCourseState(b *testing.B) {
	for _, size := range []SiteSize{Site1k, Site3k, Site10k} {
		s := GenerateSite(size)
		ids := s.CourseIDs()
		h := s.Handler()
		for _, mode := range []string{"cold", "warm"} {
			b.Run(fmt.Sprintf("courses=%d/%s", size.Courses, mode), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				const perCall = 100
				runtime.GC() // the generator's garbage is not the benchmark's
				cpu0 := processCPU()
				b.ResetTimer()
				for b.Loop() {
					if mode == "cold" {
						s.mu.Lock()
						s.d.dirty(0)
						s.mu.Unlock()
					}
					var body strings.Builder
					body.WriteString("wstoken=bench&wsfunction=local_enrolctl_get_course_state&moodlewsrestformat=json")
					for i := range perCall {
						fmt.Fprintf(&body, "&courseids[%d]=%d", i, ids[rng.IntN(len(ids))])
					}
					req := httptest.NewRequest(http.MethodPost, "http://moodle.test/webservice/rest/server.php", strings.NewReader(body.String()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 || strings.Contains(rec.Body.String(), `"exception"`) {
						b.Fatalf("HTTP %d %.200s", rec.Code, rec.Body.String())
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perCall), "ns/course")
				// CPU time is what the simulator costs whatever else the machine runs.
				b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N*perCall), "cpu-ns/course")
			})
		}
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

// BenchmarkWrite measures local_enrolctl_write set_enrolments on generated sites: 20
// courses of 25 new enrolments per call (500 items), each course in its transaction.
// The cost per item must not grow with the site.
func BenchmarkWrite(b *testing.B) {
	for _, size := range []SiteSize{Site1k, Site10k} {
		b.Run(fmt.Sprintf("courses=%d", size.Courses), func(b *testing.B) {
			s := GenerateSite(size)
			ids := s.CourseIDs()
			manual := map[int64]int64{}
			for _, c := range ids {
				manual[c] = s.Instances(c)[0].ID
			}
			var users []int64
			for i := range 25 {
				users = append(users, s.AddUser(User{Username: fmt.Sprintf("bench%d", i), Firstname: "B", Lastname: "U"}))
			}
			h := s.Handler()
			rng := rand.New(rand.NewPCG(3, 4))
			const courses, perCourse = 20, 25
			runtime.GC()
			cpu0 := processCPU()
			b.ResetTimer()
			for b.Loop() {
				var items []string
				for range courses {
					c := ids[rng.IntN(len(ids))]
					for _, u := range users {
						items = append(items, fmt.Sprintf(`{"courseid":%d,"instanceid":%d,"userid":%d,"roleid":5,"timestart":0,"timeend":%d,"suspended":0}`,
							c, manual[c], u, 1800000000+rng.IntN(1000)))
					}
				}
				body := "wstoken=bench&wsfunction=local_enrolctl_write&moodlewsrestformat=json&operation=set_enrolments&items=" +
					url.QueryEscape("["+strings.Join(items, ",")+"]")
				req := httptest.NewRequest(http.MethodPost, "http://moodle.test/webservice/rest/server.php", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 || strings.Contains(rec.Body.String(), `"error"`) || strings.Contains(rec.Body.String(), `"exception"`) {
					b.Fatalf("HTTP %d %.300s", rec.Code, rec.Body.String())
				}
			}
			b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N*courses*perCourse), "cpu-ns/item")
		})
	}
}

// BenchmarkGetCourseRows measures local_enrolctl_get_course_rows as a whole-site plan
// calls it (5,000 consecutive courses a call, JSON) on generated sites of 1k and 10k
// courses, and get_courses' catalogue pages: the cost per course must stay flat as the
// site grows.
func BenchmarkGetCourseRows(b *testing.B) {
	for _, size := range []SiteSize{Site1k, Site10k} {
		s := GenerateSite(size)
		ids := s.CourseIDs()
		h := s.Handler()
		serve := func(b *testing.B, body string) int {
			req := httptest.NewRequest(http.MethodPost, "http://moodle.test/webservice/rest/server.php", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 || strings.Contains(rec.Body.String()[:min(200, rec.Body.Len())], `exception`) {
				b.Fatalf("HTTP %d %.200s", rec.Code, rec.Body.String())
			}
			return rec.Body.Len()
		}
		b.Run(fmt.Sprintf("courses=%d/rows", size.Courses), func(b *testing.B) {
			const perCall = 5000
			runtime.GC() // the generator's garbage is not the benchmark's
			cpu0, courses, bytes := processCPU(), 0, 0
			b.ResetTimer()
			for b.Loop() {
				start := courses % len(ids)
				batch := ids[start:min(start+perCall, len(ids))]
				list, _ := json.Marshal(batch)
				bytes += serve(b, "wstoken=bench&wsfunction=local_enrolctl_get_course_rows&moodlewsrestformat=json&courseids="+url.QueryEscape(string(list)))
				courses += len(batch)
			}
			b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(courses), "cpu-ns/course")
			b.ReportMetric(float64(bytes)/float64(courses), "B/course")
		})
		b.Run(fmt.Sprintf("courses=%d/catalogue", size.Courses), func(b *testing.B) {
			const perPage = 5000
			runtime.GC()
			cpu0, courses := processCPU(), 0
			b.ResetTimer()
			for b.Loop() {
				for page := 0; page*perPage < len(ids); page++ {
					serve(b, fmt.Sprintf("wstoken=bench&wsfunction=local_enrolctl_get_courses&moodlewsrestformat=json&page=%d&perpage=%d", page, perPage))
				}
				courses += len(ids)
			}
			b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(courses), "cpu-ns/course")
		})
	}
}
