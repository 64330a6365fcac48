//go:build linux

// The benchmarks report CPU time from rusage, measured on Linux.

package moodlesim

import (
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
