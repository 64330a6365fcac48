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

use context_helper;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use dml_missing_record_exception;
use invalid_parameter_exception;
use local_enrolctl\local\guard;

/**
 * local_enrolctl_get_course_state: everything enrolctl compares with the desired state of courses.
 *
 * Seven SQL queries per call whatever the number of courses (courses with contexts, instances,
 * user enrolments, role assignments, groups, group members, users); capabilities are checked on the
 * preloaded contexts, whose access data is loaded once per request.
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
        global $DB;
        ['courseids' => $courseids] = self::validate_parameters(self::execute_parameters(), ['courseids' => $courseids]);
        if (count($courseids) < 1 || count($courseids) > self::MAXCOURSES) {
            throw new invalid_parameter_exception('courseids must hold 1 to ' . self::MAXCOURSES . ' course ids');
        }
        guard::require_manage();

        $ids = array_values(array_unique(array_map('intval', $courseids)));
        [$courses, $contexts] = self::check_courses($ids);
        [$insql, $params] = $DB->get_in_or_equal($ids, SQL_PARAMS_NAMED, 'c');
        // The users query names the course ids three times: named parameters cannot repeat.
        [$insql2, $params2] = $DB->get_in_or_equal($ids, SQL_PARAMS_NAMED, 'd');
        [$insql3, $params3] = $DB->get_in_or_equal($ids, SQL_PARAMS_NAMED, 'f');

        $state = [];
        foreach ($ids as $id) {
            $state[$id] = [
                'courseid' => $id,
                'shortname' => $courses[$id]->shortname,
                'instances' => [],
                'enrolments' => [],
                'roles' => [],
                'groups' => [],
                'members' => [],
                'users' => [],
            ];
        }

        // 2. Enrolment instances with the names of their role, cohort, linked course and group.
        $rs = $DB->get_recordset_sql(
            "SELECT e.id, e.courseid, e.enrol, e.status, e.name, e.sortorder, e.roleid, e.enrolperiod,
                    e.customint1, e.customint2, e.customint3,
                    r.shortname AS roleshortname, ch.idnumber AS cohortidnumber,
                    lc.shortname AS linkedcourseshortname, g.name AS groupname
               FROM {enrol} e
          LEFT JOIN {role} r ON r.id = e.roleid
          LEFT JOIN {cohort} ch ON e.enrol = 'cohort' AND ch.id = e.customint1
          LEFT JOIN {course} lc ON e.enrol = 'meta' AND lc.id = e.customint1
          LEFT JOIN {groups} g ON e.enrol IN ('cohort', 'meta') AND g.id = e.customint2 AND g.courseid = e.courseid
              WHERE e.courseid $insql
           ORDER BY e.courseid, e.sortorder, e.id",
            $params
        );
        foreach ($rs as $e) {
            $cohort = $e->enrol === 'cohort';
            $meta = $e->enrol === 'meta';
            $state[$e->courseid]['instances'][] = [
                'id' => (int)$e->id,
                'enrol' => $e->enrol,
                'status' => (int)$e->status,
                'name' => (string)$e->name,
                'sortorder' => (int)$e->sortorder,
                'roleid' => (int)$e->roleid,
                'roleshortname' => (string)$e->roleshortname,
                'cohortid' => $cohort ? (int)$e->customint1 : 0,
                'cohortidnumber' => $cohort ? (string)$e->cohortidnumber : '',
                'linkedcourseid' => $meta ? (int)$e->customint1 : 0,
                'linkedcourseshortname' => $meta ? (string)$e->linkedcourseshortname : '',
                'groupid' => ($cohort || $meta) ? max(0, (int)$e->customint2) : 0,
                'groupname' => ($cohort || $meta) ? (string)$e->groupname : '',
                'maxenrolled' => $e->enrol === 'self' ? (int)$e->customint3 : 0,
                'enrolperiod' => (int)$e->enrolperiod,
            ];
        }
        $rs->close();

        // 3. User enrolments.
        $rs = $DB->get_recordset_sql(
            "SELECT ue.id, e.courseid, ue.enrolid, ue.userid, u.username, ue.status, ue.timestart, ue.timeend
               FROM {user_enrolments} ue
               JOIN {enrol} e ON e.id = ue.enrolid
               JOIN {user} u ON u.id = ue.userid
              WHERE e.courseid $insql
           ORDER BY e.courseid, ue.enrolid, ue.userid",
            $params
        );
        foreach ($rs as $ue) {
            $state[$ue->courseid]['enrolments'][] = [
                'id' => (int)$ue->id,
                'instanceid' => (int)$ue->enrolid,
                'userid' => (int)$ue->userid,
                'username' => $ue->username,
                'status' => (int)$ue->status,
                'timestart' => (int)$ue->timestart,
                'timeend' => (int)$ue->timeend,
            ];
        }
        $rs->close();

        // 4. Role assignments in the course contexts (not in categories above or modules below).
        $bycontext = [];
        foreach ($contexts as $id => $context) {
            $bycontext[$context->id] = $id;
        }
        [$ctxsql, $ctxparams] = $DB->get_in_or_equal(array_keys($bycontext), SQL_PARAMS_NAMED, 'x');
        $rs = $DB->get_recordset_sql(
            "SELECT ra.id, ra.contextid, ra.userid, ra.roleid, r.shortname AS roleshortname, ra.component, ra.itemid
               FROM {role_assignments} ra
               JOIN {role} r ON r.id = ra.roleid
              WHERE ra.contextid $ctxsql
           ORDER BY ra.contextid, ra.userid, ra.roleid, ra.component, ra.itemid, ra.id",
            $ctxparams
        );
        foreach ($rs as $ra) {
            $state[$bycontext[$ra->contextid]]['roles'][] = [
                'userid' => (int)$ra->userid,
                'roleid' => (int)$ra->roleid,
                'roleshortname' => $ra->roleshortname,
                'component' => (string)$ra->component,
                'itemid' => (int)$ra->itemid,
            ];
        }
        $rs->close();

        // 5. Groups.
        $rs = $DB->get_recordset_sql(
            "SELECT g.id, g.courseid, g.name, g.idnumber
               FROM {groups} g
              WHERE g.courseid $insql
           ORDER BY g.courseid, g.name, g.id",
            $params
        );
        foreach ($rs as $g) {
            $state[$g->courseid]['groups'][] = [
                'id' => (int)$g->id,
                'name' => $g->name,
                'idnumber' => (string)$g->idnumber,
            ];
        }
        $rs->close();

        // 6. Group members.
        $rs = $DB->get_recordset_sql(
            "SELECT gm.id, g.courseid, gm.groupid, gm.userid, u.username, gm.component, gm.itemid
               FROM {groups_members} gm
               JOIN {groups} g ON g.id = gm.groupid
               JOIN {user} u ON u.id = gm.userid
              WHERE g.courseid $insql
           ORDER BY g.courseid, gm.groupid, gm.userid",
            $params
        );
        foreach ($rs as $m) {
            $state[$m->courseid]['members'][] = [
                'groupid' => (int)$m->groupid,
                'userid' => (int)$m->userid,
                'username' => $m->username,
                'component' => (string)$m->component,
                'itemid' => (int)$m->itemid,
            ];
        }
        $rs->close();

        // 7. Every user appearing in the courses' enrolments, roles or members, with their last access
        // to that course, so clients need no username look-up.
        $rs = $DB->get_recordset_sql(
            "SELECT x.courseid, u.id, u.username, u.firstname, u.lastname, u.email, u.idnumber, u.suspended,
                    COALESCE(la.timeaccess, 0) AS lastcourseaccess
               FROM (SELECT e.courseid, ue.userid
                       FROM {user_enrolments} ue
                       JOIN {enrol} e ON e.id = ue.enrolid
                      WHERE e.courseid $insql
                      UNION
                     SELECT ctx.instanceid AS courseid, ra.userid
                       FROM {role_assignments} ra
                       JOIN {context} ctx ON ctx.id = ra.contextid AND ctx.contextlevel = :rlevel
                      WHERE ctx.instanceid $insql2
                      UNION
                     SELECT g.courseid, gm.userid
                       FROM {groups_members} gm
                       JOIN {groups} g ON g.id = gm.groupid
                      WHERE g.courseid $insql3) x
               JOIN {user} u ON u.id = x.userid
          LEFT JOIN {user_lastaccess} la ON la.userid = x.userid AND la.courseid = x.courseid
           ORDER BY x.courseid, u.id",
            $params + $params2 + $params3 + ['rlevel' => CONTEXT_COURSE]
        );
        foreach ($rs as $u) {
            $state[$u->courseid]['users'][] = [
                'id' => (int)$u->id,
                'username' => $u->username,
                'firstname' => (string)$u->firstname,
                'lastname' => (string)$u->lastname,
                'email' => (string)$u->email,
                'idnumber' => (string)$u->idnumber,
                'lastcourseaccess' => (int)$u->lastcourseaccess,
                'suspended' => (int)$u->suspended,
            ];
        }
        $rs->close();

        $out = [];
        foreach ($courseids as $id) {
            $out[] = $state[(int)$id];
        }
        return $out;
    }

    /**
     * The courses with their contexts, after checking that each exists (the site course does not)
     * and that the user may review its enrolments (and see it, when hidden): query 1 of the seven,
     * shared with get_course_rows.
     *
     * @param int[] $ids distinct course ids
     * @return array [course records by id, course contexts by id]
     */
    public static function check_courses(array $ids): array {
        global $DB;
        [$insql, $params] = $DB->get_in_or_equal($ids, SQL_PARAMS_NAMED, 'c');
        $ctxfields = context_helper::get_preload_record_columns_sql('ctx');
        $courses = $DB->get_records_sql(
            "SELECT c.id, c.shortname, c.visible, $ctxfields
               FROM {course} c
               JOIN {context} ctx ON ctx.instanceid = c.id AND ctx.contextlevel = :courselevel
              WHERE c.id $insql AND c.id <> :siteid",
            $params + ['courselevel' => CONTEXT_COURSE, 'siteid' => SITEID]
        );
        $contexts = [];
        foreach ($ids as $id) {
            if (!isset($courses[$id])) {
                // The same error a MUST_EXIST read of the course gives (invalidrecord / invalidrecordunknown).
                throw new dml_missing_record_exception('course', 'SELECT * FROM {course} WHERE id = ?', [$id]);
            }
            context_helper::preload_from_record($courses[$id]);
            $contexts[$id] = \context_course::instance($id);
        }
        foreach ($ids as $id) {
            // The enrolment methods and participants pages need enrolreview; a hidden course needs viewhiddencourses.
            require_capability('moodle/course:enrolreview', $contexts[$id]);
            if (empty($courses[$id]->visible)) {
                require_capability('moodle/course:viewhiddencourses', $contexts[$id]);
            }
        }
        return [$courses, $contexts];
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
