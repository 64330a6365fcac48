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
use stdClass;

/**
 * local_enrolctl_set_enrolments: makes one user's enrolment in a manual or self instance match the
 * desired dates, status and role, writing nothing when it already does.
 *
 * New rows go through enrol_user() (events, welcome e-mail as configured), changed rows through
 * update_user_enrol() (no welcome e-mail), and the plain (component '') course roles through
 * role_assign()/role_unassign(), so events and caches behave as in the UI.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class set_enrolments extends external_api {
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
                'roleid' => new external_value(PARAM_INT, 'the only plain course role the user keeps; 0 leaves roles alone'),
                'timestart' => new external_value(PARAM_INT, 'start time, 0 for none'),
                'timeend' => new external_value(PARAM_INT, 'end time, 0 for none'),
                'suspended' => new external_value(PARAM_INT, '1 suspended, 0 active'),
            ])),
        ]);
    }

    /**
     * Applies the desired enrolments, all or none.
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
                self::set_one($item);
            }
        } catch (\Throwable $e) {
            $transaction->rollback($e);
        }
        guard::commit($transaction);
        return null;
    }

    /**
     * The instance of a manual or self enrolment, checked for use by enrolctl.
     *
     * @param int $instanceid
     * @param int $courseid the course the caller says the instance is in (0: any); another is unknowninstance
     * @return stdClass
     */
    public static function user_instance(int $instanceid, int $courseid = 0): stdClass {
        $instance = guard::instance($instanceid, $courseid);
        if (!in_array($instance->enrol, guard::USERMANAGED, true)) {
            throw guard::error('instancenotmanual', $instanceid);
        }
        return $instance;
    }

    /**
     * Checks and applies one item.
     *
     * @param array $item the fields of execute_parameters()
     * @param int $courseid the course the caller says the instance is in (0: any)
     */
    public static function set_one(array $item, int $courseid = 0): void {
        global $DB;
        $instance = self::user_instance((int)$item['instanceid'], $courseid);
        $userid = (int)guard::user((int)$item['userid'])->id;
        guard::require_enabled($instance->enrol);
        if (!self::valid_times((int)$item['timestart'], (int)$item['timeend'])) {
            throw guard::error('invalidtimes', $userid);
        }
        $context = guard::course_context((int)$instance->courseid);
        $roleid = (int)$item['roleid'];
        guard::require_role($roleid, $context);
        $plugin = enrol_get_plugin($instance->enrol);

        $status = $item['suspended'] ? ENROL_USER_SUSPENDED : ENROL_USER_ACTIVE;
        $timestart = (int)$item['timestart'];
        $timeend = (int)$item['timeend'];
        $ue = $DB->get_record('user_enrolments', ['enrolid' => $instance->id, 'userid' => $userid]);
        if (!$ue) {
            // Manual: the "Enrol users" dialog needs enrol/manual:enrol. Self has no :enrol capability
            // (users enrol themselves); enrolling someone else into it is managing it (enrol/self:manage).
            require_capability($instance->enrol === 'manual' ? 'enrol/manual:enrol' : 'enrol/self:manage', $context);
            $plugin->enrol_user($instance, $userid, $roleid ?: null, $timestart, $timeend, $status);
        } else if ((int)$ue->status !== $status || (int)$ue->timestart !== $timestart || (int)$ue->timeend !== $timeend) {
            // The "Edit enrolment" dialog: enrol/<x>:manage.
            require_capability('enrol/' . $instance->enrol . ':manage', $context);
            $plugin->update_user_enrol($instance, $userid, $status, $timestart, $timeend);
        }

        if ($roleid) {
            $plain = $DB->get_records('role_assignments',
                ['contextid' => $context->id, 'userid' => $userid, 'component' => '', 'itemid' => 0], 'id', 'id, roleid');
            $has = false;
            foreach ($plain as $ra) {
                if ($ra->roleid == $roleid) {
                    $has = true;
                    continue;
                }
                // Removing a role needs the same right as giving it (core_role_unassign_roles, the UI).
                guard::require_role((int)$ra->roleid, $context);
                role_unassign($ra->roleid, $userid, $context->id, '', 0);
            }
            if (!$has) {
                role_assign($roleid, $userid, $context->id, '', 0);
            }
        }
    }

    /**
     * Times are 0 (none) or positive, and an end is not before the start.
     *
     * @param int $timestart
     * @param int $timeend
     * @return bool
     */
    public static function valid_times(int $timestart, int $timeend): bool {
        return $timestart >= 0 && $timeend >= 0 && ($timeend == 0 || $timeend >= $timestart);
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
