// Package moodle is enrolctl's client for Moodle's REST web services and the
// local_enrolctl plugin functions described in docs/contract.md. Every Moodle enrolctl
// talks to goes through it, the sandbox included.
//
// # Protocol
//
// Calls are form-encoded POSTs to {url}/webservice/rest/server.php with the token in the
// body, never in a URL. Moodle answers errors with HTTP 200 and a JSON exception; they are
// decoded into *Error, which carries the errorcode, the function, and the course and user
// the call was about. The token never appears in an error or a log line.
//
// # Safety
//
// Reads are retried with backoff on transport failures and HTTP 5xx. Write sends one
// local_enrolctl_write call (Contract v2) whose items are one JSON parameter, so PHP's
// max_input_vars never caps it; items are idempotent, so a transient failure resends the
// whole call with jittered backoff, and a course the answer does not account for is
// Unknown, never assumed applied. The v1 per-function writes are sized by form leaves
// under max_input_vars and never retried. Concurrency is bounded.
//
// Entry points:
//   - New(Config) builds a Client; Client.Observe reads the observed state.Snapshot of
//     courses; Client.Catalogue lists every course with its category path.
//   - Write(ctx, client, items) sends typed items (AddInstance, UpdateInstance,
//     DeleteInstance, SetEnrolment, UnenrolUser, CreateGroup, AddMember, RemoveMember)
//     across courses and returns a CourseOutcome per course.
//   - The v1 write methods (AddInstances, UpdateInstances, DeleteInstances, SetEnrolments,
//     UnenrolUsers, CreateGroups, AddMembers, RemoveMembers) map 1:1 onto Moodle functions.
//   - Error, TransportError and ErrWebServicesDisabled are the failures callers inspect.
package moodle
