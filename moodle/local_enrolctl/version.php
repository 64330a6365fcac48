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
 * Version information for local_enrolctl.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$plugin->component = 'local_enrolctl';
// Bump on every change to db/services.php, otherwise the functions are not re-registered.
$plugin->version   = 2026120710;
// Only what the e2e suite passed on: Moodle 5.1 (2025100600.02) with PostgreSQL 15 and MariaDB 10.11.
// To claim another version, run the suite against it on both databases first (docs/moodle-setup.md).
$plugin->requires  = 2025100600;
$plugin->supported = [501, 501];
$plugin->maturity  = MATURITY_STABLE;
$plugin->release   = '2.6.0';
