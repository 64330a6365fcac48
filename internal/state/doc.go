// Package state is enrolctl's one model of course enrolment state, used for both the
// desired state (loaded from specs) and the observed state (read from a live Moodle).
//
// Everything that turns outside data into these types normalises it at the boundary
// (internal/spec for files, internal/moodle for Moodle), so that internal/diff can
// compare two Snapshots as plain values and never does I/O.
//
// Entry points:
//   - Snapshot, Course, Method, Enrolment, Group, Member: the model.
//   - Kinds (methods.go): one row per enrolment method type (identity, spec fields,
//     managed settings, sync ownership, words), read by every package that needs to
//     know a method type; KindOf finds a type's row (docs/architecture.md).
//   - Method.Key, Course.Address and the Address helpers: stable identities used for
//     sorting, JSON and messages (for example "course/L1-INFO-ALGO/method/cohort:L1-INFO-2026:student").
//   - Course.ManagedFingerprint: a hash of what enrolctl manages in a course, which a
//     saved plan records and apply compares to refuse a stale plan.
//   - DayEnd, LastDay, FormatStart, FormatEnd (days.go): end dates are exclusive (until
//     2027-06-30 is 2027-07-01T00:00 in the site zone); the rule's one home, for specs,
//     plans, the audit record and imports.
//   - Directory: the site-wide facts a plan is checked against (users, cohorts, roles, courses).
package state
