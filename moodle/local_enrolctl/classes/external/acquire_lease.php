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
use core_external\external_single_structure;
use core_external\external_value;
use invalid_parameter_exception;
use local_enrolctl\local\guard;
use local_enrolctl\local\lease;

/**
 * local_enrolctl_acquire_lease: takes a named lease (one apply at a time per site), renews it for
 * its holder, or tells who holds it and until when.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class acquire_lease extends external_api {
    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'name' => new external_value(PARAM_ALPHANUMEXT, 'lease name, e.g. apply'),
            'holder' => new external_value(PARAM_RAW, 'who takes it: host, user, CI job (at most 255 characters)'),
            'ttl' => new external_value(PARAM_INT, 'seconds until it expires (' . lease::MINTTL . '..' . lease::MAXTTL . ')'),
        ]);
    }

    /**
     * Acquires or renews.
     *
     * @param string $name
     * @param string $holder
     * @param int $ttl
     * @return array
     */
    public static function execute(string $name, string $holder, int $ttl): array {
        ['name' => $name, 'holder' => $holder, 'ttl' => $ttl] = self::validate_parameters(
            self::execute_parameters(),
            ['name' => $name, 'holder' => $holder, 'ttl' => $ttl]
        );
        guard::require_manage();
        if ($name === '' || \core_text::strlen($name) > 100) {
            throw new invalid_parameter_exception('name must hold 1 to 100 letters, digits, - or _');
        }
        if ($holder === '' || \core_text::strlen($holder) > 255) {
            throw new invalid_parameter_exception('holder must hold 1 to 255 characters');
        }
        if ($ttl < lease::MINTTL || $ttl > lease::MAXTTL) {
            throw new invalid_parameter_exception('ttl must be between ' . lease::MINTTL . ' and ' . lease::MAXTTL);
        }
        return lease::acquire($name, $holder, $ttl);
    }

    /**
     * Return description.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'acquired' => new external_value(PARAM_BOOL, 'true when the caller holds the lease now'),
            'holder' => new external_value(PARAM_RAW, 'the holder now'),
            'expires' => new external_value(PARAM_INT, 'when the current holding expires (unix time)'),
            'previous' => new external_value(PARAM_RAW, 'the holder of the expired lease this acquire replaced', VALUE_OPTIONAL),
            'previous_expires' => new external_value(PARAM_INT, 'when that lease expired (unix time)', VALUE_OPTIONAL),
        ]);
    }
}
