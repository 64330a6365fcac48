package planfile

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// bigPlan renews n enrolments in courses of 60: the size of a yearly site-wide plan.
func bigPlan(n int) diff.Plan {
	var desired, observed state.Snapshot
	observed.Directory.Users = map[string]int64{}
	for c := 0; c*60 < n; c++ {
		d := state.Course{Shortname: fmt.Sprintf("C%04d", c), Methods: []state.Method{{Type: state.Manual, Enabled: true}}}
		o := state.Course{Shortname: d.Shortname, ID: int64(c + 1), Methods: []state.Method{{Type: state.Manual, Enabled: true, ID: int64(c + 1)}}}
		for u := 0; u < 60 && c*60+u < n; u++ {
			name := fmt.Sprintf("u%06d", c*60+u)
			observed.Directory.Users[name] = int64(c*60 + u + 1)
			d.Enrolments = append(d.Enrolments, state.Enrolment{Username: name, Method: "manual", Roles: []string{"student"}, End: 1814392800})
			o.Enrolments = append(o.Enrolments, state.Enrolment{Username: name, Method: "manual", Roles: []string{"student"}, End: 1782856800, UserID: int64(c*60 + u + 1)})
		}
		desired.Courses = append(desired.Courses, d)
		observed.Courses = append(observed.Courses, o)
	}
	return diff.Compute(desired, observed)
}

// BenchmarkEncodeDecode writes and reads back a 60,000-change plan document, the way
// plan -out and apply FILE do; it reports the file size and the time per change.
func BenchmarkEncodeDecode(b *testing.B) {
	p := bigPlan(60000)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := Encode(&buf, p); err != nil {
			b.Fatal(err)
		}
		if _, err := Decode(buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1e6, "MB/plan")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(p.Changes))/1e3, "µs/change")
}
