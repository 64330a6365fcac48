// Package cli is enrolctl's command line: argument parsing, wiring of the other
// packages, and the one place where errors become exit codes.
//
// Commands take their dependencies (streams, environment, working directory) from an
// App value, so tests run them without a terminal; CLI scenarios are testscript files in
// testdata/script.
//
// Entry points: Main runs a command line and returns the exit code (0 ok or no changes,
// 1 error, 2 changes present with --detailed-exitcode); StdStreams wires the process's
// standard streams. exit.go is the one place where errors become exit codes, and where
// diagnostics (configuration, specs, checks against the site) are printed, each with
// its source line. site.go selects and connects the site (with its read-only token for
// every command but apply, the one marked writesMoodle), desired.go reads the specs
// against it, validate.go checks them offline, plan.go makes the plan document.
// import.go and import_moodle.go write specs from a CSV file or from the live site
// (internal/adopt); participants.go, find.go (courses, cohorts) and expiring.go read
// the site without writing; explain.go says why a user has access (their live
// enrolments, the spec line owning each, the plan's changes for them). doctor.go and doctor_tokens.go check a site and its tokens.
package cli
