package apply

import (
	"fmt"
	"time"
)

// AuditUnlock is the line `enrolctl unlock` writes: who freed (or tried to free) which
// apply lease, when, and what came of it. It has a run of its own, as applies do.
type AuditUnlock struct {
	Version string `json:"version"`
	Event   string `json:"event"` // "unlock"
	Run     string `json:"run"`
	Time    string `json:"time"`
	Provenance
	Site    string `json:"site"`
	SiteURL string `json:"site_url,omitempty"`
	// Lease is the id given to unlock; LeaseHolder how the lease named its holder.
	Lease       string `json:"lease"`
	LeaseHolder string `json:"lease_holder,omitempty"`
	// Outcome is UnlockResult's: released, expired, not held or refused; or "failed"
	// when the site could not be asked (Error says why).
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
}

// UnlockAudit is the audit log open for unlock's line. It is opened before the site is
// asked, so that a lease is never freed without a record of who freed it.
type UnlockAudit struct{ log *AuditLog }

// OpenUnlockAudit opens the audit log at path for appending (creating it and its folder).
func OpenUnlockAudit(path string) (*UnlockAudit, error) {
	f, err := openAuditFile(path)
	if err != nil {
		return nil, err
	}
	return &UnlockAudit{log: &AuditLog{f: f, path: path, now: time.Now}}, nil
}

// Record writes the line (version, event and time filled in), syncs and closes the log.
func (u *UnlockAudit) Record(l AuditUnlock) error {
	l.Version, l.Event, l.Time = AuditVersion, "unlock", u.log.stamp()
	err := u.log.write(l)
	if cerr := u.log.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("audit log %s: %w", u.log.path, cerr)
	}
	return err
}
