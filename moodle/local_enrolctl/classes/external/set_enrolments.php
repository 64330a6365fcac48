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
 * New rows go through enrol_user() (events; the welcome message the instance is set to send is
 * queued for cron, see hold_welcome_message()), changed rows through update_user_enrol() (no welcome
 * message), and the plain (component '') course roles through
 * role_assign()/role_unassign(), so events and caches behave as in the UI.
 *
 * local_enrolctl_write reads a course's instances, users, user enrolments and plain roles for all
 * its items in four queries first (prefetch()); set_one() then only falls back to per-item reads for
 * what the batch does not hold. Each prefetched row serves one item: a second item for the same
 * user reads the database again, after the first item's changes.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class set_enrolments extends external_api {
    /** @var stdClass|null rows read ahead for the items of one course (prefetch()), consumed by set_one() */
    private static $batch = null;

    /** @var array welcome messages held back from enrol_user(), by instance id (queue_welcome_messages()) */
    private static $welcome = [];

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
            self::queue_welcome_messages();
        } catch (\Throwable $e) {
            self::end_batch();
            $transaction->rollback($e);
        }
        guard::commit($transaction);
        return null;
    }

    /**
     * Reads ahead, in four queries, what set_one() would read item by item for these items of one
     * course: the course's enrolment instances, the users, their user enrolments in the course's
     * instances and their plain roles in the course context. Ends with end_batch().
     *
     * @param int $courseid
     * @param array $items set_enrolments items of that course
     */
    public static function prefetch(int $courseid, array $items): void {
        global $CFG, $DB;
        self::$batch = null;
        $userids = [];
        foreach ($items as $item) {
            $userids[(int)$item['userid']] = true;
        }
        unset($userids[(int)$CFG->siteguest]);
        if (!$userids) {
            return;
        }
        $batch = (object)['instances' => [], 'users' => [], 'ues' => [], 'roles' => [], 'contextid' => 0];
        $batch->instances = $DB->get_records('enrol', ['courseid' => $courseid]);
        [$usql, $uparams] = $DB->get_in_or_equal(array_keys($userids), SQL_PARAMS_NAMED, 'u');
        $batch->users = $DB->get_records_select('user', "id $usql AND deleted = 0", $uparams, '', 'id, username');
        $instanceids = [];
        foreach ($batch->instances as $instance) {
            if (in_array($instance->enrol, guard::USERMANAGED, true)) {
                $instanceids[] = (int)$instance->id;
            }
        }
        if ($instanceids) {
            // Every (instance, user) pair asked for is known: false when the user has no row there.
            foreach ($items as $item) {
                if (in_array((int)$item['instanceid'], $instanceids, true)) {
                    $batch->ues[$item['instanceid'] . ':' . $item['userid']] = false;
                }
            }
            [$isql, $iparams] = $DB->get_in_or_equal($instanceids, SQL_PARAMS_NAMED, 'i');
            $rs = $DB->get_recordset_select('user_enrolments', "enrolid $isql AND userid $usql", $iparams + $uparams);
            foreach ($rs as $ue) {
                $batch->ues[$ue->enrolid . ':' . $ue->userid] = $ue;
            }
            $rs->close();
        }
        $context = \context_course::instance($courseid, IGNORE_MISSING);
        if ($context) {
            $batch->contextid = (int)$context->id;
            foreach ($userids as $userid => $unused) {
                $batch->roles[$userid] = [];
            }
            $rs = $DB->get_recordset_select(
                'role_assignments',
                "contextid = :ctx AND userid $usql AND component = '' AND itemid = 0",
                ['ctx' => $context->id] + $uparams,
                'id',
                'id, userid, roleid'
            );
            foreach ($rs as $ra) {
                $batch->roles[$ra->userid][$ra->id] = $ra;
            }
            $rs->close();
        }
        self::$batch = $batch;
    }

    /**
     * Forgets what prefetch() read (the course's transaction ended or is retried).
     */
    public static function end_batch(): void {
        self::$batch = null;
        self::$welcome = [];
    }

    /**
     * Queues the welcome messages of the enrolments made since the last call, one ad hoc task per
     * instance (task\send_welcome_messages). Called inside the transaction that made them, so a
     * rolled-back or retried course queues nothing twice.
     */
    public static function queue_welcome_messages(): void {
        foreach (self::$welcome as $held) {
            \local_enrolctl\task\send_welcome_messages::queue(
                $held->instance,
                $held->sendoption,
                $held->message,
                $held->recipients
            );
        }
        self::$welcome = [];
    }

    /**
     * The instance enrol_user() is given: for an instance that sends a welcome message, a copy that
     * does not, the message being held for queue_welcome_messages(). The manual and self hook
     * callbacks send it synchronously: two thirds of a new enrolment's cost (13 of 19.5 ms and 27 of
     * 38 queries on the dev site, plus the mail server's time), inside the web service call. Cron
     * sends the same messages instead, at its next run.
     *
     * @param stdClass $instance manual or self instance
     * @param int $userid
     * @param int $roleid the role given with the enrolment (0: the instance's)
     * @return stdClass
     */
    private static function hold_welcome_message(stdClass $instance, int $userid, int $roleid): stdClass {
        // The setting each plugin's after_user_enrolled callback reads (enrol_manual, enrol_self).
        $field = $instance->enrol === 'manual' ? 'customint1' : 'customint4';
        $sendoption = (int)$instance->$field;
        if ($sendoption === ENROL_DO_NOT_SEND_EMAIL) {
            return $instance;
        }
        if (!isset(self::$welcome[$instance->id])) {
            self::$welcome[$instance->id] = (object)['instance' => $instance, 'sendoption' => $sendoption,
                'message' => (string)$instance->customtext1, 'recipients' => []];
        }
        // The self callback gives no role: the message names the instance's.
        self::$welcome[$instance->id]->recipients[] = [$userid, $instance->enrol === 'manual' ? $roleid : 0];
        $quiet = clone($instance);
        $quiet->$field = ENROL_DO_NOT_SEND_EMAIL;
        return $quiet;
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
        $batch = self::$batch;
        $instanceid = (int)$item['instanceid'];
        $userid = (int)$item['userid'];
        $instance = $batch->instances[$instanceid] ?? null;
        if (
            $instance && ($courseid == 0 || $instance->courseid == $courseid)
                && in_array($instance->enrol, guard::USERMANAGED, true)
        ) {
            // The checks of user_instance(), on the prefetched row.
            $instance = clone($instance);
        } else {
            $instance = self::user_instance($instanceid, $courseid);
        }
        if (!isset($batch->users[$userid])) {
            $userid = (int)guard::user($userid)->id;
        }
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
        $enrolled = false; // The enrol_user() call below assigns roles: the prefetched roles are then stale.
        // A prefetched row serves one item only: after it, this item's writes make it stale.
        $key = $instance->id . ':' . $userid;
        if ($batch && array_key_exists($key, $batch->ues)) {
            $ue = $batch->ues[$key];
            unset($batch->ues[$key]);
        } else {
            $ue = $DB->get_record('user_enrolments', ['enrolid' => $instance->id, 'userid' => $userid]);
        }
        if (!$ue) {
            // Manual: the "Enrol users" dialog needs enrol/manual:enrol. Self has no :enrol capability
            // (users enrol themselves); enrolling someone else into it is managing it (enrol/self:manage).
            require_capability($instance->enrol === 'manual' ? 'enrol/manual:enrol' : 'enrol/self:manage', $context);
            $plugin->enrol_user(
                self::hold_welcome_message($instance, $userid, $roleid),
                $userid,
                $roleid ?: null,
                $timestart,
                $timeend,
                $status
            );
            $enrolled = true;
        } else if ((int)$ue->status !== $status || (int)$ue->timestart !== $timestart || (int)$ue->timeend !== $timeend) {
            // The "Edit enrolment" dialog: enrol/<x>:manage.
            require_capability('enrol/' . $instance->enrol . ':manage', $context);
            $plugin->update_user_enrol($instance, $userid, $status, $timestart, $timeend);
        }

        if ($roleid) {
            $prefetched = $batch && $batch->contextid == $context->id && isset($batch->roles[$userid]);
            if ($prefetched) {
                $plain = $batch->roles[$userid];
                unset($batch->roles[$userid]);
            }
            if (!$prefetched || $enrolled) {
                $plain = $DB->get_records(
                    'role_assignments',
                    ['contextid' => $context->id, 'userid' => $userid, 'component' => '', 'itemid' => 0],
                    'id',
                    'id, roleid'
                );
            }
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
