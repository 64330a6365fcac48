package apply

import (
	"cmp"
	"strings"

	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// Apply reports through diag.Diagnostic, the type plan and the spec checks use: each
// refusal is a typed error (kept so that callers can tell them apart; render.Refused
// words StaleError and RemovalError, one diagnostic per course at fault), and
// FailureDiagnostics turns the changes that did not land into diagnostics, each
// failure said once, naming the course, the user and Moodle's errorcode.

// Diagnostics gives each change the specs do not produce.
func (e *ForgedChangeError) Diagnostics() diag.Diagnostics {
	ds := make(diag.Diagnostics, len(e.Changes))
	for i, c := range e.Changes {
		ds[i] = diag.Errorf(diag.Pos{}, "a change of the plan file is not what the specs produce here against the site now, nothing was applied: %s", c)
	}
	return ds
}

// Diagnostics names the holder of the lease.
func (e *LeaseHeldError) Diagnostics() diag.Diagnostics {
	return diag.Diagnostics{diag.Errorf(diag.Pos{}, "%s", e.Error())}
}

// FailureDiagnostics gives the changes of res that failed or whose outcome is unknown
// (res.Changes are in p's order), each failure said once: the changes of a course that
// failed alike (the same outcome, errorcode and message: a database that was down, a
// role that cannot be assigned) are one diagnostic with their count, naming the first
// users; a change failing alone is one diagnostic at the spec line that declared it,
// when the plan knows it. With expand, every change is its own diagnostic. Changes not
// attempted are counted per course by the report, not diagnosed: their course's
// failure is.
func FailureDiagnostics(p diff.Plan, res Result, expand bool) diag.Diagnostics {
	type group struct {
		idx  []int
		code string
	}
	var order []string
	groups := map[string]*group{}
	for i, r := range res.Changes {
		if r.Outcome != Failed && r.Outcome != Unknown {
			continue
		}
		code := cmp.Or(r.ErrorCode, "none")
		key := strings.Join([]string{r.Course, string(r.Outcome), code, r.Error}, "\x00")
		if expand {
			key = r.Address
		}
		g := groups[key]
		if g == nil {
			g = &group{code: code}
			groups[key] = g
			order = append(order, key)
		}
		g.idx = append(g.idx, i)
	}
	var ds diag.Diagnostics
	for _, key := range order {
		g := groups[key]
		r := res.Changes[g.idx[0]]
		if len(g.idx) == 1 {
			var at diag.Pos
			if i := g.idx[0]; i < len(p.Changes) && p.Changes[i].Address == r.Address {
				at = diag.Pos(changeSource(p.Changes[i]))
			}
			who := "course " + r.Course
			if r.User != "" {
				who += ", user " + r.User
			}
			if r.Outcome == Failed {
				ds = append(ds, diag.Errorf(at, "%s: %s %s failed (Moodle errorcode %s): %s", who, r.Action, r.Address, g.code, r.Error))
			} else {
				ds = append(ds, diag.Errorf(at, "%s: %s %s: outcome unknown (errorcode %s): %s; run plan to see whether it landed", who, r.Action, r.Address, g.code, r.Error))
			}
			continue
		}
		var users []string
		for _, i := range g.idx {
			if u := res.Changes[i].User; u != "" && len(users) < 3 {
				users = append(users, u)
			}
		}
		about := ""
		if len(users) > 0 {
			about = " (users " + strings.Join(users, ", ")
			if len(g.idx) > len(users) {
				about += ", …; --expand or -o json lists them all"
			}
			about += ")"
		}
		if r.Outcome == Failed {
			ds = append(ds, diag.Errorf(diag.Pos{}, "course %s: %d changes failed%s (Moodle errorcode %s): %s", r.Course, len(g.idx), about, g.code, r.Error))
		} else {
			ds = append(ds, diag.Errorf(diag.Pos{}, "course %s: %d changes: outcome unknown%s (errorcode %s): %s; run plan to see whether they landed", r.Course, len(g.idx), about, g.code, r.Error))
		}
	}
	return ds
}

// changeSource is where the change's object was declared; none for observed objects
// (deletes) and saved plans, whose files do not carry it.
func changeSource(c diff.Change) state.Source {
	switch {
	case c.Enrolment != nil:
		return c.Enrolment.Source
	case c.Member != nil:
		return c.Member.Source
	case c.Method != nil:
		return c.Method.Source
	case c.Group != nil:
		return c.Group.Source
	}
	return state.Source{}
}

// changeUser is the user a change is about, or "" (methods and groups).
func changeUser(c diff.Change) string {
	switch {
	case c.Enrolment != nil:
		return c.Enrolment.Username
	case c.Member != nil:
		return c.Member.Username
	}
	return ""
}
