// Package moodlesim is an in-memory Moodle 5.1 with the local_enrolctl plugin installed,
// speaking Moodle's REST web-service protocol with Moodle's semantics. It backs the
// sandbox (the embedded Moodle enrolctl uses when no site is configured), the unit tests,
// the end-to-end suite and the benchmarks. docs/contract.md is the contract it serves;
// where it and a real Moodle disagree, the real Moodle is right.
//
// # Entry points
//
//   - New(Options) *Sim: an empty site (site course, guest and admin users, standard
//     roles 1 manager … 8 frontpage, plugins manual,guest,self,cohort,meta,database).
//     Options.Now is the clock, Options.Latency a delay added to every call.
//   - DemoSite() *Sim: a deterministic French university (categories, ~30 courses,
//     ~1,200 students with names, e-mails, idnumbers and last course accesses, teachers,
//     cohorts, database/cohort/manual/self instances, groups).
//   - GenerateSite(SiteSize{Courses: 10000}) *Sim: a realistic generated university for
//     benchmarks (Site1k, Site3k, Site10k; about 30 enrolments per course, 300,000 at
//     10k; categories, programme cohorts, database/cohort/meta/manual/self methods,
//     groups, shared users), token "bench"; (*Sim).CourseIDs lists its courses.
//   - (*Sim).Handler() http.Handler: serves /webservice/rest/server.php.
//   - (*Sim).AddToken(token, service, username): ServiceEnrolctl, ServiceRead (the
//     read-only enrolctl_read, plugin 2026113003) or ServiceTesting as the plugin
//     declares them, or ServiceAll (simulator only: also
//     enrol_manual_unenrol_users, enrol_meta_add_instances, core_cohort_get_cohorts,
//     core_cohort_get_cohort_members, core_group_get_course_groups).
//   - (*Sim).AddTokenWithout(token, service, username, capabilities...): a non-admin
//     manager lacking those capabilities (ManagerCapabilities minus them), so tests and
//     the end-to-end suite can check refusals (e.g. without local/enrolctl:manage).
//   - (*Sim).SetLatency(d): a per-call delay (e.g. 20 ms) outside the lock.
//   - Save(w) / Load(r): the whole site as JSON, stable order (the sandbox file;
//     format 2 adds user_lastaccess and leases, format 1 files still load).
//
// # Files, by Moodle component
//
//   - server.go (REST server, authentication, transactions), params.go (parameter
//     parsing and validation), functions.go (the function table and the services),
//     errors.go, xml.go.
//   - local.go (local_enrolctl: site status, courses, course state),
//     local_instances.go and local_enrolments.go (the v1 write functions, one item at a
//     time), write.go (local_enrolctl_write), lease.go (the apply lease).
//   - enrol.go (lib/enrollib.php: the enrol_plugin API in a tx), enrol_cohort.go,
//     enrol_meta.go, enrol_manual.go, enrol_database.go (the plugins' syncs, observers
//     and web-service functions), participants.go (core_enrol).
//   - group.go (core_group and groups_* of group/lib.php), user.go (core_user),
//     cohort.go (core_cohort), course.go (core_course), webservice.go.
//   - model.go (the records), store.go (tables, writes, transaction journal),
//     store_index.go (indexes and reads), persist.go (Save, Load).
//   - admin.go (fixtures), demo.go, generate.go, faults.go, deadlock.go (for tests).
//
// # Protocol
//
// Form-encoded PHP bracket arguments (GET and POST, POST wins) are parsed in order and
// validated like external_api::validate_parameters: unknown keys, missing required keys
// and non-canonical PARAM_INT/PARAM_BOOL values are invalidparameter. Errors are HTTP
// 200 JSON {exception, errorcode, message[, debuginfo]} (debuginfo only with SetDebug
// or Options.Debug, which also appends it to the message, as DEBUG_DEVELOPER does),
// void functions answer null, bodies are encoded like PHP's json_encode; without
// moodlewsrestformat=json the answer is Moodle's XML. SetMaxInputVars drops arguments
// beyond PHP's max_input_vars silently, as PHP does. Web services off: 403 with an
// empty body. Unknown token: invalidtoken; function not in the token's
// service: accessexception; unknown function: invalidrecord (debug) or
// invalidrecordunknown. Write functions run in one transaction: on error the site is
// restored as it was (enrol_meta_add_instances is not transactional, as in Moodle;
// local_enrolctl_write has one transaction per course). Site admins bypass capability
// checks; other token users hold only the capabilities SetCapabilities gave them
// (webservice/rest:use first, else accessexception), and a role is assignable for them
// only with moodle/role:assign. Every local_enrolctl function requires
// local/enrolctl:manage (contract v2).
//
// # Contract v2
//
// local_enrolctl_write validates the whole JSON payload first (invalidpayload), then
// runs each course's items in their own transaction and answers one result per course;
// every operation is idempotent. The apply lease uses the simulator's clock
// (Options.Now, SetClock). get_course_state_json answers get_course_state as one
// JSON-encoded string (plugin 2026113001). get_user_ids (plugin 2026113002) maps up to
// 5,000 usernames, a JSON array, to the ids of existing, not deleted, non-guest users
// through the username index, answered as one JSON string. get_course_rows (plugin
// 2026113004, state_rows.go) answers the states of up to 5,000 courses as positional
// rows, users and roles named once per answer. get_course_state takes up to 500 courses and lists the
// course's users with their last course access (SetLastCourseAccess); get_courses
// pages up to 5,000 and hides hidden courses without moodle/course:viewhiddencourses.
//
// # Storage and speed
//
// Tables are maps by id with the indexes a database has (by course, instance, user,
// group; unique keys for usernames, shortnames, idnumbers), so get_course_state costs
// the size of the courses asked for, not of the site. Transactions journal their
// writes and undo them on rollback. Reads share a read lock; writes and the admin API
// take it alone. get_course_state answers are encoded without reflection and kept per
// course until a write touches the course (the index functions drop the entry; writes
// to users, courses or cohorts drop all). get_course_rows writes its rows straight from
// the indexes, one lookup per row and one per user and answer, building no course
// state; get_courses pages through a sorted index of course ids. BenchmarkGetCourseState
// measures the cost per course on 1k, 3k and 10k-course sites, cold and warm;
// BenchmarkGetCourseRows the rows and catalogue as a whole-site plan asks for them;
// BenchmarkWrite the cost per local_enrolctl_write item.
//
// # Real Moodle behaviours imitated
//
// Each follows the Moodle 5.1 source named, and a test checks it.
//
//   - enrol_plugin (public/lib/enrollib.php): add_instance sorts the instance last and,
//     for cohort and meta, syncs the course at once; enrol_user/update_user_enrol write
//     only what differs; unenrol_user removes the plugin's roles and the group
//     memberships the plugin made (component enrol_<name>, itemid the instance) and,
//     on a user's last enrolment in the course, every course role and group membership,
//     and records a GradeDeletion (grade_user_unenrol); delete_instance unenrols every
//     participant, then removes the plugin's remaining memberships and roles. So
//     deleting a cohort or meta instance deletes the group memberships its sync made
//     (TestDeletingSyncedInstanceDeletesItsGroupMemberships).
//   - enrol_cohort_sync and enrol_meta_sync (public/enrol/{cohort,meta}/locallib.php),
//     including unenrolaction (cohort default UNENROL, meta default SUSPENDNOROLES) and
//     groups_sync_with_enrolment for customint2.
//   - The enrol_meta observers (classes/observer.php) run before a call returns: a
//     user's enrolment or role change in a parent course runs sync_with_parent_course
//     for that user (a user with no active parent enrolment is suspended with their
//     dates kept); an instance update runs the bulk enrol_meta_sync of the linked
//     courses (which resets those dates); RunMetaSyncTask is the hourly
//     \enrol_meta\task\enrol_meta_sync. Cohort membership changes sync every course with
//     an instance of that cohort (the enrol_cohort observers).
//   - enrol_database: RunDatabaseSyncTask is the scheduled task
//     \enrol_database\task\sync_enrolments (enrol_database_plugin::sync_enrolments)
//     over the table SetExternalEnrolments gives, with the plugin's default mapping
//     (course and user idnumber, role shortname, default role student) and
//     enrol_database/unenrolaction; an empty table unenrols nobody.
//   - The deadlock fault (SetDeadlockFaults): on PostgreSQL every enrolment change calls
//     mark_user_dirty(), which updates the user's mdl_cache_flags row inside the open
//     transaction, so concurrent writes touching the same users deadlock and one fails
//     with dml_write_exception (dmlwriteexception, 40P01 "deadlock detected").
//     Overlapping writes on a shared user fail that way (per course in
//     local_enrolctl_write); serialised writes never do.
//
// # For tests
//
// The admin API (AddCategory, AddCourse, AddUser, AddCohort, AddCohortMembers,
// AddInstance, Enrol, AssignRole, AddGroup, AddMember, SetPluginEnabled,
// SetCapabilities, SetWebServicesEnabled, SetDebug, SetUnenrolAction, UpdateUser,
// SetLastCourseAccess, SetExternalEnrolments) builds fixtures with the same side
// effects; RunMetaSyncTask and RunDatabaseSyncTask run the scheduled syncs; readers
// (CourseID, UserID, CohortID, GroupID, Instances, UserEnrolments, RoleAssignments,
// GroupMembers, GradeDeletions, Leases) inspect the tables. WriteCalls counts write
// calls per function, Requests is the request log (function, time, outcome; never the
// token). InjectFaults makes write calls fail before they apply (FaultException,
// FaultHTTP500, FaultTimeout) or lose their response after applying
// (FaultAfterWrite), deterministically from a seed; SetDeadlockFaults(window) turns on
// the deadlock fault (Deadlocks counts its victims).
package moodlesim
