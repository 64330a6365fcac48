// Package apply executes a plan against a Moodle through internal/moodle, and guards
// what it may do.
//
// # Guarantees
//
//   - CheckStale refuses a saved plan when any course it touches changed since it was
//     planned (fingerprints of the observed state differ), naming the courses.
//
//   - Guard refuses removals in protected courses, and removals above a threshold
//     (a count and a share of the course's enrolments) unless AllowRemovals is set.
//
//   - Run applies exactly the plan's changes, course by course (independent courses
//     concurrently), each course in stages: groups, then methods, then manual
//     enrolments, then memberships, then removals last, so that a conversion from an
//     automatic method to manual enrolments adds the manual enrolments before the
//     method goes. A failure stops the rest of that course only; every change ends
//     applied, failed (with Moodle's errorcode) or not attempted.
//
//   - Writes are never retried blindly. When a batch fails with a Moodle error, Moodle
//     rolled the whole batch back, so its items are sent again one by one to isolate the
//     failing ones; when the outcome is unknown (a transport failure), the batch is marked
//     failed and the course stops. Every write is idempotent at the next run: the next
//     plan sees what landed.
//
//   - Cancelling Run's context (SIGINT, SIGTERM) stops it between write calls, never
//     during one.
//
//   - The audit trail (StartAudit, AuditLog.Course, AuditLog.Finish) is started before
//     the first write and grows, fsync'd, as outcomes arrive; DetectProvenance says who
//     ran it, from which commit and merge request.
//
// Entry points: CheckStale, Guard, Run, StartAudit, DetectProvenance.
package apply
