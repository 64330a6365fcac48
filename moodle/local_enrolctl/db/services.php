<?php
// This file is part of Moodle - http://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <http://www.gnu.org/licenses/>.

/**
 * Web-service functions and the two services of the enrolctl contract.
 *
 * The 'capabilities' keys are documentation only; every function checks its capabilities itself.
 * Bump version.php after any change here so the upgrade re-registers the functions.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$functions = [
    'local_enrolctl_get_site_status' => [
        'classname' => \local_enrolctl\external\get_site_status::class,
        'description' => 'Plugin and Moodle versions, enabled enrolment plugins, site time zone and roles.',
        'type' => 'read',
        'capabilities' => '',
    ],
    'local_enrolctl_get_courses' => [
        'classname' => \local_enrolctl\external\get_courses::class,
        'description' => 'One page of all courses (site course excluded) with their category path.',
        'type' => 'read',
        'capabilities' => 'moodle/course:view',
    ],
    'local_enrolctl_get_course_state' => [
        'classname' => \local_enrolctl\external\get_course_state::class,
        'description' => 'Enrolment instances, user enrolments, course roles, groups and group members of courses.',
        'type' => 'read',
        'capabilities' => 'moodle/course:enrolreview',
    ],
    'local_enrolctl_get_course_state_json' => [
        'classname' => \local_enrolctl\external\get_course_state_json::class,
        'description' => 'get_course_state as one JSON-encoded string: no per-value return check, for large reads.',
        'type' => 'read',
        'capabilities' => 'moodle/course:enrolreview',
    ],
    'local_enrolctl_get_course_rows' => [
        'classname' => \local_enrolctl\external\get_course_rows::class,
        'description' => 'get_course_state of up to 5,000 courses as positional rows in one JSON string.',
        'type' => 'read',
        'capabilities' => 'moodle/course:enrolreview',
    ],
    'local_enrolctl_get_user_ids' => [
        'classname' => \local_enrolctl\external\get_user_ids::class,
        'description' => 'Usernames to user ids (not deleted, not the guest), as one JSON string.',
        'type' => 'read',
        'capabilities' => 'moodle/user:viewdetails',
    ],
    'local_enrolctl_add_instances' => [
        'classname' => \local_enrolctl\external\add_instances::class,
        'description' => 'Add manual, self, guest, cohort or meta enrolment instances.',
        'type' => 'write',
        'capabilities' => 'moodle/course:enrolconfig, enrol/manual:config, enrol/self:config, enrol/guest:config, '
            . 'enrol/cohort:config, enrol/meta:config, enrol/meta:selectaslinked',
    ],
    'local_enrolctl_update_instances' => [
        'classname' => \local_enrolctl\external\update_instances::class,
        'description' => 'Change name, status, role, group or maximum enrolled users of enrolment instances.',
        'type' => 'write',
        'capabilities' => 'moodle/course:enrolconfig, enrol/manual:config, enrol/self:config, enrol/guest:config, '
            . 'enrol/cohort:config, enrol/meta:config',
    ],
    'local_enrolctl_delete_instances' => [
        'classname' => \local_enrolctl\external\delete_instances::class,
        'description' => 'Delete enrolment instances, unenrolling their participants.',
        'type' => 'write',
        'capabilities' => 'moodle/course:enrolconfig, enrol/manual:config, enrol/self:config, enrol/guest:config, '
            . 'enrol/cohort:config, enrol/meta:config',
    ],
    'local_enrolctl_set_enrolments' => [
        'classname' => \local_enrolctl\external\set_enrolments::class,
        'description' => 'Make user enrolments in manual or self instances match a desired state (dates, status, role).',
        'type' => 'write',
        'capabilities' => 'enrol/manual:enrol, enrol/manual:manage, enrol/self:manage, moodle/role:assign',
    ],
    'local_enrolctl_unenrol_users' => [
        'classname' => \local_enrolctl\external\unenrol_users::class,
        'description' => 'Unenrol users from manual or self instances.',
        'type' => 'write',
        'capabilities' => 'enrol/manual:unenrol, enrol/self:unenrol',
    ],
    'local_enrolctl_write' => [
        'classname' => \local_enrolctl\external\write::class,
        'description' => 'Items of one operation across courses (JSON), one transaction per course, per-course results.',
        'type' => 'write',
        'capabilities' => 'local/enrolctl:manage, and per item those of the v1 function or moodle/course:managegroups',
    ],
    'local_enrolctl_acquire_lease' => [
        'classname' => \local_enrolctl\external\acquire_lease::class,
        'description' => 'Take or renew a named lease (one apply at a time), or tell who holds it.',
        'type' => 'write',
        'capabilities' => 'local/enrolctl:manage',
    ],
    'local_enrolctl_release_lease' => [
        'classname' => \local_enrolctl\external\release_lease::class,
        'description' => 'Give up a named lease held by the caller.',
        'type' => 'write',
        'capabilities' => 'local/enrolctl:manage',
    ],
];

// Every function also requires local/enrolctl:manage in the system context (checked in the function
// and, for tokens of these services, by the service's requiredcapability before the function runs).
// (array_map, not a foreach: Moodle includes this file inside functions whose local variables a
// loop variable would overwrite.)
$functions = array_map(
    fn(array $f): array => ['capabilities' => trim('local/enrolctl:manage, ' . $f['capabilities'], ', ')] + $f,
    $functions
);

// What the enrolctl reconciler calls in production.
$enrolctlfunctions = [
    'local_enrolctl_get_site_status',
    'local_enrolctl_get_courses',
    'local_enrolctl_get_course_state',
    'local_enrolctl_get_course_state_json',
    'local_enrolctl_get_course_rows',
    'local_enrolctl_get_user_ids',
    'local_enrolctl_add_instances',
    'local_enrolctl_update_instances',
    'local_enrolctl_delete_instances',
    'local_enrolctl_set_enrolments',
    'local_enrolctl_unenrol_users',
    'local_enrolctl_write',
    'local_enrolctl_acquire_lease',
    'local_enrolctl_release_lease',
    'core_webservice_get_site_info',
    'core_user_get_users_by_field',
    'core_cohort_search_cohorts',
    'core_group_create_groups',
    'core_group_add_group_members',
    'core_group_delete_group_members',
];

// What planning reads: a token of this service cannot change anything, whatever its user may do.
$enrolctlreadfunctions = [
    'local_enrolctl_get_site_status',
    'local_enrolctl_get_courses',
    'local_enrolctl_get_course_state',
    'local_enrolctl_get_course_state_json',
    'local_enrolctl_get_course_rows',
    'local_enrolctl_get_user_ids',
    'core_webservice_get_site_info',
    'core_user_get_users_by_field',
    'core_cohort_search_cohorts',
];

$services = [
    'enrolctl' => [
        'shortname' => 'enrolctl',
        'functions' => $enrolctlfunctions,
        'enabled' => 1,
        'restrictedusers' => 0,
        'requiredcapability' => 'local/enrolctl:manage',
        'downloadfiles' => 0,
        'uploadfiles' => 0,
    ],
    // For merge-request and drift jobs, which only plan (docs/ci.md).
    'enrolctl_read' => [
        'shortname' => 'enrolctl_read',
        'functions' => $enrolctlreadfunctions,
        'enabled' => 1,
        'restrictedusers' => 0,
        'requiredcapability' => 'local/enrolctl:manage',
        'downloadfiles' => 0,
        'uploadfiles' => 0,
    ],
    // Only for the end-to-end suite on a throw-away site: it can create users, courses and cohorts.
    'enrolctl_testing' => [
        'shortname' => 'enrolctl_testing',
        'functions' => array_merge($enrolctlfunctions, [
            'core_user_create_users',
            'core_course_create_categories',
            'core_course_create_courses',
            'core_cohort_create_cohorts',
            'core_cohort_add_cohort_members',
            'core_cohort_delete_cohort_members',
            'enrol_manual_enrol_users',
            'core_enrol_get_enrolled_users',
        ]),
        'enabled' => 0,
        'restrictedusers' => 0,
        'requiredcapability' => 'local/enrolctl:manage',
        'downloadfiles' => 0,
        'uploadfiles' => 0,
    ],
];
