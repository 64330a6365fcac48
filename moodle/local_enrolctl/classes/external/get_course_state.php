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

namespace local_enrolctl\external;

use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use invalid_parameter_exception;
use local_enrolctl\local\course_reader;
use local_enrolctl\local\guard;

/**
 * local_enrolctl_get_course_state: everything enrolctl compares with the desired state of courses.
 *
 * local\course_reader's rows with their fields named: a constant number of SQL queries per call
 * whatever the number of courses; capabilities are checked on the preloaded contexts, whose access
 * data is loaded once per request.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_course_state extends external_api {
    /** Most courses per call. */
    const MAXCOURSES = 500;

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courseids' => new external_multiple_structure(
                new external_value(PARAM_INT, 'course id'),
                'course ids (1..500)'
            ),
        ]);
    }

    /**
     * One state item per requested course, in request order.
     *
     * @param int[] $courseids
     * @return array
     */
    public static function execute(array $courseids): array {
        ['courseids' => $courseids] = self::validate_parameters(self::execute_parameters(), ['courseids' => $courseids]);
        if (count($courseids) < 1 || count($courseids) > self::MAXCOURSES) {
            throw new invalid_parameter_exception('courseids must hold 1 to ' . self::MAXCOURSES . ' course ids');
        }
        guard::require_manage();

        $read = course_reader::read(array_values(array_unique(array_map('intval', $courseids))));
        $roles = $read['roles'];
        $users = $read['users'];
        $out = [];
        foreach ($courseids as $id) {
            $out[] = self::named(course_reader::decoded($read['courses'][(int)$id]), $roles, $users);
        }
        return $out;
    }

    /**
     * A course row of course_reader with its fields named, and the names of its roles and users.
     *
     * @param array $row course_reader's row of the course
     * @param array $roles role shortnames by id
     * @param array $users user accounts by id, as course_reader gives them
     * @return array the course's get_course_state item
     */
    private static function named(array $row, array $roles, array $users): array {
        [$courseid, $shortname, $instances, $enrolments, $roleassignments, $groups, $members, $courseusers] = $row;
        $item = ['courseid' => $courseid, 'shortname' => $shortname, 'instances' => [], 'enrolments' => [],
            'roles' => [], 'groups' => [], 'members' => [], 'users' => []];
        foreach ($instances as $instance) {
            [$id, $enrol, $status, $name, $sortorder, $roleid, $cohortid, $cohortidnumber,
                $linkedcourseid, $linkedcourseshortname, $groupid, $groupname, $maxenrolled, $enrolperiod] = $instance;
            $item['instances'][] = ['id' => $id, 'enrol' => $enrol, 'status' => $status, 'name' => $name,
                'sortorder' => $sortorder, 'roleid' => $roleid, 'roleshortname' => (string)($roles[$roleid] ?? ''),
                'cohortid' => $cohortid, 'cohortidnumber' => $cohortidnumber, 'linkedcourseid' => $linkedcourseid,
                'linkedcourseshortname' => $linkedcourseshortname, 'groupid' => $groupid, 'groupname' => $groupname,
                'maxenrolled' => $maxenrolled, 'enrolperiod' => $enrolperiod];
        }
        foreach ($enrolments as [$id, $instanceid, $userid, $status, $timestart, $timeend]) {
            $item['enrolments'][] = ['id' => $id, 'instanceid' => $instanceid, 'userid' => $userid,
                'username' => $users[$userid][1], 'status' => $status, 'timestart' => $timestart, 'timeend' => $timeend];
        }
        foreach ($roleassignments as [$userid, $roleid, $component, $itemid]) {
            $item['roles'][] = ['userid' => $userid, 'roleid' => $roleid, 'roleshortname' => $roles[$roleid],
                'component' => $component, 'itemid' => $itemid];
        }
        foreach ($groups as [$id, $name, $idnumber]) {
            $item['groups'][] = ['id' => $id, 'name' => $name, 'idnumber' => $idnumber];
        }
        foreach ($members as [$groupid, $userid, $component, $itemid]) {
            $item['members'][] = ['groupid' => $groupid, 'userid' => $userid, 'username' => $users[$userid][1],
                'component' => $component, 'itemid' => $itemid];
        }
        foreach ($courseusers as [$userid, $lastcourseaccess]) {
            [, $username, $firstname, $lastname, $email, $idnumber, $suspended] = $users[$userid];
            $item['users'][] = ['id' => $userid, 'username' => $username, 'firstname' => $firstname,
                'lastname' => $lastname, 'email' => $email, 'idnumber' => $idnumber,
                'lastcourseaccess' => $lastcourseaccess, 'suspended' => $suspended];
        }
        return $item;
    }

    /**
     * Return description.
     *
     * @return external_multiple_structure
     */
    public static function execute_returns(): external_multiple_structure {
        return new external_multiple_structure(new external_single_structure([
            'courseid' => new external_value(PARAM_INT, 'course id'),
            'shortname' => new external_value(PARAM_RAW, 'course short name'),
            'instances' => new external_multiple_structure(new external_single_structure([
                'id' => new external_value(PARAM_INT, 'instance id'),
                'enrol' => new external_value(PARAM_PLUGIN, 'enrolment method'),
                'status' => new external_value(PARAM_INT, '0 enabled, 1 disabled'),
                'name' => new external_value(PARAM_RAW, 'raw instance name, "" when none'),
                'sortorder' => new external_value(PARAM_INT, 'order in the course'),
                'roleid' => new external_value(PARAM_INT, 'role id, 0 when none'),
                'roleshortname' => new external_value(PARAM_RAW, 'role short name, "" when none'),
                'cohortid' => new external_value(PARAM_INT, 'cohort id (cohort), else 0'),
                'cohortidnumber' => new external_value(PARAM_RAW, 'cohort id number (cohort), else ""'),
                'linkedcourseid' => new external_value(PARAM_INT, 'linked course id (meta), else 0'),
                'linkedcourseshortname' => new external_value(PARAM_RAW, 'linked course short name (meta), else ""'),
                'groupid' => new external_value(PARAM_INT, 'group id (cohort, meta), else 0'),
                'groupname' => new external_value(PARAM_RAW, 'group name (cohort, meta), else ""'),
                'maxenrolled' => new external_value(PARAM_INT, 'maximum enrolled users (self), else 0'),
                'enrolperiod' => new external_value(PARAM_INT, 'default enrolment duration in seconds'),
            ])),
            'enrolments' => new external_multiple_structure(new external_single_structure([
                'id' => new external_value(PARAM_INT, 'user enrolment id'),
                'instanceid' => new external_value(PARAM_INT, 'instance id'),
                'userid' => new external_value(PARAM_INT, 'user id'),
                'username' => new external_value(PARAM_RAW, 'user name'),
                'status' => new external_value(PARAM_INT, '0 active, 1 suspended'),
                'timestart' => new external_value(PARAM_INT, 'start time, 0 when none'),
                'timeend' => new external_value(PARAM_INT, 'end time, 0 when none'),
            ])),
            'roles' => new external_multiple_structure(new external_single_structure([
                'userid' => new external_value(PARAM_INT, 'user id'),
                'roleid' => new external_value(PARAM_INT, 'role id'),
                'roleshortname' => new external_value(PARAM_RAW, 'role short name'),
                'component' => new external_value(PARAM_RAW, '"" for plain roles, else the owning plugin'),
                'itemid' => new external_value(PARAM_INT, 'owning instance id, 0 for plain roles'),
            ])),
            'groups' => new external_multiple_structure(new external_single_structure([
                'id' => new external_value(PARAM_INT, 'group id'),
                'name' => new external_value(PARAM_RAW, 'group name'),
                'idnumber' => new external_value(PARAM_RAW, 'group id number'),
            ])),
            'members' => new external_multiple_structure(new external_single_structure([
                'groupid' => new external_value(PARAM_INT, 'group id'),
                'userid' => new external_value(PARAM_INT, 'user id'),
                'username' => new external_value(PARAM_RAW, 'user name'),
                'component' => new external_value(PARAM_RAW, '"" for plain memberships, else the owning plugin'),
                'itemid' => new external_value(PARAM_INT, 'owning instance id, 0 for plain memberships'),
            ])),
            'users' => new external_multiple_structure(new external_single_structure([
                'id' => new external_value(PARAM_INT, 'user id'),
                'username' => new external_value(PARAM_RAW, 'user name'),
                'firstname' => new external_value(PARAM_RAW, 'first name'),
                'lastname' => new external_value(PARAM_RAW, 'last name'),
                'email' => new external_value(PARAM_RAW, 'e-mail address'),
                'idnumber' => new external_value(PARAM_RAW, 'id number'),
                'lastcourseaccess' => new external_value(PARAM_INT, 'last access to this course, 0 never'),
                'suspended' => new external_value(PARAM_INT, '1 when the account is suspended (auth level)'),
            ]), 'every user of the enrolments, roles and members, by id'),
        ]));
    }
}
