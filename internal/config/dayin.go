package config

import "time"

// dayStart is the first instant of the day y-m-d in loc. time.Date is not that where
// a time change falls at midnight: in America/Santiago, 2026-09-06 00:00 does not
// exist (clocks go from 23:59:59 to 01:00) and time.Date gives 23:00 the day before,
// so a freeze window lost an hour at each end. Where midnight happens twice, the
// first one is the start. The result is exact to the minute, which every zone's
// changes are.
func dayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	want := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	local := func(t time.Time) time.Time {
		ly, lm, ld := t.In(loc).Date()
		return time.Date(ly, lm, ld, 0, 0, 0, 0, time.UTC)
	}
	for i := 0; i < 24*60 && local(t).Before(want); i++ {
		t = t.Add(time.Minute) // a day before: step into the day
	}
	for i := 0; i < 24*60 && local(t.Add(-time.Minute)).Equal(want); i++ {
		t = t.Add(-time.Minute) // the day began earlier (a midnight twice)
	}
	return t
}
