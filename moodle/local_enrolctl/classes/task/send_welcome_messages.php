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

namespace local_enrolctl\task;

use stdClass;

/**
 * Sends the course welcome messages of enrolments made by local_enrolctl, from cron.
 *
 * The message is the one the manual or self plugin's after_user_enrolled callback would have sent
 * at enrolment (enrol_plugin::send_course_welcome_message_to_user() with the instance's setting and
 * text as they were then), to each user who is still enrolled in the instance when the task runs.
 * A failed message is logged and not retried, so a retry never sends another user's twice.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class send_welcome_messages extends \core\task\adhoc_task {
    /**
     * Queues one task for these enrolments of one instance.
     *
     * @param stdClass $instance manual or self instance
     * @param int $sendoption ENROL_SEND_EMAIL_FROM_* of the instance at enrolment
     * @param string $message the instance's custom welcome text at enrolment ('' for the default)
     * @param array $recipients [userid, roleid] pairs, roleid 0 for the instance's role
     */
    public static function queue(stdClass $instance, int $sendoption, string $message, array $recipients): void {
        $task = new self();
        $task->set_component('local_enrolctl');
        $task->set_custom_data((object)['instanceid' => (int)$instance->id, 'sendoption' => $sendoption,
            'message' => $message, 'recipients' => $recipients]);
        \core\task\manager::queue_adhoc_task($task);
    }

    /**
     * Sends the messages.
     */
    public function execute() {
        global $CFG, $DB;
        require_once($CFG->libdir . '/enrollib.php');
        $data = $this->get_custom_data();
        $instance = $DB->get_record('enrol', ['id' => $data->instanceid]);
        $plugin = $instance ? enrol_get_plugin($instance->enrol) : null;
        if (!$plugin) {
            mtrace("local_enrolctl: enrolment instance {$data->instanceid} is gone; no welcome message sent");
            return;
        }
        $userids = array_map(fn($r) => (int)$r[0], $data->recipients);
        if (!$userids) {
            return;
        }
        [$usql, $params] = $DB->get_in_or_equal($userids, SQL_PARAMS_NAMED);
        $enrolled = array_flip($DB->get_fieldset_select(
            'user_enrolments',
            'userid',
            "enrolid = :enrolid AND userid $usql",
            ['enrolid' => $instance->id] + $params
        ));
        $sent = 0;
        foreach ($data->recipients as [$userid, $roleid]) {
            if (!isset($enrolled[$userid])) {
                continue; // Unenrolled since: the UI would not greet them now either.
            }
            try {
                $plugin->send_course_welcome_message_to_user(
                    $instance,
                    (int)$userid,
                    (int)$data->sendoption,
                    $data->message,
                    $roleid ? (int)$roleid : null
                );
                $sent++;
            } catch (\Throwable $e) {
                mtrace("local_enrolctl: welcome message to user $userid failed: " . $e->getMessage());
            }
        }
        mtrace("local_enrolctl: $sent welcome message(s) for enrolment instance {$instance->id}");
    }
}
