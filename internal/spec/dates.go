package spec

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/state"
	"github.com/enrolctl/enrolctl/internal/tree"
)

// date is a start or end date as written in a spec, turned into a timestamp.
type date struct {
	// Unix is 0 only for until: never (dates before tree.MinYear are refused, so no
	// date written in a spec becomes timestamp 0, which Moodle reads as "no date").
	Unix int64
	Set  bool
	Pos  diag.Pos
	Text string
}

var (
	// dayFirstPattern is a day written the European way: 31/08/2027, 31.08.2027, 31-08-2027.
	dayFirstPattern = regexp.MustCompile(`^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$`)
	dayPattern      = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})$`)
	shortDayPattern = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	durationPattern = regexp.MustCompile(`^\+?\s*\d+\s*(s|m|h|d|w|y|mo|day|days|week|weeks|month|months|year|years)?$`)
)

// parseDay parses YYYY-MM-DD as that day's midnight in loc, with the check of a day
// HCL's date() shares (tree.CheckDay): 2027-02-30 and days before 2000 are refused.
func parseDay(s string, loc *time.Location) (time.Time, error) {
	m := dayPattern.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("not a day (YYYY-MM-DD)")
	}
	year, _ := strconv.Atoi(m[1])
	month, _ := strconv.Atoi(m[2])
	day, _ := strconv.Atoi(m[3])
	if err := tree.CheckDay(year, time.Month(month), day); err != nil {
		return time.Time{}, err
	}
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, loc), nil
}

// suggestDay proposes the YYYY-MM-DD form of a day written day first (31/08/2027 →
// 2027-08-31), the way the universities enrolctl serves write dates; "" when s is not
// such a day or not a day of the calendar.
func suggestDay(s string, loc *time.Location) string {
	var year string
	var month, day int
	if m := dayFirstPattern.FindStringSubmatch(s); m != nil {
		day, _ = strconv.Atoi(m[1])
		month, _ = strconv.Atoi(m[2])
		year = m[3]
	} else if m := shortDayPattern.FindStringSubmatch(s); m != nil {
		// 2027-6-30: the day meant, with its leading zeros.
		year = m[1]
		month, _ = strconv.Atoi(m[2])
		day, _ = strconv.Atoi(m[3])
	} else {
		return ""
	}
	iso := fmt.Sprintf("%s-%02d-%02d", year, month, day)
	if _, err := parseDay(iso, loc); err != nil {
		return ""
	}
	return iso
}

// readDate turns a spec value into a timestamp. A day means the whole day in the site's
// time zone: as a start it is that day's midnight, as an end (isEnd) the following
// midnight. RFC 3339 timestamps are taken as is; "never" is no end date. Durations are
// refused: a plan must not depend on the day it is made.
func readDate(s tree.Str, field string, isEnd bool, loc *time.Location, ds *diag.Diagnostics) date {
	if !s.Set {
		return date{Pos: s.Pos}
	}
	d := date{Set: true, Pos: s.Pos, Text: s.V}
	switch {
	case s.V == "never" && isEnd:
		return d
	case s.V == "never" || s.V == "none":
		*ds = append(*ds, diag.Errorf(s.Pos, "%s: %q only applies to until (no end date); leave %s out for no start date", field, s.V, field))
	case dayPattern.MatchString(s.V):
		t, err := parseDay(s.V, loc)
		if err != nil {
			*ds = append(*ds, diag.Errorf(s.Pos, "%s: bad date %q: %v%s", field, s.V, err, dayFormat(err)))
			return date{Pos: s.Pos}
		}
		if isEnd {
			t = state.DayEnd(t)
		}
		d.Unix = t.Unix()
		return d
	case durationPattern.MatchString(s.V):
		*ds = append(*ds, diag.Errorf(s.Pos, "%s: %q is a duration; specs take dates (YYYY-MM-DD, an RFC 3339 timestamp or never) so that a plan does not change from one day to the next (enrolctl import csv turns enrolment periods into dates)", field, s.V))
	default:
		t, err := time.Parse(time.RFC3339, s.V)
		if err != nil {
			sug := suggestDay(s.V, loc)
			if isEnd && strings.EqualFold(s.V, "never") {
				sug = "never" // Never, NEVER: the word is lower case
			}
			*ds = append(*ds, diag.Errorf(s.Pos, "%s: bad date %q: use YYYY-MM-DD, an RFC 3339 timestamp (2027-06-30T18:00:00+02:00)%s", field, s.V, orNever(isEnd)).
				WithSuggestion(sug))
			return date{Pos: s.Pos}
		}
		if err := tree.CheckDay(t.Year(), t.Month(), t.Day()); err != nil {
			*ds = append(*ds, diag.Errorf(s.Pos, "%s: bad date %q: %v", field, s.V, err))
			return date{Pos: s.Pos}
		}
		d.Unix = t.Unix()
		return d
	}
	return date{Pos: s.Pos}
}

// dayFormat reminds the format when a day does not exist (a typo in a digit).
func dayFormat(err error) string {
	if errors.Is(err, tree.ErrNotADay) {
		return " (YYYY-MM-DD)"
	}
	return ""
}

func orNever(isEnd bool) string {
	if isEnd {
		return " or never"
	}
	return ""
}

// String shows the date as written, for conflict messages.
func (d date) String() string {
	if !d.Set {
		return "(none)"
	}
	return fmt.Sprintf("%q", d.Text)
}
