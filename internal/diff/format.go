package diff

import (
	"time"
)

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
	if isMidnight(t) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

// FormatEnd renders an enrolment end (unix seconds) for a plan: "never" for 0. End
// timestamps are exclusive, so a midnight in loc is shown as the day before it: the spec's
// `until: 2027-06-30` is stored as 2027-07-01T00:00 local and shown as "2027-06-30".
// Any other instant is a full RFC 3339 timestamp in loc. A nil loc means UTC.
func FormatEnd(unix int64, loc *time.Location) string {
	if unix == 0 {
		return noEnd
	}
	t := time.Unix(unix, 0).In(orUTC(loc))
	if isMidnight(t) {
		return t.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

func isMidnight(t time.Time) bool {
	return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
}
