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
 * Named leases: at most one holder at a time per name and site ("apply": one apply at a time).
 *
 * A lease is a config_plugins row (local_enrolctl, lease_<name>) holding the holder, the Moodle
 * account that took it and the expiry; it outlives the request, unlike Moodle's locks, and expires by itself if its holder
 * dies. The read-check-write runs under a Moodle lock (lock_config: database, file or
 * whatever the site configured), so two concurrent acquires cannot both win.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class lease {
    /** Shortest and longest lease, in seconds. */
    const MINTTL = 10;
    /** Longest lease, in seconds. */
    const MAXTTL = 3600;

    /**
     * Takes the lease if free, expired or already ours (then renews it).
     *
     * @param string $name
     * @param string $holder
     * @param int $ttl seconds
     * @return array [acquired => bool, holder => current holder, expires => its expiry, and when an expired
     *     lease of another holder was replaced, previous => its holder, previous_expires => its expiry]
     */
    public static function acquire(string $name, string $holder, int $ttl): array {
        return self::locked($name, function () use ($name, $holder, $ttl) {
            global $USER;
            $now = time();
            $current = self::read($name);
            if ($current && $current['holder'] !== $holder && $current['expires'] > $now) {
                return ['acquired' => false] + $current;
            }
            $mine = ['holder' => $holder, 'expires' => $now + $ttl];
            // The account that took it: the privacy provider exports and deletes leases by account.
            set_config('lease_' . $name, json_encode($mine + ['userid' => (int)$USER->id]), 'local_enrolctl');
            $answer = ['acquired' => true] + $mine;
            if ($current && $current['holder'] !== $holder) {
                // The caller says whose expired lease it took over.
                $answer += ['previous' => $current['holder'], 'previous_expires' => $current['expires']];
            }
            return $answer;
        });
    }

    /**
     * Gives the lease up if $holder holds it; otherwise changes nothing.
     *
     * @param string $name
     * @param string $holder
     */
    public static function release(string $name, string $holder): void {
        self::locked($name, function () use ($name, $holder) {
            $current = self::read($name);
            if ($current && $current['holder'] === $holder) {
                unset_config('lease_' . $name, 'local_enrolctl');
            }
            return null;
        });
    }

    /**
     * The stored lease, read from the database (not the config cache another request may not
     * have refreshed yet), or null.
     *
     * @param string $name
     * @return array|null [holder, expires]
     */
    private static function read(string $name): ?array {
        global $DB;
        $value = $DB->get_field('config_plugins', 'value', ['plugin' => 'local_enrolctl', 'name' => 'lease_' . $name]);
        $lease = $value ? json_decode($value, true) : null;
        if (!is_array($lease) || !isset($lease['holder'], $lease['expires'])) {
            return null;
        }
        return ['holder' => (string)$lease['holder'], 'expires' => (int)$lease['expires']];
    }

    /**
     * Runs $f under the Moodle lock of the lease.
     *
     * @param string $name
     * @param callable $f
     * @return mixed what $f returns
     */
    private static function locked(string $name, callable $f) {
        $factory = \core\lock\lock_config::get_lock_factory('local_enrolctl');
        $lock = $factory->get_lock('lease_' . $name, 10);
        if (!$lock) {
            throw new \moodle_exception('locktimeout');
        }
        try {
            return $f();
        } finally {
            $lock->release();
        }
    }
}
