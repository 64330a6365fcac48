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

namespace local_enrolctl\local;

/**
 * The least-privilege role of the enrolctl account (docs/moodle-setup.md, step 4): exactly the
 * capabilities below allowed in the system context, assignable in the system context only, and
 * allowed to assign the roles the specs use. cli/create_role.php creates it; the enrolctl
 * developer site uses the same list.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class role {
    /** What enrolctl needs and nothing else (each one's reason: docs/moodle-setup.md, step 4). */
    const CAPABILITIES = [
        'local/enrolctl:manage',
        'webservice/rest:use',
        'moodle/course:view',
        'moodle/course:viewhiddencourses',
        'moodle/course:enrolreview',
        'moodle/course:enrolconfig',
        'enrol/manual:config',
        'enrol/manual:enrol',
        'enrol/manual:manage',
        'enrol/manual:unenrol',
        'enrol/self:config',
        'enrol/self:manage',
        'enrol/self:unenrol',
        'enrol/guest:config',
        'enrol/cohort:config',
        'enrol/meta:config',
        'enrol/meta:selectaslinked',
        'moodle/role:assign',
        'moodle/cohort:view',
        'moodle/course:managegroups',
        'moodle/user:viewdetails',
        'moodle/user:viewalldetails',
    ];

    /** Roles the enrolctl role may assign unless told otherwise. */
    const ASSIGNABLE = ['student', 'teacher', 'editingteacher'];

    /**
     * Creates the role, or brings an existing one to exactly $caps (allowed in the system
     * context, nothing else there), the system context level only, and $assignable as the
     * roles it may assign (added to, never removed from).
     *
     * @param string $shortname
     * @param string[] $caps capabilities; those unknown to the site (an uninstalled enrolment
     *     plugin) are skipped and returned
     * @param string[] $assignable role shortnames
     * @return array [roleid => int, created => bool, skipped => string[] unknown capabilities,
     *     missingroles => string[] assignable roles the site does not have]
     */
    public static function ensure(string $shortname, array $caps, array $assignable): array {
        global $DB;
        $system = \context_system::instance();
        $roleid = $DB->get_field('role', 'id', ['shortname' => $shortname]);
        $created = !$roleid;
        if ($created) {
            $roleid = create_role(
                $shortname,
                $shortname,
                'enrolctl account: exactly what enrolctl needs (local_enrolctl/cli/create_role.php)',
                ''
            );
        }
        $roleid = (int)$roleid;
        set_role_contextlevels($roleid, [CONTEXT_SYSTEM]);
        $DB->delete_records('role_capabilities', ['roleid' => $roleid, 'contextid' => $system->id]);
        $skipped = [];
        foreach ($caps as $cap) {
            if (!get_capability_info($cap)) {
                $skipped[] = $cap;
                continue;
            }
            assign_capability($cap, CAP_ALLOW, $roleid, $system->id, true);
        }
        $missing = [];
        foreach ($assignable as $target) {
            $targetid = $DB->get_field('role', 'id', ['shortname' => $target]);
            if (!$targetid) {
                $missing[] = $target;
                continue;
            }
            if (!$DB->record_exists('role_allow_assign', ['roleid' => $roleid, 'allowassign' => $targetid])) {
                core_role_set_assign_allowed($roleid, $targetid);
            }
        }
        $system->mark_dirty();
        return ['roleid' => $roleid, 'created' => $created, 'skipped' => $skipped, 'missingroles' => $missing];
    }

    /**
     * The capabilities the role allows in the system context now, sorted.
     *
     * @param int $roleid
     * @return string[]
     */
    public static function allowed(int $roleid): array {
        global $DB;
        $caps = $DB->get_fieldset_select(
            'role_capabilities',
            'capability',
            'roleid = :roleid AND contextid = :contextid AND permission = :allow',
            ['roleid' => $roleid, 'contextid' => \context_system::instance()->id, 'allow' => CAP_ALLOW]
        );
        sort($caps);
        return $caps;
    }
}
