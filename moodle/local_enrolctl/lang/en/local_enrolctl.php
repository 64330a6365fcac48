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
 * English strings for local_enrolctl. The error strings are part of the enrolctl REST contract
 * (docs/contract.md in the enrolctl repository): do not reword them.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['pluginname'] = 'enrolctl';
$string['enrolctl:manage'] = 'Manage course enrolments through enrolctl web services';
$string['privacy:metadata:lease'] = 'A lease lets one enrolctl apply at a time change the site. It is stored in the plugin configuration until it is released or taken over after it expires.';
$string['privacy:metadata:lease:name'] = 'The name of the lease, e.g. lease_apply.';
$string['privacy:metadata:lease:value'] = 'The holder the enrolctl client sent (host, operating-system user, CI job), the Moodle account that took the lease and when it expires.';
$string['privacy:metadata:welcome'] = 'Welcome messages of enrolments made through enrolctl wait in an ad hoc task until cron sends them.';
$string['privacy:metadata:welcome:customdata'] = 'The enrolment instance, the message and the user ids and role ids of the recipients.';

$string['plugindisabled'] = 'The enrolment plugin {$a} is disabled on this site.';
$string['unsupportedmethod'] = 'enrolctl cannot manage enrolment method {$a}.';
$string['databaseinstance'] = 'Instance {$a} belongs to the external database sync; enrolctl never changes it.';
$string['cannotaddinstance'] = 'Cannot add a {$a->enrol} instance to course {$a->courseid}: the course already has one or the plugin refuses it.';
$string['duplicateinstance'] = 'Course {$a->courseid} already has an equivalent {$a->enrol} instance ({$a->id}).';
$string['unknowncohort'] = 'Cohort {$a} does not exist.';
$string['cohortnotavailable'] = 'Cohort {$a->cohortid} is not available in course {$a->courseid}.';
$string['unknowncourse'] = 'Course {$a} does not exist.';
$string['invalidlink'] = 'A course cannot be linked to itself (course {$a}).';
$string['invalidgroup'] = 'Group {$a->groupid} is not a group of course {$a->courseid}.';
$string['invalidrole'] = 'Role {$a->roleid} cannot be assigned in course {$a->courseid}.';
$string['unknowninstance'] = 'Enrolment instance {$a} does not exist.';
$string['instancenotmanual'] = 'Enrolment instance {$a} is not a manual or self instance.';
$string['unknownuser'] = 'User {$a} does not exist or is deleted.';
$string['invalidpayload'] = 'Invalid payload: {$a}';
$string['invalidtimes'] = 'Invalid enrolment times for user {$a}.';
$string['notmanualmember'] = 'User {$a->userid} is not a manual member of group {$a->groupid}.';
$string['notenrolled'] = 'User {$a->userid} is not enrolled in course {$a->courseid}.';
$string['cannotunenrol'] = 'The enrolment plugin {$a} does not allow unenrolling this user.';
