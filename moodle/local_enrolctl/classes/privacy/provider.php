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

namespace local_enrolctl\privacy;

use core_privacy\local\metadata\collection;
use core_privacy\local\request\approved_contextlist;
use core_privacy\local\request\approved_userlist;
use core_privacy\local\request\contextlist;
use core_privacy\local\request\userlist;
use core_privacy\local\request\writer;

/**
 * Privacy provider. The plugin keeps two things about a person, both in the system context:
 *
 * - a lease (config_plugins, local_enrolctl / lease_<name>) names its holder as the enrolctl
 *   client sent it (host, operating-system user, CI job) and the Moodle account that took it;
 * - a welcome message waiting for cron (task_adhoc, send_welcome_messages) lists its recipients'
 *   user ids until it is sent.
 *
 * Both are exported for, and deleted with, the Moodle account concerned. The enrolments, roles and
 * groups the plugin changes belong to core and the enrolment plugins, which export and delete them.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class provider implements
    \core_privacy\local\metadata\provider,
    \core_privacy\local\request\core_userlist_provider,
    \core_privacy\local\request\plugin\provider {
    /** Class of the welcome message task, as task_adhoc stores it. */
    const WELCOMETASK = '\\local_enrolctl\\task\\send_welcome_messages';

    /**
     * What the plugin stores.
     *
     * @param collection $collection
     * @return collection
     */
    public static function get_metadata(collection $collection): collection {
        $collection->add_database_table('config_plugins', [
            'name' => 'privacy:metadata:lease:name',
            'value' => 'privacy:metadata:lease:value',
        ], 'privacy:metadata:lease');
        $collection->add_database_table('task_adhoc', [
            'customdata' => 'privacy:metadata:welcome:customdata',
        ], 'privacy:metadata:welcome');
        return $collection;
    }

    /**
     * The system context when the user holds a lease or waits for a welcome message.
     *
     * @param int $userid
     * @return contextlist
     */
    public static function get_contexts_for_userid(int $userid): contextlist {
        $contextlist = new contextlist();
        if (self::leases($userid) || self::welcomes($userid)) {
            $contextlist->add_system_context();
        }
        return $contextlist;
    }

    /**
     * Users holding leases or waiting for welcome messages, in the system context.
     *
     * @param userlist $userlist
     */
    public static function get_users_in_context(userlist $userlist) {
        if ($userlist->get_context()->contextlevel != CONTEXT_SYSTEM) {
            return;
        }
        $userids = [];
        foreach (self::leases() as $lease) {
            $userids[] = $lease->userid;
        }
        foreach (self::welcomes() as $task) {
            foreach ($task->data->recipients as [$userid]) {
                $userids[] = (int)$userid;
            }
        }
        $userlist->add_users(array_values(array_unique(array_filter($userids))));
    }

    /**
     * Exports the user's leases and pending welcome messages.
     *
     * @param approved_contextlist $contextlist
     */
    public static function export_user_data(approved_contextlist $contextlist) {
        $userid = (int)$contextlist->get_user()->id;
        foreach ($contextlist->get_contexts() as $context) {
            if ($context->contextlevel != CONTEXT_SYSTEM) {
                continue;
            }
            $leases = [];
            foreach (self::leases($userid) as $lease) {
                $leases[] = ['name' => $lease->lease, 'holder' => $lease->holder,
                    'expires' => \core_privacy\local\request\transform::datetime($lease->expires)];
            }
            $welcomes = [];
            foreach (self::welcomes($userid) as $task) {
                $welcomes[] = ['enrolmentinstance' => (int)$task->data->instanceid];
            }
            $subcontext = [get_string('pluginname', 'local_enrolctl')];
            if ($leases) {
                writer::with_context($context)->export_data($subcontext, (object)['leases' => $leases]);
            }
            if ($welcomes) {
                writer::with_context($context)->export_related_data(
                    $subcontext,
                    'welcomemessages',
                    (object)['pending' => $welcomes]
                );
            }
        }
    }

    /**
     * Deletes every lease and pending welcome message (the system context holds them all).
     *
     * @param \context $context
     */
    public static function delete_data_for_all_users_in_context(\context $context) {
        global $DB;
        if ($context->contextlevel != CONTEXT_SYSTEM) {
            return;
        }
        foreach (self::leases() as $lease) {
            unset_config($lease->configname, 'local_enrolctl');
        }
        $DB->delete_records('task_adhoc', ['component' => 'local_enrolctl', 'classname' => self::WELCOMETASK]);
    }

    /**
     * Deletes the user's leases and takes them off pending welcome messages.
     *
     * @param approved_contextlist $contextlist
     */
    public static function delete_data_for_user(approved_contextlist $contextlist) {
        foreach ($contextlist->get_contexts() as $context) {
            if ($context->contextlevel == CONTEXT_SYSTEM) {
                self::delete_users([(int)$contextlist->get_user()->id]);
            }
        }
    }

    /**
     * Deletes the users' leases and takes them off pending welcome messages.
     *
     * @param approved_userlist $userlist
     */
    public static function delete_data_for_users(approved_userlist $userlist) {
        if ($userlist->get_context()->contextlevel == CONTEXT_SYSTEM) {
            self::delete_users(array_map('intval', $userlist->get_userids()));
        }
    }

    /**
     * Deletes these users' leases (another apply may then take them) and their places on
     * pending welcome messages.
     *
     * @param int[] $userids
     */
    private static function delete_users(array $userids): void {
        global $DB;
        foreach (self::leases() as $lease) {
            if (in_array($lease->userid, $userids, true)) {
                unset_config($lease->configname, 'local_enrolctl');
            }
        }
        foreach (self::welcomes() as $task) {
            $keep = array_values(array_filter(
                $task->data->recipients,
                fn($r) => !in_array((int)$r[0], $userids, true)
            ));
            if (count($keep) === count($task->data->recipients)) {
                continue;
            }
            if (!$keep) {
                $DB->delete_records('task_adhoc', ['id' => $task->id]);
                continue;
            }
            $task->data->recipients = $keep;
            $DB->set_field('task_adhoc', 'customdata', json_encode($task->data), ['id' => $task->id]);
        }
    }

    /**
     * The stored leases, of one Moodle account or all.
     *
     * @param int|null $userid
     * @return \stdClass[] each with configname, lease, holder, userid, expires
     */
    private static function leases(?int $userid = null): array {
        global $DB;
        $like = $DB->sql_like('name', ':prefix');
        $rows = $DB->get_records_select(
            'config_plugins',
            "plugin = :plugin AND $like",
            ['plugin' => 'local_enrolctl', 'prefix' => $DB->sql_like_escape('lease_') . '%'],
            'name',
            'id, name, value'
        );
        $leases = [];
        foreach ($rows as $row) {
            $value = json_decode((string)$row->value, true);
            if (!is_array($value) || !isset($value['holder'])) {
                continue;
            }
            $lease = (object)['configname' => $row->name, 'lease' => substr($row->name, strlen('lease_')),
                'holder' => (string)$value['holder'], 'userid' => (int)($value['userid'] ?? 0),
                'expires' => (int)($value['expires'] ?? 0)];
            if ($userid === null || $lease->userid === $userid) {
                $leases[] = $lease;
            }
        }
        return $leases;
    }

    /**
     * The pending welcome message tasks, of one recipient or all.
     *
     * @param int|null $userid
     * @return \stdClass[] each with id and data (the task's custom data)
     */
    private static function welcomes(?int $userid = null): array {
        global $DB;
        $tasks = [];
        $rows = $DB->get_records(
            'task_adhoc',
            ['component' => 'local_enrolctl', 'classname' => self::WELCOMETASK],
            'id',
            'id, customdata'
        );
        foreach ($rows as $row) {
            $data = json_decode((string)$row->customdata);
            if (!is_object($data) || !isset($data->recipients) || !is_array($data->recipients)) {
                continue;
            }
            $mine = $userid === null;
            foreach ($data->recipients as [$recipient]) {
                $mine = $mine || (int)$recipient === $userid;
            }
            if ($mine) {
                $tasks[] = (object)['id' => (int)$row->id, 'data' => $data];
            }
        }
        return $tasks;
    }
}
