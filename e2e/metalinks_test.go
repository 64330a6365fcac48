package e2e

import (
	"slices"
	"testing"

	"github.com/enrolctl/enrolctl/internal/contract"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// A removal in a course another course links to by meta names that course, and the
// apply then takes the user's access there too: Moodle's meta sync does, as the plan
// says (suspended, or unenrolled if the site's enrol_meta unenrolaction says so).
func TestRemovalReachesTheCourseLinkingByMeta(t *testing.T) {
	each(t, func(t *testing.T, tg *target) {
		needPlugin(t, tg, contract.PluginMetaLinks, "does not name the courses linking by meta")
		w := newWorld(t, tg)
		users := w.users(t, 2)
		parent, child := w.course(t), w.course(t)
		manualM := state.Method{Type: state.Manual, Enabled: true}
		desired := state.Course{Shortname: parent, Methods: []state.Method{manualM},
			Enrolments: []state.Enrolment{manual(users[0], "student", 0), manual(users[1], "student", 0)}}
		w.converge(t, []state.Course{desired})
		_, linked := w.converge(t, []state.Course{{Shortname: child,
			Methods: []state.Method{manualM, {Type: state.Meta, Course: parent, Enabled: true}}}})
		for _, u := range users {
			if e := enrolmentOf(t, linked.Courses[0], "meta:"+parent, u); e.Suspended {
				t.Fatalf("%s suspended in %s before any removal", u, child)
			}
		}

		// users[1] is no longer listed: unenrolled from the parent, their last enrolment.
		desired.Enrolments = desired.Enrolments[:1]
		desired.Options.ManualPrune = state.PruneUnenrol
		p, _ := w.converge(t, []state.Course{desired})
		var removal *diff.Removal
		for _, ch := range p.Changes {
			if ch.Action == diff.Delete && ch.Enrolment != nil && ch.Enrolment.Username == users[1] {
				removal = ch.Removes
			}
		}
		if removal == nil || removal.MetaUsers != 1 || !slices.Equal(removal.MetaCourses, []string{child}) {
			t.Fatalf("removal = %+v, want it to name %s for 1 user", removal, child)
		}
		after, _ := w.observe(t, []string{child}, users)
		c, _ := after.Course(child)
		if e := enrolmentOf(t, *c, "meta:"+parent, users[0]); e.Suspended {
			t.Errorf("%s, still enrolled in %s, was suspended in %s", users[0], parent, child)
		}
		for _, e := range c.EnrolmentsOf(users[1]) {
			if e.Method == "meta:"+parent && !e.Suspended {
				t.Errorf("%s keeps an active meta enrolment in %s: %+v", users[1], child, e)
			}
		}
	})
}
