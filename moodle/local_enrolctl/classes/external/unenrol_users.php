<?php
// This file is part of the enrolctl project (local_enrolctl, a companion plugin for Moodle).
//
// This program is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.

namespace local_enrolctl\external;

use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use local_enrolctl\local\guard;

/**
 * local_enrolctl_unenrol_users: unenrols users from manual or self instances through
 * enrol_plugin::unenrol_user() (events, last-enrolment cleanup), as the participants page does.
 *
 * @package    local_enrolctl
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class unenrol_users extends external_api {
    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'enrolments' => new external_multiple_structure(new external_single_structure([
                'instanceid' => new external_value(PARAM_INT, 'manual or self instance id'),
                'userid' => new external_value(PARAM_INT, 'user id'),
            ])),
        ]);
    }

    /**
     * Unenrols, all or none; a user without an enrolment in the instance is left as is.
     *
     * @param array $enrolments
     * @return null
     */
    public static function execute(array $enrolments) {
        global $CFG, $DB;
        require_once($CFG->libdir . '/enrollib.php');
        ['enrolments' => $enrolments] = self::validate_parameters(self::execute_parameters(), ['enrolments' => $enrolments]);

        $transaction = $DB->start_delegated_transaction();
        foreach ($enrolments as $item) {
            $instance = set_enrolments::user_instance((int)$item['instanceid']);
            $context = guard::course_context((int)$instance->courseid);
            require_capability('enrol/' . $instance->enrol . ':unenrol', $context);
            enrol_get_plugin($instance->enrol)->unenrol_user($instance, (int)$item['userid']);
        }
        guard::commit($transaction);
        return null;
    }

    /**
     * Returns nothing.
     *
     * @return null
     */
    public static function execute_returns() {
        return null;
    }
}
