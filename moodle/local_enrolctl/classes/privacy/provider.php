<?php
// This file is part of the enrolctl project (local_enrolctl, a companion plugin for Moodle).
//
// This program is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.

namespace local_enrolctl\privacy;

/**
 * Privacy provider: the plugin has no tables and stores no personal data; the enrolments it
 * changes belong to the enrolment plugins and core, which export and delete them.
 *
 * @package    local_enrolctl
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class provider implements \core_privacy\local\metadata\null_provider {
    /**
     * Returns the language string identifier explaining why this plugin stores no data.
     *
     * @return string
     */
    public static function get_reason(): string {
        return 'privacy:metadata';
    }
}
