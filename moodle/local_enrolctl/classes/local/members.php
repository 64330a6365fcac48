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

use stdClass;

/**
 * Adds a course's manual group memberships group by group.
 *
 * groups_add_member() does its work for one user: it re-reads the user, checks the enrolment and
 * the membership, inserts the row, touches the group, invalidates the user's groupings cache, adds
 * the user to the group conversation, triggers group_member_added and dispatches
 * after_group_membership_added (course format and communication caches) — about 14 queries and a
 * file cache write per member. This does the same, in the same order, once per group for all its
 * new members: the checks in four queries for the whole course, one insert, one touch of the
 * group, one cache invalidation and one conversation update for the group's users, one
 * group_member_added event per member (the log and every observer see each membership, as from
 * the UI), and one hook dispatch with all the group's users, which the hook is made for.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class members {
    /**
     * Checks every item in order, then adds the memberships that are missing. An item whose user is
     * already a member (of any component) changes nothing.
     *
     * @param int $courseid
     * @param array $indexed item index in the call => item (groupid, userid), validated by payload
     * @param int $current set to the index of the item being checked, so a failure names it
     */
    public static function add(int $courseid, array $indexed, int &$current): void {
        global $CFG, $DB;
        $context = guard::course_context($courseid);
        $userids = [];
        $groupids = [];
        foreach ($indexed as $item) {
            $userids[(int)$item['userid']] = (int)$item['userid'];
            $groupids[(int)$item['groupid']] = (int)$item['groupid'];
        }
        unset($userids[(int)$CFG->siteguest]);
        [$usql, $uparams] = $DB->get_in_or_equal($userids ?: [0], SQL_PARAMS_NAMED, 'u');
        [$gsql, $gparams] = $DB->get_in_or_equal($groupids, SQL_PARAMS_NAMED, 'g');
        $users = $DB->get_records_select('user', "id $usql AND deleted = 0", $uparams, '', 'id');
        $groups = $DB->get_records_select('groups', "id $gsql AND courseid = :courseid", $gparams + ['courseid' => $courseid]);
        // Like is_enrolled($context, $userid): any user enrolment in any of the course's instances.
        $enrolled = array_flip($DB->get_fieldset_sql("SELECT DISTINCT ue.userid
                FROM {user_enrolments} ue
                JOIN {enrol} e ON e.id = ue.enrolid AND e.courseid = :courseid
               WHERE ue.userid $usql", ['courseid' => $courseid] + $uparams));
        $members = [];
        $rs = $DB->get_recordset_select(
            'groups_members',
            "groupid $gsql AND userid $usql",
            $gparams + $uparams,
            '',
            'id, groupid, userid'
        );
        foreach ($rs as $member) {
            $members[$member->groupid . ':' . $member->userid] = true;
        }
        $rs->close();

        $add = []; // Group id => user ids, in item order.
        foreach ($indexed as $index => $item) {
            $current = $index;
            $userid = (int)$item['userid'];
            $groupid = (int)$item['groupid'];
            if (!isset($users[$userid])) {
                throw guard::error('unknownuser', $userid);
            }
            if (!isset($groups[$groupid])) {
                throw guard::error('invalidgroup', (object)['groupid' => $groupid, 'courseid' => $courseid]);
            }
            require_capability('moodle/course:managegroups', $context);
            if (isset($members[$groupid . ':' . $userid])) {
                continue;
            }
            if (!isset($enrolled[$userid])) {
                throw guard::error('notenrolled', (object)['userid' => $userid, 'courseid' => $courseid]);
            }
            $members[$groupid . ':' . $userid] = true;
            $add[$groupid][] = $userid;
        }
        $current = -1;
        foreach ($add as $groupid => $newmembers) {
            self::add_to_group($groups[$groupid], $newmembers, $context);
        }
    }

    /**
     * groups_add_member() for several users of one group (see the class comment).
     *
     * @param stdClass $group
     * @param int[] $userids users enrolled in the course and not yet members
     * @param \context_course $context
     */
    private static function add_to_group(stdClass $group, array $userids, \context_course $context): void {
        global $DB;
        $now = time();
        $rows = [];
        foreach ($userids as $userid) {
            $rows[] = (object)['groupid' => $group->id, 'userid' => $userid, 'timeadded' => $now, 'component' => '',
                'itemid' => 0];
        }
        $DB->insert_records('groups_members', $rows);
        $DB->set_field('groups', 'timemodified', $now, ['id' => $group->id]);
        $group->timemodified = $now;
        \cache_helper::invalidate_by_definition('core', 'user_group_groupings', [], $userids);
        $conversation = \core_message\api::get_conversation_by_area('core_group', 'groups', $group->id, $context->id);
        if ($conversation) {
            \core_message\api::add_members_to_conversation($userids, $conversation->id);
        }
        foreach ($userids as $userid) {
            $event = \core\event\group_member_added::create([
                'context' => $context,
                'objectid' => $group->id,
                'relateduserid' => $userid,
                'other' => ['component' => '', 'itemid' => 0],
            ]);
            $event->add_record_snapshot('groups', $group);
            $event->trigger();
        }
        \core\di::get(\core\hook\manager::class)->dispatch(new \core_group\hook\after_group_membership_added(
            groupinstance: $group,
            userids: $userids,
        ));
    }
}
