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
 * The items parameter of local_enrolctl_write: decoded, checked field by field, defaults filled
 * and grouped by course, all before anything is written. Every problem is invalidpayload with
 * what is wrong and the item's index.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class payload {
    /** Most items per call. */
    const MAXITEMS = 5000;

    /** Largest items JSON, in bytes. */
    const MAXBYTES = 8 * 1024 * 1024;

    /**
     * Fields per operation: name => [type, default] ("int" or "string"; default null = required).
     * Every item carries courseid.
     */
    const FIELDS = [
        'add_instances' => [
            'enrol' => ['string', null], 'name' => ['string', ''], 'status' => ['int', 0], 'roleid' => ['int', 0],
            'cohortid' => ['int', 0], 'linkedcourseid' => ['int', 0], 'groupid' => ['int', 0], 'maxenrolled' => ['int', 0],
        ],
        // Optional keys without a default: absent means "leave as is".
        'update_instances' => [
            'id' => ['int', null], 'name' => ['string', false], 'status' => ['int', false], 'roleid' => ['int', false],
            'groupid' => ['int', false], 'maxenrolled' => ['int', false],
        ],
        'delete_instances' => ['id' => ['int', null]],
        'set_enrolments' => [
            'instanceid' => ['int', null], 'userid' => ['int', null], 'roleid' => ['int', null],
            'timestart' => ['int', null], 'timeend' => ['int', null], 'suspended' => ['int', null],
        ],
        'unenrol_users' => ['instanceid' => ['int', null], 'userid' => ['int', null]],
        'create_groups' => ['name' => ['string', null]],
        'add_members' => ['groupid' => ['int', null], 'userid' => ['int', null]],
        'remove_members' => ['groupid' => ['int', null], 'userid' => ['int', null]],
    ];

    /**
     * Decodes and checks the items.
     *
     * @param string $operation
     * @param string $json
     * @return array courseid => [index => item], courses in order of first appearance
     */
    public static function parse(string $operation, string $json): array {
        if (!isset(self::FIELDS[$operation])) {
            throw self::invalid('unknown operation "' . $operation . '"');
        }
        if (strlen($json) > self::MAXBYTES) {
            throw self::invalid('items is larger than ' . self::MAXBYTES . ' bytes');
        }
        try {
            $items = json_decode($json, true, 16, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING);
        } catch (\JsonException $e) {
            throw self::invalid('items is not JSON: ' . $e->getMessage());
        }
        if (!is_array($items) || !array_is_list($items)) {
            throw self::invalid('items is not a JSON array');
        }
        if (count($items) > self::MAXITEMS) {
            throw self::invalid(count($items) . ' items, at most ' . self::MAXITEMS . ' per call');
        }
        $fields = ['courseid' => ['int', null]] + self::FIELDS[$operation];
        $bycourse = [];
        foreach ($items as $index => $item) {
            $bycourse[] = [$index, self::item($operation, $fields, $index, $item)];
        }
        $out = [];
        foreach ($bycourse as [$index, $item]) {
            $out[$item['courseid']][$index] = $item;
        }
        return $out;
    }

    /**
     * One item, checked, with defaults filled.
     *
     * @param string $operation
     * @param array $fields
     * @param int $index
     * @param mixed $item
     * @return array
     */
    private static function item(string $operation, array $fields, int $index, $item): array {
        if (!is_array($item) || ($item !== [] && array_is_list($item))) {
            throw self::invalid("item $index: not an object");
        }
        $out = [];
        foreach ($fields as $name => [$type, $default]) {
            if (!array_key_exists($name, $item)) {
                if ($default === null) {
                    throw self::invalid("item $index: no $name");
                }
                if ($default !== false) {
                    $out[$name] = $default;
                }
                continue;
            }
            $value = $item[$name];
            $ok = $type === 'int' ? is_int($value) : is_string($value);
            if (!$ok) {
                throw self::invalid("item $index: $name must be " . ($type === 'int' ? 'an integer' : 'a string'));
            }
            $out[$name] = $value;
        }
        foreach (array_keys($item) as $name) {
            if (!isset($fields[$name])) {
                throw self::invalid("item $index: unknown field $name");
            }
        }
        foreach (['status', 'suspended'] as $flag) {
            if (isset($out[$flag]) && $out[$flag] !== 0 && $out[$flag] !== 1) {
                throw self::invalid("item $index: $flag must be 0 or 1");
            }
        }
        // Names are plain text (PARAM_TEXT in the v1 functions): markup is refused, not stripped.
        if (isset($out['name']) && $out['name'] !== strip_tags($out['name'])) {
            throw self::invalid("item $index: name must not contain HTML tags");
        }
        if ($out['courseid'] <= 0) {
            throw self::invalid("item $index: courseid must be positive");
        }
        if (
            $operation === 'set_enrolments' && !\local_enrolctl\external\set_enrolments::valid_times(
                $out['timestart'],
                $out['timeend']
            )
        ) {
            throw self::invalid("item $index: times must be 0 or more and timeend 0 or not before timestart");
        }
        if ($operation === 'create_groups' && trim($out['name']) === '') {
            throw self::invalid("item $index: name is empty");
        }
        return $out;
    }

    /**
     * The invalidpayload exception.
     *
     * @param string $what
     * @return \moodle_exception
     */
    private static function invalid(string $what): \moodle_exception {
        return guard::error('invalidpayload', $what);
    }
}
