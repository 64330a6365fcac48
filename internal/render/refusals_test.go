package render

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/diff"
)

// apply's refusals are data; these are their words, one diagnostic per course at fault.
func TestRefused(t *testing.T) {
	removal := func(n int) diff.Change {
		return diff.Change{Course: "C1", Address: "course/C1/method/cohort:L1:student", Kind: diff.KindMethod, Action: diff.Delete,
			Removes: &diff.Removal{Effect: diff.EffectMethodDelete, Enrolments: n, LastEnrolments: n}}
	}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"stale, with a removal that grew", &apply.StaleError{Courses: []string{"C1", "C2"}, Grew: []apply.Grown{{Planned: removal(3), Now: removal(4)}}}, []string{
			"stale plan: course C1 changed in Moodle since the plan was made; nothing was applied: run plan again and review the new plan (course/C1/method/cohort:L1:student now deletes the method and unenrols 4 users; 4 lose their last enrolment: roles, groups and grades deleted (planned: deletes the method and unenrols 3 users; 3 lose their last enrolment: roles, groups and grades deleted))",
			"stale plan: course C2 changed in Moodle since the plan was made; nothing was applied: run plan again and review the new plan",
		}},
		{"removals refused", &apply.RemovalError{Limits: diff.DefaultLimits(), Refusals: []diff.Refusal{{Code: diff.RefuseProtected, Course: "C1", Changes: 2, Enrolments: 5}}}, []string{
			"removals refused, nothing was applied: course C1 is protected (protect: true): 2 removal(s) planned; remove them from the specs or lift the protection",
		}},
		{"any other error", errors.New("apply needs confirmation"), []string{"apply needs confirmation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range Refused(tt.err) {
				got = append(got, d.Error())
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
