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
// Reads are retried with backoff on transport failures and HTTP 5xx; writes are never
// retried blindly, since their outcome is unknown. Batches are sized by the number of
// form leaves so that a request stays under PHP's max_input_vars (1000 by default),
// which otherwise silently truncates it. Concurrency is bounded.
//
// Entry points:
//   - New(Config) builds a Client; Client.Observe reads the observed state.Snapshot of
//     courses; Client.Catalogue lists every course with its category path.
//   - The write methods (AddInstances, UpdateInstances, DeleteInstances, SetEnrolments,
//     UnenrolUsers, CreateGroups, AddMembers, RemoveMembers) map 1:1 onto Moodle functions.
//   - Error, TransportError and ErrWebServicesDisabled are the failures callers inspect.
package moodle
