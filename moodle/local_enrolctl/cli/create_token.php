<?php
// This file is part of the enrolctl project (local_enrolctl, a companion plugin for Moodle).
//
// This program is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.


/**
 * Creates a permanent web-service token for a user and one of the enrolctl services, and prints
 * only the token (so it can be captured: TOKEN=$(php .../create_token.php --username=enrolctl)).
 *
 * @package    local_enrolctl
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

define('CLI_SCRIPT', true);

require(__DIR__ . '/../../../config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->dirroot . '/webservice/lib.php');

[$options, $unrecognised] = cli_get_params(
    ['username' => '', 'service' => 'enrolctl', 'validuntil' => 0, 'iprestriction' => '', 'help' => false],
    ['h' => 'help']
);
if ($unrecognised) {
    cli_error(get_string('cliunknowoption', 'admin', implode("\n  ", $unrecognised)));
}
if ($options['help'] || $options['username'] === '') {
    cli_writeln("Creates a web-service token for enrolctl and prints it on stdout.

Options:
  --username=NAME       user owning the token (required)
  --service=SHORTNAME   enrolctl (default) or enrolctl_testing
  --validuntil=UNIXTIME expiry, 0 for never (default)
  --iprestriction=LIST  allowed client IPs/ranges, as in the Manage tokens page
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
if ($options['service'] !== 'enrolctl' && $options['service'] !== 'enrolctl_testing') {
    cli_error('This script only creates tokens for the enrolctl and enrolctl_testing services.');
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
if (!is_siteadmin($user) && !has_capability('webservice/rest:use', context_system::instance(), $user)) {
    fwrite(STDERR, "warning: {$user->username} lacks webservice/rest:use in the system context\n");
}

if ($service->restrictedusers && !$DB->record_exists('external_services_users',
        ['externalserviceid' => $service->id, 'userid' => $user->id])) {
    (new webservice())->add_ws_authorised_user((object)[
        'externalserviceid' => $service->id,
        'userid' => $user->id,
        'iprestriction' => $options['iprestriction'] !== '' ? $options['iprestriction'] : null,
        'validuntil' => (int)$options['validuntil'],
        'timecreated' => time(),
    ]);
}

$token = \core_external\util::generate_token(EXTERNAL_TOKEN_PERMANENT, $service, (int)$user->id,
    context_system::instance(), (int)$options['validuntil'], (string)$options['iprestriction'], 'enrolctl');
echo $token, PHP_EOL;
