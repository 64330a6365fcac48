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

use context_course;
use core_external\external_api;
use moodle_exception;
use stdClass;

/**
 * Shared look-ups and checks of the write functions, raising the contract's error codes.
 *
 * Every check mirrors what the Moodle UI checks before the same change, so a token can do
 * no more than its owner could do by hand.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class guard {
    /** Enrolment methods enrolctl manages. */
    const MANAGED = ['manual', 'self', 'guest', 'cohort', 'meta'];

    /** Methods whose user enrolments enrolctl may set or remove. */
    const USERMANAGED = ['manual', 'self'];

    /** @var context_course[] courses whose context already passed validate_context in this request */
    private static $validated = [];

    /** @var array[] get_assignable_roles() of course contexts, by context id, for this request */
    private static $assignable = [];

    /** The capability every function of the plugin requires in the system context. */
    const MANAGE = 'local/enrolctl:manage';

    /**
     * validate_context() on the system context and local/enrolctl:manage there: the first check
     * of every function, so enrolment capabilities alone never let a token drive enrolctl.
     */
    public static function require_manage(): void {
        $system = \context_system::instance();
        external_api::validate_context($system);
        require_capability(self::MANAGE, $system);
    }

    /**
     * The user record, or unknownuser for a missing, deleted or guest user: nobody enrols the guest.
     *
     * @param int $userid
     * @return stdClass user record (id, username)
     */
    public static function user(int $userid): stdClass {
        global $CFG, $DB;
        $user = $userid == $CFG->siteguest ? false
            : $DB->get_record('user', ['id' => $userid, 'deleted' => 0], 'id, username');
        if (!$user) {
            throw self::error('unknownuser', $userid);
        }
        return $user;
    }

    /**
     * Throws a local_enrolctl exception with the contract's code.
     *
     * @param string $code error code (a string of lang/en/local_enrolctl.php)
     * @param mixed $a string placeholder value
     * @return moodle_exception
     */
    public static function error(string $code, $a = null): moodle_exception {
        return new moodle_exception($code, 'local_enrolctl', '', $a);
    }

    /**
     * Commits a delegated transaction. Messages queued inside it (manual/self welcome e-mails) are
     * sent only after the commit, and core throws "Message was not sent." when a processor fails
     * (e.g. a site without working e-mail). The changes are committed by then, as in the UI where the
     * same failure follows a completed enrolment, so the failure is logged and the call succeeds.
     *
     * @param \moodle_transaction $transaction
     */
    public static function commit(\moodle_transaction $transaction): void {
        global $DB;
        try {
            $transaction->allow_commit();
        } catch (moodle_exception $e) {
            $committed = $transaction->is_disposed() && !$DB->is_transaction_started();
            if ($e->errorcode !== 'Message was not sent.' || !$committed) {
                throw $e;
            }
            debugging('local_enrolctl: changes committed, but a notification could not be sent', DEBUG_NORMAL);
        }
    }

    /**
     * The course record, or unknowncourse. The site course counts as unknown: no enrolment
     * method can live there (enrol_plugin::add_instance refuses SITEID).
     *
     * @param int $courseid
     * @return stdClass course record
     */
    public static function course(int $courseid): stdClass {
        global $DB;
        $course = $courseid == SITEID ? false : $DB->get_record('course', ['id' => $courseid]);
        if (!$course) {
            throw self::error('unknowncourse', $courseid);
        }
        return $course;
    }

    /**
     * validate_context() on the course once per request (require_login: the token user must be able
     * to enter the course, as in the UI), then returns the context.
     *
     * @param int $courseid
     * @return context_course
     */
    public static function course_context(int $courseid): context_course {
        if (!isset(self::$validated[$courseid])) {
            $context = context_course::instance($courseid);
            external_api::validate_context($context);
            self::$validated[$courseid] = $context;
        }
        return self::$validated[$courseid];
    }

    /**
     * The instance record, or unknowninstance; database instances are refused (databaseinstance).
     *
     * @param int $instanceid
     * @param int $courseid the course the caller says it is in; 0 for any. Another course's
     *     instance is unknowninstance: a write item never reaches outside its course.
     * @return stdClass enrol record
     */
    public static function instance(int $instanceid, int $courseid = 0): stdClass {
        global $DB;
        $instance = $DB->get_record('enrol', ['id' => $instanceid]);
        if (!$instance || ($courseid && $instance->courseid != $courseid)) {
            throw self::error('unknowninstance', $instanceid);
        }
        if ($instance->enrol === 'database') {
            throw self::error('databaseinstance', $instanceid);
        }
        return $instance;
    }

    /**
     * The enrol plugin of a method enrolctl manages, or unsupportedmethod/databaseinstance.
     *
     * @param string $enrol method name
     * @param string $what placeholder of databaseinstance ("new" or the instance id)
     * @return \enrol_plugin
     */
    public static function plugin(string $enrol, string $what): \enrol_plugin {
        if ($enrol === 'database') {
            throw self::error('databaseinstance', $what);
        }
        if (!in_array($enrol, self::MANAGED, true)) {
            throw self::error('unsupportedmethod', $enrol);
        }
        $plugin = enrol_get_plugin($enrol);
        if (!$plugin) {
            throw self::error('unsupportedmethod', $enrol);
        }
        return $plugin;
    }

    /**
     * plugindisabled unless the method is enabled site-wide ($CFG->enrol_plugins_enabled).
     *
     * @param string $enrol
     */
    public static function require_enabled(string $enrol): void {
        if (!enrol_is_enabled($enrol)) {
            throw self::error('plugindisabled', $enrol);
        }
    }

    /**
     * The capabilities the instance pages (enrol/instances.php, enrol/editinstance.php) check
     * before adding, editing, hiding/showing or deleting an instance.
     *
     * @param string $enrol
     * @param context_course $context
     */
    public static function require_config(string $enrol, context_course $context): void {
        require_capability('moodle/course:enrolconfig', $context);
        require_capability('enrol/' . $enrol . ':config', $context);
    }

    /**
     * invalidrole unless roleid is 0 or a role the token user may assign in the course
     * (get_assignable_roles: moodle/role:assign plus role_allow_assign, as the UI role menus).
     *
     * @param int $roleid
     * @param context_course $context
     * @param int[] $alsoallowed role ids accepted even if not assignable (an instance's current role)
     */
    public static function require_role(int $roleid, context_course $context, array $alsoallowed = []): void {
        if ($roleid == 0 || in_array($roleid, $alsoallowed)) {
            return;
        }
        // Function get_assignable_roles() costs several queries: once per course and request is enough.
        if (!isset(self::$assignable[$context->id])) {
            self::$assignable[$context->id] = get_assignable_roles($context, ROLENAME_SHORT);
        }
        if (!array_key_exists($roleid, self::$assignable[$context->id])) {
            throw self::error('invalidrole', (object)['roleid' => $roleid, 'courseid' => $context->instanceid]);
        }
    }

    /**
     * invalidgroup unless groupid is 0 or a group of the course.
     *
     * @param int $groupid
     * @param int $courseid
     */
    public static function require_group(int $groupid, int $courseid): void {
        global $DB;
        if ($groupid == 0) {
            return;
        }
        if (!$DB->record_exists('groups', ['id' => $groupid, 'courseid' => $courseid])) {
            throw self::error('invalidgroup', (object)['groupid' => $groupid, 'courseid' => $courseid]);
        }
    }
}
