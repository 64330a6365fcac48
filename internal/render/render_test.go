package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the plans below are shown in Europe/Paris whatever the machine has

	"github.com/enrolctl/enrolctl/internal/golden"

	"github.com/google/go-cmp/cmp"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/planfile"
	"github.com/enrolctl/enrolctl/internal/state"
)

func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// until is the stored end of a spec's `until: YYYY-MM-DD`: the next midnight in Paris.
func until(t *testing.T, y int, m time.Month, d int) int64 {
	return time.Date(y, m, d+1, 0, 0, 0, 0, paris(t)).Unix()
}

var directory = state.Directory{
	Users: map[string]int64{"21009539": 1, "55000901": 2, "55000902": 3, "55000904": 4, "dumontj01": 5, "21001111": 6},
	Cohorts: map[string]state.CohortInfo{
		"L1-INFO-2026": {ID: 1, Members: 120}, "L2-INFO-2026": {ID: 2, Members: 95},
	},
	Roles:          map[string]int64{"student": 5, "editingteacher": 3},
	Courses:        map[string]int64{"L1-INFO-ALGO": 1, "L1-INFO-PROG": 2, "L1-INFO-TRONC-COMMUN": 3},
	EnabledPlugins: []string{"manual", "self", "guest", "cohort", "meta", "database"},
}

func man(u string, end int64, roles ...string) state.Enrolment {
	return state.Enrolment{Username: u, Method: "manual", Roles: roles, End: end}
}

// mixedPlan is the spec's example course after a year: renewals, a reactivation, a
// new cohort method with its group, a conversion off an old cohort, a prune.
func mixedPlan(t *testing.T) diff.Plan {
	end26, end27 := until(t, 2026, 6, 30), until(t, 2027, 6, 30)
	cohort26 := state.Method{Type: state.Cohort, Cohort: "L1-INFO-2026", Role: "student", Group: "Promo 2026", Enabled: true, Source: state.Source{File: "specs/algo.yaml", Line: 6, Col: 5}}
	desired := state.Snapshot{Courses: []state.Course{
		{
			Shortname: "L1-INFO-ALGO", Options: state.Options{MethodsPrune: true, ManualPrune: state.PruneUnenrol},
			Methods: []state.Method{
				{Type: state.Database, Enabled: true}, cohort26,
				{Type: state.Meta, Course: "L1-INFO-TRONC-COMMUN", Enabled: true},
				{Type: state.Self, Name: "Accès enseignants", Role: "editingteacher", Enabled: false},
				{Type: state.Manual, Enabled: true},
			},
			Enrolments: []state.Enrolment{
				man("21009539", end27, "student"),
				man("55000904", until(t, 2027, 9, 1), "student"),
				man("55000902", end27, "student"),
				man("dumontj01", 0, "editingteacher"),
			},
			Groups: []state.Group{{Name: "TP1", Members: []state.Member{{Username: "55000904"}}}},
		},
		{
			Shortname: "L1-INFO-PROG", Options: state.Options{ManualPrune: state.PruneSuspend},
			Methods:    []state.Method{{Type: state.Manual, Enabled: true}},
			Enrolments: []state.Enrolment{man("21009539", end27, "student")},
		},
	}}
	observed := state.Snapshot{Directory: directory, Courses: []state.Course{
		{
			Shortname: "L1-INFO-ALGO", ID: 1,
			Methods: []state.Method{
				{Type: state.Manual, Enabled: true, ID: 10},
				{Type: state.Database, Enabled: true, ID: 11},
				{Type: state.Meta, Course: "L1-INFO-TRONC-COMMUN", Enabled: true, ID: 12},
				{Type: state.Self, Name: "Accès enseignants", Role: "editingteacher", Enabled: true, ID: 13},
				{Type: state.Cohort, Cohort: "L2-INFO-2026", Role: "student", Enabled: true, ID: 14},
			},
			Enrolments: []state.Enrolment{
				{Username: "21009539", Method: "manual", Roles: []string{"student"}, End: end26, Suspended: true},
				man("55000901", end26, "student"),
				man("dumontj01", 0, "editingteacher"),
				{Username: "21009539", Method: "database", Roles: []string{"student"}},
				{Username: "55000904", Method: "cohort:L2-INFO-2026:student", Roles: []string{"student"}},
				{Username: "21001111", Method: "cohort:L2-INFO-2026:student", Roles: []string{"student"}},
				{Username: "dumontj01", Method: "self:Accès enseignants", Roles: []string{"editingteacher"}},
				{Username: "55000902", Method: "database", Roles: []string{"student"}},
			},
			Groups: []state.Group{{Name: "TP1"}},
		},
		{
			Shortname: "L1-INFO-PROG", ID: 2,
			Methods: []state.Method{{Type: state.Manual, Enabled: true, ID: 20}, {Type: state.Database, Enabled: true, ID: 21}},
			Enrolments: []state.Enrolment{
				man("21009539", end27, "student"), man("55000901", end26, "student"),
				{Username: "55000902", Method: "database", Roles: []string{"student"}},
			},
		},
	}}
	p := diff.ComputeWithOptions(desired, observed, diff.Options{Location: paris(t)})
	p.Site, p.Commit = "ecampus", "4f9c2e1"
	return p
}

func noChangesPlan(t *testing.T) diff.Plan {
	end27 := until(t, 2027, 6, 30)
	course := state.Course{Shortname: "L1-INFO-PROG", Methods: []state.Method{{Type: state.Manual, Enabled: true}},
		Enrolments: []state.Enrolment{man("21009539", end27, "student")}}
	live := course
	live.Methods = append(live.Methods, state.Method{Type: state.Cohort, Cohort: "L2-INFO-2026", Role: "student", Enabled: true, ID: 3})
	live.Enrolments = append(live.Enrolments, man("55000901", end27, "student"),
		state.Enrolment{Username: "55000902", Method: "cohort:L2-INFO-2026:student"})
	return diff.ComputeWithOptions(state.Snapshot{Courses: []state.Course{course}},
		state.Snapshot{Directory: directory, Courses: []state.Course{live}}, diff.Options{Location: paris(t)})
}

func problemsPlan(t *testing.T) diff.Plan {
	desired := state.Snapshot{Courses: []state.Course{
		{Shortname: "L1-INFO-ALGO", Methods: []state.Method{
			{Type: state.Cohort, Cohort: "L1-INFO-2062", Role: "student", Enabled: true, Source: state.Source{File: "specs/algo.yaml", Line: 7, Col: 13}},
			{Type: state.Guest, Enabled: true},
		}, Enrolments: []state.Enrolment{{Username: "2100953", Roles: []string{"student"}, Source: state.Source{File: "specs/algo.yaml", Line: 12, Col: 7}}}},
		{Shortname: "L1-INFO-GONE", Sources: []string{"specs/gone.yaml"}},
	}}
	observed := state.Snapshot{Directory: directory, Courses: []state.Course{{Shortname: "L1-INFO-ALGO", Methods: []state.Method{{Type: state.Manual, Enabled: true}}}}}
	return diff.ComputeWithOptions(desired, observed, diff.Options{Location: paris(t)})
}

// warningsPlan is a plan that goes ahead with a warning from the specs: a policy that
// selects no course.
func warningsPlan(t *testing.T) diff.Plan {
	p := longPlan(t)
	p.Changes = p.Changes[:2]
	p.Diagnostics = diag.Diagnostics{diag.Warnf(diag.Pos{File: "specs/policies.yaml", Line: 4, Col: 15}, "no course is in category %q or below it", "Ecampus / Sciencse").
		WithSuggestion("Ecampus / Sciences")}
	return p
}

// refusedPlan unenrols 12 users from one course, above the limits, and one from a
// protected course: apply will refuse both, and the plan says so.
func refusedPlan(t *testing.T) diff.Plan {
	d := state.Course{Shortname: "L1-INFO-ALGO", Options: state.Options{ManualPrune: state.PruneUnenrol}, Methods: []state.Method{{Type: state.Manual, Enabled: true}}}
	o := state.Course{Shortname: "L1-INFO-ALGO", Methods: []state.Method{{Type: state.Manual, Enabled: true}}}
	dir := directory
	dir.Users = map[string]int64{}
	for i := range 12 {
		u := fmt.Sprintf("2100%04d", i)
		dir.Users[u] = int64(i + 1)
		o.Enrolments = append(o.Enrolments, man(u, 0, "student"))
	}
	prot, oprot := d, o
	prot.Shortname, oprot.Shortname = "L1-INFO-PROG", "L1-INFO-PROG"
	prot.Options.Protect = true
	oprot.Enrolments = []state.Enrolment{man("21009539", 0, "student"), man("dumontj01", 0, "editingteacher")}
	prot.Enrolments = oprot.Enrolments[1:]
	dir.Users["21009539"], dir.Users["dumontj01"] = 100, 101
	return diff.ComputeWithOptions(state.Snapshot{Courses: []state.Course{d, prot}},
		state.Snapshot{Directory: dir, Courses: []state.Course{o, oprot}}, diff.Options{Location: paris(t)})
}

// longPlan renews 40 users: long enough to fold in a merge-request comment.
func longPlan(t *testing.T) diff.Plan {
	end26, end27 := until(t, 2026, 6, 30), until(t, 2027, 6, 30)
	d := state.Course{Shortname: "L1-INFO-ALGO", Methods: []state.Method{{Type: state.Manual, Enabled: true}}}
	o := state.Course{Shortname: "L1-INFO-ALGO", Methods: []state.Method{{Type: state.Manual, Enabled: true}}}
	dir := directory
	dir.Users = map[string]int64{}
	for i := range 40 {
		u := fmt.Sprintf("2100%04d", i)
		dir.Users[u] = int64(i + 1)
		d.Enrolments = append(d.Enrolments, man(u, end27, "student"))
		o.Enrolments = append(o.Enrolments, man(u, end26, "student"))
	}
	return diff.ComputeWithOptions(state.Snapshot{Courses: []state.Course{d}},
		state.Snapshot{Directory: dir, Courses: []state.Course{o}}, diff.Options{Location: paris(t)})
}

func plans(t *testing.T) map[string]diff.Plan {
	return map[string]diff.Plan{
		"mixed":     mixedPlan(t),
		"nochanges": noChangesPlan(t),
		"problems":  problemsPlan(t),
		"warnings":  warningsPlan(t),
		"long":      longPlan(t),
		"refused":   refusedPlan(t),
		"empty":     diff.Compute(state.Snapshot{}, state.Snapshot{}),
		"missing": diff.Compute(state.Snapshot{Courses: []state.Course{{Shortname: "L1-INFO-GONE", Sources: []string{"specs/gone.yaml"}}}},
			state.Snapshot{Directory: directory}),
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got)
}

func TestGolden(t *testing.T) {
	for name, p := range plans(t) {
		t.Run(name, func(t *testing.T) {
			var text, js bytes.Buffer
			if err := Text(&text, p, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name+".txt", text.Bytes())
			if err := JSON(&js, p); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name+".json", js.Bytes())
		})
	}
	// Every change on its line and every unmanaged object listed: what the short text
	// stands for.
	for _, name := range []string{"long", "refused", "nochanges"} {
		t.Run(name+" expanded", func(t *testing.T) {
			var b bytes.Buffer
			if err := Text(&b, plans(t)[name], TextOptions{Expand: true, ShowUnmanaged: true}); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name+".expanded.txt", b.Bytes())
		})
	}
	t.Run("mixed colour", func(t *testing.T) {
		var b bytes.Buffer
		if err := Text(&b, mixedPlan(t), TextOptions{Color: true}); err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "mixed.color.txt", b.Bytes())
	})
}

// The forms are rendered from one Plan, so they agree: the JSON decodes back to the
// plan, its summary is the plan's, and the text and Markdown summary lines match it.
func TestFormsAgree(t *testing.T) {
	for name, p := range plans(t) {
		t.Run(name, func(t *testing.T) {
			var js bytes.Buffer
			if err := JSON(&js, p); err != nil {
				t.Fatal(err)
			}
			back, err := planfile.Decode(js.Bytes()) // validates against docs/plan.schema.json
			if err != nil {
				t.Fatalf("the JSON plan is not a valid plan document: %v", err)
			}
			// Source is not serialised on the state objects (json:"-"), only on the change.
			if diff := cmp.Diff(stripObjectSources(p), back); diff != "" {
				t.Errorf("JSON does not decode to the plan (-plan +decoded):\n%s", diff)
			}
			var withSummary struct {
				FormatVersion string       `json:"format_version"`
				Summary       diff.Summary `json:"summary"`
			}
			if err := json.Unmarshal(js.Bytes(), &withSummary); err != nil {
				t.Fatal(err)
			}
			if withSummary.FormatVersion != diff.FormatVersion || withSummary.Summary != p.Summary() {
				t.Errorf("JSON header %+v, want version %s and summary %+v", withSummary, diff.FormatVersion, p.Summary())
			}

			var short, text, md bytes.Buffer
			if err := Text(&short, p, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := Text(&text, p, TextOptions{Expand: true, ShowUnmanaged: true}); err != nil {
				t.Fatal(err)
			}
			if err := ReviewMarkdown(&md, p, ReviewOptions{}); err != nil {
				t.Fatal(err)
			}
			line := summaryLine(p.Summary(), p.HasChanges(), len(p.Diagnostics.Errors()))
			for _, form := range []string{short.String(), text.String()} {
				lines := strings.Split(strings.TrimSuffix(form, "\n"), "\n")
				if last := lines[len(lines)-1]; last != line {
					t.Errorf("text ends with %q, want %q", last, line)
				}
			}
			// Every unmanaged object is a line of the expanded text.
			for _, u := range p.Unmanaged {
				if n := countLines(text.String(), "    "+unmanagedName(u)+"  "+unmanagedText(u, location(p))); n != 1 {
					t.Errorf("expanded text shows unmanaged %s %d times", u.Address, n)
				}
			}
			if !strings.Contains(md.String(), "**"+line+"**") {
				t.Errorf("markdown lacks the summary %q", line)
			}
			// Every change is one line of the expanded text.
			for _, c := range p.Changes {
				l := lineOf(c, location(p))
				if n := countLines(text.String(), "  "+l.Symbol+" "+l.text()); n != 1 {
					t.Errorf("expanded text shows %s %d times", c.Address, n)
				}
			}
		})
	}
}

// countLines counts the lines that are prefix, possibly followed by a "  # reason".
func countLines(s, prefix string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if line == prefix || strings.HasPrefix(line, prefix+"  # ") {
			n++
		}
	}
	return n
}

func stripObjectSources(p diff.Plan) diff.Plan {
	out := p
	out.Changes = make([]diff.Change, len(p.Changes))
	for i, c := range p.Changes {
		if c.Method != nil {
			m := *c.Method
			m.Source = state.Source{}
			c.Method = &m
		}
		if c.Enrolment != nil {
			e := *c.Enrolment
			e.Source = state.Source{}
			c.Enrolment = &e
		}
		if c.Group != nil {
			g := *c.Group
			g.Source = state.Source{}
			c.Group = &g
		}
		if c.Member != nil {
			m := *c.Member
			m.Source = state.Source{}
			c.Member = &m
		}
		out.Changes[i] = c
	}
	return out
}

func TestTextColourOnlyWhenAsked(t *testing.T) {
	var plain, colour bytes.Buffer
	p := mixedPlan(t)
	if err := Text(&plain, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Text(&colour, p, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("plain text contains ANSI escapes")
	}
	if !strings.Contains(colour.String(), ansiGreen+"+"+ansiReset) {
		t.Error("coloured text has no green +")
	}
	// Stripping the escapes gives the plain text back.
	stripped := colour.String()
	for _, code := range []string{ansiReset, ansiBold, ansiDim, ansiRed, ansiGreen, ansiYellow} {
		stripped = strings.ReplaceAll(stripped, code, "")
	}
	if diff := cmp.Diff(plain.String(), stripped); diff != "" {
		t.Errorf("colour changes the text (-plain +stripped):\n%s", diff)
	}
}

func TestSummaryLine(t *testing.T) {
	tests := []struct {
		sum      diff.Summary
		changes  bool
		problems int
		want     string
	}{
		{diff.Summary{Add: 3, Change: 5, Remove: 1, Unmanaged: 7}, true, 0, "Plan: 3 to add, 5 to change, 1 to remove, 7 unmanaged."},
		{diff.Summary{Add: 3, Change: 5, Remove: 1, Unmanaged: 7}, true, 2, "No changes planned: fix the 2 errors first."},
		{diff.Summary{Unmanaged: 7}, false, 0, "No changes. Moodle matches the specs (7 unmanaged objects left alone)."},
		{diff.Summary{Unmanaged: 1}, false, 0, "No changes. Moodle matches the specs (1 unmanaged object left alone)."},
		{diff.Summary{}, false, 0, "No changes. Moodle matches the specs."},
		{diff.Summary{Unmanaged: 1}, false, 1, "No changes planned: fix the 1 error first."},
	}
	for _, tt := range tests {
		if got := summaryLine(tt.sum, tt.changes, tt.problems); got != tt.want {
			t.Errorf("summaryLine(%+v) = %q, want %q", tt.sum, got, tt.want)
		}
	}
}

func TestAddressName(t *testing.T) {
	tests := []struct {
		kind    diff.Kind
		address string
		want    string
	}{
		{diff.KindMethod, state.MethodAddress("C", "cohort:L1:student"), "method cohort:L1:student"},
		{diff.KindEnrolment, state.EnrolmentAddress("C", "manual", "u1"), "enrolment manual/u1"},
		{diff.KindGroup, state.GroupAddress("C", "Promo 2026"), `group "Promo 2026"`},
		{diff.KindMember, state.MemberAddress("C", "TP1", "u1"), "membership TP1/u1"},
		{diff.KindMember, state.MemberAddress("C", "Promo 2026", "u1"), `membership "Promo 2026/u1"`},
		{diff.KindMethod, "course/C", "course/C"},
	}
	for _, tt := range tests {
		if got := addressName("C", tt.address); got != tt.want {
			t.Errorf("addressName(%q) = %q, want %q", tt.address, got, tt.want)
		}
		// A change without its object (as a hand-edited saved plan might be) is named the same way.
		if got := objectName(diff.Change{Kind: tt.kind, Course: "C", Address: tt.address}); got != tt.want {
			t.Errorf("objectName(%q) = %q, want %q", tt.address, got, tt.want)
		}
	}
}

// Drifted members are written piece by piece, their comment made once per group: the
// lines read as driftName and driftText word them, quoted where a name needs it, in
// plain text and in colour.
func TestDriftTextMembers(t *testing.T) {
	member := func(course, group, user string) diff.Drift {
		return diff.Drift{Course: course, Kind: diff.KindMember, Code: diff.DriftUndeclaredMember, GroupName: group,
			Member: &state.Member{Username: user}, Address: state.MemberAddress(course, group, user)}
	}
	p := diff.Plan{Drift: []diff.Drift{
		member("A", "TP1", "u1"), member("A", "TP1", "u2"), member("A", "TP 2", "u3"), member("A", "TP1", "u 4"),
		member("B", "TP1", "u5"),
	}}
	want := []string{
		"  course A",
		"    ? membership TP1/u1  # group member the spec does not list in TP1",
		"    ? membership TP1/u2  # group member the spec does not list in TP1",
		`    ? membership "TP 2/u3"  # group member the spec does not list in "TP 2"`,
		`    ? membership "TP1/u 4"  # group member the spec does not list in TP1`,
		"  course B",
		"    ? membership TP1/u5  # group member the spec does not list in TP1",
	}
	var plain, colour bytes.Buffer
	if err := Text(&plain, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Text(&colour, p, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Split(plain.String(), "\n")[1:len(want)+1], "\n"); got != strings.Join(want, "\n") {
		t.Errorf("drift lines:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	for i, d := range p.Drift {
		if line := "    ? " + driftName(d) + "  # " + driftText(d, time.UTC); !strings.Contains(plain.String(), line+"\n") {
			t.Errorf("drift %d: no line %q", i, line)
		}
	}
	stripped := colour.String()
	for _, code := range []string{ansiReset, ansiBold, ansiDim, ansiRed, ansiGreen, ansiYellow} {
		stripped = strings.ReplaceAll(stripped, code, "")
	}
	if stripped != plain.String() {
		t.Errorf("colour changes the drift text:\n%s\nplain:\n%s", stripped, plain.String())
	}
	if !strings.Contains(colour.String(), ansiDim+"# group member the spec does not list in TP1"+ansiReset) {
		t.Error("the drift comment is not dimmed")
	}
}

// A plan whose changes are not sorted by course (a hand-made one) shows each course's
// lines together, as the sorted plan does.
func TestTextUnsortedCourses(t *testing.T) {
	end := diff.FieldChange{Field: diff.FieldEnd, Old: &diff.Value{}, New: &diff.Value{Int: until(t, 2027, 6, 30)}}
	renew := func(course, u string) diff.Change {
		return diff.Change{Course: course, Address: state.EnrolmentAddress(course, "manual", u), Kind: diff.KindEnrolment, Action: diff.Update,
			Enrolment: &state.Enrolment{Username: u, Method: "manual"}, Fields: []diff.FieldChange{end}}
	}
	unsorted := diff.Plan{Timezone: "Europe/Paris", Changes: []diff.Change{renew("A", "a1"), renew("B", "b1"), renew("A", "a2"), renew("B", "b2"), renew("A", "a3")}}
	sorted := unsorted
	sorted.Changes = []diff.Change{renew("A", "a1"), renew("A", "a2"), renew("A", "a3"), renew("B", "b1"), renew("B", "b2")}
	for _, expand := range []bool{false, true} {
		var got, want bytes.Buffer
		if err := Text(&got, unsorted, TextOptions{Expand: expand}); err != nil {
			t.Fatal(err)
		}
		if err := Text(&want, sorted, TextOptions{Expand: expand}); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want.String(), got.String()); d != "" {
			t.Errorf("expand %v: unsorted plan (-sorted +unsorted):\n%s", expand, d)
		}
		if expand && !strings.Contains(got.String(), "course A\n  ~ enrolment manual/a1  end: never → 2027-06-30\n  ~ enrolment manual/a2") {
			t.Errorf("expand %v: course A's lines missing:\n%s", expand, got.String())
		}
	}
}
