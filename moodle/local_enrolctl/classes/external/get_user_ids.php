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
use core_external\external_value;
use local_enrolctl\local\guard;

/**
 * local_enrolctl_get_user_ids: usernames to user ids, in one query.
 *
 * core_user_get_users_by_field builds each user's whole profile (custom fields, preferences,
 * capability checks per user): 1.7 s for 500 usernames on the dev site, most of a plan or CSV
 * import whose users are in no course yet. enrolctl needs only the id. The usernames travel as one
 * JSON string and the answer is one JSON string, so neither max_input_vars nor the return-value
 * check scales with the batch.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_user_ids extends external_api {
    /** Most usernames per call. */
    const MAXUSERNAMES = 5000;

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'usernames' => new external_value(PARAM_RAW, 'JSON array of at most ' . self::MAXUSERNAMES . ' usernames'),
        ]);
    }

    /**
     * The ids of the given usernames that are users of this site, not deleted and not the guest.
     *
     * @param string $usernames JSON array of strings
     * @return string JSON object username => id
     */
    public static function execute(string $usernames): string {
        global $CFG, $DB;
        ['usernames' => $usernames] = self::validate_parameters(self::execute_parameters(), ['usernames' => $usernames]);
        guard::require_manage();
        require_capability('moodle/user:viewdetails', \context_system::instance());
        try {
            $names = json_decode($usernames, false, 2, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            $names = null;
        }
        if (!is_array($names) || array_filter($names, fn($n) => !is_string($n))) {
            throw guard::error('invalidpayload', 'usernames is not a JSON array of strings');
        }
        if (count($names) > self::MAXUSERNAMES) {
            throw guard::error('invalidpayload', count($names) . ' usernames, at most ' . self::MAXUSERNAMES . ' per call');
        }
        $ids = [];
        $names = array_values(array_unique($names));
        foreach (array_chunk($names, 1000) as $chunk) { // Bound the query's parameters.
            [$insql, $params] = $DB->get_in_or_equal($chunk, SQL_PARAMS_NAMED, 'u');
            $rs = $DB->get_recordset_select(
                'user',
                "username $insql AND mnethostid = :mnethost AND deleted = 0 AND id <> :guest",
                $params + ['mnethost' => $CFG->mnet_localhost_id, 'guest' => $CFG->siteguest],
                '',
                'id, username'
            );
            foreach ($rs as $user) {
                $ids[$user->username] = (int)$user->id;
            }
            $rs->close();
        }
        return json_encode((object)$ids, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE
            | JSON_THROW_ON_ERROR);
    }

    /**
     * Return description.
     *
     * @return external_value
     */
    public static function execute_returns(): external_value {
        return new external_value(PARAM_RAW, 'JSON object: username => user id, for the usernames that are users here');
    }
}
