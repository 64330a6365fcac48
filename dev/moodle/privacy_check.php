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

/**
 * Checks local_enrolctl's privacy provider on a developer site made by dev/moodle-site.sh (as
 * www-data; MOODLE_SITE_DIR names the site): a lease taken by the enrolctl account and a queued
 * welcome message are found, exported through Moodle's privacy manager and deleted for that
 * account only, while another account's lease and places stay. Exits 1 on the first failure.
 * It uses leases named privacycheck*, never the apply lease.
 *
 * @package    local_enrolctl
 * @copyright  2026 enrolctl contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

define('CLI_SCRIPT', true);

$site = getenv('MOODLE_SITE_DIR') ?: '/var/www/enrolctl-moodle';
require($site . '/config.php');
require_once($CFG->libdir . '/clilib.php');

use core_privacy\local\request\approved_contextlist;
use core_privacy\local\request\approved_userlist;
use core_privacy\local\request\userlist;
use local_enrolctl\local\lease;
use local_enrolctl\privacy\provider;

$checks = 0;
$check = function (bool $ok, string $what) use (&$checks) {
    if (!$ok) {
        throw new RuntimeException("privacy check failed: $what");
    }
    $checks++;
};

$system = context_system::instance();
$account = core_user::get_user_by_username('enrolctl', '*', null, MUST_EXIST);
$admin = get_admin();
$manager = new \core_privacy\manager();
$check($manager->component_is_compliant('local_enrolctl'), 'component_is_compliant');

// A lease of each account, and a pending welcome message for both.
\core\session\manager::set_user($account);
lease::acquire('privacycheck', 'ci-runner-7/jdupont/job 4242', 60);
\core\session\manager::set_user($admin);
lease::acquire('privacycheckadmin', 'laptop/admin', 60);
$task = new \local_enrolctl\task\send_welcome_messages();
$task->set_component('local_enrolctl');
$task->set_custom_data((object)['instanceid' => 0, 'sendoption' => 0, 'message' => '',
    'recipients' => [[(int)$account->id, 0], [(int)$admin->id, 0]]]);
$taskid = \core\task\manager::queue_adhoc_task($task);
$check((bool)$taskid, 'welcome task queued');

try {
    $contexts = provider::get_contexts_for_userid((int)$account->id)->get_contextids();
    $check(in_array($system->id, $contexts), 'the lease holder has data in the system context');
    $userlist = new userlist($system, 'local_enrolctl');
    provider::get_users_in_context($userlist);
    $check(in_array((int)$account->id, $userlist->get_userids()), 'get_users_in_context names the lease holder');
    $check(in_array((int)$admin->id, $userlist->get_userids()), 'get_users_in_context names the admin');

    // Export as a data request does (the manager would also walk every other component).
    provider::export_user_data(new approved_contextlist($account, 'local_enrolctl', [$system->id]));
    $zip = \core_privacy\local\request\writer::with_context($system)->finalise_content();
    $archive = new ZipArchive();
    $check($archive->open($zip) === true, "export archive $zip opens");
    $exported = '';
    for ($i = 0; $i < $archive->numFiles; $i++) {
        if (strpos($archive->getNameIndex($i), 'enrolctl') !== false) {
            $exported .= $archive->getFromIndex($i);
        }
    }
    $check($exported !== '', "the export has local_enrolctl's files");
    $archive->close();
    $check(strpos($exported, 'ci-runner-7\/jdupont\/job 4242') !== false
        || strpos($exported, 'ci-runner-7/jdupont/job 4242') !== false, 'the export holds the lease holder');
    $check(strpos($exported, 'laptop') === false, "the export holds no other account's lease");
    $check(strpos($exported, '"enrolmentinstance"') !== false, 'the export lists the pending welcome message');

    // Delete for the account: its lease and its place on the welcome message go, the admin's stay.
    provider::delete_data_for_user(new approved_contextlist($account, 'local_enrolctl', [$system->id]));
    $check(!get_config('local_enrolctl', 'lease_privacycheck'), "the account's lease is deleted");
    $check((bool)get_config('local_enrolctl', 'lease_privacycheckadmin'), "the admin's lease stays");
    $data = json_decode($DB->get_field('task_adhoc', 'customdata', ['id' => $taskid]));
    $check($data && $data->recipients === [[(int)$admin->id, 0]], 'only the admin waits for the welcome message');

    // Delete for a list of users: the last recipient gone, the task goes.
    provider::delete_data_for_users(new approved_userlist($system, 'local_enrolctl', [(int)$admin->id]));
    $check(!$DB->record_exists('task_adhoc', ['id' => $taskid]), 'the emptied welcome task is deleted');
    $check(!get_config('local_enrolctl', 'lease_privacycheckadmin'), "the admin's lease is deleted");
    $check(provider::get_contexts_for_userid((int)$account->id)->count() === 0, 'nothing is left for the account');
} catch (RuntimeException $e) {
    $failed = $e->getMessage();
} finally {
    unset_config('lease_privacycheck', 'local_enrolctl');
    unset_config('lease_privacycheckadmin', 'local_enrolctl');
    $DB->delete_records('task_adhoc', ['id' => $taskid]);
}
if (!empty($failed)) {
    cli_error($failed);
}
cli_writeln("privacy provider: $checks checks passed");
