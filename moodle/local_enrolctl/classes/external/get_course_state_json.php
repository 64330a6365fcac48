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

/**
 * local_enrolctl_get_course_state_json: get_course_state's answer as one JSON-encoded string.
 *
 * Same parameters, checks and content as local_enrolctl_get_course_state. The web-service layer
 * validates every returned value against the declared structure (external_api::clean_returnvalue);
 * on 100 courses of 35,000 enrolments that is about a million values and most of the call's time.
 * Declaring the answer as one PARAM_RAW string leaves one value to validate: the values are already
 * typed by get_course_state, which casts every field itself.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_course_state_json extends external_api {
    /**
     * Parameters: those of get_course_state.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return get_course_state::execute_parameters();
    }

    /**
     * The course states, JSON-encoded, in request order.
     *
     * @param int[] $courseids
     * @return string a JSON array of get_course_state items
     */
    public static function execute(array $courseids): string {
        $state = get_course_state::execute($courseids);
        // Invalid UTF-8 in a name becomes U+FFFD rather than failing the whole read, as PARAM_RAW's
        // fix_utf8 would drop it.
        return json_encode($state, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE
            | JSON_THROW_ON_ERROR);
    }

    /**
     * Return description.
     *
     * @return external_value
     */
    public static function execute_returns(): external_value {
        return new external_value(PARAM_RAW, 'JSON array: one get_course_state item per requested course, in request order');
    }
}
