package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// ExplainFormatVersion is the version of `enrolctl explain -o json` (docs/cli.md):
// bumped on any change an older reader could misread.
const ExplainFormatVersion = "1"

// Explanation answers "why does this user have access, and what will the specs do
// about it": every live enrolment of one user with the spec line that owns it, and
// the plan's changes and drift about that user.
type Explanation struct {
	FormatVersion string `json:"format_version"`
	// Site is the configured site's name (sandbox for the sandbox); Where says it for
	// people ("site dev (https://...)", "the sandbox Moodle").
	Site  string `json:"site"`
	Where string `json:"-"`
	User  string `json:"user"`
	// Course is the one course asked about, "" for every course of the site.
	Course   string `json:"course,omitempty"`
	Timezone string `json:"timezone"`
	// Enrolments are the user's live enrolments, by course then method.
	Enrolments []ExplainedEnrolment `json:"enrolments"`
	// Changes are the plan's changes and drift about the user, worded as the plan
	// words them; SpecErrors is set when the specs have errors, and no change is known.
	Changes    []ExplainedChange `json:"changes"`
	SpecErrors int               `json:"spec_errors,omitempty"`
}

// ExplainedEnrolment is one live enrolment of the user.
type ExplainedEnrolment struct {
	Course string `json:"course"`
	// Method is the method's key as plans show it (manual, cohort:L1-INFO-2026:student).
	Method string `json:"method"`
	Kind   string `json:"kind"` // the method's plugin: manual, cohort, meta, ...
	// Status is Moodle's participation status of the enrolment: active, suspended or
	// not current (not started, ended, or its method disabled).
	Status string   `json:"status"`
	Start  string   `json:"start"` // as plans show dates: "none", a day, or a timestamp
	End    string   `json:"end"`   // "never", the last day (ends are exclusive), or a timestamp
	Roles  []string `json:"roles"`
	Groups []string `json:"groups"`
	// Owner is the spec or policy line (file:line:col) that declares the enrolment, or
	// the method that makes it; "" when no spec manages it.
	Owner string `json:"owner"`
}

// ExplainedChange is one change or drift about the user, as the plan's text line.
type ExplainedChange struct {
	Course  string `json:"course"`
	Address string `json:"address"`
	// Action is the change's action (create, update, delete), or "drift" for an object
	// made by hand that the plan names and leaves alone.
	Action string `json:"action"`
	Text   string `json:"text"`
}

// ExplainedEnrolmentOf describes a live enrolment of a course: its status computed as
// Moodle's Participants page does, dates as plans show them, the user's groups there.
func ExplainedEnrolmentOf(c state.Course, e state.Enrolment, owner state.Source, now time.Time, loc *time.Location) ExplainedEnrolment {
	m, _ := c.Method(e.Method)
	var groups []string
	for _, g := range c.Groups {
		for _, mem := range g.Members {
			if mem.Username == e.Username {
				groups = append(groups, g.Name)
				break
			}
		}
	}
	return ExplainedEnrolment{Course: c.Shortname, Method: e.Method, Kind: string(m.Type),
		Status: strings.ToLower(string(Status(e, m.Enabled, now))),
		Start:  state.FormatStart(e.Start, loc), End: state.FormatEnd(e.End, loc),
		Roles: orEmpty(e.Roles), Groups: orEmpty(groups), Owner: diag.Pos(owner).String()}
}

// ExplainedChanges words the plan's changes and drift, every one on its line as the
// expanded text plan shows it (plan --expand): "~ enrolment manual/u  end: a → b".
func ExplainedChanges(p diff.Plan) []ExplainedChange {
	loc := location(p)
	out := []ExplainedChange{}
	for _, c := range p.Changes {
		l := lineOf(c, loc)
		out = append(out, ExplainedChange{Course: c.Course, Address: c.Address, Action: string(c.Action),
			Text: l.Symbol + " " + withReason(l.text(), l.Reason)})
	}
	for _, d := range p.Drift {
		out = append(out, ExplainedChange{Course: d.Course, Address: d.Address, Action: "drift",
			Text: driftSymbol + " " + driftName(d) + "  # " + driftText(d, loc)})
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ExplainJSON writes the explanation as its versioned JSON document.
func ExplainJSON(w io.Writer, x Explanation) error {
	x.FormatVersion = ExplainFormatVersion
	if x.Enrolments == nil {
		x.Enrolments = []ExplainedEnrolment{}
	}
	if x.Changes == nil {
		x.Changes = []ExplainedChange{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(x)
}

// notManaged is what explain says of an enrolment no spec or policy declares.
const notManaged = "not managed by any spec"

// ExplainText writes the explanation for people: the enrolments course by course,
// each with its owner, then what the specs would change for the user.
func ExplainText(w io.Writer, x Explanation) error {
	var b strings.Builder
	where := "on " + x.Where
	if x.Course != "" {
		where = "in course " + x.Course + " " + where
	}
	courses := map[string]bool{}
	for _, e := range x.Enrolments {
		courses[e.Course] = true
	}
	if len(x.Enrolments) == 0 {
		fmt.Fprintf(&b, "User %s has no enrolment %s.\n", x.User, where)
	} else {
		if x.Course == "" {
			where = "in " + plural(len(courses), "course", "courses") + " " + where
		}
		fmt.Fprintf(&b, "User %s has %s %s (dates in %s).\n", x.User, plural(len(x.Enrolments), "enrolment", "enrolments"), where, x.Timezone)
	}
	course := ""
	for _, e := range x.Enrolments {
		if e.Course != course {
			course = e.Course
			b.WriteString("\ncourse " + course + "\n")
		}
		fmt.Fprintf(&b, "  %s  %s, start %s, end %s, roles %s, groups %s\n", e.Method, e.Status, e.Start, e.End,
			listOrNone(e.Roles), listOrNone(e.Groups))
		if e.Owner != "" {
			b.WriteString("    owned by " + e.Owner + "\n")
		} else {
			b.WriteString("    " + notManaged + "\n")
		}
	}
	b.WriteString("\n")
	switch {
	case x.SpecErrors > 0:
		fmt.Fprintf(&b, "What the specs would change is unknown: they have %s (enrolctl validate, enrolctl plan).\n", plural(x.SpecErrors, "error", "errors"))
	case len(x.Changes) == 0:
		fmt.Fprintf(&b, "The specs change nothing for %s.\n", x.User)
	default:
		fmt.Fprintf(&b, "What the specs would change for %s (enrolctl plan shows every change):\n", x.User)
		course = ""
		for _, c := range x.Changes {
			if c.Course != course {
				course = c.Course
				b.WriteString("  course " + course + "\n")
			}
			b.WriteString("    " + c.Text + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}
