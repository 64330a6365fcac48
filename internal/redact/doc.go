// Package redact is the one place secrets are kept out of what enrolctl prints and
// writes. Every secret the process loads (both Moodle tokens, the plan signing key,
// the GitLab and GitHub tokens) is added to one process-wide set (Add); stdout, stderr,
// the audit log and every file enrolctl writes pass through it (NewWriter, Bytes), so
// that no path can print a secret, whatever the input: a spec whose course is the
// token, a token given as an argument, an answer that echoes it.
//
// A secret is replaced by "[token]" whole, and so is any run of 8 or more of its
// characters (an echo cut short). Secrets shorter than 8 characters are not held: they
// would hide ordinary words, and no real token is that short.
//
// Entry points: Add, String, Bytes, NewWriter (with Flush), One (one token, for a
// client that has its own), NewReader (a stream read from the network).
package redact
