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
use local_enrolctl\local\course_reader;
use local_enrolctl\local\guard;

/**
 * local_enrolctl_get_course_rows: get_course_state of up to 5,000 courses as positional rows.
 *
 * What get_course_state answers, with less work per row for PHP and the client: each row is a list
 * of values in a fixed order (docs/contract.md) rather than an object with named fields, usernames
 * and role names are not repeated on every enrolment, role assignment and membership but given once
 * per answer (users, roles), and the course ids travel as one JSON string, so neither
 * max_input_vars nor the return-value check scales with the batch. The queries are
 * local\course_reader's, shared with get_course_state: a constant number per call.
 *
 * Since 2.2.0 the courses may be named by shortname instead of id (the names a client's specs
 * hold, asked for before it has read the catalogue): those the site lacks are left out, as are
 * hidden courses the catalogue (get_courses) does not list for the user.
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
            'courseids' => new external_value(
                PARAM_RAW,
                'JSON array of 1 to ' . self::MAXCOURSES . ' course ids (or shortnames instead)',
                VALUE_DEFAULT,
                ''
            ),
            'shortnames' => new external_value(
                PARAM_RAW,
                'JSON array of 1 to ' . self::MAXCOURSES . ' course shortnames, instead of courseids: '
                    . 'the courses the site lacks (or the catalogue hides from the user) are left out',
                VALUE_DEFAULT,
                ''
            ),
        ]);
    }

    /**
     * The courses' rows, JSON-encoded: {"roles": [...], "users": [...], "courses": [...]}.
     *
     * @param string $courseids JSON array of course ids ('' when shortnames are given)
     * @param string $shortnames JSON array of course shortnames ('' when course ids are given)
     * @return string
     */
    public static function execute(string $courseids = '', string $shortnames = ''): string {
        ['courseids' => $courseids, 'shortnames' => $shortnames] = self::validate_parameters(
            self::execute_parameters(),
            ['courseids' => $courseids, 'shortnames' => $shortnames]
        );
        return self::answer($courseids, $shortnames);
    }

    /**
     * The answer of execute() to parameters already validated: get_courses answers it too.
     *
     * @param string $courseids JSON array of course ids ('' when shortnames are given)
     * @param string $shortnames JSON array of course shortnames ('' when course ids are given)
     * @return string
     */
    public static function answer(string $courseids, string $shortnames): string {
        if (($courseids === '') === ($shortnames === '')) {
            throw guard::error('invalidpayload', 'give courseids or shortnames, one of them');
        }
        if ($shortnames !== '') {
            $names = self::json_list($shortnames, 'shortnames', 'course shortnames', 'is_string');
        } else {
            $requested = self::json_list($courseids, 'courseids', 'course ids', 'is_int');
        }
        guard::require_manage();
        // 5,000 courses of a large site hold about 150,000 enrolments.
        \core_php_time_limit::raise();
        raise_memory_limit(MEMORY_EXTRA);
        if ($shortnames !== '') {
            $requested = course_reader::ids_by_shortname($names);
        }

        $read = $requested ? course_reader::read(array_values(array_unique($requested))) : course_reader::read_none();
        return course_reader::json($read, $requested);
    }

    /**
     * Decodes a JSON array of 1 to MAXCOURSES values that $valid accepts.
     *
     * @param string $json the parameter's value
     * @param string $name the parameter's name
     * @param string $what what the values are, for the error
     * @param callable $valid accepts one value
     * @return array
     */
    private static function json_list(string $json, string $name, string $what, callable $valid): array {
        try {
            $list = json_decode($json, false, 2, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            $list = null;
        }
        if (!is_array($list) || array_filter($list, fn($v) => !$valid($v))) {
            throw guard::error('invalidpayload', "$name is not a JSON array of $what");
        }
        if (count($list) < 1 || count($list) > self::MAXCOURSES) {
            throw guard::error('invalidpayload', count($list) . " $what, from 1 to " . self::MAXCOURSES . ' per call');
        }
        return $list;
    }

    /**
     * Return description.
     *
     * @return external_value
     */
    public static function execute_returns(): external_value {
        return new external_value(
            PARAM_RAW,
            'JSON object: roles, users, then one row per requested course (that exists, by shortname), in request order'
        );
    }
}
