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
use local_enrolctl\local\members;
use local_enrolctl\local\payload;
use Throwable;

/**
 * local_enrolctl_write: one call writes items of one operation across many courses.
 *
 * The items travel as one JSON string (PHP's max_input_vars never caps a batch). The whole payload
 * is checked first (local\payload: invalidpayload before any write); then each course's items run
 * in one delegated transaction, so a failing item rolls back its own course only. A course whose
 * transaction hits a deadlock or serialization failure is retried here with a jittered backoff,
 * so concurrent applies touching the same users do not surface database errors. Every item is
 * idempotent (an equivalent instance or group answers its existing id, removing what is gone is a
 * no-op), so a client may resend a call whose answer it lost.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class write extends external_api {
    /** Retries of a course transaction after a deadlock or serialization failure. */
    const RETRIES = 5;

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'operation' => new external_value(PARAM_RAW, 'add_instances, update_instances, delete_instances, '
                . 'set_enrolments, unenrol_users, create_groups, add_members or remove_members'),
            'items' => new external_value(PARAM_RAW, 'JSON array of items, each with courseid (at most '
                . payload::MAXITEMS . ')'),
        ]);
    }

    /**
     * Runs the items course by course.
     *
     * @param string $operation
     * @param string $items JSON
     * @return array one result per course, in order of first appearance
     */
    public static function execute(string $operation, string $items): array {
        global $CFG;
        require_once($CFG->libdir . '/enrollib.php');
        require_once($CFG->dirroot . '/cohort/lib.php');
        require_once($CFG->dirroot . '/group/lib.php');
        ['operation' => $operation, 'items' => $items] = self::validate_parameters(
            self::execute_parameters(),
            ['operation' => $operation, 'items' => $items]
        );
        guard::require_manage();
        $bycourse = payload::parse($operation, $items);

        $out = [];
        foreach ($bycourse as $courseid => $indexed) {
            $out[] = self::run_course($operation, (int)$courseid, $indexed);
        }
        return $out;
    }

    /**
     * One course's items in one transaction, retried on deadlock or serialization failure.
     *
     * @param string $operation
     * @param int $courseid
     * @param array $indexed item index in the call => item
     * @return array the course's result
     */
    private static function run_course(string $operation, int $courseid, array $indexed): array {
        global $DB;
        for ($attempt = 0;; $attempt++) {
            $current = -1;
            $ids = [];
            try {
                $transaction = $DB->start_delegated_transaction();
                try {
                    guard::course($courseid);
                    if ($operation === 'set_enrolments') {
                        // Four queries for the course instead of four per item.
                        set_enrolments::prefetch($courseid, $indexed);
                    }
                    if ($operation === 'add_members') {
                        // Group by group rather than groups_add_member() per item.
                        members::add($courseid, $indexed, $current);
                    } else {
                        foreach ($indexed as $index => $item) {
                            $current = $index;
                            $id = self::run_item($operation, $courseid, $item);
                            if ($id !== null) {
                                $ids[] = $id;
                            }
                        }
                    }
                    $current = -1;
                    if ($operation === 'set_enrolments') {
                        // Inside the transaction: a course rolled back queues no message.
                        set_enrolments::queue_welcome_messages();
                    }
                    guard::commit($transaction);
                } catch (Throwable $e) {
                    set_enrolments::end_batch();
                    $transaction->rollback($e); // Rethrows $e once the transaction is undone.
                }
                set_enrolments::end_batch();
                return ['courseid' => $courseid, 'status' => 'ok', 'index' => -1, 'errorcode' => '', 'message' => '',
                    'ids' => $ids];
            } catch (Throwable $e) {
                if (self::transient($e) && $attempt < self::RETRIES) {
                    // Jittered exponential backoff, 50..800 ms: colliding applies do not collide again.
                    $cap = min(800, 50 << ($attempt + 1));
                    usleep(random_int(50, $cap) * 1000);
                    continue;
                }
                return ['courseid' => $courseid, 'status' => 'error',
                    'index' => $current >= 0 ? $current : (int)array_key_first($indexed),
                    'errorcode' => self::errorcode($e), 'message' => $e->getMessage(), 'ids' => []];
            }
        }
    }

    /**
     * Whether the failure is a deadlock or serialization failure that a retry may clear.
     *
     * @param Throwable $e
     * @return bool
     */
    public static function transient(Throwable $e): bool {
        if (!($e instanceof \dml_exception)) {
            return false;
        }
        $text = $e->getMessage() . ' ' . ($e->debuginfo ?? '');
        return (bool)preg_match('/40P01|40001|deadlock|could not serialize|\b1213\b|lock wait timeout/i', $text);
    }

    /**
     * The error code a client sees: the moodle_exception code, else the exception class.
     *
     * @param Throwable $e
     * @return string
     */
    private static function errorcode(Throwable $e): string {
        if ($e instanceof \moodle_exception) {
            return (string)$e->errorcode;
        }
        return get_class($e);
    }

    /**
     * Checks and applies one item.
     *
     * @param string $operation
     * @param int $courseid
     * @param array $item validated by payload::parse
     * @return int|null the id it answers (add_instances, create_groups), else null
     */
    private static function run_item(string $operation, int $courseid, array $item): ?int {
        global $DB;
        switch ($operation) {
            case 'add_instances':
                return add_instances::add_one($item, true);
            case 'update_instances':
                update_instances::update_one($item, $courseid);
                return null;
            case 'delete_instances':
                // Deleting what is gone changes nothing: a resent delete succeeds.
                $instance = $DB->get_record('enrol', ['id' => $item['id']]);
                if ($instance) {
                    delete_instances::delete_one(guard::instance((int)$item['id'], $courseid));
                }
                return null;
            case 'set_enrolments':
                set_enrolments::set_one($item, $courseid);
                return null;
            case 'unenrol_users':
                unenrol_users::unenrol_one((int)$item['instanceid'], (int)$item['userid'], $courseid);
                return null;
            case 'create_groups':
                return self::create_group($courseid, $item['name']);
            case 'remove_members':
                self::remove_member($courseid, (int)$item['groupid'], (int)$item['userid']);
                return null;
        }
        throw guard::error('invalidpayload', 'unknown operation ' . $operation);
    }

    /**
     * The group of that name in the course, created if missing (groups_create_group).
     *
     * @param int $courseid
     * @param string $name
     * @return int group id
     */
    private static function create_group(int $courseid, string $name): int {
        $context = guard::course_context($courseid);
        require_capability('moodle/course:managegroups', $context);
        $existing = groups_get_group_by_name($courseid, $name);
        if ($existing) {
            return (int)$existing;
        }
        return (int)groups_create_group((object)['courseid' => $courseid, 'name' => $name]);
    }

    /**
     * Removes a manual membership, as core_group_delete_group_members checks it. Removing a
     * non-member changes nothing.
     *
     * @param int $courseid
     * @param int $groupid
     * @param int $userid
     */
    private static function remove_member(int $courseid, int $groupid, int $userid): void {
        global $DB;
        $user = guard::user($userid);
        $group = $groupid ? $DB->get_record('groups', ['id' => $groupid, 'courseid' => $courseid]) : false;
        if (!$group) {
            throw guard::error('invalidgroup', (object)['groupid' => $groupid, 'courseid' => $courseid]);
        }
        require_capability('moodle/course:managegroups', guard::course_context($courseid));
        $member = $DB->get_record('groups_members', ['groupid' => $groupid, 'userid' => $userid]);
        if (!$member) {
            return;
        }
        if ($member->component !== '' || !groups_remove_member_allowed($group, $user)) {
            throw guard::error('notmanualmember', (object)['groupid' => $groupid, 'userid' => $userid]);
        }
        groups_remove_member($group, $user);
    }

    /**
     * Return description.
     *
     * @return external_multiple_structure
     */
    public static function execute_returns(): external_multiple_structure {
        return new external_multiple_structure(new external_single_structure([
            'courseid' => new external_value(PARAM_INT, 'course id'),
            'status' => new external_value(PARAM_ALPHA, 'ok or error'),
            'index' => new external_value(PARAM_INT, 'index in items of the failing item, -1 when ok'),
            'errorcode' => new external_value(PARAM_RAW, 'error code, "" when ok'),
            'message' => new external_value(PARAM_RAW, 'error message, "" when ok'),
            'ids' => new external_multiple_structure(
                new external_value(PARAM_INT, 'id'),
                'add_instances and create_groups: the ids of the course\'s items in order; otherwise empty'
            ),
        ]), 'one result per course, in order of first appearance');
    }
}
