// Package gitsrc reads what enrolctl needs from the git repository that holds the
// specs, with go-git (no git binary needed in CI images).
//
// Entry points: Head returns the commit the working tree is at, recorded in plans and
// the audit trail so that an applied plan can be traced to the reviewed change.
package gitsrc
