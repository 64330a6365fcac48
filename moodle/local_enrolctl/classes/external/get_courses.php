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

use context_system;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use invalid_parameter_exception;
use local_enrolctl\local\course_reader;
use local_enrolctl\local\guard;

/**
 * local_enrolctl_get_courses: one page of every course, with its category path, in three queries.
 *
 * With withstatus (2.3.0) it also answers get_site_status: a client reading the site at the start of
 * a plan makes one request instead of two, and Moodle's bootstrap of a web-service request (about
 * 150 ms on a small server) is paid once. With shortnames (2.4.0) it also answers get_course_rows
 * of those courses, under 'rows': a plan, which knows the courses its specs name, then reads the
 * site and its first courses in one request, and the rest of the courses in one more sent at the
 * same time: two bootstraps instead of three.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_courses extends external_api {
    /** Largest page. */
    const MAXPERPAGE = 5000;

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'page' => new external_value(PARAM_INT, 'page number, from 0', VALUE_DEFAULT, 0),
            'perpage' => new external_value(PARAM_INT, 'courses per page (1..5000)', VALUE_DEFAULT, 500),
            'withstatus' => new external_value(
                PARAM_BOOL,
                'also answer get_site_status (2.3.0): one request, one bootstrap of Moodle, instead of two',
                VALUE_DEFAULT,
                false
            ),
            'shortnames' => new external_value(
                PARAM_RAW,
                'also answer get_course_rows of these courses (2.4.0): a JSON array of 1 to '
                    . get_course_rows::MAXCOURSES . ' course shortnames, or "" for none',
                VALUE_DEFAULT,
                ''
            ),
        ]);
    }

    /**
     * Courses ordered by id, site course excluded.
     *
     * @param int $page
     * @param int $perpage
     * @param bool $withstatus also answer get_site_status, under 'status'
     * @param string $shortnames also answer get_course_rows of these courses, under 'rows' ('' for none)
     * @return array
     */
    public static function execute(int $page = 0, int $perpage = 500, bool $withstatus = false, string $shortnames = ''): array {
        global $DB;
        $given = ['page' => $page, 'perpage' => $perpage, 'withstatus' => $withstatus, 'shortnames' => $shortnames];
        ['page' => $page, 'perpage' => $perpage, 'withstatus' => $withstatus, 'shortnames' => $shortnames] =
            self::validate_parameters(self::execute_parameters(), $given);
        if ($page < 0) {
            throw new invalid_parameter_exception('page must be 0 or more');
        }
        if ($perpage < 1 || $perpage > self::MAXPERPAGE) {
            throw new invalid_parameter_exception('perpage must be between 1 and ' . self::MAXPERPAGE);
        }
        guard::require_manage();
        $context = context_system::instance();
        require_capability('moodle/course:view', $context);

        // Hidden courses only for who may see them, as course listings do, and as a read by name.
        $params = ['siteid' => SITEID];
        $where = 'id <> :siteid' . course_reader::hidden_courses_sql();
        $total = $DB->count_records_select('course', $where, $params);
        $courses = $DB->get_records_select(
            'course',
            $where,
            $params,
            'id ASC',
            'id, shortname, fullname, idnumber, category, visible',
            $page * $perpage,
            $perpage
        );

        // Category names from the top, joined with " / ": one query for every category.
        $categories = $DB->get_records('course_categories', null, '', 'id, name, path');
        $paths = [];
        $out = [];
        foreach ($courses as $course) {
            $catid = (int)$course->category;
            if (!isset($paths[$catid])) {
                $names = [];
                if (isset($categories[$catid])) {
                    foreach (explode('/', trim($categories[$catid]->path, '/')) as $ancestor) {
                        if (isset($categories[$ancestor])) {
                            $names[] = $categories[$ancestor]->name;
                        }
                    }
                }
                $paths[$catid] = implode(' / ', $names);
            }
            $out[] = [
                'id' => (int)$course->id,
                'shortname' => $course->shortname,
                'fullname' => $course->fullname,
                'idnumber' => (string)$course->idnumber,
                'categoryid' => $catid,
                'categorypath' => $paths[$catid],
                'visible' => !empty($course->visible),
            ];
        }
        $result = ['total' => $total, 'courses' => $out];
        if ($withstatus) {
            $result['status'] = get_site_status::execute();
        }
        if ($shortnames !== '') {
            $result['rows'] = get_course_rows::answer('', $shortnames);
        }
        return $result;
    }

    /**
     * Return description.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'total' => new external_value(PARAM_INT, 'number of courses, site course excluded'),
            'courses' => new external_multiple_structure(new external_single_structure([
                'id' => new external_value(PARAM_INT, 'course id'),
                'shortname' => new external_value(PARAM_RAW, 'short name'),
                'fullname' => new external_value(PARAM_RAW, 'full name'),
                'idnumber' => new external_value(PARAM_RAW, 'id number'),
                'categoryid' => new external_value(PARAM_INT, 'category id'),
                'categorypath' => new external_value(PARAM_RAW, 'category names from the top, joined with " / "'),
                'visible' => new external_value(PARAM_BOOL, 'course visible'),
            ])),
            'status' => new external_single_structure(
                get_site_status::execute_returns()->keys,
                'what get_site_status answers, when withstatus',
                VALUE_OPTIONAL
            ),
            'rows' => new external_value(
                PARAM_RAW,
                'what get_course_rows answers for the shortnames, when given',
                VALUE_OPTIONAL
            ),
        ]);
    }
}
