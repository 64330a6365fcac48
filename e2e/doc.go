// Package e2e runs the same end-to-end cases against the in-memory Moodle (always) and a
// real Moodle (when ENROLCTL_E2E_URL and ENROLCTL_E2E_TOKEN are set), through the real
// client, diff and apply: the contract between enrolctl, local_enrolctl and moodlesim is
// proven by one suite. Where they disagree, moodlesim is fixed.
//
// The real-Moodle token must belong to local_enrolctl's enrolctl_testing service on a
// throwaway site: the suite creates categories, courses, users and cohorts (named with a
// per-run prefix, so runs do not collide) and leaves them there. Set
// ENROLCTL_E2E_DISABLED_PLUGIN to an enrolment plugin the site has disabled (for
// example "guest") to run the disabled-plugin case on the real site as well, and
// ENROLCTL_E2E_READ_TOKEN to a token of the read-only enrolctl_read service (plugin
// 2026113003) to check on the real site that it reads what plans read and writes nothing,
// and ENROLCTL_E2E_RESTART_CMD to a command restarting its web server ("apache2ctl -k
// restart") to restart it mid-apply (restart_test.go).
package e2e
