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
 * Loads a site saved by moodlesim (go run ./dev/sitejson demo|timing) into a real Moodle.
 *
 * Categories, courses, cohorts, groups and enrolment methods go through Moodle's APIs, so the
 * site looks as if made by hand (cohort and meta instances sync themselves). Users, manual/self
 * enrolments, their plain roles and manual group members are bulk-inserted per course — the same
 * rows enrol_user() and groups_add_member() write, minus events and logs — because 35,000
 * enrolments through enrol_user() take many minutes. Database instances get their rows in the
 * external table (--extdb); the script's scheduled-task run then creates them.
 *
 * Ids differ from moodlesim's: everything is matched by shortname, username, cohort idnumber,
 * group name and method name. Anything that already exists is kept, so re-running adds only
 * what is missing.
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
require_once($CFG->dirroot . '/cohort/lib.php');
require_once($CFG->dirroot . '/group/lib.php');
require_once($CFG->libdir . '/enrollib.php');

[$opts] = cli_get_params(['file' => '', 'extdb' => '', 'extdbtype' => 'postgres', 'dbuser' => '', 'dbpass' => '']);
$in = json_decode(file_get_contents($opts['file']), false, 512, JSON_THROW_ON_ERROR);
\core\session\manager::set_user(get_admin());
$started = microtime(true);
$say = function (string $what) use ($started) {
    cli_writeln(sprintf('[%6.1fs] %s', microtime(true) - $started, $what));
};

$roleshort = $DB->get_records_menu('role', null, '', 'id, shortname');
$simroles = [1 => 'manager', 2 => 'coursecreator', 3 => 'editingteacher', 4 => 'teacher', 5 => 'student',
    6 => 'guest', 7 => 'user', 8 => 'frontpage'];
$roleid = fn(int $simid): int => $simid ? (int)array_search($simroles[$simid], $roleshort) : 0;

// Categories, parents first (ids are increasing).
$cat = [];
foreach ($in->categories as $c) {
    $parent = $c->parent ? $cat[$c->parent] : 0;
    $id = $DB->get_field('course_categories', 'id', ['name' => $c->name, 'parent' => $parent]);
    $cat[$c->id] = $id ?: core_course_category::create((object)['name' => $c->name, 'parent' => $parent,
        'idnumber' => $c->idnumber ?? ''])->id;
}

// Courses: only the manual default instance, as in moodlesim's definitions.
$defaults = ['self' => get_config('enrol_self', 'defaultenrol'), 'guest' => get_config('enrol_guest', 'defaultenrol')];
set_config('defaultenrol', 0, 'enrol_self');
set_config('defaultenrol', 0, 'enrol_guest');
$course = [];
$shortname = [];
foreach ($in->courses as $c) {
    if ($c->id == 1) {
        continue;
    }
    $id = $DB->get_field('course', 'id', ['shortname' => $c->shortname]);
    if (!$id) {
        $id = create_course((object)['shortname' => $c->shortname, 'fullname' => $c->fullname,
            'idnumber' => $c->idnumber ?? '', 'category' => $cat[$c->category], 'visible' => (int)$c->visible,
            'format' => 'topics', 'numsections' => 1])->id;
    }
    $course[$c->id] = (int)$id;
    $shortname[$c->id] = $c->shortname;
}
foreach ($defaults as $plugin => $value) {
    set_config('defaultenrol', $value, 'enrol_' . $plugin);
}
$say(count($course) . ' courses');

// Users, bulk: one password hash for all (nobody logs in as them).
$user = $DB->get_records_menu('user', ['deleted' => 0], '', 'username, id');
$hash = hash_internal_user_password('Seeded-User-1!');
$now = time();
$new = [];
foreach ($in->users as $u) {
    if (!isset($user[$u->username])) {
        $new[] = ['username' => $u->username, 'auth' => 'manual', 'confirmed' => 1, 'mnethostid' => $CFG->mnet_localhost_id,
            'password' => $hash, 'firstname' => $u->firstname, 'lastname' => $u->lastname, 'email' => $u->email,
            'idnumber' => $u->idnumber ?? '', 'suspended' => (int)!empty($u->suspended), 'lang' => 'en',
            'calendartype' => 'gregorian', 'timezone' => '99', 'timecreated' => $now, 'timemodified' => $now];
    }
}
foreach (array_chunk($new, 1000) as $chunk) {
    $DB->insert_records('user', $chunk);
}
context_helper::create_instances(CONTEXT_USER);
$user = $DB->get_records_menu('user', ['deleted' => 0], '', 'username, id');
$userid = [];
$username = [];
foreach ($in->users as $u) {
    $userid[$u->id] = (int)$user[$u->username];
    $username[$u->id] = $u->username;
}
$say(count($new) . ' users added, ' . count($userid) . ' in the definition');

// Cohorts and their members.
$cohort = [];
$members = [];
foreach ($in->cohort_members as $m) {
    $members[$m->cohortid][] = $userid[$m->userid];
}
foreach ($in->cohorts as $c) {
    $id = $DB->get_field('cohort', 'id', ['idnumber' => $c->idnumber]);
    if (!$id) {
        $id = cohort_add_cohort((object)['contextid' => context_system::instance()->id, 'name' => $c->name,
            'idnumber' => $c->idnumber, 'visible' => (int)$c->visible, 'description' => $c->description ?? '']);
    }
    $cohort[$c->id] = (int)$id;
    $have = $DB->get_fieldset_select('cohort_members', 'userid', 'cohortid = ?', [$id]);
    foreach (array_diff($members[$c->id] ?? [], $have) as $uid) {
        cohort_add_member($id, $uid);
    }
}
$say(count($cohort) . ' cohorts');

// Groups, before the methods that fill them.
$group = [];
foreach ($in->groups as $g) {
    $cid = $course[$g->courseid];
    $id = groups_get_group_by_name($cid, $g->name);
    $group[$g->id] = (int)($id ?: groups_create_group((object)['courseid' => $cid, 'name' => $g->name,
        'idnumber' => $g->idnumber ?? '', 'description' => $g->description ?? '']));
}
$say(count($group) . ' groups');

// Methods. Database instances are made by the sync from the external table rows below.
$instance = [];
$instancerec = [];
$extrows = [];
$ras = [];
foreach ($in->role_assignments as $ra) {
    $ras[$ra->courseid . '/' . $ra->userid . '/' . ($ra->component ?? '') . '/' . ($ra->itemid ?? 0)][] = $ra->roleid;
}
$sims = [];
foreach ($in->enrol as $e) {
    $sims[$e->id] = $e;
}
foreach ($in->enrol as $e) {
    $cid = $course[$e->courseid];
    if ($e->enrol === 'database') {
        continue;
    }
    $plugin = enrol_get_plugin($e->enrol);
    $name = $e->name ?? '';
    $fields = ['name' => $name, 'status' => $e->status, 'roleid' => $roleid($e->roleid)];
    foreach (['customint1', 'customint2', 'customint3', 'customint4', 'customint5', 'customint6', 'enrolperiod'] as $f) {
        if (!empty($e->$f)) {
            $fields[$f] = $e->$f;
        }
    }
    if ($e->enrol === 'cohort') {
        $fields['customint1'] = $cohort[$e->customint1];
        $fields['customint2'] = empty($e->customint2) ? 0 : $group[$e->customint2];
    } else if ($e->enrol === 'meta') {
        $fields['customint1'] = $course[$e->customint1];
        $fields['customint2'] = empty($e->customint2) ? 0 : $group[$e->customint2];
    }
    $match = ['courseid' => $cid, 'enrol' => $e->enrol];
    if ($e->enrol === 'cohort' || $e->enrol === 'meta') {
        $match['customint1'] = $fields['customint1'];
    } else if ($e->enrol !== 'manual') {
        $match['name'] = $name;
    }
    $found = $DB->get_records('enrol', $match, 'id', 'id', 0, 1);
    $id = $found ? (int)reset($found)->id : (int)$plugin->add_instance(get_course($cid), $fields);
    $instance[$e->id] = $id;
    $instancerec[$e->id] = $DB->get_record('enrol', ['id' => $id]);
}
$say(count($instance) . ' methods (besides database)');

// User enrolments: database ones become external rows; manual/self ones are bulk-inserted
// with their plain roles, per course in one transaction.
$byinstance = [];
foreach ($in->user_enrolments as $ue) {
    $byinstance[$ue->enrolid][] = $ue;
}
$added = 0;
foreach ($byinstance as $simid => $ues) {
    $e = $sims[$simid];
    if ($e->enrol === 'database') {
        foreach ($ues as $ue) {
            $rid = $ras[$e->courseid . '/' . $ue->userid . '/enrol_database/' . $simid][0] ?? 5;
            $extrows[] = [$shortname[$e->courseid], $username[$ue->userid], $simroles[$rid]];
        }
        continue;
    }
    if ($e->enrol !== 'manual' && $e->enrol !== 'self') {
        continue; // cohort and meta enrolments come from their own sync
    }
    $inst = $instancerec[$simid];
    $context = context_course::instance($inst->courseid);
    $have = array_flip($DB->get_fieldset_select('user_enrolments', 'userid', 'enrolid = ?', [$inst->id]));
    $rows = [];
    $roles = [];
    foreach ($ues as $ue) {
        $uid = $userid[$ue->userid];
        if (isset($have[$uid])) {
            continue;
        }
        $rows[] = ['enrolid' => $inst->id, 'userid' => $uid, 'status' => $ue->status, 'timestart' => $ue->timestart,
            'timeend' => $ue->timeend, 'modifierid' => get_admin()->id, 'timecreated' => $now, 'timemodified' => $now];
        foreach ($ras[$e->courseid . '/' . $ue->userid . '//0'] ?? [] as $rid) {
            $roles[] = ['roleid' => $roleid($rid), 'contextid' => $context->id, 'userid' => $uid, 'component' => '',
                'itemid' => 0, 'timemodified' => $now, 'modifierid' => get_admin()->id, 'sortorder' => 0];
        }
    }
    $tx = $DB->start_delegated_transaction();
    $DB->insert_records('user_enrolments', $rows);
    foreach ($roles as $r) {
        if (!$DB->record_exists('role_assignments', ['roleid' => $r['roleid'], 'contextid' => $r['contextid'],
                'userid' => $r['userid'], 'component' => '', 'itemid' => 0])) {
            $DB->insert_record('role_assignments', $r);
        }
    }
    $tx->allow_commit();
    $added += count($rows);
}
$say("$added manual/self enrolments added");

// Manual group members (cohort/meta ones belong to their sync).
$rows = [];
foreach ($in->groups_members as $m) {
    if (!empty($m->component)) {
        continue;
    }
    $gid = $group[$m->groupid];
    $uid = $userid[$m->userid];
    $rows[$gid . '/' . $uid] = ['groupid' => $gid, 'userid' => $uid, 'timeadded' => $now, 'component' => '', 'itemid' => 0];
}
if ($rows) {
    $existing = $DB->get_recordset_sql('SELECT gm.groupid, gm.userid FROM {groups_members} gm
        WHERE gm.groupid IN (' . implode(',', array_unique(array_column($rows, 'groupid'))) . ')');
    foreach ($existing as $r) {
        unset($rows[$r->groupid . '/' . $r->userid]);
    }
    $existing->close();
    foreach (array_chunk(array_values($rows), 1000) as $chunk) {
        $DB->insert_records('groups_members', $chunk);
    }
}
$say(count($rows) . ' manual group members added');

// External database rows (idempotent: the table's primary key).
if ($extrows) {
    if ($opts['extdbtype'] === 'mysqli') {
        $ext = new mysqli('127.0.0.1', $opts['dbuser'], $opts['dbpass'], $opts['extdb']);
        $ext->begin_transaction();
        $insert = $ext->prepare('INSERT IGNORE INTO enrolments (course, username, role) VALUES (?, ?, ?)');
        foreach ($extrows as $r) {
            $insert->execute(array_values($r));
        }
        $ext->commit();
    } else {
        $ext = pg_connect(sprintf("host=127.0.0.1 dbname=%s user=%s password=%s", $opts['extdb'], $opts['dbuser'],
            $opts['dbpass']));
        pg_query($ext, 'BEGIN');
        foreach ($extrows as $r) {
            pg_query_params($ext, 'INSERT INTO enrolments (course, username, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
                $r);
        }
        pg_query($ext, 'COMMIT');
    }
    $say(count($extrows) . ' external database rows');
}

// Bulk inserts bypassed the access and course caches.
accesslib_clear_all_caches(true);
purge_caches();
$say('done');
