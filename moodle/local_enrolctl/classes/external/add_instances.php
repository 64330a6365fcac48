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

namespace local_enrolctl\external;

use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use local_enrolctl\local\guard;

/**
 * local_enrolctl_add_instances: adds enrolment instances through enrol_plugin::add_instance(),
 * so events fire and cohort/meta sync the course at once, as when added in the UI.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class add_instances extends external_api {
    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'instances' => new external_multiple_structure(new external_single_structure([
                'courseid' => new external_value(PARAM_INT, 'course id'),
                'enrol' => new external_value(PARAM_PLUGIN, 'manual, self, guest, cohort or meta'),
                'name' => new external_value(PARAM_TEXT, 'instance name', VALUE_DEFAULT, ''),
                'status' => new external_value(PARAM_INT, '0 enabled, 1 disabled', VALUE_DEFAULT, 0),
                'roleid' => new external_value(PARAM_INT, 'role id, 0 for none', VALUE_DEFAULT, 0),
                'cohortid' => new external_value(PARAM_INT, 'cohort id (cohort)', VALUE_DEFAULT, 0),
                'linkedcourseid' => new external_value(PARAM_INT, 'linked course id (meta)', VALUE_DEFAULT, 0),
                'groupid' => new external_value(PARAM_INT, 'group id (cohort, meta), 0 for none', VALUE_DEFAULT, 0),
                'maxenrolled' => new external_value(
                    PARAM_INT,
                    'maximum enrolled users (self), 0 for no limit',
                    VALUE_DEFAULT,
                    0
                ),
            ])),
        ]);
    }

    /**
     * Adds the instances, all or none.
     *
     * @param array $instances
     * @return array [{courseid, id}] in request order
     */
    public static function execute(array $instances): array {
        global $CFG, $DB;
        require_once($CFG->libdir . '/enrollib.php');
        require_once($CFG->dirroot . '/cohort/lib.php');
        ['instances' => $instances] = self::validate_parameters(self::execute_parameters(), ['instances' => $instances]);
        guard::require_manage();

        // One transaction, rolled back explicitly on error (not left to the end of the request).
        $transaction = $DB->start_delegated_transaction();
        try {
            $out = [];
            foreach ($instances as $item) {
                $out[] = ['courseid' => $item['courseid'], 'id' => self::add_one($item)];
            }
        } catch (\Throwable $e) {
            $transaction->rollback($e);
        }
        guard::commit($transaction);
        return $out;
    }

    /**
     * Checks one item in the contract's order, then adds it.
     *
     * @param array $item the fields of execute_parameters(), all present
     * @param bool $idempotent answer an equivalent existing instance's id instead of duplicateinstance
     *     or cannotaddinstance (local_enrolctl_write: a resent item changes nothing)
     * @return int new (or, idempotent, equivalent existing) instance id
     */
    public static function add_one(array $item, bool $idempotent = false): int {
        global $DB;
        $enrol = $item['enrol'];
        $courseid = (int)$item['courseid'];
        $plugin = guard::plugin($enrol, 'new');
        $course = guard::course($courseid);
        guard::require_enabled($enrol);
        $context = guard::course_context($courseid);
        guard::require_config($enrol, $context);
        $a = (object)['enrol' => $enrol, 'courseid' => $courseid];

        $fields = ['status' => $item['status'] ? ENROL_INSTANCE_DISABLED : ENROL_INSTANCE_ENABLED];
        if ($item['name'] !== '') {
            $fields['name'] = $item['name'];
        }
        switch ($enrol) {
            case 'manual':
            case 'guest':
                $existing = $DB->get_field('enrol', 'id', ['courseid' => $courseid, 'enrol' => $enrol], IGNORE_MULTIPLE);
                if ($existing && $idempotent) {
                    return (int)$existing;
                }
                if ($existing) {
                    throw guard::error('cannotaddinstance', $a);
                }
                if ($enrol === 'manual') {
                    // The defaults the UI would fill in (expiry notification, welcome e-mail).
                    $expirynotify = $plugin->get_config('expirynotify', 0);
                    $fields += [
                        'roleid' => $item['roleid'],
                        'enrolperiod' => $plugin->get_config('enrolperiod', 0),
                        'expirynotify' => $expirynotify ? 1 : 0,
                        'notifyall' => $expirynotify == 2 ? 1 : 0,
                        'expirythreshold' => $plugin->get_config('expirythreshold', 86400),
                        'customint1' => $plugin->get_config('sendcoursewelcomemessage'),
                    ];
                }
                break;
            case 'cohort':
                $cohort = $item['cohortid'] ? $DB->get_record('cohort', ['id' => $item['cohortid']]) : false;
                if (!$cohort) {
                    throw guard::error('unknowncohort', $item['cohortid']);
                }
                if (!cohort_can_view_cohort($cohort, $context)) {
                    throw guard::error('cohortnotavailable', (object)['cohortid' => $cohort->id, 'courseid' => $courseid]);
                }
                $existing = $DB->get_field('enrol', 'id', ['courseid' => $courseid, 'enrol' => 'cohort',
                    'customint1' => $cohort->id, 'roleid' => $item['roleid']], IGNORE_MULTIPLE);
                if ($existing && $idempotent) {
                    return (int)$existing;
                }
                if ($existing) {
                    $a->id = $existing;
                    throw guard::error('duplicateinstance', $a);
                }
                $fields += ['customint1' => $cohort->id, 'roleid' => $item['roleid'], 'customint2' => $item['groupid']];
                break;
            case 'meta':
                $linkedid = (int)$item['linkedcourseid'];
                $linked = guard::course($linkedid);
                if ($linkedid == $courseid) {
                    throw guard::error('invalidlink', $courseid);
                }
                $existing = $DB->get_field('enrol', 'id', ['courseid' => $courseid, 'enrol' => 'meta',
                    'customint1' => $linkedid], IGNORE_MULTIPLE);
                if ($existing && $idempotent) {
                    return (int)$existing;
                }
                if ($existing) {
                    $a->id = $existing;
                    throw guard::error('duplicateinstance', $a);
                }
                // As enrol_meta_add_instances: the token user must be able to pick the linked course.
                $linkedcontext = guard::course_context($linkedid);
                if (!$linked->visible) {
                    require_capability('moodle/course:viewhiddencourses', $linkedcontext);
                }
                require_capability('enrol/meta:selectaslinked', $linkedcontext);
                $fields += ['customint1' => $linkedid, 'customint2' => $item['groupid']];
                break;
            case 'self':
                foreach ($DB->get_records('enrol', ['courseid' => $courseid, 'enrol' => 'self'], 'id', 'id, name') as $other) {
                    if ((string)$other->name === $item['name']) {
                        if ($idempotent) {
                            return (int)$other->id;
                        }
                        $a->id = $other->id;
                        throw guard::error('duplicateinstance', $a);
                    }
                }
                // Start from the site's self-enrolment defaults, as the "Add method" form does.
                $fields = array_merge(
                    $plugin->get_instance_defaults(),
                    $fields,
                    ['roleid' => $item['roleid'], 'customint3' => $item['maxenrolled']]
                );
                if ($plugin->get_config('requirepassword')) {
                    // The site demands an enrolment key: set an unguessable one, as add_default_instance() does.
                    $fields['password'] = generate_password(20);
                }
                break;
        }
        guard::require_role((int)$item['roleid'], $context);
        guard::require_group((int)$item['groupid'], $courseid);

        $id = $plugin->add_instance($course, $fields);
        if (!$id) {
            throw guard::error('cannotaddinstance', $a);
        }
        return (int)$id;
    }

    /**
     * Return description.
     *
     * @return external_multiple_structure
     */
    public static function execute_returns(): external_multiple_structure {
        return new external_multiple_structure(new external_single_structure([
            'courseid' => new external_value(PARAM_INT, 'course id'),
            'id' => new external_value(PARAM_INT, 'new instance id'),
        ]));
    }
}
