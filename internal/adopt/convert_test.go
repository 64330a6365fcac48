package adopt

import (
	"context"
	"slices"
	"testing"

	"github.com/enrolctl/enrolctl/internal/apply"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/spec"
	"github.com/enrolctl/enrolctl/internal/state"
)

// Converting the cohort students of IFSI-S1-ANAT to manual enrolments, then removing
// the cohort method, keeps all 150 "Promo 2026" memberships: the removal's plan says
// the 150 go with the method and are added back, and apply does it.
func TestConvertCohortThenRemoveItKeepsGroups(t *testing.T) {
	site, obs, client := demo(t)
	ctx := context.Background()
	const course = "IFSI-S1-ANAT"
	c, _ := obs.Course(course)
	if n := syncedMembers(*c, "Promo 2026"); n != 150 {
		t.Fatalf("the demo has %d synced members in Promo 2026, want 150", n)
	}
	res := Render(*c, Options{Location: paris, AsManual: []state.MethodType{state.Cohort}, Until: "2027-08-31"})
	set := spec.LoadBytes("anat.yaml", res.YAML, spec.Options{Location: paris})
	desired, ds := spec.Resolve(set, []spec.CourseRef{{Shortname: course}, {Shortname: "IFSI-S1-SOINS"}})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	want := state.Snapshot{Courses: desired}

	// Step 1: the conversion adds the manual enrolments.
	obs = planAndApply(t, ctx, client, site, want, nil)

	// Step 2: the cohort method goes.
	want.Courses[0].Methods = slices.DeleteFunc(want.Courses[0].Methods, func(m state.Method) bool { return m.Type == state.Cohort })
	want.Courses[0].Options.MethodsPrune = true
	obs = planAndApply(t, ctx, client, site, want, func(p diff.Plan) {
		var del *diff.Change
		for i, ch := range p.Changes {
			if ch.Kind == diff.KindMethod && ch.Action == diff.Delete {
				del = &p.Changes[i]
			}
		}
		if del == nil {
			t.Fatalf("no method deletion planned: %+v", p.Changes)
		}
		if r := del.Removes; r.Memberships != 150 || r.MembershipsKept != 150 || r.LastEnrolments != 0 {
			t.Errorf("the deletion's accounting says %+v; want 150 memberships, 150 kept, no last enrolment", r)
		}
	})
	after, _ := obs.Course(course)
	g, _ := after.Group("Promo 2026")
	manual := 0
	for _, m := range g.Members {
		if m.Component == "" {
			manual++
		}
	}
	if manual != 150 || len(g.Members) != 150 {
		t.Fatalf("Promo 2026 has %d members, %d of them manual; want 150 manual", len(g.Members), manual)
	}
}

func syncedMembers(c state.Course, group string) int {
	g, _ := c.Group(group)
	n := 0
	for _, m := range g.Members {
		if m.Component == "enrol_cohort" {
			n++
		}
	}
	return n
}

// planAndApply plans want against the site, lets check look at the plan, applies it,
// and returns the state after, checking that a new plan is empty.
func planAndApply(t *testing.T, ctx context.Context, client *moodle.Client, site *moodle.Site, want state.Snapshot, check func(diff.Plan)) state.Snapshot {
	t.Helper()
	obs, err := client.Observe(ctx, site, want.Shortnames(), want.Usernames())
	if err != nil {
		t.Fatal(err)
	}
	p := diff.ComputeWithOptions(want, obs, diff.Options{Location: paris})
	if p.Diagnostics.HasErrors() {
		t.Fatalf("plan errors: %s", p.Diagnostics)
	}
	if check != nil {
		check(p)
	}
	r, err := apply.Run(ctx, client, p, obs, apply.Options{})
	if err != nil || !r.OK() {
		t.Fatalf("apply: %v %+v", err, r)
	}
	obs, err = client.Observe(ctx, site, want.Shortnames(), want.Usernames())
	if err != nil {
		t.Fatal(err)
	}
	if again := diff.ComputeWithOptions(want, obs, diff.Options{Location: paris}); again.HasChanges() {
		t.Fatalf("plan after apply is not empty: %+v", again.Changes)
	}
	return obs
}
