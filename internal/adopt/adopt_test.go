package adopt

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/moodle"
	"github.com/enrolctl/enrolctl/internal/moodlesim"
	"github.com/enrolctl/enrolctl/internal/spec"
	"github.com/enrolctl/enrolctl/internal/state"
)

var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return loc
}()

// demo observes every course of moodlesim's demo site through the real client.
func demo(t *testing.T) (*moodle.Site, state.Snapshot, *moodle.Client) {
	t.Helper()
	sim := moodlesim.DemoSite()
	sim.AddToken("adopt-test-token", moodlesim.ServiceEnrolctl, "admin")
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := moodle.New(moodle.Config{URL: srv.URL, Token: "adopt-test-token", Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	site, err := c.ReadSite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range site.Catalogue {
		names = append(names, r.Shortname)
	}
	obs, err := c.Observe(ctx, site, names, nil)
	if err != nil {
		t.Fatal(err)
	}
	return site, obs, c
}

// planOf loads the rendered specs and plans them against observed.
func planOf(t *testing.T, site *moodle.Site, files map[string][]byte, observed state.Snapshot) diff.Plan {
	t.Helper()
	set := &spec.Set{}
	for name, src := range files {
		one := spec.LoadBytes(name, src, spec.Options{Location: paris})
		if one.Diagnostics.HasErrors() {
			t.Fatalf("%s does not load:\n%s\n%s", name, one.Diagnostics, src)
		}
		set.Courses = append(set.Courses, one.Courses...)
	}
	var cat []spec.CourseRef
	for _, r := range site.Catalogue {
		cat = append(cat, spec.CourseRef{Shortname: r.Shortname, Category: r.CategoryPath})
	}
	courses, ds := spec.Resolve(set, cat)
	if ds.HasErrors() {
		t.Fatalf("resolve: %s", ds)
	}
	return diff.ComputeWithOptions(state.Snapshot{Courses: courses}, observed, diff.Options{Location: paris})
}

// Every course of the demo site, written as a spec and planned against itself, plans
// no change: the spec says what Moodle has.
func TestImportedDemoPlansNothing(t *testing.T) {
	site, obs, _ := demo(t)
	files := map[string][]byte{}
	for _, c := range obs.Courses {
		res := Render(c, Options{Location: paris})
		files[Path("specs", c.Category, c.Shortname)] = res.YAML
	}
	if len(files) != len(site.Catalogue) {
		t.Fatalf("%d files for %d courses: two courses share a path", len(files), len(site.Catalogue))
	}
	p := planOf(t, site, files, obs)
	if p.HasChanges() || len(p.Diagnostics) > 0 {
		t.Fatalf("plan after import has changes: %+v diagnostics: %v", p.Changes, p.Diagnostics)
	}
}

// Converting the cohort of IFSI-S1-ANAT adds one manual enrolment per cohort member,
// with their group, and changes nothing else.
func TestConversionOnlyAddsManualEnrolments(t *testing.T) {
	site, obs, _ := demo(t)
	c, _ := obs.Course("IFSI-S1-ANAT")
	res := Render(*c, Options{Location: paris, AsManual: []state.MethodType{state.Cohort}, Until: "2027-08-31"})
	if res.Converted != 150 {
		t.Fatalf("converted %d users, want the 150 members of IFSI-2026", res.Converted)
	}
	if !strings.Contains(string(res.YAML), "groups: [Promo 2026]") {
		t.Fatalf("converted users lost their group:\n%s", res.YAML)
	}
	p := planOf(t, site, map[string][]byte{"anat.yaml": res.YAML}, obs)
	creates := 0
	for _, ch := range p.Changes {
		if ch.Kind != diff.KindEnrolment || ch.Action != diff.Create {
			t.Errorf("unexpected change %s %s", ch.Action, ch.Address)
			continue
		}
		if got := state.FormatEnd(ch.Enrolment.End, paris); got != "2027-08-31" {
			t.Errorf("%s ends %s, want 2027-08-31", ch.Address, got)
		}
		creates++
	}
	if creates != 150 {
		t.Fatalf("%d manual enrolments planned, want 150", creates)
	}
}

func TestRender(t *testing.T) {
	noon := time.Date(2027, 6, 30, 12, 0, 0, 0, paris).Unix()
	midnight := time.Date(2027, 7, 1, 0, 0, 0, 0, paris).Unix()
	tests := []struct {
		name   string
		course state.Course
		want   []string // lines the YAML must hold
		notes  []string // substrings of the notes
	}{
		{
			name: "defaults factored, exceptions written",
			course: state.Course{Shortname: "C1", Methods: []state.Method{{Type: state.Manual, Enabled: true}},
				Enrolments: []state.Enrolment{
					{Username: "a", Method: "manual", Roles: []string{"student"}, End: midnight},
					{Username: "b", Method: "manual", Roles: []string{"student"}, End: midnight, Suspended: true},
					{Username: "t", Method: "manual", Roles: []string{"editingteacher"}},
					{Username: "n", Method: "manual", Roles: []string{"student"}, End: noon},
				}},
			want: []string{"  until: 2027-06-30", "    - a", "      suspended: true",
				"      role: editingteacher", "      until: never", "      until: 2027-06-30T12:00:00+02:00"},
		},
		{
			name: "what a spec cannot say is a note",
			course: state.Course{Shortname: "C2", Methods: []state.Method{
				{Type: state.Manual, Enabled: true, ID: 1}, {Type: "lti", ID: 7}, {Type: state.Self, ID: 9, Role: "student"},
				{Type: state.Cohort, Cohort: "#12", Role: "student", ID: 3}},
				Enrolments: []state.Enrolment{{Username: "x", Method: "manual", Roles: []string{"student", "teacher"}}}},
			want:  []string{"  - type: manual", "      roles: [student, teacher]"},
			notes: []string{"lti method id 7", "self method id 9 has no name", "cohort id 12"},
		},
		{
			name: "disabled methods and their settings",
			course: state.Course{Shortname: "C3", Methods: []state.Method{
				{Type: state.Self, Name: "Libre", Role: "teacher", MaxUsers: 30},
				{Type: state.Meta, Course: "PARENT", Group: "G", Enabled: true}}},
			want: []string{"    name: Libre", "    role: teacher", "    max_users: 30", "    enabled: false",
				"    course: PARENT", "    group: G"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Render(tt.course, Options{Location: paris})
			got := string(res.YAML)
			for _, w := range tt.want {
				if !strings.Contains(got, w+"\n") {
					t.Errorf("missing line %q in:\n%s", w, got)
				}
			}
			for _, n := range tt.notes {
				if !strings.Contains(strings.Join(res.Notes, "\n"), n) {
					t.Errorf("no note says %q: %q", n, res.Notes)
				}
			}
			set := spec.LoadBytes("x.yaml", res.YAML, spec.Options{Location: paris})
			if set.Diagnostics.HasErrors() {
				t.Fatalf("the spec does not load: %s\n%s", set.Diagnostics, got)
			}
			// The spec reads back as the live ends and statuses.
			courses, _ := spec.Resolve(set, nil)
			for _, live := range tt.course.Enrolments {
				d := &courses[0]
				found := false
				for _, e := range d.Enrolments {
					if e.Username == live.Username {
						found = true
						if e.End != live.End || e.Suspended != live.Suspended {
							t.Errorf("%s reads back end %d suspended %v, live %d %v", e.Username, e.End, e.Suspended, live.End, live.Suspended)
						}
					}
				}
				if !found {
					t.Errorf("%s is not in the spec", live.Username)
				}
			}
		})
	}
}

func TestPath(t *testing.T) {
	for _, tt := range []struct{ cat, short, want string }{
		{"Santé / IFSI", "IFSI-S1-ANAT", "specs/sante/ifsi/ifsi-s1-anat.yaml"},
		{"Ecampus / Sciences / L1 Informatique", "L1-INFO-ALGO", "specs/ecampus/sciences/l1-informatique/l1-info-algo.yaml"},
		{"", "Maths 1ère année", "specs/maths-1ere-annee.yaml"},
		{"Formation continue", "../etc", "specs/formation-continue/etc.yaml"},
		{"Été", "***", "specs/ete/course.yaml"},
	} {
		if got := Path("specs", tt.cat, tt.short); got != tt.want {
			t.Errorf("Path(%q, %q) = %q, want %q", tt.cat, tt.short, got, tt.want)
		}
	}
}
