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
 * local_enrolctl_get_site_status: what enrolctl needs to know about the site before planning.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_site_status extends external_api {
    /**
     * No parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([]);
    }

    /**
     * Versions, enabled enrolment plugins (in site order), site time zone and roles.
     *
     * @return array
     */
    public static function execute(): array {
        global $CFG, $DB;
        self::validate_parameters(self::execute_parameters(), []);
        guard::require_manage();

        $plugin = \core_plugin_manager::instance()->get_plugin_info('local_enrolctl');
        $enabled = array_values(array_filter(explode(',', (string)($CFG->enrol_plugins_enabled ?? '')), 'strlen'));
        $roles = [];
        foreach ($DB->get_records('role', null, 'id ASC', 'id, shortname') as $role) {
            $roles[] = ['id' => (int)$role->id, 'shortname' => $role->shortname];
        }
        return [
            'pluginversion' => (int)$plugin->versiondisk,
            'pluginrelease' => (string)$plugin->release,
            'moodleversion' => (string)$CFG->version,
            'moodlerelease' => (string)$CFG->release,
            'enabledplugins' => $enabled,
            'timezone' => \core_date::get_server_timezone(),
            'roles' => $roles,
        ];
    }

    /**
     * Return description.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'pluginversion' => new external_value(PARAM_INT, 'local_enrolctl version (YYYYMMDDXX)'),
            'pluginrelease' => new external_value(PARAM_RAW, 'local_enrolctl release'),
            'moodleversion' => new external_value(PARAM_RAW, 'Moodle version, e.g. 2025100600.02'),
            'moodlerelease' => new external_value(PARAM_RAW, 'Moodle release, e.g. 5.1+ (Build: 20251017)'),
            'enabledplugins' => new external_multiple_structure(
                new external_value(PARAM_PLUGIN, 'enrolment plugin name'),
                'enabled enrolment plugins, in site order'
            ),
            'timezone' => new external_value(PARAM_RAW, 'site default time zone'),
            'roles' => new external_multiple_structure(new external_single_structure([
                'id' => new external_value(PARAM_INT, 'role id'),
                'shortname' => new external_value(PARAM_RAW, 'role short name'),
            ]), 'all roles, by id'),
        ]);
    }
}
