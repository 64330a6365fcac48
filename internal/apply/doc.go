// Package apply executes a plan against a Moodle through internal/moodle, and guards
// what it may do.
//
// # Guarantees
//
//   - A saved plan comes through planfile.Read, which checks the file whole, once,
//     before anything is read; VerifySaved accepts only the changes the specs at the plan's commit produce against the live
//     state, and hands back those changes as computed now (removal accounting,
//     protected courses), so that an edited file grants nothing.
//   - CheckStale refuses a saved plan when any course it touches changed since it was
//     planned (fingerprints of the observed state differ), naming the courses.
//   - AcquireLease takes the site's apply lease through the plugin (one apply at a
//     time), renews it, ends its context if it is lost, and takes over a lease whose
//     holder (Holder: actor, host, pid, PID namespace, run id) is provably gone or
//     expired; Release retries; Unlock frees a lease by its run id.
//   - Guard refuses removals in protected courses, and removals above the limits (a
//     count and a share per course, a count across the courses of one apply) unless
//     AllowRemovals is set.
//   - Run applies exactly the plan's changes, stage by stage across courses (groups,
//     methods, enrolments, memberships, removals last, then memberships a deleted
//     method took), one local_enrolctl_write call per stage and kind of change, sent one
//     at a time. A failure stops the later stages of its course only; every change ends
//     applied, failed (with Moodle's errorcode), unknown or not attempted.
//   - Outcomes are verified, never assumed: an answer that does not account for a
//     course is resolved by re-reading it; what did not land is resent, at most
//     Options.Attempts times. A course rolled back at one item is resent without it.
//   - Cancelling Run's context (SIGINT, SIGTERM) stops it between write calls: the call
//     in flight gets Options.Grace, then is given up (its changes Unknown); nothing is
//     resent. A call that may still be running (timed out) is never resent.
//   - The audit trail (StartAudit, AuditLog.Course, .Retry, .Finish; docs/audit.md,
//     versioned by AuditVersion, ValidateAuditLine) is started before the first write
//     and grows, fsync'd, as outcomes arrive; a line that cannot be written stops Run
//     before its next write call. DetectProvenance says who ran it, from which commit
//     and merge request.
//   - Refusals and failures read as diag.Diagnostic, the type plan and the spec checks
//     report through: each refusal is a typed error (StaleError, RemovalError,
//     ForgedChangeError, LeaseHeldError); StaleError and RemovalError
//     are data that render.Refused words (apply words no plan sentence), the others
//     have Diagnostics; FailureDiagnostics says each failure once: one per course for
//     changes that failed alike (with the count), else one per change, naming course,
//     user and Moodle's errorcode. Report is the apply report document
//     (apply -o json, versioned by ReportFormat).
//
// Entry points: VerifySaved, CheckStale, Guard, AcquireLease, Unlock, Run,
// StartAudit, DetectProvenance, FailureDiagnostics, NewReport.
package apply
