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
 * Creates a permanent web-service token for a user and one of the enrolctl services, and prints
 * only the token (so it can be captured: TOKEN=$(php .../create_token.php --username=enrolctl)).
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

define('CLI_SCRIPT', true);

require(__DIR__ . '/../../../config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->dirroot . '/webservice/lib.php');

[$options, $unrecognised] = cli_get_params(
    ['username' => '', 'service' => 'enrolctl', 'validuntil' => 0, 'iprestriction' => '', 'allow-admin' => false,
        'help' => false],
    ['h' => 'help']
);
if ($unrecognised) {
    cli_error(get_string('cliunknowoption', 'admin', implode("\n  ", $unrecognised)));
}
if ($options['help'] || $options['username'] === '') {
    cli_writeln("Creates a web-service token for enrolctl and prints it on stdout.

Options:
  --username=NAME       user owning the token (required)
  --service=SHORTNAME   enrolctl (default), enrolctl_read (plans only: no write function) or
                        enrolctl_testing
  --validuntil=UNIXTIME expiry, 0 for never (default)
  --iprestriction=LIST  allowed client IPs/ranges, as in the Manage tokens page
  --allow-admin         issue the token even though the user is a site administrator
                        (refused otherwise: an admin token can do anything on the site)
  -h, --help            this help

Example:
  TOKEN=\$(php local/enrolctl/cli/create_token.php --username=enrolctl)");
    exit($options['help'] ? 0 : 2);
}

$user = core_user::get_user_by_username($options['username']);
if (!$user || $user->deleted) {
    cli_error("No user with username '{$options['username']}'.");
}
$service = $DB->get_record('external_services', ['shortname' => $options['service']]);
if (!$service) {
    cli_error("No web service with shortname '{$options['service']}'. Has local_enrolctl been installed (admin/cli/upgrade.php)?");
}
if (!in_array($options['service'], ['enrolctl', 'enrolctl_read', 'enrolctl_testing'], true)) {
    cli_error('This script only creates tokens for the enrolctl, enrolctl_read and enrolctl_testing services.');
}

// Messages go to stderr so that stdout carries the token only.
if (empty($CFG->enablewebservices)) {
    fwrite(STDERR, "warning: web services are disabled (enablewebservices)\n");
}
if (!in_array('rest', explode(',', (string)($CFG->webserviceprotocols ?? '')))) {
    fwrite(STDERR, "warning: the REST protocol is not enabled (webserviceprotocols)\n");
}
if (!$service->enabled) {
    fwrite(STDERR, "warning: the service {$service->shortname} is disabled; enable it in Site administration > "
        . "Server > Web services > External services\n");
}
if (is_siteadmin($user)) {
    if (!$options['allow-admin']) {
        cli_error("Refused: {$user->username} is a site administrator. A token of theirs can do anything on the site,
whatever the service allows. Create a dedicated account with the enrolctl role (docs/moodle-setup.md,
step 4) and a token for it. On a throw-away test site only, --allow-admin issues the token anyway.");
    }
    fwrite(STDERR, "WARNING: issuing a token for the site administrator {$user->username}: it can do anything "
        . "on this site. Use it on a throw-away test site only.\n");
} else {
    if (!has_capability('local/enrolctl:manage', context_system::instance(), $user)) {
        cli_error("Refused: {$user->username} lacks local/enrolctl:manage in the system context, which both "
            . "enrolctl services require. Give the account the enrolctl role (docs/moodle-setup.md, step 4).");
    }
    if (!has_capability('webservice/rest:use', context_system::instance(), $user)) {
        fwrite(STDERR, "warning: {$user->username} lacks webservice/rest:use in the system context; "
            . "every call will be refused\n");
    }
}

if (
    $service->restrictedusers && !$DB->record_exists(
        'external_services_users',
        ['externalserviceid' => $service->id, 'userid' => $user->id]
    )
) {
    (new webservice())->add_ws_authorised_user((object)[
        'externalserviceid' => $service->id,
        'userid' => $user->id,
        'iprestriction' => $options['iprestriction'] !== '' ? $options['iprestriction'] : null,
        'validuntil' => (int)$options['validuntil'],
        'timecreated' => time(),
    ]);
}

$token = \core_external\util::generate_token(
    EXTERNAL_TOKEN_PERMANENT,
    $service,
    (int)$user->id,
    context_system::instance(),
    (int)$options['validuntil'],
    (string)$options['iprestriction'],
    'enrolctl'
);
echo $token, PHP_EOL;
