// Package sandbox is the embedded default Moodle: when no site is configured, enrolctl
// runs against an in-memory Moodle (internal/moodlesim) seeded with a demo site, whose
// state persists between runs in a file under .enrolctl/.
//
// The sandbox is reached through the same REST client as a real site: requests go
// through moodlesim's HTTP handler in-process, never around the protocol.
//
// One run at a time: Open takes an exclusive flock on .enrolctl/sandbox.lock (holding
// the holder's pid) and keeps it until Close, so two applies never start from the same
// state; a second run waits up to DefaultWait, then stops naming the holder's pid. Save
// writes a temporary file of a unique name beside the state and renames it over it.
//
// Entry points: Open (or OpenWait) locks and loads (or seeds) the sandbox, Close
// releases it, Sandbox.HTTPClient and URL/Token reach it, Sandbox.Save persists it,
// Reset restores the demo site.
package sandbox
