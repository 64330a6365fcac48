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
 * Configures a throw-away developer site for enrolctl (run by dev/moodle-site.sh, as www-data):
 * web services + REST, the three enrolctl services, enrolment plugins, the external database source,
 * the least-privilege "enrolctl" role and account (docs/moodle-setup.md step 4), an account
 * with the same role minus local/enrolctl:manage (the e2e suite's refusal cases), tokens, and
 * the env file's lines on stdout. Re-running reuses accounts and tokens.
 *
 * @package    local_enrolctl
 * @copyright  2026 enrolctl contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

define('CLI_SCRIPT', true);

// The script lives in the enrolctl repository; the site's code root is found from the cwd or --site.
$site = getenv('MOODLE_SITE_DIR') ?: '/var/www/enrolctl-moodle';
require($site . '/config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->dirroot . '/user/lib.php');
require_once($CFG->dirroot . '/webservice/lib.php');

[$opts] = cli_get_params(['extdb' => '', 'extdbtype' => 'postgres', 'dbuser' => '', 'dbpass' => '']);
\core\session\manager::set_user(get_admin());
$system = context_system::instance();

// Web services and REST.
set_config('enablewebservices', 1);
$protocols = array_filter(explode(',', (string)($CFG->webserviceprotocols ?? '')));
if (!in_array('rest', $protocols)) {
    $protocols[] = 'rest';
    set_config('webserviceprotocols', implode(',', $protocols));
}
foreach (['enrolctl', 'enrolctl_read', 'enrolctl_testing'] as $shortname) {
    $DB->set_field('external_services', 'enabled', 1, ['shortname' => $shortname]);
}

// Enrolment methods: everything the demo uses; guest stays disabled (the e2e suite's
// disabled-plugin case, ENROLCTL_E2E_DISABLED_PLUGIN=guest).
set_config('enrol_plugins_enabled', 'manual,self,cohort,meta,database');
// The external database source: a table in the site's own database server (PostgreSQL or MariaDB,
// ADOdb driver postgres or mysqli), created by the script.
foreach ([
    'dbtype' => $opts['extdbtype'], 'dbhost' => '127.0.0.1', 'dbuser' => $opts['dbuser'], 'dbpass' => $opts['dbpass'],
    'dbname' => $opts['extdb'], 'remoteenroltable' => 'enrolments', 'remotecoursefield' => 'course',
    'remoteuserfield' => 'username', 'remoterolefield' => 'role', 'localcoursefield' => 'shortname',
    'localuserfield' => 'username', 'localrolefield' => 'shortname', 'unenrolaction' => ENROL_EXT_REMOVED_UNENROL,
] as $name => $value) {
    set_config($name, $value, 'enrol_database');
}
// Self enrolment: no mandatory key, so the demo's self instances need none.
set_config('requirepassword', 0, 'enrol_self');

/**
 * The manual account, created with a random password if missing.
 *
 * @param string $username
 * @return stdClass user record
 */
function enrolctl_dev_user(string $username): stdClass {
    global $CFG;
    $user = core_user::get_user_by_username($username);
    if (!$user) {
        $id = user_create_user((object)[
            'username' => $username, 'auth' => 'manual', 'confirmed' => 1, 'mnethostid' => $CFG->mnet_localhost_id,
            'password' => bin2hex(random_bytes(16)) . 'A!', 'firstname' => 'enrolctl', 'lastname' => $username,
            'email' => $username . '@example.invalid',
        ], true, false);
        $user = core_user::get_user($id);
    }
    return $user;
}

/**
 * The token this script made for (user, service), or a new one.
 *
 * @param stdClass $user
 * @param string $service shortname
 * @return string token
 */
function enrolctl_dev_token(stdClass $user, string $service): string {
    global $DB;
    $serviceobj = $DB->get_record('external_services', ['shortname' => $service], '*', MUST_EXIST);
    $existing = $DB->get_field('external_tokens', 'token',
        ['userid' => $user->id, 'externalserviceid' => $serviceobj->id, 'name' => 'enrolctl-dev']);
    if ($existing) {
        return $existing;
    }
    // Moodle refuses a token to a user lacking the service's required capability; the e2e suite
    // needs exactly such a token (enrolctl_nocap) to check that calls with it are refused.
    $unrestricted = (object)(['requiredcapability' => null] + (array)$serviceobj);
    return \core_external\util::generate_token(EXTERNAL_TOKEN_PERMANENT, $unrestricted, (int)$user->id,
        context_system::instance(), 0, '', 'enrolctl-dev');
}

// The role of docs/moodle-setup.md step 4, as the plugin's cli/create_role.php creates it.
$caps = \local_enrolctl\local\role::CAPABILITIES;
$assignable = \local_enrolctl\local\role::ASSIGNABLE;
$roleid = \local_enrolctl\local\role::ensure('enrolctl', $caps, $assignable)['roleid'];
$nocaprole = \local_enrolctl\local\role::ensure('enrolctl_nocap', array_values(array_diff($caps, ['local/enrolctl:manage'])),
    $assignable)['roleid'];

$account = enrolctl_dev_user('enrolctl');
role_assign($roleid, $account->id, $system->id);
$nocap = enrolctl_dev_user('enrolctl_nocap');
role_assign($nocaprole, $nocap->id, $system->id);
// Managers get local/enrolctl:manage from the archetype; make sure no stray grant exists for nocap.
role_unassign_all(['userid' => $nocap->id, 'contextid' => $system->id, 'roleid' => $roleid]);

$tokens = [
    'ENROLCTL_TOKEN' => enrolctl_dev_token($account, 'enrolctl'),
    'ENROLCTL_READ_TOKEN' => enrolctl_dev_token($account, 'enrolctl_read'),
    'ENROLCTL_E2E_TOKEN' => enrolctl_dev_token(get_admin(), 'enrolctl_testing'),
    'ENROLCTL_E2E_ACCOUNT_TOKEN' => enrolctl_dev_token($account, 'enrolctl_testing'),
    'ENROLCTL_E2E_NOCAP_TOKEN' => enrolctl_dev_token($nocap, 'enrolctl_testing'),
];
// stdout carries the env file only (the script writes it where www-data cannot); messages go to stderr.
echo "# Written by dev/moodle-site.sh (dev/moodle/configure.php). Secrets of a throw-away local site.\n"
    . "# ENROLCTL_TOKEN: the least-privilege enrolctl account, service enrolctl (what enrolctl uses).\n"
    . "# ENROLCTL_READ_TOKEN: the enrolctl account, service enrolctl_read (plan only: no write function).\n"
    . "# ENROLCTL_E2E_TOKEN: admin, service enrolctl_testing (fixtures: users, courses, cohorts).\n"
    . "# ENROLCTL_E2E_ACCOUNT_TOKEN: the enrolctl account, service enrolctl_testing.\n"
    . "# ENROLCTL_E2E_NOCAP_TOKEN: the enrolctl role minus local/enrolctl:manage, service enrolctl_testing.\n"
    . "export ENROLCTL_E2E_URL=" . $CFG->wwwroot . "\n"
    . "export ENROLCTL_E2E_DISABLED_PLUGIN=guest\n"
    . "export ENROLCTL_E2E_READ_TOKEN=" . $tokens['ENROLCTL_READ_TOKEN'] . "\n";
foreach ($tokens as $k => $v) {
    echo "export $k=$v\n";
}

set_config('timezone', 'Europe/Paris');
set_config('forcetimezone', 'Europe/Paris');
purge_caches();
fwrite(STDERR, "configured {$CFG->wwwroot}: web services, REST, services enrolctl + enrolctl_read + enrolctl_testing, role enrolctl "
    . "(" . count($caps) . " capabilities), accounts enrolctl + enrolctl_nocap, " . count($tokens) . " tokens\n");
