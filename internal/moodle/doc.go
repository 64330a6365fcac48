// Package moodle is enrolctl's client for Moodle's REST web services and the
// local_enrolctl plugin functions described in docs/contract.md. Every Moodle enrolctl
// talks to goes through it, the sandbox included.
//
// # Protocol
//
// Calls are form-encoded POSTs to {url}/webservice/rest/server.php with the token in the
// body, never in a URL. Moodle answers errors with HTTP 200 and a JSON exception; they are
// decoded into *Error, which carries the errorcode, the function, and the course and user
// the call was about.
//
// # Reads
//
// Reads are retried with backoff on transport failures and HTTP 5xx. Observe reads
// courses in parallel calls of up to 500 (Contract v2), decoding each course from the
// body as it arrives (json/v2) and converting it to state.Course at once; users the
// courses name are never looked up again, the others in parallel batches (UserIDs:
// local_enrolctl_get_user_ids, 5,000 a call, from plugin 2026113002;
// core_user_get_users_by_field, 500 a call, before); cohorts only
// when asked (NeedCohorts). ReadSite reads the status with the catalogue's first page in
// one call (plugin 2.3.0; before, the two at once), then its other pages; ReadSiteWith
// hands the status over as soon as it is in, while the catalogue is read; ReadSiteAhead
// also brings the first courses of a read by name (ObserveNamed with RowsAhead) in the
// same call (plugin 2.4.0), so that a plan pays Moodle's bootstrap of a request once less.
//
// # Writes
//
// Write sends typed items as local_enrolctl_write calls (Contract v2): items are one
// JSON parameter, so PHP's max_input_vars never caps a call, and cross courses, so a
// stage of an apply is one call up to 5,000 items or 8 MB. Items are idempotent: a
// transient failure resends the whole call with jittered backoff, never item by item,
// and a course the answer does not account for is Unknown, never assumed applied.
//
// # Trust
//
// The token never appears in an error, a log line or an outcome: every string from
// Moodle or the network is redacted (Redact, internal/redact: whole token and fragments) before it is cut
// or printed. Redirects are never followed, since a 307 would re-send the token
// elsewhere; the error names the Location (ErrRedirect). HTTPS is required except on
// loopback.
//
// Entry points:
//   - New(Config) builds a Client; Client.ReadSite and Client.Observe read the observed
//     state.Snapshot; Client.ObserveEach hands each observed course to the caller as it
//     is read, and returns the directory, so that a large site is never held whole (the
//     users to look up and NeedCohortsOnce are asked once the read is under way);
//     Client.ObserveNamed is ObserveEach begun before the site is read, asking for the
//     courses by shortname (plugin 2.2.0), by id on an older plugin;
//     Client.CourseStates and EachCourseState read raw course states
//     (with their users' names, e-mails and last access, for participants), and
//     ToCourse turns one of them into a state.Course; Recycle hands a course's
//     enrolment list back to ToCourse once nothing points into it.
//   - Write(ctx, client, items) with AddInstance, UpdateInstance, DeleteInstance,
//     SetEnrolment, UnenrolUser, CreateGroup, AddMember or RemoveMember items returns a
//     WriteResult with a CourseOutcome per course.
//   - Error, TransportError, ErrRedirect and ErrWebServicesDisabled are the failures
//     callers inspect; Code(err) the errorcode.
package moodle
