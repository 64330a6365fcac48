package e2e

import (
	"fmt"
	"slices"
	"testing"

	"github.com/enrolctl/enrolctl/internal/spec"
	"github.com/enrolctl/enrolctl/internal/state"
)

// Every method type of state.Kinds, from the table alone: a spec that declares it with
// each of its fields goes through plan and apply, the plan after is empty, and Moodle
// holds the method with those values; then disabled, and converged again. A new row of
// the table is tested here without a new test.
func TestEveryMethodKind(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		w := newWorld(t, tg)
		users := w.users(t, 2)
		cohort := w.cohort(t, users)
		parent := w.course(t)
		_, site := w.observe(t, nil, nil)
		for _, k := range state.Kinds {
			t.Run(string(k.Type), func(t *testing.T) {
				if k.CheckOnly {
					t.Skip("enrolctl never writes this method type")
				}
				if !slices.Contains(site.Status.EnabledPlugins, string(k.Type)) {
					t.Skipf("the enrolment plugin %s is disabled on this site", k.Type)
				}
				course := w.course(t)
				values := map[state.Attr]string{state.AttrName: `"Kind test"`, state.AttrCohort: cohort, state.AttrRole: "student",
					state.AttrCourse: parent, state.AttrGroup: "G1", state.AttrMaxUsers: "3"}
				for _, enabled := range []string{"true", "false"} {
					values[state.AttrEnabled] = enabled
					text := fmt.Sprintf("course: %s\nmethods:\n  - type: %s\n", course, k.Type)
					for _, a := range k.Fields {
						text += fmt.Sprintf("    %s: %s\n", a, valueOf(values, a))
					}
					if k.Has(state.AttrGroup) {
						text += "groups: [G1]\n"
					}
					set := spec.LoadBytes("kinds.yaml", []byte(text), spec.Options{})
					desired, ds := spec.Resolve(set, []spec.CourseRef{{Shortname: course}, {Shortname: parent}})
					if len(ds) > 0 {
						t.Fatalf("spec %s:\n%s", text, ds)
					}
					_, after := w.converge(t, desired)
					want := desired[0].Methods[0]
					got, ok := after.Courses[0].Method(want.Key())
					if !ok {
						t.Fatalf("enabled %s: no method %s in Moodle: %+v", enabled, want.Key(), after.Courses[0].Methods)
					}
					for _, a := range k.Fields {
						if !got.Same(a, want) {
							t.Errorf("enabled %s: %s is %+v in Moodle, want %+v", enabled, a, got, want)
						}
					}
				}
			})
		}
	})
}

// valueOf is the value the walk gives attribute a: the one set for it, else one of its
// type, so that a new attribute needs no line here.
func valueOf(values map[state.Attr]string, a state.Attr) string {
	if v, ok := values[a]; ok {
		return v
	}
	if d, _ := state.AttrOf(a); d.Type == "int" {
		return "3"
	}
	return `"Kind test"`
}
