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
use invalid_parameter_exception;
use local_enrolctl\local\guard;
use local_enrolctl\local\lease;

/**
 * local_enrolctl_release_lease: gives up a lease; releasing a lease someone else holds changes nothing.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class release_lease extends external_api {
    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'name' => new external_value(PARAM_ALPHANUMEXT, 'lease name, e.g. apply'),
            'holder' => new external_value(PARAM_RAW, 'the holder given to acquire'),
        ]);
    }

    /**
     * Releases.
     *
     * @param string $name
     * @param string $holder
     * @return null
     */
    public static function execute(string $name, string $holder) {
        ['name' => $name, 'holder' => $holder] = self::validate_parameters(
            self::execute_parameters(),
            ['name' => $name, 'holder' => $holder]
        );
        guard::require_manage();
        if ($name === '') {
            throw new invalid_parameter_exception('name must hold 1 to 100 letters, digits, - or _');
        }
        lease::release($name, $holder);
        return null;
    }

    /**
     * Returns nothing.
     *
     * @return null
     */
    public static function execute_returns() {
        return null;
    }
}
