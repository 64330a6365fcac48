package apply

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// AuditRecord is one line of the audit trail: one apply run.
type AuditRecord struct {
	Time    string         `json:"time"` // RFC 3339, UTC
	Actor   string         `json:"actor"`
	Commit  string         `json:"commit,omitempty"`
	Site    string         `json:"site"`
	SiteURL string         `json:"site_url,omitempty"`
	Plan    string         `json:"plan,omitempty"` // the saved plan file applied, if any
	Applied int            `json:"applied"`
	Failed  int            `json:"failed"`
	Skipped int            `json:"not_attempted"`
	Changes []ChangeResult `json:"changes"`
}

// NewAuditRecord summarises a result for the audit trail.
func NewAuditRecord(now time.Time, actor, commit, site, siteURL, planFile string, r Result) AuditRecord {
	return AuditRecord{
		Time: now.UTC().Format(time.RFC3339), Actor: actor, Commit: commit, Site: site, SiteURL: siteURL, Plan: planFile,
		Applied: r.Count(Applied), Failed: r.Count(Failed), Skipped: r.Count(NotAttempted), Changes: r.Changes,
	}
}

// AppendAudit appends rec as one JSON line to path, creating the file (and its folder)
// if needed. One write call per record, so concurrent appenders do not interleave lines.
func AppendAudit(path string, rec AuditRecord) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("audit log %s: %w", path, err)
	}
	return f.Close()
}

// Actor names who runs enrolctl, for the audit trail: the CI user when in CI, else the
// login name.
func Actor() string {
	for _, k := range []string{"GITLAB_USER_LOGIN", "GITHUB_ACTOR", "USER", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "unknown"
}
