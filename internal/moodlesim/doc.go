// Package moodlesim is an in-memory Moodle 5.1 with the local_enrolctl plugin installed,
// speaking Moodle's REST web-service protocol with Moodle's semantics. It backs the
// sandbox (the embedded Moodle enrolctl uses when no site is configured), the unit tests
// and the end-to-end suite. docs/contract.md is the contract it serves; where it and a
// real Moodle disagree, the real Moodle is right.
//
// # Entry points
//
//   - New(Options) *Sim: an empty site (site course, guest and admin users, standard
//     roles 1 manager … 8 frontpage, plugins manual,guest,self,cohort,meta,database).
//   - DemoSite() *Sim: a deterministic French university (categories, ~30 courses,
//     ~1,200 students, teachers, cohorts, database/cohort/manual/self instances, groups).
//   - GenerateSite(SiteSize{Courses: 10000}) *Sim: a realistic generated university for
//     benchmarks (Site1k, Site3k, Site10k; ~30 enrolments per course, categories,
//     cohorts, database/cohort/meta/manual/self methods, groups, shared users), token
//     "bench"; (*Sim).CourseIDs lists its courses.
//   - (*Sim).Handler() http.Handler: serves /webservice/rest/server.php.
//     Options.Latency / SetLatency add a per-call delay (e.g. 20 ms) outside the lock.
//   - (*Sim).AddToken(token, service, username): ServiceEnrolctl or ServiceTesting as
//     the plugin declares them, or ServiceAll (simulator only: also
//     enrol_manual_unenrol_users, enrol_meta_add_instances, core_cohort_get_cohorts,
//     core_cohort_get_cohort_members, core_group_get_course_groups).
//   - AddTokenWithout(token, service, username, capabilities...): a non-admin manager
//     lacking those capabilities (ManagerCapabilities minus them), to check refusals.
//   - Save(w) / Load(r): the whole site as JSON, stable order (the sandbox file;
//     format 2 adds user_lastaccess and leases, format 1 files still load).
//
// # Contract v2
//
// local_enrolctl_write (write.go) validates the whole JSON payload first
// (invalidpayload), then runs each course's items in their own transaction and answers
// one result per course; every operation is idempotent. The apply lease (lease.go)
// uses the simulator's clock (Options.Now, SetClock). get_course_state lists the
// course's users with their last course access (SetLastCourseAccess). Every
// local_enrolctl function requires local/enrolctl:manage. SetDeadlockFaults(window)
// makes overlapping writes that touch the same user fail as PostgreSQL's deadlock
// victim (dmlwriteexception), per course in local_enrolctl_write (deadlock.go).
//
// # Storage and speed
//
// Tables are maps by id with the indexes a database has (store.go): by course, by
// instance, by user, by group, unique keys for usernames, shortnames and idnumbers,
// so get_course_state costs the size of the courses asked for, not of the site.
// Transactions journal their writes and undo them on rollback. Reads share a
// read lock; writes and the admin API take it alone.
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
// service, or a token user without local/enrolctl:manage (both services' required
// capability): accessexception; unknown function: invalidrecord (debug) or
// invalidrecordunknown. Write functions run in one transaction: on error the site is
// restored as it was (enrol_meta_add_instances is not transactional, as in Moodle).
// Site admins bypass capability checks; other token users hold only the capabilities
// SetCapabilities gave them (webservice/rest:use first, else accessexception), and a
// role is assignable for them only with moodle/role:assign.
//
// # Semantics
//
// The enrol_plugin API (enrol.go): add_instance sorts the instance last and syncs cohort
// and meta courses at once; enrol_user/update_user_enrol write only what differs;
// unenrol_user removes the plugin's roles and groups and, on a user's last enrolment in
// the course, every course role and group membership and records a GradeDeletion;
// delete_instance unenrols everyone. enrol_cohort_sync and enrol_meta_sync follow
// public/enrol/{cohort,meta}/locallib.php, including unenrolaction (cohort default
// UNENROL, meta default SUSPENDNOROLES). The enrol_meta observers run before a call
// returns: a user's enrolment or role change in a parent course runs
// sync_with_parent_course for that user (a user with no active parent enrolment is
// suspended with their dates kept), an instance update runs the bulk enrol_meta_sync of
// the linked courses (which resets those dates). Cohort membership changes sync every
// course with an instance of that cohort.
//
// # For tests
//
// The admin API (AddCategory, AddCourse, AddUser, AddCohort, AddCohortMembers,
// AddInstance, Enrol, AssignRole, AddGroup, AddMember, SetPluginEnabled, SetCapabilities,
// SetWebServicesEnabled, SetDebug, SetUnenrolAction, UpdateUser) builds fixtures with
// the same side effects; RunMetaSyncTask runs the hourly enrol_meta sync task; readers (CourseID, UserID, CohortID, GroupID, Instances,
// UserEnrolments, RoleAssignments, GroupMembers, GradeDeletions) inspect the tables.
// WriteCalls counts write calls per function, Requests is the request log (function,
// time, outcome; never the token). InjectFaults makes write calls fail before they
// apply (FaultException, FaultHTTP500, FaultTimeout) or lose their response after
// applying (FaultAfterWrite), deterministically from a seed.
package moodlesim
