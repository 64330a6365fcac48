// Package adopt writes course specs from the live state of a Moodle course, so that a
// site that was managed by hand can be brought into git (enrolctl import moodle).
//
// # Entry points
//
//   - Render(course, Options) turns one observed state.Course into the YAML of its
//     course spec: the methods with their settings, the manual enrolments (role, end,
//     suspended) with their manual group memberships, and the course's groups. The
//     most common role and end date become manual.role and manual.until, so a file
//     lists only what differs. Options.AsManual converts the users that automatic
//     methods (database, cohort, meta) enrol into manual users with an end date,
//     keeping their roles and every group they are in; with RemoveConverted the
//     converted cohort and meta methods are declared absent.
//   - Conversions(course, Options) lists the users AsManual converts, as Render would
//     write them, for adding them to a course's existing spec (import moodle
//     --as-manual on a course that already has one) instead of rewriting it.
//   - Path(dir, category, shortname) is where a course's spec goes: one folder per
//     category level, one file per course, names folded to lower-case ASCII. CSV
//     import puts new files at the same place.
//
// A spec written from a course and planned right away against the same course gives no
// change: starts are not written (a user without from keeps the live start), and what
// a spec cannot say (a second plain role, a self method without a name, a cohort
// without idnumber, plugins enrolctl does not know) is left out and named in a comment
// at the top of the file and in Result.Notes.
package adopt
