package state

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Plans show a start or end at a midnight of the site zone as a day; ends are
// exclusive, so an end is shown as the day before its midnight.
func TestFormatDates(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	midnightParis := time.Date(2027, 7, 1, 0, 0, 0, 0, paris).Unix()
	afternoon := time.Date(2027, 6, 30, 14, 30, 0, 0, paris).Unix()
	tests := []struct {
		name       string
		unix       int64
		loc        *time.Location
		start, end string
	}{
		{"zero", 0, paris, "none", "never"},
		{"local midnight", midnightParis, paris, "2027-07-01", "2027-06-30"},
		{"local midnight seen in UTC", midnightParis, nil, "2027-06-30T22:00:00Z", "2027-06-30T22:00:00Z"},
		{"UTC midnight", time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC).Unix(), nil, "2027-07-01", "2027-06-30"},
		{"not midnight", afternoon, paris, "2027-06-30T14:30:00+02:00", "2027-06-30T14:30:00+02:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []string{FormatStart(tt.unix, tt.loc), FormatEnd(tt.unix, tt.loc)}
			if diff := cmp.Diff([]string{tt.start, tt.end}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

}
