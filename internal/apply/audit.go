package apply

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/enrolctl/enrolctl/internal/redact"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/enrolctl/enrolctl/internal/diff"
)

// The audit trail is a JSON-lines file. One apply writes several lines sharing a run
// id: a "start" line before the first write, one "course" line per course each time
// outcomes arrive, and an "end" line with the totals. Each line is one write followed
// by fsync, so that what was written to Moodle is on disk before the next write call,
// and a crash (power, kill -9, panic) leaves the start line and every course line
// recorded so far: a run without an end line was cut short.

// AuditStart is the first line of a run.
type AuditStart struct {
	Event string `json:"event"` // "start"
	Run   string `json:"run"`
	Time  string `json:"time"` // RFC 3339, UTC
	Provenance
	Site    string `json:"site"`
	SiteURL string `json:"site_url,omitempty"`
	// Plan is the saved plan file applied, if any, and PlanCommit the commit it was
	// planned from (what the reviewers saw).
	Plan       string `json:"plan,omitempty"`
	PlanCommit string `json:"plan_commit,omitempty"`
	// Approvals and the like that the caller wants kept with the run (freeze override
	// reasons, removal approvals).
	Notes   []string `json:"notes,omitempty"`
	Changes int      `json:"changes"` // how many changes the plan has
}

// AuditChange is one change in a course line: what it was, its old and new values,
// and its outcome.
type AuditChange struct {
	Address string             `json:"address"`
	User    string             `json:"user,omitempty"` // enrolments and memberships
	Kind    diff.Kind          `json:"kind"`
	Action  diff.Action        `json:"action"`
	Fields  []diff.FieldChange `json:"fields,omitempty"`
	// Removed is, for a deletion, the object as it was (an enrolment's roles and
	// dates, a method's settings): its old value in full.
	Removed   any     `json:"removed,omitempty"`
	Outcome   Outcome `json:"outcome"`
	ErrorCode string  `json:"errorcode,omitempty"`
	Error     string  `json:"error,omitempty"`
}

type auditCourse struct {
	Event   string        `json:"event"` // "course"
	Run     string        `json:"run"`
	Time    string        `json:"time"`
	Course  string        `json:"course"`
	Changes []AuditChange `json:"changes"`
}

// AuditEnd is the last line of a run.
type AuditEnd struct {
	Event string `json:"event"` // "end"
	Run   string `json:"run"`
	Time  string `json:"time"`
	// Status is "completed", "interrupted" (SIGINT/SIGTERM: the batch in flight was
	// finished, nothing more was sent), "refused" or "crashed".
	Status  string `json:"status"`
	Detail  string `json:"detail,omitempty"`
	Applied int    `json:"applied"`
	Failed  int    `json:"failed"`
	Unknown int    `json:"unknown"`
	Skipped int    `json:"not_attempted"`
	// WriteCalls is how many write calls Moodle received (the client's resends included).
	WriteCalls int `json:"write_calls"`
}

// AuditLog is one run's record, open for appending.
type AuditLog struct {
	mu    sync.Mutex
	f     *os.File
	path  string
	run   string
	now   func() time.Time
	plan  map[string]diff.Change // address -> change, for old and new values
	ended bool
}

// StartAudit opens the audit trail at path (creating it and its folder), and writes and
// syncs the run's start line. An apply must not write to Moodle unless this succeeded.
func StartAudit(path string, start AuditStart, p diff.Plan) (*AuditLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	a := &AuditLog{f: f, path: path, run: newRunID(), now: time.Now, plan: map[string]diff.Change{}}
	for _, c := range p.Changes {
		a.plan[c.Address] = c
	}
	start.Event, start.Run, start.Time = "start", a.run, a.stamp()
	if start.Changes == 0 {
		start.Changes = len(p.Changes)
	}
	if err := a.write(start); err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}

// Path is the audit file's path.
func (a *AuditLog) Path() string { return a.path }

// Run is the run id that the run's lines share.
func (a *AuditLog) Run() string { return a.run }

// Course records the outcomes of some changes of one course, as they arrive. It is
// safe for concurrent use.
func (a *AuditLog) Course(course string, results []ChangeResult) error {
	if len(results) == 0 {
		return nil
	}
	line := auditCourse{Event: "course", Run: a.run, Course: course}
	for _, r := range results {
		c := a.plan[r.Address]
		ac := AuditChange{Address: r.Address, Kind: r.Kind, Action: r.Action, Fields: c.Fields,
			Outcome: r.Outcome, ErrorCode: r.ErrorCode, Error: r.Error}
		switch {
		case c.Enrolment != nil:
			ac.User = c.Enrolment.Username
		case c.Member != nil:
			ac.User = c.Member.Username
		}
		if c.Action == diff.Delete {
			switch {
			case c.Enrolment != nil:
				ac.Removed = c.Enrolment
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

// Finish writes the end line with the totals of res and closes the file. Calling it
// again does nothing.
func (a *AuditLog) Finish(status, detail string, res Result) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ended {
		return nil
	}
	a.ended = true
	end := AuditEnd{Event: "end", Run: a.run, Time: a.stamp(), Status: status, Detail: detail,
		Applied: res.Count(Applied), Failed: res.Count(Failed), Unknown: res.Count(Unknown), Skipped: res.Count(NotAttempted), WriteCalls: res.WriteCalls}
	err := a.write(end)
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// write appends v as one line, in one write call, and syncs it to disk.
func (a *AuditLog) write(v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	// No secret reaches the audit trail, whatever a message or a name held.
	if _, err := a.f.Write(append(redact.Bytes(line), '\n')); err != nil {
		return fmt.Errorf("audit log %s: %w", a.path, err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("audit log %s: %w", a.path, err)
	}
	return nil
}

func (a *AuditLog) stamp() string { return a.now().UTC().Format(time.RFC3339Nano) }

func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
