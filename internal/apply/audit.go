package apply

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
	"github.com/enrolctl/enrolctl/internal/redact"
	"github.com/enrolctl/enrolctl/internal/state"
)

// The audit trail is a JSON-lines file (docs/audit.md, docs/audit.schema.json). One
// apply writes several lines sharing a run id: a "start" line before the first write,
// one "course" line per course each time outcomes arrive, a "retry" line each time a
// write call is sent again, and an "end" line with the totals, the status the apply
// report gives and what became of the lease. Each line is one write followed by fsync,
// so that what was written to Moodle is on disk before the next write call, and a crash
// (power, kill -9, panic) leaves the start line and every course line recorded so far: a
// run without an end line was cut short. A line that cannot be written stops the apply
// before its next write call (Options.Settled, Options.Retry).

// AuditVersion is the version of the audit record, on every line. Bump it on any change
// an older reader could misread; fields may be added without a bump.
const AuditVersion = "1"

// AuditStart is the first line of a run.
type AuditStart struct {
	Version string `json:"version"`
	Event   string `json:"event"` // "start"
	Run     string `json:"run"`
	Time    string `json:"time"` // RFC 3339, UTC
	Provenance
	Site    string `json:"site"`
	SiteURL string `json:"site_url,omitempty"`
	// Lease is the id of the site's apply lease this run holds (the run id; what
	// `enrolctl unlock` takes), and LeaseHolder how the lease names its holder.
	Lease       string `json:"lease,omitempty"`
	LeaseHolder string `json:"lease_holder,omitempty"`
	// Plan is the saved plan file applied, if any, and PlanCommit the commit it was
	// planned from (what the reviewers saw).
	Plan       string `json:"plan,omitempty"`
	PlanCommit string `json:"plan_commit,omitempty"`
	// Timezone is the site's zone, in which the dates of the record are days.
	Timezone string `json:"timezone,omitempty"`
	// Approvals and the like that the caller wants kept with the run (freeze override
	// reasons, removal approvals).
	Notes   []string `json:"notes,omitempty"`
	Changes int      `json:"changes"` // how many changes the plan has
}

// AuditField is one field a change sets, with its old and new values as the text plan
// shows them: dates as days in the site's zone ("2027-06-30"; "none" and "never"), the
// others in their plan JSON type.
type AuditField struct {
	Field diff.Field `json:"field"`
	Old   any        `json:"old,omitempty"`
	New   any        `json:"new"`
}

// AuditChange is one change in a course line: what it was, its old and new values,
// and its outcome.
type AuditChange struct {
	Address string       `json:"address"`
	User    string       `json:"user,omitempty"` // enrolments and memberships
	Kind    diff.Kind    `json:"kind"`
	Action  diff.Action  `json:"action"`
	Fields  []AuditField `json:"fields,omitempty"`
	// Removed is, for a deletion, the object as it was (an enrolment's roles and
	// dates, a method's settings): its old value in full.
	Removed   any     `json:"removed,omitempty"`
	Outcome   Outcome `json:"outcome"`
	ErrorCode string  `json:"errorcode,omitempty"`
	Error     string  `json:"error,omitempty"`
}

type auditCourse struct {
	Version string        `json:"version"`
	Event   string        `json:"event"` // "course"
	Run     string        `json:"run"`
	Time    string        `json:"time"`
	Course  string        `json:"course"`
	Changes []AuditChange `json:"changes"`
}

// Retry is a write call sent again: by the client after its answer was lost (a dropped
// connection, a 5xx, a database that was down), or by apply after a re-read showed
// changes that did not land.
type Retry struct {
	Function string `json:"function"`
	// Courses and Items say what the call carries.
	Courses int `json:"courses"`
	Items   int `json:"items"`
	// Attempt is the number of the send about to be made (2 for the first resend), of
	// at most Attempts.
	Attempt  int    `json:"attempt"`
	Attempts int    `json:"attempts"`
	Reason   string `json:"reason"`
}

type auditRetry struct {
	Version string `json:"version"`
	Event   string `json:"event"` // "retry"
	Run     string `json:"run"`
	Time    string `json:"time"`
	Retry
}

// AuditEnd is the last line of a run.
type AuditEnd struct {
	Version string `json:"version"`
	Event   string `json:"event"` // "end"
	Run     string `json:"run"`
	Time    string `json:"time"`
	// Status is the apply report's (Status: completed, incomplete, interrupted), or
	// "failed" (apply could not run its writes) or "crashed" (a panic).
	Status  string `json:"status"`
	Detail  string `json:"detail,omitempty"`
	Applied int    `json:"applied"`
	Failed  int    `json:"failed"`
	Unknown int    `json:"unknown"`
	Skipped int    `json:"not_attempted"`
	// WriteCalls is how many write calls Moodle received (the client's resends included).
	WriteCalls int `json:"write_calls"`
	// Lease says what became of the apply lease: "released", or why it was not (then
	// the next apply on this host takes it over, or `enrolctl unlock ID` frees it).
	Lease string `json:"lease,omitempty"`
}

// AuditFile is where the record goes: an *os.File, or in tests a file that fails.
type AuditFile interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
}

// AuditLog is one run's record, open for appending.
type AuditLog struct {
	mu    sync.Mutex
	f     AuditFile
	path  string
	run   string
	now   func() time.Time
	loc   *time.Location
	plan  map[string]diff.Change // address -> change, for old and new values
	lease string
	ended bool
	err   error // the first write that failed: nothing more is written
}

// StartAudit opens the audit trail at path (creating it and its folder), and writes and
// syncs the run's start line. An apply must not write to Moodle unless this succeeded.
// start.Run, when set, is the run id (the lease's id); else one is made.
func StartAudit(path string, start AuditStart, p diff.Plan) (*AuditLog, error) {
	f, err := openAuditFile(path)
	if err != nil {
		return nil, err
	}
	return StartAuditFile(f, path, start, p)
}

// openAuditFile opens the audit log at path for appending, creating it and its folder.
func openAuditFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return f, nil
}

// StartAuditFile is StartAudit on an open file, named path in messages.
func StartAuditFile(f AuditFile, path string, start AuditStart, p diff.Plan) (*AuditLog, error) {
	run := start.Run
	if run == "" {
		run = NewRunID()
	}
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil || p.Timezone == "" {
		loc = time.UTC
	}
	a := &AuditLog{f: f, path: path, run: run, now: time.Now, loc: loc, plan: map[string]diff.Change{}}
	for _, c := range p.Changes {
		a.plan[c.Address] = c
	}
	start.Version, start.Event, start.Run, start.Time = AuditVersion, "start", a.run, a.stamp()
	start.Timezone = cmp.Or(start.Timezone, loc.String())
	start.Changes = cmp.Or(start.Changes, len(p.Changes))
	if err := a.write(start); err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}

// Course records the outcomes of some changes of one course, as they arrive. It is
// safe for concurrent use.
func (a *AuditLog) Course(course string, results []ChangeResult) error {
	if len(results) == 0 {
		return nil
	}
	line := auditCourse{Version: AuditVersion, Event: "course", Run: a.run, Course: course}
	for _, r := range results {
		c := a.plan[r.Address]
		ac := AuditChange{Address: r.Address, User: changeUser(c), Kind: r.Kind, Action: r.Action, Fields: a.fields(c.Fields),
			Outcome: r.Outcome, ErrorCode: r.ErrorCode, Error: r.Error}
		if c.Action == diff.Delete {
			switch {
			case c.Enrolment != nil:
				ac.Removed = a.enrolment(*c.Enrolment)
			case c.Method != nil:
				ac.Removed = c.Method
			case c.Member != nil:
				ac.Removed = map[string]any{"group": c.GroupName, "member": c.Member}
			case c.Group != nil:
				ac.Removed = c.Group
			}
		}
		line.Changes = append(line.Changes, ac)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	line.Time = a.stamp()
	return a.write(line)
}

// Retry records a write call sent again, before it is sent.
func (a *AuditLog) Retry(r Retry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.write(auditRetry{Version: AuditVersion, Event: "retry", Run: a.run, Time: a.stamp(), Retry: r})
}

// Lease records what became of the apply lease, for the end line.
func (a *AuditLog) Lease(outcome string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lease = outcome
}

// Finish writes the end line with the totals of res and closes the file. Calling it
// again does nothing.
func (a *AuditLog) Finish(status, detail string, res Result) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended {
		return nil
	}
	a.ended = true
	end := AuditEnd{Version: AuditVersion, Event: "end", Run: a.run, Time: a.stamp(), Status: status, Detail: detail,
		Applied: res.Count(Applied), Failed: res.Count(Failed), Unknown: res.Count(Unknown), Skipped: res.Count(NotAttempted),
		WriteCalls: res.WriteCalls, Lease: a.lease}
	err := a.write(end)
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// write appends v as one line, in one write call, and syncs it to disk. After a failed
// write, nothing more is written (a torn line stays the last) and the error is repeated.
func (a *AuditLog) write(v any) error {
	if a.err != nil {
		return a.err
	}
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	// No secret reaches the audit trail, whatever a message or a name held.
	if _, err = a.f.Write(append(redact.Bytes(line), '\n')); err == nil {
		err = a.f.Sync()
	}
	if err != nil {
		a.err = fmt.Errorf("audit log %s: %w", a.path, err)
	}
	return a.err
}

func (a *AuditLog) stamp() string { return a.now().UTC().Format(time.RFC3339Nano) }

// fields gives a change's fields as the text plan shows them: dates as days.
func (a *AuditLog) fields(fs []diff.FieldChange) []AuditField {
	if len(fs) == 0 {
		return nil
	}
	out := make([]AuditField, 0, len(fs))
	for _, f := range fs {
		af := AuditField{Field: f.Field}
		if f.Old != nil {
			af.Old = a.value(f.Field, *f.Old)
		}
		if f.New != nil {
			af.New = a.value(f.Field, *f.New)
		}
		out = append(out, af)
	}
	return out
}

func (a *AuditLog) value(f diff.Field, v diff.Value) any {
	switch f {
	case diff.FieldStart:
		return state.FormatStart(v.Int, a.loc)
	case diff.FieldEnd:
		return state.FormatEnd(v.Int, a.loc)
	case diff.FieldEnabled, diff.FieldSuspended:
		return v.Bool
	case diff.FieldMaxUsers:
		return v.Int
	case diff.FieldGroup:
		return v.Text
	case diff.FieldRole:
		if v.Roles == nil {
			return []string{}
		}
		return v.Roles
	}
	return nil
}

// auditEnrolment is a removed enrolment as the record keeps it: dates as days.
type auditEnrolment struct {
	Username  string   `json:"username"`
	Method    string   `json:"method"`
	Roles     []string `json:"roles,omitempty"`
	Start     string   `json:"start"`
	End       string   `json:"end"`
	Suspended bool     `json:"suspended,omitempty"`
	UserID    int64    `json:"user_id,omitempty"`
}

func (a *AuditLog) enrolment(e state.Enrolment) auditEnrolment {
	return auditEnrolment{Username: e.Username, Method: e.Method, Roles: e.Roles, Start: state.FormatStart(e.Start, a.loc),
		End: state.FormatEnd(e.End, a.loc), Suspended: e.Suspended, UserID: e.UserID}
}

// NewRunID is a run's id: when it started and 64 random bits. It names the run's audit
// lines and the lease it holds.
func NewRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
