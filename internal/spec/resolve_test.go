package spec

import (
	"fmt"
	"runtime"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/enrolctl/enrolctl/internal/state"
)

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, src := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(src)}
	}
	return fsys
}

var catalogue = []CourseRef{
	{Shortname: "L1-INFO-ALGO", Category: "Ecampus / Sciences / L1 Informatique"},
	{Shortname: "L1-INFO-PROG", Category: "Ecampus / Sciences / L1 Informatique / Semestre 2"},
	{Shortname: "L1-INFO-TRONC-COMMUN", Category: "Ecampus / Sciences"},
	{Shortname: "L1-MATH-ANA", Category: "Ecampus / Sciences / L1 Mathématiques"},
	{Shortname: "L2-INFO-BDD", Category: "Ecampus / Sciences / L2 Informatique"},
}

// TestCrossFileErrors checks the errors that need several files or the catalogue.
func TestCrossFileErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "course in two files",
			files: map[string]string{
				"specs/a.yaml":     lines("course: L1-INFO-ALGO"),
				"specs/sub/b.hcl":  lines(`course "L1-INFO-ALGO" {}`),
				"specs/.git/x.yml": lines("not: a spec"),
			},
			want: []string{`specs/sub/b.hcl:1:8: course "L1-INFO-ALGO" is declared in two places: specs/a.yaml:1:9 and here; keep one spec per course`},
		},
		{
			name:  "unknown course",
			files: map[string]string{"specs/a.yaml": lines("course: L1-INFO-ALG0")},
			want:  []string{`specs/a.yaml:1:9: unknown course "L1-INFO-ALG0": no course has this shortname on the site (did you mean "L1-INFO-ALGO"?)`},
		},
		{
			name: "policy conflicts with spec",
			files: map[string]string{
				"specs/a.yaml": lines("course: L1-INFO-ALGO", "methods:", "  - type: cohort", "    cohort: L1-2026", "    group: Promo"),
				"specs/p.yaml": lines("policy: promo", "courses:", "  shortname: L1-INFO-*", "methods:", "  - type: cohort", "    cohort: L1-2026"),
			},
			want: []string{
				`specs/p.yaml:5:11: course "L1-INFO-ALGO": cohort method (cohort "L1-2026", role "student") is declared differently here and at specs/a.yaml:3:11 (group "" and "Promo")`,
			},
		},
		{
			name: "two policies disagree on a default",
			files: map[string]string{
				"specs/p1.yaml": lines("policy: p1", "courses:", "  category: Ecampus / Sciences", "manual:", "  until: 2027-06-30"),
				"specs/p2.yaml": lines("policy: p2", "courses:", "  list: [L1-MATH-ANA]", "manual:", "  until: 2027-07-31"),
			},
			want: []string{
				"specs/p1.yaml:5:10: warning: manual.until: defaults for the users a course spec lists; 5 selected course(s) list none (L1-INFO-ALGO, L1-INFO-PROG, L1-INFO-TRONC-COMMUN and 2 more), where this changes nothing (to renew their live manual enrolments, add a renew section)",
				`specs/p2.yaml:5:10: course "L1-MATH-ANA": manual.until "2027-07-31" here conflicts with "2027-06-30" at specs/p1.yaml:5:10`,
				"specs/p2.yaml:5:10: warning: manual.until: defaults for the users a course spec lists; 1 selected course(s) list none (L1-MATH-ANA), where this changes nothing (to renew their live manual enrolments, add a renew section)",
			},
		},
		{
			name: "same settings from two sources are fine",
			files: map[string]string{
				"specs/a.yaml": lines("course: L1-INFO-ALGO", "methods:", "  - type: meta", "    course: L1-INFO-TRONC-COMMUN"),
				"specs/p.yaml": lines("policy: p", "courses:", "  shortname: L1-INFO-A*", "methods:", "  - type: meta", "    course: L1-INFO-TRONC-COMMUN"),
			},
		},
		{
			name: "policy list and category mistakes",
			files: map[string]string{
				"specs/p.yaml": lines("policy: p", "courses:", "  list: [L1-INFO-ALGO, L1-INFO-PROGG]"),
				"specs/q.yaml": lines("policy: q", "courses:", "  category: Ecampus / Science"),
			},
			want: []string{
				`specs/p.yaml:3:24: unknown course "L1-INFO-PROGG": no course has this shortname on the site (did you mean "L1-INFO-PROG"?)`,
				`specs/q.yaml:3:13: warning: no course is in category "Ecampus / Science" or below it (did you mean "Ecampus / Sciences"?)`,
			},
		},
		{
			name:  "policy meta link to a selected course itself",
			files: map[string]string{"specs/p.yaml": lines("policy: p", "courses:", "  list: [L1-INFO-TRONC-COMMUN]", "methods:", "  - type: meta", "    course: L1-INFO-TRONC-COMMUN")},
			want:  []string{`specs/p.yaml:5:11: course "L1-INFO-TRONC-COMMUN": a meta method cannot link the course to itself`},
		},
		{
			name:  "meta link to an unknown course",
			files: map[string]string{"specs/a.yaml": lines("course: L1-INFO-ALGO", "methods:", "  - type: meta", "    course: L1-INFO-TRONC-COMUN")},
			want:  []string{`specs/a.yaml:3:11: meta method: unknown course "L1-INFO-TRONC-COMUN" to link: no course has this shortname on the site (did you mean "L1-INFO-TRONC-COMMUN"?)`},
		},
		{
			name: "duplicate policy name",
			files: map[string]string{
				"specs/p.yaml": lines("policy: p", "courses:", "  list: [L1-INFO-ALGO]"),
				"specs/q.yaml": lines("policy: p", "courses:", "  list: [L1-INFO-PROG]"),
			},
			want: []string{`specs/q.yaml:1:9: policy "p" is declared in two places: specs/p.yaml:1:9 and here; policy names must be unique`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := Load(mapFS(tt.files), "specs", Options{Location: paris})
			courses, ds := Resolve(set, catalogue)
			if d := cmp.Diff(tt.want, diagStrings(ds)); d != "" {
				t.Errorf("diagnostics (-want +got):\n%s", d)
			}
			sameCheck(t, set, catalogue, courses, ds)
		})
	}
}

// TestLoadRepositoryRoot loads specs from the root of a repository: the configuration
// file is not a spec, hidden folders and other files are skipped, empty files warned
// about; a file of comments only is a spec kept commented out on purpose, and is not.
func TestLoadRepositoryRoot(t *testing.T) {
	fsys := mapFS(map[string]string{
		"enrolctl.yaml":         lines("sites: {}"),
		"README.md":             "# specs",
		"a/algo.yaml":           lines("course: L1-INFO-ALGO"),
		"a/enrolctl.yaml":       lines("course: L1-INFO-PROG"), // only the root one is configuration
		"a/notes.txt":           "x",
		".github/workflows.yml": lines("on: push"),
		"b/empty.yml":           " \n\n",
		"b/later.yml":           "# nothing yet\n\n#course: FC-WORD\n",
		"b/later.hcl":           "// course \"FC-WORD\" {\n#}\n",
		"b/blank.hcl":           "\n",
	})
	set := Load(fsys, ".", Options{})
	if d := cmp.Diff([]string{"a/algo.yaml", "a/enrolctl.yaml", "b/blank.hcl", "b/empty.yml", "b/later.hcl", "b/later.yml"}, set.Files); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	want := []string{"b/blank.hcl: warning: no course or policy block in this file", "b/empty.yml: warning: empty file: no course or policy in it"}
	if d := cmp.Diff(want, diagStrings(set.Diagnostics)); d != "" {
		t.Errorf("diagnostics (-want +got):\n%s", d)
	}
	if len(set.Courses) != 2 || set.Courses[0].Shortname != "L1-INFO-ALGO" {
		t.Errorf("courses: %+v", set.Courses)
	}
}

func TestMissingRoot(t *testing.T) {
	set := Load(mapFS(nil), "specs", Options{})
	want := []string{"specs: cannot read: file does not exist"}
	if d := cmp.Diff(want, diagStrings(set.Diagnostics)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestPolicyMerge checks what a policy adds to courses with and without specs.
func TestPolicyMerge(t *testing.T) {
	files := map[string]string{
		"specs/algo.yaml": lines(
			"course: L1-INFO-ALGO",
			"manual:",
			"  until: 2027-08-31",
			"  users:",
			"    - u1",
			"    - username: u2",
			"      role: teacher",
		),
		"specs/bdd.yaml": lines("course: L2-INFO-BDD", "manual:", "  users: [u3]"),
		"specs/policies/l1.yaml": lines(
			"policy: l1-info",
			"courses:",
			"  category: Ecampus/Sciences/L1 Informatique",
			"  shortname: L1-*",
			"methods:",
			"  - type: cohort",
			"    cohort: L1-INFO-2026",
			"manual:",
			"  role: tutor",
			"  until: 2027-06-30",
			"  prune: suspend",
			"groups:",
			"  - name: Promo",
			"    prune_members: true",
			"protect: true",
		),
	}
	set := Load(mapFS(files), "specs", Options{Location: paris, Roles: []string{"tutor"}})
	got, ds := Resolve(set, catalogue)
	wantDiags := []string{"specs/policies/l1.yaml:10:10: warning: manual.until, manual.role: defaults for the users a course spec lists; 1 selected course(s) list none (L1-INFO-PROG), where this changes nothing (to renew their live manual enrolments, add a renew section)",
		"specs/policies/l1.yaml:11:10: warning: prune: suspend reaches 1 selected course(s) without a spec (L1-INFO-PROG), where no user is listed: it acts on every manual enrolment there"}
	if d := cmp.Diff(wantDiags, diagStrings(ds)); d != "" {
		t.Fatalf("diagnostics (-want +got):\n%s", d)
	}
	end := func(y int, m time.Month, d int) int64 { return time.Date(y, m, d+1, 0, 0, 0, 0, paris).Unix() }
	cohort := state.Method{Type: state.Cohort, Cohort: "L1-INFO-2026", Role: "student", Enabled: true}
	promo := state.Group{Name: "Promo", PruneMembers: true}
	want := []state.Course{
		{
			Shortname: "L1-INFO-ALGO", Category: "Ecampus / Sciences / L1 Informatique",
			Methods: []state.Method{cohort, {Type: state.Manual, Enabled: true}},
			Enrolments: []state.Enrolment{
				// The spec's own until wins over the policy's; the policy's role is the default.
				{Username: "u1", Method: "manual", Roles: []string{"tutor"}, End: end(2027, 8, 31), KeepStart: true},
				{Username: "u2", Method: "manual", Roles: []string{"teacher"}, End: end(2027, 8, 31), KeepStart: true},
			},
			Groups:  []state.Group{promo},
			Options: state.Options{Protect: true, ManualPrune: state.PruneSuspend},
			Sources: []string{"specs/algo.yaml", "specs/policies/l1.yaml"}, Spec: "specs/algo.yaml",
		},
		{
			// Selected by the policy (subcategory included), no spec: only what the policy declares.
			Shortname: "L1-INFO-PROG", Category: "Ecampus / Sciences / L1 Informatique / Semestre 2",
			Methods: []state.Method{cohort},
			Groups:  []state.Group{promo},
			Options: state.Options{Protect: true, ManualPrune: state.PruneSuspend},
			Sources: []string{"specs/policies/l1.yaml"},
		},
		{
			Shortname: "L2-INFO-BDD", Category: "Ecampus / Sciences / L2 Informatique",
			Methods:    []state.Method{{Type: state.Manual, Enabled: true}},
			Enrolments: []state.Enrolment{{Username: "u3", Method: "manual", Roles: []string{"student"}, KeepStart: true}},
			Options:    state.Options{ManualPrune: state.PruneKeep},
			Sources:    []string{"specs/bdd.yaml"}, Spec: "specs/bdd.yaml",
		},
	}
	for i := range want {
		want[i].Normalize()
	}
	opts := cmp.Options{
		cmpopts.IgnoreFields(state.Method{}, "Source", "CohortSource"),
		cmpopts.IgnoreFields(state.Enrolment{}, "Source"),
		cmpopts.IgnoreFields(state.Group{}, "Source"),
		cmpopts.EquateEmpty(),
	}
	if d := cmp.Diff(want, got, opts); d != "" {
		t.Errorf("desired state (-want +got):\n%s", d)
	}
}

// TestDates checks that a day means the whole day in the site's time zone.
func TestDates(t *testing.T) {
	src := lines(
		"course: A",
		"manual:",
		"  users:",
		"    - username: summer",
		"      from: 2026-09-01",
		"      until: 2027-06-30",
		"    - username: dst",
		"      until: 2027-03-27", // the night Paris moves to summer time follows
		"    - username: exact",
		"      from: 2026-09-01T08:30:00+02:00",
		"      until: 2027-06-30T18:00:00Z",
		"    - username: forever",
		"      until: never",
	)
	for _, loc := range []*time.Location{paris, mustLocation("Pacific/Auckland"), time.UTC} {
		set := LoadBytes("c.yaml", []byte(src), Options{Location: loc})
		got, ds := Resolve(set, nil)
		if len(ds) != 0 {
			t.Fatal(ds)
		}
		want := map[string][2]int64{
			"summer":  {time.Date(2026, 9, 1, 0, 0, 0, 0, loc).Unix(), time.Date(2027, 7, 1, 0, 0, 0, 0, loc).Unix()},
			"dst":     {0, time.Date(2027, 3, 28, 0, 0, 0, 0, loc).Unix()},
			"exact":   {time.Date(2026, 9, 1, 6, 30, 0, 0, time.UTC).Unix(), time.Date(2027, 6, 30, 18, 0, 0, 0, time.UTC).Unix()},
			"forever": {0, 0},
		}
		gotDates := map[string][2]int64{}
		for _, e := range got[0].Enrolments {
			gotDates[e.Username] = [2]int64{e.Start, e.End}
		}
		if d := cmp.Diff(want, gotDates); d != "" {
			t.Errorf("%s: dates (-want +got):\n%s", loc, d)
		}
	}
}

// TestGroups checks group declaration rules: users' groups are declared for them when
// the spec has no groups field, and members land in their groups.
func TestGroups(t *testing.T) {
	src := lines(
		"course: A",
		"methods:",
		"  - type: cohort",
		"    cohort: C",
		"    group: Promo",
		"manual:",
		"  users:",
		"    - username: u1",
		"      groups: [TP1, Promo]",
		"    - username: u2",
		"      groups: TP2",
	)
	got, ds := Resolve(LoadBytes("c.yaml", []byte(src), Options{}), nil)
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	want := []state.Group{
		{Name: "Promo", Members: []state.Member{{Username: "u1", Source: state.Source{File: "c.yaml", Line: 9, Col: 21}}}, Source: state.Source{File: "c.yaml", Line: 9, Col: 21}},
		{Name: "TP1", Members: []state.Member{{Username: "u1", Source: state.Source{File: "c.yaml", Line: 9, Col: 16}}}, Source: state.Source{File: "c.yaml", Line: 9, Col: 16}},
		{Name: "TP2", Members: []state.Member{{Username: "u2", Source: state.Source{File: "c.yaml", Line: 11, Col: 15}}}, Source: state.Source{File: "c.yaml", Line: 11, Col: 15}},
	}
	if d := cmp.Diff(want, got[0].Groups); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
}

// sameCheck fails unless Check says what Resolve said: its diagnostics and count.
func sameCheck(t *testing.T, set *Set, catalogue []CourseRef, courses []state.Course, ds Diagnostics) {
	t.Helper()
	n, checked := Check(set, catalogue)
	if n != len(courses) {
		t.Errorf("Check counts %d courses, Resolve %d", n, len(courses))
	}
	if d := cmp.Diff(ds, checked); d != "" {
		t.Errorf("Check's diagnostics differ from Resolve's (-resolve +check):\n%s", d)
	}
}

// TestResolveParallel: courses are resolved on every core; what Resolve and Check
// return must not depend on how many there are, diagnostics included.
func TestResolveParallel(t *testing.T) {
	fsys := fstest.MapFS{}
	var cat []CourseRef
	for i := range 300 {
		name := fmt.Sprintf("C%03d", i)
		cat = append(cat, CourseRef{Shortname: name, Category: fmt.Sprintf("Ecampus / D%d", i%3)})
		src := fmt.Sprintf("course: %s\ngroups: [TP1]\nmanual:\n  from: 2026-09-01\n  users:\n", name)
		for u := range 20 {
			src += fmt.Sprintf("    - username: u%04d\n      groups: [TP%d]\n", (i*7+u)%500, u%3)
		}
		// Every tenth course: a user ending before the course's start.
		if i%10 == 0 {
			src += "    - username: late\n      until: 2026-01-01\n"
		}
		fsys[fmt.Sprintf("specs/%s.yaml", name)] = &fstest.MapFile{Data: []byte(src)}
	}
	fsys["specs/p1.yaml"] = &fstest.MapFile{Data: []byte("policy: p1\ncourses:\n  category: Ecampus / D1\nmanual:\n  role: teacher\nmethods:\n  - type: meta\n    course: NOPE\n")}
	fsys["specs/p2.yaml"] = &fstest.MapFile{Data: []byte("policy: p2\ncourses:\n  shortname: C1*\nmanual:\n  role: editingteacher\n")}
	set := Load(fsys, "specs", Options{Location: paris})
	type result struct {
		Courses []state.Course
		DS      Diagnostics
		N       int
		CheckDS Diagnostics
	}
	run := func(procs int) result {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var r result
		r.Courses, r.DS = Resolve(set, cat)
		r.N, r.CheckDS = Check(set, cat)
		return r
	}
	one := run(1)
	if len(one.Courses) != 300 || one.N != 300 || len(one.DS) < 60 {
		t.Fatalf("fixture: %d courses (%d checked), %d diagnostics", len(one.Courses), one.N, len(one.DS))
	}
	for _, procs := range []int{2, 4, 7} {
		if diff := cmp.Diff(one, run(procs)); diff != "" {
			t.Errorf("GOMAXPROCS %d: (-one +many)\n%s", procs, diff)
		}
	}
}
