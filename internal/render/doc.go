// Package render writes plans for people and programs. Every form is rendered from the
// same diff.Plan, so the human plan, the merge-request comment and the JSON can never
// disagree.
//
// # Entry points
//
//   - Text(w, plan, TextOptions{Color, Expand, ShowUnmanaged}): the terminal plan, which
//     `plan` and `apply` show: errors, warnings and refusals first ("Error:
//     file:line:col: message", "Warning: ..."), then one header per course that changes
//     ("course L1-INFO-ALGO") and one line per change ("  + ", "  ~ ", "  - "), identical
//     changes collapsed into one line with a count by the same grouping as the
//     reviewer's markdown (collapse.go; a collapsed removal still names its users), the
//     objects left alone counted per course; then a line on how to see what the counts
//     stand for (--expand, --show-unmanaged) and a last summary line ("Plan: 3 to add,
//     5 to change, 1 to remove, 7 unmanaged.", "No changes. Moodle matches the specs
//     (...)", or "No changes planned: fix the 2 errors first."). Expand writes one line
//     per change, ShowUnmanaged lists the objects left alone under "unmanaged (left
//     alone):" in every course that has some.
//   - ReviewMarkdown(w, plan, ReviewOptions): the reviewer's form, which `plan -o
//     markdown` and `enrolctl comment` use: errors, warnings, what apply will refuse
//     and the approvals first; only the courses that change in the table; identical
//     changes of a course collapsed to one line with a count (collapse.go: "! 1,108
//     manual enrolments: end 2026-06-30 → 2027-06-30, 160 reactivated") whose users are
//     listed in a folded block; unmanaged objects counted unless ShowUnmanaged.
//   - drift.go names Plan.Drift in both human forms whatever the options (text under
//     "Drift:", markdown under "#### Drift"), and DriftLine counts it for summaries; the
//     last line says "No changes. Drift: N objects made by hand ..." instead of claiming
//     that Moodle matches the specs.
//   - collapse.go's groupLines is the one grouping both human forms use: a change's
//     identity without its user (course, action, kind, method or group, the fields
//     changed), a reactivation counted rather than told apart.
//   - JSON(w, plan): the plan document (docs/plan-format.md), the same bytes plan -out
//     saves (internal/planfile).
//   - RemovalText and RefusalText: the sentences for what a removal takes away and why
//     apply refuses; Refused(err) words apply's refusals (a stale plan, refused
//     removals) as diagnostics with them. words.go holds every sentence: diff
//     gives codes and typed values, render words them in the site's time zone.
//   - ParticipantsOf(course, users, Filter, now, loc) builds Moodle's Participants page
//     (one Participant per user, Status computed as Moodle does); ParticipantsText,
//     ParticipantsJSON and ParticipantsCSV write it.
//
// # Display decisions
//
//   - A create shows the fields that differ from Moodle's defaults in parentheses
//     (`+ method cohort:L1-INFO-2026:student (group "Promo 2026")`); an update shows
//     each changed field as `field: old → new`; a removal shows what it takes away in
//     parentheses; the change's Reason follows as a `# comment`.
//   - Values containing spaces are quoted.
//   - In ReviewMarkdown's diff block, updates are marked "!" instead of "~" because
//     that is the marker GitHub and GitLab highlight; course headers are
//     "@@ course X @@".
//   - Colour (ANSI) is used only when TextOptions.Color is set: green +, yellow ~,
//     red -, dim unmanaged objects and reasons, bold red "Error:".
package render
