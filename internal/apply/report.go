package apply

import (
	"encoding/json"
	"io"

	"github.com/enrolctl/enrolctl/internal/diag"
)

// ReportFormat is the version of the apply report document (docs/apply.md, "The apply
// report"). Bump it on any change an older reader could misread.
const ReportFormat = "1"

// Status is how an apply ended. The set is closed.
type Status string

const (
	StatusCompleted   Status = "completed"   // every change applied
	StatusNoChanges   Status = "no-changes"  // nothing to apply
	StatusIncomplete  Status = "incomplete"  // some changes failed, are unknown or were not attempted
	StatusInterrupted Status = "interrupted" // stopped by a signal or a lost lease
	StatusRefused     Status = "refused"     // a guard refused the plan; nothing was written
	StatusFailed      Status = "failed"      // apply could not run (the site, the specs, the audit log)
)

// Report is the apply report document, what `apply -o json` prints: per course, the
// outcome of each change, and the diagnostics (refusals, failures, warnings).
type Report struct {
	FormatVersion string `json:"format_version"`
	Status        Status `json:"status"`
	Site          string `json:"site,omitempty"`
	// Plan is the saved plan file applied; "" when apply planned itself.
	Plan     string          `json:"plan,omitempty"`
	Summary  Summary         `json:"summary"`
	Courses  []CourseOutcome `json:"courses"`
	AuditLog string          `json:"audit_log,omitempty"`
	// Diagnostics are never null, so that readers can iterate without a check.
	Diagnostics diag.Diagnostics `json:"diagnostics"`
}

// Summary counts the changes by outcome.
type Summary struct {
	Applied      int `json:"applied"`
	Failed       int `json:"failed"`
	Unknown      int `json:"unknown"`
	NotAttempted int `json:"not_attempted"`
}

// CourseOutcome is one course's part of the report, its changes in plan order.
type CourseOutcome struct {
	Course  string         `json:"course"`
	Summary Summary        `json:"summary"`
	Changes []ChangeResult `json:"changes"`
}

// NewReport builds the report of a run that ended with status and res.
func NewReport(status Status, res Result, ds diag.Diagnostics) Report {
	r := Report{FormatVersion: ReportFormat, Status: status, Courses: []CourseOutcome{}, Diagnostics: ds}
	if r.Diagnostics == nil {
		r.Diagnostics = diag.Diagnostics{}
	}
	index := map[string]int{}
	for _, c := range res.Changes {
		i, ok := index[c.Course]
		if !ok {
			i = len(r.Courses)
			index[c.Course] = i
			r.Courses = append(r.Courses, CourseOutcome{Course: c.Course})
		}
		co := &r.Courses[i]
		co.Changes = append(co.Changes, c)
		co.Summary.add(c.Outcome)
		r.Summary.add(c.Outcome)
	}
	return r
}

func (s *Summary) add(o Outcome) {
	switch o {
	case Applied:
		s.Applied++
	case Failed:
		s.Failed++
	case Unknown:
		s.Unknown++
	default:
		s.NotAttempted++
	}
}

// StatusOf is the status of a run that returned res.
func StatusOf(res Result) Status {
	switch {
	case res.Interrupted:
		return StatusInterrupted
	case len(res.Changes) == 0:
		return StatusNoChanges
	case res.OK():
		return StatusCompleted
	}
	return StatusIncomplete
}

// Encode writes the report as indented JSON.
func (r Report) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
