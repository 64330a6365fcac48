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
use core_external\external_value;
use local_enrolctl\local\guard;

/**
 * local_enrolctl_get_course_rows: get_course_state of up to 5,000 courses as positional rows.
 *
 * What get_course_state answers, with less work per row for PHP and the client: each row is a list
 * of values in a fixed order (docs/contract.md) rather than an object with named fields, usernames
 * and role names are not repeated on every enrolment, role assignment and membership but given once
 * per answer (users, roles), and the course ids travel as one JSON string, so neither
 * max_input_vars nor the return-value check scales with the batch. Eight queries per call, whatever
 * the number of courses.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_course_rows extends external_api {
    /** Most courses per call. */
    const MAXCOURSES = 5000;

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courseids' => new external_value(PARAM_RAW, 'JSON array of 1 to ' . self::MAXCOURSES . ' course ids'),
        ]);
    }

    /**
     * The courses' rows, JSON-encoded: {"roles": [...], "users": [...], "courses": [...]}.
     *
     * @param string $courseids JSON array of course ids
     * @return string
     */
    public static function execute(string $courseids): string {
        global $DB;
        ['courseids' => $courseids] = self::validate_parameters(self::execute_parameters(), ['courseids' => $courseids]);
        try {
            $requested = json_decode($courseids, false, 2, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            $requested = null;
        }
        if (!is_array($requested) || array_filter($requested, fn($id) => !is_int($id))) {
            throw guard::error('invalidpayload', 'courseids is not a JSON array of course ids');
        }
        if (count($requested) < 1 || count($requested) > self::MAXCOURSES) {
            throw guard::error('invalidpayload', count($requested) . ' course ids, from 1 to ' . self::MAXCOURSES . ' per call');
        }
        guard::require_manage();
        // 5,000 courses of a large site hold about 150,000 enrolments.
        \core_php_time_limit::raise();
        raise_memory_limit(MEMORY_EXTRA);

        $ids = array_values(array_unique($requested));
        [$courses, $contexts] = get_course_state::check_courses($ids);
        [$insql, $params] = $DB->get_in_or_equal($ids, SQL_PARAMS_NAMED, 'c');
        [$insql2, $params2] = $DB->get_in_or_equal($ids, SQL_PARAMS_NAMED, 'd');
        [$insql3, $params3] = $DB->get_in_or_equal($ids, SQL_PARAMS_NAMED, 'f');

        // One row per course: id, shortname, then its instances, enrolments, roles, groups, members, users.
        $state = [];
        foreach ($ids as $id) {
            $state[$id] = [$id, $courses[$id]->shortname, [], [], [], [], [], []];
        }

        // Every role, so that rows name roles by id.
        $roles = [];
        foreach ($DB->get_records('role', null, 'id', 'id, shortname') as $r) {
            $roles[] = [(int)$r->id, $r->shortname];
        }

        // Instances.
        $rs = $DB->get_recordset_sql(
            "SELECT e.id, e.courseid, e.enrol, e.status, e.name, e.sortorder, e.roleid, e.enrolperiod,
                    e.customint1, e.customint2, e.customint3,
                    ch.idnumber AS cohortidnumber, lc.shortname AS linkedcourseshortname, g.name AS groupname
               FROM {enrol} e
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
            $state[$e->courseid][2][] = [
                (int)$e->id, $e->enrol, (int)$e->status, (string)$e->name, (int)$e->sortorder, (int)$e->roleid,
                $cohort ? (int)$e->customint1 : 0, $cohort ? (string)$e->cohortidnumber : '',
                $meta ? (int)$e->customint1 : 0, $meta ? (string)$e->linkedcourseshortname : '',
                ($cohort || $meta) ? max(0, (int)$e->customint2) : 0, ($cohort || $meta) ? (string)$e->groupname : '',
                $e->enrol === 'self' ? (int)$e->customint3 : 0, (int)$e->enrolperiod,
            ];
        }
        $rs->close();

        // User enrolments.
        $rs = $DB->get_recordset_sql(
            "SELECT ue.id, e.courseid, ue.enrolid, ue.userid, ue.status, ue.timestart, ue.timeend
               FROM {user_enrolments} ue
               JOIN {enrol} e ON e.id = ue.enrolid
               JOIN {user} u ON u.id = ue.userid
              WHERE e.courseid $insql
           ORDER BY e.courseid, ue.enrolid, ue.userid",
            $params
        );
        foreach ($rs as $ue) {
            $state[$ue->courseid][3][] = [(int)$ue->id, (int)$ue->enrolid, (int)$ue->userid, (int)$ue->status,
                (int)$ue->timestart, (int)$ue->timeend];
        }
        $rs->close();

        // Role assignments in the course contexts.
        $bycontext = [];
        foreach ($contexts as $id => $context) {
            $bycontext[$context->id] = $id;
        }
        [$ctxsql, $ctxparams] = $DB->get_in_or_equal(array_keys($bycontext), SQL_PARAMS_NAMED, 'x');
        $rs = $DB->get_recordset_sql(
            "SELECT ra.id, ra.contextid, ra.userid, ra.roleid, ra.component, ra.itemid
               FROM {role_assignments} ra
               JOIN {role} r ON r.id = ra.roleid
              WHERE ra.contextid $ctxsql
           ORDER BY ra.contextid, ra.userid, ra.roleid, ra.component, ra.itemid, ra.id",
            $ctxparams
        );
        foreach ($rs as $ra) {
            $state[$bycontext[$ra->contextid]][4][] = [(int)$ra->userid, (int)$ra->roleid, (string)$ra->component,
                (int)$ra->itemid];
        }
        $rs->close();

        // Groups.
        $rs = $DB->get_recordset_sql(
            "SELECT g.id, g.courseid, g.name, g.idnumber
               FROM {groups} g
              WHERE g.courseid $insql
           ORDER BY g.courseid, g.name, g.id",
            $params
        );
        foreach ($rs as $g) {
            $state[$g->courseid][5][] = [(int)$g->id, $g->name, (string)$g->idnumber];
        }
        $rs->close();

        // Group members.
        $rs = $DB->get_recordset_sql(
            "SELECT gm.id, g.courseid, gm.groupid, gm.userid, gm.component, gm.itemid
               FROM {groups_members} gm
               JOIN {groups} g ON g.id = gm.groupid
               JOIN {user} u ON u.id = gm.userid
              WHERE g.courseid $insql
           ORDER BY g.courseid, gm.groupid, gm.userid",
            $params
        );
        foreach ($rs as $m) {
            $state[$m->courseid][6][] = [(int)$m->groupid, (int)$m->userid, (string)$m->component, (int)$m->itemid];
        }
        $rs->close();

        // Every user of the courses' enrolments, roles or members: their account once, their last
        // access per course.
        $users = [];
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
            $id = (int)$u->id;
            if (!isset($users[$id])) {
                $users[$id] = [$id, $u->username, (string)$u->firstname, (string)$u->lastname, (string)$u->email,
                    (string)$u->idnumber, (int)$u->suspended];
            }
            $state[$u->courseid][7][] = [$id, (int)$u->lastcourseaccess];
        }
        $rs->close();
        ksort($users);

        $out = [];
        foreach ($requested as $id) {
            $out[] = $state[$id];
        }
        // Invalid UTF-8 in a name becomes U+FFFD rather than failing the whole read.
        return json_encode(
            ['roles' => $roles, 'users' => array_values($users), 'courses' => $out],
            JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR
        );
    }

    /**
     * Return description.
     *
     * @return external_value
     */
    public static function execute_returns(): external_value {
        return new external_value(PARAM_RAW, 'JSON object: roles, users, then one row per requested course, in request order');
    }
}
