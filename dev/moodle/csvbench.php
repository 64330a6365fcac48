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
 * Prepares dev/csv-vs-uploaduser.sh: two sets of new, empty courses and one upload-users CSV
 * written twice, once naming each set.
 *
 * The courses are PREFIX-U0..9 (for admin/tool/uploaduser/cli/uploaduser.php) and PREFIX-E0..9
 * (for enrolctl), made by create_course() with the site's default enrolment methods, so both
 * tools meet the same courses. The rows are --rows existing users of the seeded timing site
 * (t00000...), each enrolled as student in two courses, in one of four groups in each; the
 * courses share users as a real list does. Each course has one teacher (the last timing user). --welcome sets the manual method's welcome message
 * on both sets (on: from the course contact, off: none, site: the site default).
 *
 * Prints the two CSV paths.
 *
 * @package    local_enrolctl
 * @copyright  2026 enrolctl contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

define('CLI_SCRIPT', true);

$site = getenv('MOODLE_SITE_DIR') ?: '/var/www/enrolctl-moodle';
require($site . '/config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->dirroot . '/course/lib.php');
require_once($CFG->libdir . '/enrollib.php');

[$opts] = cli_get_params(['prefix' => '', 'rows' => 1000, 'out' => '', 'welcome' => 'site']);
if (!preg_match('/^[A-Z][A-Z0-9]{1,15}$/', $opts['prefix']) || !is_dir($opts['out'])) {
    cli_error('usage: csvbench.php --prefix=UPPERCASE --out=DIR [--rows=1000] [--welcome=on|off|site]');
}
if (!in_array($opts['welcome'], ['on', 'off', 'site'], true)) {
    cli_error('--welcome: on, off or site');
}
\core\session\manager::set_user(get_admin());
$prefix = $opts['prefix'];
$rows = (int)$opts['rows'];

$users = $DB->get_records_select('user', "username LIKE 't0%' AND deleted = 0", null, 'username', 'id, username, firstname,
    lastname, email', 0, $rows);
if (count($users) < $rows) {
    cli_error("only " . count($users) . " seeded timing users (t0...): run dev/moodle-site.sh with SEED=timing");
}

$teacher = $DB->get_record_sql("SELECT id FROM {user} WHERE username LIKE 't0%' AND deleted = 0 ORDER BY username DESC", null,
    IGNORE_MULTIPLE);
$teacherrole = (int)$DB->get_field('role', 'id', ['shortname' => 'editingteacher'], MUST_EXIST);
$category = $DB->get_field('course_categories', 'id', ['name' => 'CSV bench']) ?:
    core_course_category::create((object)['name' => 'CSV bench'])->id;
foreach (['U', 'E'] as $set) {
    for ($i = 0; $i < 10; $i++) {
        $shortname = "$prefix-$set$i";
        if ($DB->record_exists('course', ['shortname' => $shortname])) {
            cli_error("$shortname exists: choose another prefix");
        }
        $course = create_course((object)['shortname' => $shortname, 'fullname' => "CSV bench $shortname",
            'category' => $category]);
        $manual = $DB->get_record('enrol', ['courseid' => $course->id, 'enrol' => 'manual'], '*', MUST_EXIST);
        // A teacher, as every real course has: the default welcome message comes from the course
        // contact, and Moodle sends none when the course has no contact.
        enrol_get_plugin('manual')->enrol_user($manual, $teacher->id, $teacherrole);
        if ($opts['welcome'] !== 'site') {
            $DB->set_field('enrol', 'customint1',
                $opts['welcome'] === 'on' ? ENROL_SEND_EMAIL_FROM_COURSE_CONTACT : ENROL_DO_NOT_SEND_EMAIL,
                ['id' => $manual->id]);
        }
    }
}

// Course pairs chosen so that every course shares users with several others.
foreach (['U' => 'uploaduser.csv', 'E' => 'enrolctl.csv'] as $set => $file) {
    $fh = fopen($opts['out'] . '/' . $file, 'w');
    fputcsv($fh, ['username', 'firstname', 'lastname', 'email', 'course1', 'role1', 'group1', 'course2', 'role2', 'group2'],
        ',', '"', '');
    $n = 0;
    foreach ($users as $u) {
        $first = $n % 10;
        $second = ($first + 1 + intdiv($n, 10) % 9) % 10;
        fputcsv($fh, [$u->username, $u->firstname, $u->lastname, $u->email,
            "$prefix-$set$first", 'student', 'TD' . ($n % 4 + 1),
            "$prefix-$set$second", 'student', 'TD' . (intdiv($n, 4) % 4 + 1)], ',', '"', '');
        $n++;
    }
    fclose($fh);
    cli_writeln($opts['out'] . '/' . $file);
}
