// Package sandbox is the embedded default Moodle: when no site is configured, enrolctl
// runs against an in-memory Moodle (internal/moodlesim) seeded with a demo site, whose
// state persists between runs in a file under .enrolctl/.
//
// The sandbox is reached through the same REST client as a real site: requests go
// through moodlesim's HTTP handler in-process, never around the protocol.
//
// Entry points: Open loads (or seeds) the sandbox, Sandbox.HTTPClient and URL/Token
// reach it, Sandbox.Save persists it, Reset restores the demo site.
package sandbox
