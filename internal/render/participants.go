package render

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// Participation is Moodle's participation status of one enrolment, as the Participants
// page shows it.
type Participation string

const (
	Active     Participation = "Active"
	Suspended  Participation = "Suspended"
	NotCurrent Participation = "Not current"
)

// Status computes an enrolment's participation status the way Moodle's Participants
// page does (user/classes/table/participants.php, col_status): suspended rows are
// Suspended; active rows that have not started, have ended, or belong to a disabled
// method are Not current; the rest are Active.
func Status(e state.Enrolment, methodEnabled bool, now time.Time) Participation {
	switch {
	case e.Suspended:
		return Suspended
	case e.Start > now.Unix(), e.End > 0 && e.End < now.Unix(), !methodEnabled:
		return NotCurrent
	}
	return Active
}

// Participants writes a course's participants like Moodle's Participants page: one line
// per enrolment with roles, groups, method, status and dates, sorted by username.
func Participants(w io.Writer, c state.Course, now time.Time, loc *time.Location) error {
	enabled := map[string]bool{}
	for _, m := range c.Methods {
		enabled[m.Key()] = m.Enabled
	}
	groups := map[string][]string{}
	for _, g := range c.Groups {
		for _, m := range g.Members {
			groups[m.Username] = append(groups[m.Username], g.Name)
		}
	}
	rows := slices.Clone(c.Enrolments)
	slices.SortFunc(rows, func(a, b state.Enrolment) int {
		if d := strings.Compare(a.Username, b.Username); d != 0 {
			return d
		}
		return strings.Compare(a.Method, b.Method)
	})
	counts := map[Participation]int{}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "USERNAME\tROLES\tGROUPS\tMETHOD\tSTATUS\tSTART\tEND\n")
	for _, e := range rows {
		st := Status(e, enabled[e.Method], now)
		counts[st]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Username, orDash(strings.Join(e.Roles, ", ")),
			orDash(strings.Join(groups[e.Username], ", ")), e.Method, st, diff.FormatStart(e.Start, loc), diff.FormatEnd(e.End, loc))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\ncourse %s: %d enrolments: %d active, %d suspended, %d not current.\n",
		c.Shortname, len(rows), counts[Active], counts[Suspended], counts[NotCurrent])
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
