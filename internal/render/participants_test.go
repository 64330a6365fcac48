package render

import (
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
	c := state.Course{Shortname: "L1-INFO-ALGO",
		Methods: []state.Method{{Type: state.Manual, Enabled: true}, {Type: state.Database, Enabled: true}},
		Enrolments: []state.Enrolment{
			{Username: "b", Method: "manual", Roles: []string{"student"}, End: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC).Unix()},
			{Username: "a", Method: "database", Roles: []string{"student"}},
			{Username: "a", Method: "manual", Roles: []string{"student"}, Suspended: true},
		},
		Groups: []state.Group{{Name: "TP1", Members: []state.Member{{Username: "a"}}}},
	}
	var b strings.Builder
	if err := Participants(&b, c, now, time.UTC); err != nil {
		t.Fatal(err)
	}
	want := `USERNAME  ROLES    GROUPS  METHOD    STATUS       START  END
a         student  TP1     database  Active       none   never
a         student  TP1     manual    Suspended    none   never
b         student  -       manual    Not current  none   2026-06-30

course L1-INFO-ALGO: 3 enrolments: 1 active, 1 suspended, 1 not current.
`
	if got := b.String(); got != want {
		t.Errorf("Participants:\n%s\nwant:\n%s", got, want)
	}
}
