// Package diff compares the desired state of courses (from specs) with their observed
// state (from Moodle) and produces a Plan: the ordered changes that make Moodle match
// the specs, the live objects left alone, and the diagnostics (diag.Diagnostic) found on
// the way. Nothing is planned while one of them is an error.
//
// # Entry points
//
//   - Compute(desired, observed) and ComputeWithOptions(desired, observed, Options) build
//     the whole Plan document: Options carry the caller's provenance (time, site,
//     commit, specs digest), the specs' own diagnostics and a reader for their source
//     lines; nothing is planned while a diagnostic is an error. They are pure and
//     deterministic: no I/O but that reader, no clock, sorted output.
//   - NewPlanner(desired, Options), Planner.Course(observed course) and
//     Planner.Plan(directory): the same plan made one observed course at a time, as a
//     streamed read hands them over, from several goroutines at once; only what the plan
//     needs of each course is kept, and Course says whether that is the whole course.
//     ComputeWithOptions is a Planner fed a whole snapshot.
//   - Check(desired, observed): the checks against the site that need what Moodle was
//     read to hold (unknown users and cohorts, disabled plugins, a database method the
//     sync has not created), each at its spec line with a did-you-mean. Compute runs it
//     first. Checks that need only the catalogue and roles (unknown course, linked
//     course, role, duplicate course) are made once, by spec.Load and spec.Resolve.
//   - Stage(change) gives the apply stage of a change (see Ordering).
//   - Guard(changes, protected, observed, limits, approvals): what apply refuses (removals
//     in protected courses, above the limits); Compute records it in Plan.Refusals and
//     apply runs it again on the live state.
//   - Reassess: what a plan's removals would take from a course as it is now.
//   - plan.go holds the plan document (Plan, Change, Action, Kind, Reason and its codes,
//     Removal and its effects, Unmanaged, Summary), values.go the typed field values
//     (Field, Value, FieldChange), guard.go Limits, Approvals and Refusal. They are data:
//     codes and typed values, with every sentence written by render. The JSON form
//     (docs/plan-format.md) is internal/planfile's own document type, converted from
//     these, which carry no JSON tags: they can change without changing the file.
//
// The planning is split by object kind: methods.go, groups.go, enrolments.go,
// memberships.go, removals.go, driven by compute.go; check.go holds the site checks.
//
// # What is managed
//
// Following the spec ("What enrolctl owns, and what it never touches"):
//
//   - Methods, matched by Method.Key. Declared and absent: create. Declared and present:
//     update the managed fields that differ (every type: enabled; self: role, max_users;
//     cohort and meta: group). Database methods are never created, updated, deleted or
//     compared; a declared database method missing live is an error. Live methods not
//     declared are Unmanaged, or deleted when the course has methods_prune, except
//     database methods and plugins enrolctl does not know, which always stay Unmanaged.
//     Desired manual enrolments imply the manual method: it is created enabled when
//     missing, never compared and never pruned unless declared explicitly.
//   - Enrolments: desired enrolments are manual. Missing: create; present with a
//     different role, start, end or suspended: update with only those fields (an
//     enrolment without roles leaves the live roles alone; the Change then has none). Enrolments
//     of other methods are never changed nor listed (they belong to their method). Manual
//     enrolments of users not listed follow Options.ManualPrune: keep (the default, also
//     when unset) leaves them (Drift when the spec lists users, else Unmanaged),
//     suspend suspends them, unenrol deletes them.
//   - Groups: declared groups, and groups a desired cohort or meta method puts members
//     in, are created when missing; groups are never deleted and undeclared groups are
//     not reported. Declared members are added; in a group with PruneMembers, members
//     with an empty Component that are not declared are removed. Members added by a
//     method's sync (non-empty Component) are never touched.
//   - Drift (drift.go): what was made by hand where the specs say who belongs is kept
//     apart from Unmanaged, in Plan.Drift, named and never acted on: a kept manual
//     enrolment the course's spec does not list when it lists users, a manual member of
//     a declared group whose members the spec lists, and an enabled method of a known
//     plugin (not manual, not database) nothing declares in a course whose own spec
//     (state.Course.Spec) declares a method other than manual.
//   - Protect is not applied here: removals are always listed, and apply refuses them.
//
// An error (from Check, or a group member who would not be enrolled) stops the whole
// plan: Plan.Diagnostics holds it, at the desired object's Source (file:line:col), and
// Changes and Unmanaged are empty, so that a half plan is never reviewed as a whole one.
//
// # Removals
//
// A change takes access away when Removes is set: an unenrolment, a suspension, a
// method deletion or disable, and a group membership deletion. Removal counts follow
// Moodle: unenrolling a user from their last enrolment in a course deletes their roles,
// group memberships and grades there (LastEnrolments). Counts are worked out in apply
// order, so enrolments the same plan creates (an automatic enrolment converted to a
// manual one) keep users from losing their last enrolment.
//
// # Ordering
//
// Changes are sorted by course shortname, then Stage, then address:
//
//	0 group creates
//	1 method creates and updates that take nothing away
//	2 enrolment creates and updates that take nothing away
//	3 membership creates
//	4 membership deletes
//	5 enrolment suspensions and unenrolments
//	6 method disables and deletes
//	7 membership creates that must follow a method deletion (Change.AfterMethodRemoval)
//
// Stage 7 exists because Moodle ignores adding a user to a group they are already in,
// whoever added them, and deleting a cohort or meta method removes the memberships its
// sync added: a declared membership the user holds only through such a method is added
// back, as a manual one, once the method is gone.
//
// Unmanaged objects are sorted by course, then address; diagnostics by file and line.
//
// # Values
//
// FieldChange values are typed (Value): booleans, integers (max_users; start and end as
// unix seconds, 0 meaning none and never), text (group) and role lists. Plan.Timezone
// records the site's zone (Options.Location) so that renderers show dates as whole days
// there (state.FormatStart and FormatEnd; ends are exclusive, state.LastDay). Creates
// list every managed field, with no
// Old; renderers may hide defaults.
package diff
