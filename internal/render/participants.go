package render

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

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

// UserInfo is what the site says about a participant besides their enrolments.
type UserInfo struct {
	Firstname, Lastname, Email, IDNumber string
	// LastCourseAccess is the user's last access to the course (unix seconds, 0 never).
	LastCourseAccess int64
}

// Enrolment is one of a participant's enrolments, with its status.
type Enrolment struct {
	Method string        `json:"method"`
	Status Participation `json:"status"`
	Start  string        `json:"start"`
	End    string        `json:"end"`
}

// Participant is one row of Moodle's Participants page: one user of the course.
type Participant struct {
	Fullname   string      `json:"fullname"`
	Username   string      `json:"username"`
	IDNumber   string      `json:"idnumber"`
	Email      string      `json:"email"`
	Roles      []string    `json:"roles"`
	Groups     []string    `json:"groups"`
	Enrolments []Enrolment `json:"enrolments"`
	// Status is Active when any enrolment is active (the user can enter the course),
	// Suspended when every enrolment is suspended, Not current otherwise.
	Status     Participation `json:"status"`
	LastAccess string        `json:"last_access"` // "never" or a time in the site's zone
	// End is when access ends: the latest end of the enrolments that give access now
	// (of all of them when none does); never when one of them has no end.
	End string `json:"end"`
}

// Filter selects participants; empty fields select all.
type Filter struct {
	Role   string
	Status string // active, suspended, not-current
	Method string // a method type (cohort) or key (cohort:IFSI-2026:student)
	Group  string
}

// ParticipantsOf builds the participants of a course, sorted by username, keeping
// those the filter selects.
func ParticipantsOf(c state.Course, users map[string]UserInfo, f Filter, now time.Time, loc *time.Location) []Participant {
	enabled := map[string]bool{}
	for _, m := range c.Methods {
		enabled[m.Key()] = m.Enabled
	}
	groups := map[string][]string{}
	for _, g := range c.Groups {
		for _, m := range g.Members {
			if !slices.Contains(groups[m.Username], g.Name) {
				groups[m.Username] = append(groups[m.Username], g.Name)
			}
		}
	}
	byUser := map[string][]state.Enrolment{}
	for _, e := range c.Enrolments {
		byUser[e.Username] = append(byUser[e.Username], e)
	}
	var out []Participant
	for _, name := range slices.Sorted(maps.Keys(byUser)) {
		es := byUser[name]
		slices.SortFunc(es, func(a, b state.Enrolment) int { return strings.Compare(a.Method, b.Method) })
		info := users[name]
		p := Participant{
			Fullname: strings.TrimSpace(info.Firstname + " " + info.Lastname), Username: name,
			IDNumber: info.IDNumber, Email: info.Email, Groups: groups[name], LastAccess: "never",
		}
		if p.Groups == nil {
			p.Groups = []string{}
		}
		slices.Sort(p.Groups)
		if info.LastCourseAccess > 0 {
			p.LastAccess = time.Unix(info.LastCourseAccess, 0).In(loc).Format("2006-01-02 15:04")
		}
		var roles []string
		counts := map[Participation]int{}
		for _, e := range es {
			st := Status(e, enabled[e.Method], now)
			counts[st]++
			roles = append(roles, e.Roles...)
			p.Enrolments = append(p.Enrolments, Enrolment{Method: e.Method, Status: st,
				Start: state.FormatStart(e.Start, loc), End: state.FormatEnd(e.End, loc)})
		}
		slices.Sort(roles)
		p.Roles = slices.Compact(roles)
		if p.Roles == nil {
			p.Roles = []string{}
		}
		switch {
		case counts[Active] > 0:
			p.Status = Active
		case counts[Suspended] == len(es):
			p.Status = Suspended
		default:
			p.Status = NotCurrent
		}
		p.End = state.FormatEnd(accessEnd(es, enabled, now), loc)
		if f.selects(p, es) {
			out = append(out, p)
		}
	}
	return out
}

// accessEnd is the latest end among the enrolments that give access now, or among all
// when none does; 0 (never) when one of those has no end.
func accessEnd(es []state.Enrolment, enabled map[string]bool, now time.Time) int64 {
	pool := slices.DeleteFunc(slices.Clone(es), func(e state.Enrolment) bool { return Status(e, enabled[e.Method], now) != Active })
	if len(pool) == 0 {
		pool = es
	}
	var end int64
	for _, e := range pool {
		if e.End == 0 {
			return 0
		}
		end = max(end, e.End)
	}
	return end
}

func (f Filter) selects(p Participant, es []state.Enrolment) bool {
	if f.Role != "" && !slices.Contains(p.Roles, f.Role) {
		return false
	}
	if f.Status != "" && !strings.EqualFold(strings.ReplaceAll(string(p.Status), " ", "-"), f.Status) {
		return false
	}
	if f.Group != "" && !slices.Contains(p.Groups, f.Group) {
		return false
	}
	if f.Method != "" && !slices.ContainsFunc(es, func(e state.Enrolment) bool {
		return e.Method == f.Method || strings.HasPrefix(e.Method, f.Method+":")
	}) {
		return false
	}
	return true
}

// ParticipantStatuses are the values Filter.Status takes.
var ParticipantStatuses = []string{"active", "suspended", "not-current"}

// ParticipantsText writes participants as a table, one line per user, with a count.
func ParticipantsText(w io.Writer, course string, ps []Participant) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "NAME\tUSERNAME\tID NUMBER\tEMAIL\tROLES\tGROUPS\tMETHODS\tSTATUS\tLAST ACCESS\tEND\n")
	counts := map[Participation]int{}
	for _, p := range ps {
		counts[p.Status]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(p.Fullname), p.Username, orDash(p.IDNumber),
			orDash(p.Email), orDash(strings.Join(p.Roles, ", ")), orDash(strings.Join(p.Groups, ", ")),
			methodsText(p.Enrolments), p.Status, p.LastAccess, p.End)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\ncourse %s: %d participants: %d active, %d suspended, %d not current.\n",
		course, len(ps), counts[Active], counts[Suspended], counts[NotCurrent])
	return err
}

// methodsText lists a participant's methods with their status: "manual (Active), cohort:X:student (Suspended)".
func methodsText(es []Enrolment) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = fmt.Sprintf("%s (%s)", e.Method, e.Status)
	}
	return strings.Join(parts, ", ")
}

// ParticipantsJSON writes participants as a JSON list, one object per user.
func ParticipantsJSON(w io.Writer, ps []Participant) error {
	if ps == nil {
		ps = []Participant{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(ps)
}

// ParticipantsCSV writes participants as CSV with a header, lists joined by "; ".
func ParticipantsCSV(w io.Writer, ps []Participant) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"fullname", "username", "idnumber", "email", "roles", "groups", "methods", "status", "last_access", "end"})
	for _, p := range ps {
		row := []string{p.Fullname, p.Username, p.IDNumber, p.Email, strings.Join(p.Roles, "; "),
			strings.Join(p.Groups, "; "), strings.ReplaceAll(methodsText(p.Enrolments), ", ", "; "), string(p.Status), p.LastAccess, p.End}
		for i := range row {
			row[i] = csvCell(row[i])
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// csvCell keeps a cell from being read as a formula by a spreadsheet (OWASP CSV
// injection): a cell starting with = + - @, a tab or a carriage return gets a leading
// single quote, which spreadsheets show as text. A lone "-" (no value) is no formula.
func csvCell(s string) string {
	if s == "" || s == "-" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	return "'" + s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
