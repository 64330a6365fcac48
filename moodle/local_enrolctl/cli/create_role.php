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
 * Creates the least-privilege enrolctl role of docs/moodle-setup.md step 4 (exactly its
 * capabilities, system context only, allowed to assign the given roles) and optionally gives it
 * to an account in the system context, instead of clicking it together on Define roles.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

define('CLI_SCRIPT', true);

require(__DIR__ . '/../../../config.php');
require_once($CFG->libdir . '/clilib.php');

use local_enrolctl\local\role;

[$options, $unrecognised] = cli_get_params(
    ['shortname' => 'enrolctl', 'assign' => implode(',', role::ASSIGNABLE), 'username' => '', 'reset' => false,
        'help' => false],
    ['h' => 'help']
);
if ($unrecognised) {
    cli_error(get_string('cliunknowoption', 'admin', implode("\n  ", $unrecognised)));
}
if ($options['help']) {
    cli_writeln("Creates the enrolctl role: exactly the capabilities enrolctl needs, allowed in the system context,
assignable in the system context only, and allowed to assign the roles your specs use.

Options:
  --shortname=NAME    the role's short name (default enrolctl)
  --assign=LIST       roles it may assign, comma-separated (default student,teacher,editingteacher);
                      added to what the role may assign already, never removed
  --username=NAME     also give the role to this account in the system context
  --reset             bring an existing role whose capabilities differ back to exactly the list
                      (refused otherwise, so a role changed on purpose is not overwritten)
  -h, --help          this help

Capabilities:
  " . implode("\n  ", role::CAPABILITIES) . "

Example:
  php local/enrolctl/cli/create_role.php --username=enrolctl");
    exit(0);
}

$shortname = clean_param($options['shortname'], PARAM_ALPHANUMEXT);
if ($shortname === '' || $shortname !== $options['shortname']) {
    cli_error("--shortname: letters, digits, - and _ only");
}
$assign = array_values(array_filter(array_map('trim', explode(',', $options['assign']))));
$user = null;
if ($options['username'] !== '') {
    $user = core_user::get_user_by_username($options['username']);
    if (!$user || $user->deleted) {
        cli_error("No user with username '{$options['username']}'.");
    }
    if (is_siteadmin($user)) {
        cli_error("Refused: {$user->username} is a site administrator; give the role to a dedicated account.");
    }
}

$want = role::CAPABILITIES;
sort($want);
$existing = $DB->get_field('role', 'id', ['shortname' => $shortname]);
if ($existing && !$options['reset']) {
    $have = role::allowed((int)$existing);
    if ($have !== array_values(array_filter($want, 'get_capability_info'))) {
        $missing = implode(', ', array_diff($want, $have)) ?: 'none';
        $extra = implode(', ', array_diff($have, $want)) ?: 'none';
        cli_error("Refused: the role '$shortname' exists with other capabilities in the system context
(missing: $missing; extra: $extra). Run again with --reset to make it exactly the enrolctl list.");
    }
}

\core\session\manager::set_user(get_admin());
$result = role::ensure($shortname, role::CAPABILITIES, $assign);
foreach ($result['skipped'] as $cap) {
    fwrite(STDERR, "warning: capability $cap does not exist on this site (plugin not installed); skipped\n");
}
foreach ($result['missingroles'] as $missing) {
    fwrite(STDERR, "warning: no role with short name '$missing' to allow assigning\n");
}
if ($user) {
    role_assign($result['roleid'], $user->id, context_system::instance()->id);
}
$count = count(role::allowed($result['roleid']));
cli_writeln(($result['created'] ? 'created' : 'updated') . " role $shortname (id {$result['roleid']}): $count capabilities "
    . "allowed in the system context, assignable in the system context only, may assign "
    . (implode(', ', array_diff($assign, $result['missingroles'])) ?: 'no role')
    . ($user ? "; given to {$user->username}" : ''));
