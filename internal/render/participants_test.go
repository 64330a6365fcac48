package render

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrolctl/enrolctl/internal/state"
)

func TestStatus(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour).Unix(), now.Add(time.Hour).Unix()
	tests := []struct {
		name    string
		e       state.Enrolment
		enabled bool
		want    Participation
	}{
		{"plain", state.Enrolment{}, true, Active},
		{"ends later", state.Enrolment{End: future}, true, Active},
		{"suspended beats everything", state.Enrolment{Suspended: true, End: past}, false, Suspended},
		{"ended", state.Enrolment{End: past}, true, NotCurrent},
		{"not started", state.Enrolment{Start: future}, true, NotCurrent},
		{"method disabled", state.Enrolment{}, false, NotCurrent},
	}
	for _, tt := range tests {
		if got := Status(tt.e, tt.enabled, now); got != tt.want {
			t.Errorf("%s: Status = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestParticipants(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	day := func(m time.Month, d int) int64 { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC).Unix() }
	c := state.Course{Shortname: "L1-INFO-ALGO",
		Methods: []state.Method{{Type: state.Manual, Enabled: true}, {Type: state.Database, Enabled: true},
			{Type: state.Cohort, Cohort: "C", Role: "student"}},
		Enrolments: []state.Enrolment{
			{Username: "b", Method: "manual", Roles: []string{"student"}, End: day(7, 1)},
			{Username: "a", Method: "database", Roles: []string{"student"}, End: day(12, 1)},
			{Username: "a", Method: "manual", Roles: []string{"editingteacher"}, Suspended: true},
			{Username: "c", Method: "manual", Roles: []string{"student"}, Suspended: true},
			{Username: "d", Method: "cohort:C:student", Roles: []string{"student"}},
		},
		Groups: []state.Group{{Name: "Promo 2026", Members: []state.Member{{Username: "a"}, {Username: "d", Component: "enrol_cohort"}}}},
	}
	users := map[string]UserInfo{"a": {Firstname: "Ann", Lastname: "Lee", Email: "a@x.fr", IDNumber: "42", LastCourseAccess: now.Add(-time.Hour).Unix()}}
	all := ParticipantsOf(c, users, Filter{}, now, time.UTC)
	var b strings.Builder
	if err := ParticipantsText(&b, c.Shortname, all); err != nil {
		t.Fatal(err)
	}
	want := `NAME     USERNAME  ID NUMBER  EMAIL   ROLES                    GROUPS      METHODS                                STATUS       LAST ACCESS       END
Ann Lee  a         42         a@x.fr  editingteacher, student  Promo 2026  database (Active), manual (Suspended)  Active       2026-11-23 11:00  2026-11-30
-        b         -          -       student                  -           manual (Not current)                   Not current  never             2026-06-30
-        c         -          -       student                  -           manual (Suspended)                     Suspended    never             never
-        d         -          -       student                  Promo 2026  cohort:C:student (Not current)         Not current  never             never

course L1-INFO-ALGO: 4 participants: 1 active, 1 suspended, 2 not current.
`
	if got := b.String(); got != want {
		t.Errorf("ParticipantsText:\n%s\nwant:\n%s", got, want)
	}
	for _, tt := range []struct {
		f    Filter
		want []string
	}{
		{Filter{Role: "editingteacher"}, []string{"a"}},
		{Filter{Status: "not-current"}, []string{"b", "d"}},
		{Filter{Status: "suspended"}, []string{"c"}},
		{Filter{Method: "cohort"}, []string{"d"}},
		{Filter{Method: "manual", Group: "Promo 2026"}, []string{"a"}},
		{Filter{Group: "TP1"}, nil},
	} {
		var got []string
		for _, p := range ParticipantsOf(c, users, tt.f, now, time.UTC) {
			got = append(got, p.Username)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("filter %+v selects %v, want %v", tt.f, got, tt.want)
		}
	}
	var j strings.Builder
	if err := ParticipantsJSON(&j, all[:1]); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"fullname": "Ann Lee"`, `"idnumber": "42"`, `"email": "a@x.fr"`, `"last_access": "2026-11-23 11:00"`, `"status": "Suspended"`, `"groups": [`} {
		if !strings.Contains(j.String(), field) {
			t.Errorf("JSON lacks %s:\n%s", field, j.String())
		}
	}
	var cs strings.Builder
	if err := ParticipantsCSV(&cs, all[:1]); err != nil {
		t.Fatal(err)
	}
	if want := "Ann Lee,a,42,a@x.fr,editingteacher; student,Promo 2026,database (Active); manual (Suspended),Active,2026-11-23 11:00,2026-11-30\n"; !strings.HasSuffix(cs.String(), want) {
		t.Errorf("CSV:\n%s\nwant last line %s", cs.String(), want)
	}
}

// OWASP CSV injection: what a spreadsheet would run is written as text.
func TestCSVCellFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0", "+1": "'+1", "-2+3": "'-2+3", "@SUM(A1)": "'@SUM(A1)",
		"\tx": "'\tx", "\rx": "'\rx", "-": "-", "": "", "Ann Lee": "Ann Lee", "a=b": "a=b",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}
