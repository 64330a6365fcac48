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
use core_external\external_value;
use local_enrolctl\local\guard;

/**
 * local_enrolctl_delete_instances: deletes enrolment instances through enrol_plugin::delete_instance(),
 * which unenrols every participant first (with the last-enrolment cleanup), as the UI does.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class delete_instances extends external_api {
    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'instanceids' => new external_multiple_structure(new external_value(PARAM_INT, 'instance id')),
        ]);
    }

    /**
     * Deletes the instances, all or none.
     *
     * @param int[] $instanceids
     * @return null
     */
    public static function execute(array $instanceids) {
        global $CFG, $DB;
        require_once($CFG->libdir . '/enrollib.php');
        ['instanceids' => $instanceids] = self::validate_parameters(
            self::execute_parameters(),
            ['instanceids' => $instanceids]
        );
        guard::require_manage();

        // One transaction, rolled back explicitly on error (not left to the end of the request).
        $transaction = $DB->start_delegated_transaction();
        try {
            foreach (array_unique($instanceids) as $instanceid) {
                self::delete_one(guard::instance((int)$instanceid));
            }
        } catch (\Throwable $e) {
            $transaction->rollback($e);
        }
        guard::commit($transaction);
        return null;
    }

    /**
     * Checks and deletes one instance.
     *
     * @param \stdClass $instance enrol record, not a database one (guard::instance)
     */
    public static function delete_one(\stdClass $instance): void {
        $plugin = guard::plugin($instance->enrol, (string)$instance->id);
        $context = guard::course_context((int)$instance->courseid);
        // As enrol/instances.php: moodle/course:enrolconfig, then can_delete_instance() (enrol/<x>:config).
        guard::require_config($instance->enrol, $context);
        $plugin->delete_instance($instance);
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
