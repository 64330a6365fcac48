package apply

import (
	"github.com/enrolctl/enrolctl/internal/diag"
	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/state"
)

// Apply reports through diag.Diagnostic, the type plan and the spec checks use: each
// refusal is a typed error (kept so that callers can tell them apart; render.Refused
// words StaleError and RemovalError, one diagnostic per course at fault), and
// FailureDiagnostics turns the changes that did not land into one diagnostic each,
// naming the course, the user and Moodle's errorcode.

// Diagnostics gives each problem of the file.
func (e *InvalidPlanError) Diagnostics() diag.Diagnostics {
	ds := make(diag.Diagnostics, len(e.Problems))
	for i, p := range e.Problems {
		ds[i] = diag.Errorf(diag.Pos{}, "not a valid enrolctl plan, nothing was applied: %s", p)
	}
	return ds
}

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

// FailureDiagnostics is one error diagnostic for each change of res that failed or
// whose outcome is unknown, at the spec line that declared it when the plan knows it
// (res.Changes are in p's order). Changes not attempted are counted per course by the
// report, not diagnosed: their course's failure is.
func FailureDiagnostics(p diff.Plan, res Result) diag.Diagnostics {
	var ds diag.Diagnostics
	for i, r := range res.Changes {
		if r.Outcome != Failed && r.Outcome != Unknown {
			continue
		}
		var at diag.Pos
		if i < len(p.Changes) && p.Changes[i].Address == r.Address {
			at = diag.ParsePos(string(changeSource(p.Changes[i])))
		}
		who := "course " + r.Course
		if r.User != "" {
			who += ", user " + r.User
		}
		code := r.ErrorCode
		if code == "" {
			code = "none"
		}
		if r.Outcome == Failed {
			ds = append(ds, diag.Errorf(at, "%s: %s %s failed (Moodle errorcode %s): %s", who, r.Action, r.Address, code, r.Error))
		} else {
			ds = append(ds, diag.Errorf(at, "%s: %s %s: outcome unknown (errorcode %s): %s; run plan to see whether it landed", who, r.Action, r.Address, code, r.Error))
		}
	}
	return ds
}

// changeSource is where the change's object was declared; "" for observed objects
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
	return ""
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
