package diff

import (
	"fmt"
	"testing"

	"github.com/enrolctl/enrolctl/internal/state"
)

// BenchmarkCompute plans 2,000 courses of 50 manual users each, where a third of the
// users need a renewal, a few are pruned and every course has a cohort method and a group.
func BenchmarkCompute(b *testing.B) {
	desired, observed := benchSite()
	b.ReportAllocs()
	var p Plan
	for b.Loop() {
		p = Compute(desired, observed)
	}
	b.ReportMetric(float64(len(p.Changes)), "changes")
}

// benchSite is BenchmarkCompute's site.
func benchSite() (desired, observed state.Snapshot) {
	const courses, users = 2000, 50
	observed.Directory = state.Directory{Users: map[string]int64{}, Roles: map[string]int64{"student": 5},
		Cohorts: map[string]state.CohortInfo{"P2026": {ID: 1}}}
	for u := range users + 5 {
		observed.Directory.Users[fmt.Sprintf("user%03d", u)] = int64(u + 1)
	}
	for c := range courses {
		name := fmt.Sprintf("COURSE-%04d", c)
		d := state.Course{Shortname: name, Options: state.Options{ManualPrune: state.PruneSuspend},
			Methods: []state.Method{manualM, cohortM("P2026", "student")},
			Groups:  []state.Group{{Name: "TP1", PruneMembers: true}}}
		o := state.Course{Shortname: name, ID: int64(c + 1), Methods: []state.Method{manualM, cohortM("P2026", "student")},
			Groups: []state.Group{{Name: "TP1"}}}
		for u := range users {
			un := fmt.Sprintf("user%03d", u)
			d.Enrolments = append(d.Enrolments, manual(un, end2027, "student"))
			if u%10 != 0 {
				d.Groups[0].Members = append(d.Groups[0].Members, state.Member{Username: un})
			}
			end := int64(end2027)
			if u%3 == 0 {
				end = end2026
			}
			if u%7 != 0 {
				o.Enrolments = append(o.Enrolments, manual(un, end, "student"))
				o.Groups[0].Members = append(o.Groups[0].Members, state.Member{Username: un})
			}
			o.Enrolments = append(o.Enrolments, enrol("cohort:P2026:student", un))
		}
		for u := users; u < users+5; u++ {
			o.Enrolments = append(o.Enrolments, manual(fmt.Sprintf("user%03d", u), end2026, "student"))
		}
		o.Normalize()
		desired.Courses = append(desired.Courses, d)
		observed.Courses = append(observed.Courses, o)
	}
	return desired, observed
}
