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
use local_enrolctl\local\guard;

/**
 * local_enrolctl_unenrol_users: unenrols users from manual or self instances through
 * enrol_plugin::unenrol_user() (events, last-enrolment cleanup), as the participants page does.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class unenrol_users extends external_api {
    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'enrolments' => new external_multiple_structure(new external_single_structure([
                'instanceid' => new external_value(PARAM_INT, 'manual or self instance id'),
                'userid' => new external_value(PARAM_INT, 'user id'),
            ])),
        ]);
    }

    /**
     * Unenrols, all or none; a user without an enrolment in the instance is left as is.
     *
     * @param array $enrolments
     * @return null
     */
    public static function execute(array $enrolments) {
        global $CFG, $DB;
        require_once($CFG->libdir . '/enrollib.php');
        ['enrolments' => $enrolments] = self::validate_parameters(self::execute_parameters(), ['enrolments' => $enrolments]);
        guard::require_manage();

        // One transaction, rolled back explicitly on error (not left to the end of the request).
        $transaction = $DB->start_delegated_transaction();
        try {
            foreach ($enrolments as $item) {
                self::unenrol_one((int)$item['instanceid'], (int)$item['userid']);
            }
        } catch (\Throwable $e) {
            $transaction->rollback($e);
        }
        guard::commit($transaction);
        return null;
    }

    /**
     * Checks and removes one enrolment; a user not enrolled in the instance is left as is.
     * As the participants page: the plugin must be enabled, the token user needs enrol/<x>:unenrol,
     * and the plugin must allow unenrolling that enrolment (allow_unenrol_user).
     *
     * @param int $instanceid
     * @param int $userid
     * @param int $courseid the course the caller says the instance is in (0: any)
     */
    public static function unenrol_one(int $instanceid, int $userid, int $courseid = 0): void {
        global $DB;
        $instance = set_enrolments::user_instance($instanceid, $courseid);
        guard::require_enabled($instance->enrol);
        $context = guard::course_context((int)$instance->courseid);
        require_capability('enrol/' . $instance->enrol . ':unenrol', $context);
        $ue = $DB->get_record('user_enrolments', ['enrolid' => $instance->id, 'userid' => $userid]);
        if (!$ue) {
            return;
        }
        $plugin = enrol_get_plugin($instance->enrol);
        if (!$plugin->allow_unenrol_user($instance, $ue)) {
            throw guard::error('cannotunenrol', $instance->enrol);
        }
        $plugin->unenrol_user($instance, $userid);
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
