<?php
// This file is part of the enrolctl project (local_enrolctl, a companion plugin for Moodle).
//
// This program is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.

/**
 * Version information for local_enrolctl.
 *
 * @package    local_enrolctl
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$plugin->component = 'local_enrolctl';
// Bump on every change to db/services.php, otherwise the functions are not re-registered.
$plugin->version   = 2026112301;
$plugin->requires  = 2024100700; // Moodle 4.5 LTS; tested on 5.1 (2025100600.02).
$plugin->supported = [405, 501];
$plugin->maturity  = MATURITY_STABLE;
$plugin->release   = '1.0.0';
