package tree

import (
	"errors"
	"fmt"
	"time"
)

// MinYear is the first year a spec date may be in. Earlier years are mistakes, and
// 1970-01-01T00:00:00Z would become timestamp 0, which Moodle reads as "no date".
const MinYear = 2000

// ErrNotADay is CheckDay's answer for a date the calendar does not have (2027-02-30).
var ErrNotADay = errors.New("not a day of the calendar")

// CheckDay is the one validation of a calendar day, shared by YAML dates, HCL's
// date(year, month, day) and RFC 3339 timestamps: the day must exist (no
// normalising 2027-02-30 into March) and fall in MinYear..9999.
func CheckDay(year int, month time.Month, day int) error {
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return ErrNotADay
	}
	if year < MinYear {
		return fmt.Errorf("before %d: spec dates are in %d or later", MinYear, MinYear)
	}
	if year > 9999 {
		return fmt.Errorf("after 9999")
	}
	return nil
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
