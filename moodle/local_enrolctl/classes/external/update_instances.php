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
 * local_enrolctl_update_instances: changes only the given keys of enrolment instances.
 *
 * status goes through update_status() (hooks, context marked dirty, cohort/meta sync), the other
 * keys through update_instance(), as the enrolment methods page and the edit form do.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class update_instances extends external_api {
    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'instances' => new external_multiple_structure(new external_single_structure([
                'id' => new external_value(PARAM_INT, 'instance id'),
                'name' => new external_value(PARAM_TEXT, 'instance name', VALUE_OPTIONAL),
                'status' => new external_value(PARAM_INT, '0 enabled, 1 disabled', VALUE_OPTIONAL),
                'roleid' => new external_value(PARAM_INT, 'role id, 0 for none', VALUE_OPTIONAL),
                'groupid' => new external_value(PARAM_INT, 'group id (cohort, meta), 0 for none', VALUE_OPTIONAL),
                'maxenrolled' => new external_value(PARAM_INT, 'maximum enrolled users (self)', VALUE_OPTIONAL),
            ])),
        ]);
    }

    /**
     * Updates the instances, all or none.
     *
     * @param array $instances
     * @return null
     */
    public static function execute(array $instances) {
        global $CFG, $DB;
        require_once($CFG->libdir . '/enrollib.php');
        ['instances' => $instances] = self::validate_parameters(self::execute_parameters(), ['instances' => $instances]);
        guard::require_manage();

        // One transaction, rolled back explicitly on error (not left to the end of the request).
        $transaction = $DB->start_delegated_transaction();
        try {
            foreach ($instances as $item) {
                self::update_one($item);
            }
        } catch (\Throwable $e) {
            $transaction->rollback($e);
        }
        guard::commit($transaction);
        return null;
    }

    /**
     * Checks and applies one item.
     *
     * @param array $item id and the keys to change
     * @param int $courseid the course the caller says the instance is in (0: any); another is unknowninstance
     */
    public static function update_one(array $item, int $courseid = 0): void {
        global $DB;
        $instance = guard::instance((int)$item['id'], $courseid);
        $plugin = guard::plugin($instance->enrol, (string)$instance->id);
        guard::require_enabled($instance->enrol);
        $context = guard::course_context((int)$instance->courseid);
        guard::require_config($instance->enrol, $context);

        $data = [];
        if (array_key_exists('name', $item) && $item['name'] !== (string)$instance->name) {
            $data['name'] = $item['name'];
        }
        if (
            array_key_exists('roleid', $item) && !in_array($instance->enrol, ['guest', 'meta'], true)
                && $item['roleid'] != $instance->roleid
        ) {
            guard::require_role((int)$item['roleid'], $context);
            $data['roleid'] = $item['roleid'];
        }
        if (
            array_key_exists('groupid', $item) && in_array($instance->enrol, ['cohort', 'meta'], true)
                && $item['groupid'] != (int)$instance->customint2
        ) {
            guard::require_group((int)$item['groupid'], (int)$instance->courseid);
            $data['customint2'] = $item['groupid'];
        }
        if (
            array_key_exists('maxenrolled', $item) && $instance->enrol === 'self'
                && $item['maxenrolled'] != (int)$instance->customint3
        ) {
            $data['customint3'] = $item['maxenrolled'];
        }

        if ($data) {
            // Keys some plugins read whether they change or not: cohort reads roleid and customint2, meta
            // customint1; self reads the expiry notification pair in its form encoding (2 = notify all).
            $data += [
                'roleid' => $instance->roleid,
                'customint1' => $instance->customint1,
                'customint2' => $instance->customint2,
            ];
            if ($instance->enrol === 'self') {
                $data += [
                    'expirynotify' => ($instance->expirynotify && $instance->notifyall) ? 2 : $instance->expirynotify,
                    'expirythreshold' => $instance->expirythreshold,
                ];
            }
            $plugin->update_instance($instance, (object)$data);
            $instance = $DB->get_record('enrol', ['id' => $instance->id], '*', MUST_EXIST);
        }
        if (array_key_exists('status', $item)) {
            $status = $item['status'] ? ENROL_INSTANCE_DISABLED : ENROL_INSTANCE_ENABLED;
            if ($status != $instance->status) {
                $plugin->update_status($instance, $status);
            }
        }
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
