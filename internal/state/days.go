package state

import "time"

// End dates are exclusive: a spec's `until: 2027-06-30` is the whole of that day in the
// site's zone, kept (as Moodle's timeend) as the next midnight, 2027-07-01T00:00 there.
// DayEnd, LastDay and FormatEnd are that rule's one home: specs and the configuration
// read days with DayEnd; plans, the audit record and imports show them with FormatStart
// and FormatEnd (LastDay).

// DayEnd is the exclusive end of t's day in t's zone: the next midnight.
func DayEnd(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, t.Location())
}

// LastDay is the day an end closes when it is a midnight in loc (ok), the day before
// that midnight; otherwise the instant itself, in loc.
func LastDay(end int64, loc *time.Location) (time.Time, bool) {
	t := time.Unix(end, 0).In(loc)
	if IsMidnight(t) {
		return t.AddDate(0, 0, -1), true
	}
	return t, false
}

// IsMidnight reports whether t is the start of a day in its zone.
func IsMidnight(t time.Time) bool {
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}

// Display values of "no date".
const (
	noStart = "none"
	noEnd   = "never"
)

// FormatStart renders an enrolment start (unix seconds) for a plan: "none" for 0, the
// date "2026-09-01" when it is midnight in loc, otherwise a full RFC 3339 timestamp in
// loc. A nil loc means UTC.
func FormatStart(unix int64, loc *time.Location) string {
	if unix == 0 {
		return noStart
	}
	t := time.Unix(unix, 0).In(orUTC(loc))
	if IsMidnight(t) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

// FormatEnd renders an enrolment end (unix seconds) for a plan: "never" for 0. End
// timestamps are exclusive (state.LastDay), so a midnight in loc is shown as the day
// before it: the spec's `until: 2027-06-30` is 2027-07-01T00:00 local, shown "2027-06-30".
// Any other instant is a full RFC 3339 timestamp in loc. A nil loc means UTC.
func FormatEnd(unix int64, loc *time.Location) string {
	if unix == 0 {
		return noEnd
	}
	if day, ok := LastDay(unix, orUTC(loc)); ok {
		return day.Format(time.DateOnly)
	}
	return time.Unix(unix, 0).In(orUTC(loc)).Format(time.RFC3339)
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
