package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/enrolctl/enrolctl/internal/state"
)

// importNow is the moment the test imports run at: 2026-11-23 10:00 in Paris.
var importNow = time.Date(2026, 11, 23, 10, 0, 0, 0, paris)

func TestReadUploadUsers(t *testing.T) {
	src := "\ufeffusername,firstname,lastname,email,course1,role1,group1,enrolperiod1,enrolstatus1,course2,type2,enroltimestart2,enrolperiod2\n" +
		"DupontJ,Jean,Dupont,j@example.edu,L1-INFO-ALGO,student,TP1,365,0,L1-INFO-PROG,2,2027-01-04,30d\n" +
		"lee,Ann,Lee,a@example.edu,L1-INFO-ALGO,tutor,,,1,,,,\n" +
		"\n"
	got, ds := ReadUploadUsers("new.csv", strings.NewReader(src), importNow, paris, []string{"tutor"})
	if len(ds) != 0 {
		t.Fatal(ds)
	}
	want := []Addition{
		// 365 days from today (2026-11-23): the last day is 2027-11-22, as Moodle's
		// timeend = today's midnight + 365 days.
		{Course: "L1-INFO-ALGO", Username: "dupontj", Role: "student", Groups: []string{"TP1"}, Until: "2027-11-22", Line: 2},
		{Course: "L1-INFO-ALGO", Username: "lee", Role: "tutor", Until: "never", Suspended: true, Line: 3},
		{Course: "L1-INFO-PROG", Username: "dupontj", Role: "editingteacher", From: "2027-01-04", Until: "2027-02-02", Line: 2},
	}
	if d := cmp.Diff(want, got, ignoreCSVPlaces); d != "" {
		t.Errorf("additions (-want +got):\n%s", d)
	}
	// The until day really ends where Moodle's period would.
	end := time.Date(2027, 11, 22+1, 0, 0, 0, 0, paris)
	if moodle := time.Date(2026, 11, 23, 0, 0, 0, 0, paris).AddDate(0, 0, 365); !end.Equal(moodle) {
		t.Errorf("until day ends %v, Moodle's period %v", end, moodle)
	}
}

func TestReadUploadUsersErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"no username", "user,course1\nx,A\n", []string{"u.csv:1:1: the CSV has no username column (Moodle's upload-users format: username, firstname, lastname, email, course1, role1, group1, enrolperiod1, enrolstatus1, ...)"}},
		{"no course", "username,email\nx,y\n", []string{"u.csv:1:1: the CSV has no course1 column: nothing to enrol"}},
		{"bad values", "username,course1,role1,enrolperiod1,enrolstatus1\n" +
			"a,A,studnet,,\n" +
			"b,A,,1 year,\n" +
			"c,A,,,2\n" +
			"d e,A,,,\n" +
			"f,A,,,\n" +
			"F,A,,,\n",
			[]string{
				`u.csv:2:5: unknown role "studnet": neither a standard Moodle role nor one of the configuration's roles (did you mean "student"?)`,
				`u.csv:3:6: enrolperiod1 "1 year": use a number of days (365 or 365d)`,
				`u.csv:4:7: enrolstatus1 "2": use 0 (active) or 1 (suspended)`,
				`u.csv:5:1: username "d e" contains a space; Moodle usernames have none`,
				`u.csv:7:1: user "f" is enrolled in "A" twice (first on line 6)`,
			}},
		{"bad quoting", "username,course1\n\"a,A\n", []string{`u.csv:2:6: bad CSV: extraneous or missing " in quoted-field`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := ReadUploadUsers("u.csv", strings.NewReader(tt.src), importNow, paris, nil)
			if d := cmp.Diff(tt.want, diagStrings(ds)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestWriteAdditions imports into a YAML spec, an HCL spec and a course without a
// spec, then loads the result and checks the desired enrolments.
func TestWriteAdditions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("algo.yaml", lines(
		"# Algorithmique, L1",
		"course: L1-INFO-ALGO",
		"manual:",
		"  until: 2027-06-30",
		"  users:",
		"    - \"21009539\"",
		"    - username: lee",
		"      suspended: true",
		"      groups: [TP2]",
		"groups: [TP1, TP2]",
	))
	write("prog.hcl", lines(`course "L1-INFO-PROG" {`, `  manual {`, `    user "martinp" {}`, `  }`, `}`))
	write("web.hcl", lines(`course "L1-INFO-WEB" {`, `  manual {}`, `}`))
	set := LoadDir(dir, Options{Location: paris})
	if set.Diagnostics.HasErrors() {
		t.Fatal(set.Diagnostics)
	}
	adds := []Addition{
		{Course: "L1-INFO-ALGO", Username: "21009539", Groups: []string{"TP1"}},
		{Course: "L1-INFO-ALGO", Username: "lee", Role: "teacher", Until: "2027-11-22", Groups: []string{"TP3"}},
		{Course: "L1-INFO-ALGO", Username: "new01"},
		{Course: "L1-INFO-PROG", Username: "martinp", Role: "editingteacher", Suspended: true},
		{Course: "L1-INFO-PROG", Username: "new02", From: "2027-01-04", Until: "2027-02-02", Groups: []string{"TP A"}},
		{Course: "L2 INFO/BDD", Username: "new03", Role: "student"},
		{Course: "L1-INFO-WEB", Username: "new04"},
	}
	files, err := WriteAdditions(set, dir, adds, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{filepath.Join(dir, "L2_INFO_BDD.yaml"), filepath.Join(dir, "algo.yaml"), filepath.Join(dir, "prog.hcl"), filepath.Join(dir, "web.hcl")}
	if d := cmp.Diff(wantFiles, files); d != "" {
		t.Errorf("files (-want +got):\n%s", d)
	}
	algo, _ := os.ReadFile(filepath.Join(dir, "algo.yaml"))
	if !strings.HasPrefix(string(algo), "# Algorithmique, L1\n") {
		t.Errorf("the head comment was lost:\n%s", algo)
	}
	got, ds := Resolve(LoadDir(dir, Options{Location: paris}), nil)
	if len(ds) != 0 {
		t.Fatalf("the written specs do not load: %v", ds)
	}
	day := func(y int, m time.Month, d int) int64 { return time.Date(y, m, d, 0, 0, 0, 0, paris).Unix() }
	type enrol struct {
		Role       string
		Start, End int64
		Suspended  bool
		Groups     []string
	}
	summary := map[string]enrol{}
	for _, c := range got {
		for _, e := range c.Enrolments {
			var groups []string
			for _, g := range c.Groups {
				if slices_contains(g.Members, e.Username) {
					groups = append(groups, g.Name)
				}
			}
			summary[c.Shortname+"/"+e.Username] = enrol{e.Roles[0], e.Start, e.End, e.Suspended, groups}
		}
	}
	want := map[string]enrol{
		"L1-INFO-ALGO/21009539": {"student", 0, day(2027, 7, 1), false, []string{"TP1"}},
		"L1-INFO-ALGO/lee":      {"teacher", 0, day(2027, 11, 23), false, []string{"TP2", "TP3"}},
		"L1-INFO-ALGO/new01":    {"student", 0, day(2027, 7, 1), false, nil},
		"L1-INFO-PROG/martinp":  {"editingteacher", 0, 0, true, nil},
		"L1-INFO-PROG/new02":    {"student", day(2027, 1, 4), day(2027, 2, 3), false, []string{"TP A"}},
		"L2 INFO/BDD/new03":     {"student", 0, 0, false, nil},
		"L1-INFO-WEB/new04":     {"student", 0, 0, false, nil},
	}
	if d := cmp.Diff(want, summary); d != "" {
		t.Errorf("desired enrolments after import (-want +got):\n%s", d)
	}
	// Importing the same rows again changes nothing.
	before, _ := os.ReadFile(filepath.Join(dir, "prog.hcl"))
	if _, err := WriteAdditions(LoadDir(dir, Options{Location: paris}), dir, adds, nil); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "prog.hcl"))
	if string(before) != string(after) {
		t.Errorf("a second import changed prog.hcl:\n%s\n---\n%s", before, after)
	}
	if testing.Verbose() {
		for _, f := range files {
			b, _ := os.ReadFile(f)
			t.Logf("%s:\n%s", f, b)
		}
	}
	_ = state.Manual
}

func slices_contains(ms []state.Member, username string) bool {
	for _, m := range ms {
		if m.Username == username {
			return true
		}
	}
	return false
}

// ignoreCSVPlaces leaves out of comparisons where in the file an addition was read.
var ignoreCSVPlaces = cmpopts.IgnoreFields(Addition{}, "UserCol", "CourseCol", "Email")
