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

use context_helper;
use dml_missing_record_exception;

/**
 * Reads the enrolment state of courses: the queries behind get_course_state and get_course_rows.
 *
 * One read gives every role, every user of the courses once, and per course its rows in the
 * positional order of get_course_rows (docs/contract.md): id, shortname, instances, enrolments,
 * role assignments, groups, members, users. Both web services answer from it, so they cannot
 * disagree. A constant number of queries whatever the number of courses.
 *
 * The courses' users are those the enrolments, role assignments and members name: they are
 * collected from those rows and their accounts read by id, rather than found again by a UNION
 * over the three tables, which cost PostgreSQL more than every other query of a read together
 * (about 500 ms of 1,000 on 177 courses and 42,500 enrolments; the accounts by id take 10-50 ms).
 *
 * The enrolments, role assignments and members, most of a read's rows, come from the database
 * as JSON texts: since 2.5.0 one string per course and table, the course's rows written and
 * joined in order by the database (sql_concat in sql_group_concat, rows_by_course()), with the
 * ids of their users; PHP handles a string per course, not per row (2.3.1 read one string a
 * row; before, an object, an array and a cursor a row). get_course_rows' answer is byte for
 * byte the same. Those lists hold JSON texts: json() puts the answer of get_course_rows
 * together, decoded() gives get_course_state its rows.
 *
 * @package    local_enrolctl
 * @copyright  2026 The enrolctl authors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class course_reader {
    /** Most ids in one IN (...) list: below every database's limit on parameters. */
    const IDS_PER_QUERY = 10000;

    /** group_concat_max_len of a read on MySQL and MariaDB: 1 GB, the most an answer holds anyway. */
    const MAX_TEXT = 1073741824;

    /** json_encode's flags for the answers: invalid UTF-8 in a name becomes U+FFFD rather than failing the read. */
    const JSON_FLAGS = JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR;

    /**
     * The tables whose rows read() has the database write as JSON (see rows_by_course()): FROM what,
     * the course (or course context) column, the columns of a row in their order, the one string
     * column among them (written quoted, by name) if any, the order of the rows within a course, and
     * the user id column. The order and columns are those of docs/contract.md.
     */
    const ENROLMENTS = [
        'from' => '{user_enrolments} ue JOIN {enrol} e ON e.id = ue.enrolid JOIN {user} u ON u.id = ue.userid',
        'course' => 'e.courseid',
        'row' => ['ue.id', 'ue.enrolid', 'ue.userid', 'ue.status', 'ue.timestart', 'ue.timeend'],
        'string' => '',
        'sort' => 'ue.enrolid, ue.userid',
        'userid' => 'ue.userid',
    ];
    /** Role assignments, by course context: see ENROLMENTS. */
    const ROLE_ASSIGNMENTS = [
        'from' => '{role_assignments} ra JOIN {role} r ON r.id = ra.roleid',
        'course' => 'ra.contextid',
        'row' => ['ra.userid', 'ra.roleid', 'ra.component', 'ra.itemid'],
        'string' => 'ra.component',
        'sort' => 'ra.userid, ra.roleid, ra.component, ra.itemid, ra.id',
        'userid' => 'ra.userid',
    ];
    /** Group members: see ENROLMENTS. */
    const MEMBERS = [
        'from' => '{groups_members} gm JOIN {groups} g ON g.id = gm.groupid JOIN {user} u ON u.id = gm.userid',
        'course' => 'g.courseid',
        'row' => ['gm.groupid', 'gm.userid', 'gm.component', 'gm.itemid'],
        'string' => 'gm.component',
        'sort' => 'gm.groupid, gm.userid',
        'userid' => 'gm.userid',
    ];
    /**
     * The strings the database may write into JSON as they are, between quotes: nothing in them needs
     * escaping (components are frankenstyle names, or empty).
     */
    const PLAIN_STRING = '^[a-z0-9_]*$';

    /**
     * The courses with their contexts, after checking that each exists (the site course does not)
     * and that the user may review its enrolments (and see it, when hidden).
     *
     * @param int[] $ids distinct course ids
     * @return array [course records by id, course contexts by id]
     */
    public static function check_courses(array $ids): array {
        global $DB;
        [$insql, $params] = $DB->get_in_or_equal($ids, SQL_PARAMS_NAMED, 'c');
        $ctxfields = context_helper::get_preload_record_columns_sql('ctx');
        $courses = $DB->get_records_sql(
            "SELECT c.id, c.shortname, c.visible, $ctxfields
               FROM {course} c
               JOIN {context} ctx ON ctx.instanceid = c.id AND ctx.contextlevel = :courselevel
              WHERE c.id $insql AND c.id <> :siteid",
            $params + ['courselevel' => CONTEXT_COURSE, 'siteid' => SITEID]
        );
        $contexts = [];
        foreach ($ids as $id) {
            if (!isset($courses[$id])) {
                // The same error a MUST_EXIST read of the course gives (invalidrecord / invalidrecordunknown).
                throw new dml_missing_record_exception('course', 'SELECT * FROM {course} WHERE id = ?', [$id]);
            }
            context_helper::preload_from_record($courses[$id]);
            $contexts[$id] = \context_course::instance($id);
        }
        foreach ($ids as $id) {
            // The enrolment methods and participants pages need enrolreview; a hidden course needs viewhiddencourses.
            require_capability('moodle/course:enrolreview', $contexts[$id]);
            if (empty($courses[$id]->visible)) {
                require_capability('moodle/course:viewhiddencourses', $contexts[$id]);
            }
        }
        return [$courses, $contexts];
    }

    /**
     * The condition the catalogue (get_courses) and a read by name put on hidden courses: none for
     * who may see them site-wide, else only visible ones (checked in the system context, to keep
     * the query count constant: a category-level viewhiddencourses does not show them).
     *
     * @return string '' or an AND clause on the course table's visible column
     */
    public static function hidden_courses_sql(): string {
        return has_capability('moodle/course:viewhiddencourses', \context_system::instance()) ? '' : ' AND visible = 1';
    }

    /**
     * The ids of the courses named, in the order named, those the site lacks left out: as the
     * catalogue (get_courses) lists them, hidden courses only for who may see them site-wide. A
     * shortname is matched exactly, whatever the database's collation (MySQL's ignores case and
     * accents); of two courses with one shortname, the later one, as a client's catalogue keeps.
     *
     * @param string[] $names course shortnames
     * @return int[]
     */
    public static function ids_by_shortname(array $names): array {
        global $DB;
        $names = array_values(array_unique($names));
        [$insql, $params] = $DB->get_in_or_equal($names, SQL_PARAMS_NAMED, 'n');
        $where = "shortname $insql AND id <> :siteid" . self::hidden_courses_sql();
        $byname = [];
        $rs = $DB->get_recordset_select('course', $where, $params + ['siteid' => SITEID], 'id', 'id, shortname');
        foreach ($rs as $c) {
            $byname[$c->shortname] = (int)$c->id;
        }
        $rs->close();
        $ids = [];
        foreach ($names as $name) {
            if (isset($byname[$name])) {
                $ids[] = $byname[$name];
            }
        }
        return $ids;
    }

    /**
     * What read() gives for no course: every role, no user, no course.
     *
     * @return array
     */
    public static function read_none(): array {
        global $DB;
        return ['roles' => $DB->get_records_menu('role', null, 'id', 'id, shortname'), 'users' => [], 'metalinks' => [],
            'courses' => []];
    }

    /**
     * Checks the courses, then reads them.
     *
     * @param int[] $ids distinct course ids
     * @return array ['roles' => [id => shortname], 'users' => [id => [id, username, firstname, lastname,
     *     email, idnumber, suspended]] by id, 'metalinks' => [id => shortnames of the courses whose meta
     *     instance links to the course, sorted] by id, 'courses' => [id => course row]]; a course row's enrolments,
     *     role assignments and members are JSON texts, one a row (decoded() decodes them)
     */
    public static function read(array $ids): array {
        global $DB;
        [$courses, $contexts] = self::check_courses($ids);
        [$insql, $params] = $DB->get_in_or_equal($ids, SQL_PARAMS_NAMED, 'c');

        $state = [];
        foreach ($ids as $id) {
            $state[$id] = [$id, $courses[$id]->shortname, [], [], [], [], [], []];
        }
        // User ids of each course, from its enrolments, role assignments and members.
        $incourse = array_fill_keys($ids, []);

        $roles = $DB->get_records_menu('role', null, 'id', 'id, shortname');

        // Instances.
        $rs = $DB->get_recordset_sql(
            "SELECT e.id, e.courseid, e.enrol, e.status, e.name, e.sortorder, e.roleid, e.enrolperiod,
                    e.customint1, e.customint2, e.customint3,
                    ch.idnumber AS cohortidnumber, lc.shortname AS linkedcourseshortname, g.name AS groupname
               FROM {enrol} e
          LEFT JOIN {cohort} ch ON e.enrol = 'cohort' AND ch.id = e.customint1
          LEFT JOIN {course} lc ON e.enrol = 'meta' AND lc.id = e.customint1
          LEFT JOIN {groups} g ON e.enrol IN ('cohort', 'meta') AND g.id = e.customint2 AND g.courseid = e.courseid
              WHERE e.courseid $insql
           ORDER BY e.courseid, e.sortorder, e.id",
            $params
        );
        foreach ($rs as $e) {
            $cohort = $e->enrol === 'cohort';
            $meta = $e->enrol === 'meta';
            $state[$e->courseid][2][] = [
                (int)$e->id, $e->enrol, (int)$e->status, (string)$e->name, (int)$e->sortorder, (int)$e->roleid,
                $cohort ? (int)$e->customint1 : 0, $cohort ? (string)$e->cohortidnumber : '',
                $meta ? (int)$e->customint1 : 0, $meta ? (string)$e->linkedcourseshortname : '',
                ($cohort || $meta) ? max(0, (int)$e->customint2) : 0, ($cohort || $meta) ? (string)$e->groupname : '',
                $e->enrol === 'self' ? (int)$e->customint3 : 0, (int)$e->enrolperiod,
            ];
        }
        $rs->close();

        // User enrolments, role assignments in the course contexts (not in categories above or
        // modules below) and group members: each course's rows as one JSON text (see the class comment).
        $bycontext = [];
        foreach ($contexts as $id => $context) {
            $bycontext[$context->id] = $id;
        }
        [$ctxsql, $ctxparams] = $DB->get_in_or_equal(array_keys($bycontext), SQL_PARAMS_NAMED, 'x');
        if ($DB->get_dbfamily() === 'mysql') {
            // The session's limit on an aggregate, 1 MB by default: about 25,000 enrolments of a course.
            $DB->execute('SET SESSION group_concat_max_len = ' . self::MAX_TEXT);
        }
        foreach ([3 => self::ENROLMENTS, 4 => self::ROLE_ASSIGNMENTS, 6 => self::MEMBERS] as $i => $table) {
            [$where, $whereparams] = $i === 4 ? ["ra.contextid $ctxsql", $ctxparams] : ["{$table['course']} $insql", $params];
            foreach (self::rows_by_course($table, $where, $whereparams) as $key => [$text, $userids]) {
                $courseid = $i === 4 ? $bycontext[$key] : $key;
                $state[$courseid][$i][] = $text;
                $incourse[$courseid][] = $userids;
            }
        }

        // Groups.
        $rs = $DB->get_recordset_sql(
            "SELECT g.id, g.courseid, g.name, g.idnumber
               FROM {groups} g
              WHERE g.courseid $insql
           ORDER BY g.courseid, g.name, g.id",
            $params
        );
        foreach ($rs as $g) {
            $state[$g->courseid][5][] = [(int)$g->id, $g->name, (string)$g->idnumber];
        }
        $rs->close();

        // Each course's user ids, from its enrolments, role assignments and members, once each by id.
        foreach ($incourse as $courseid => $texts) {
            $set = $texts ? array_flip(explode(',', implode(',', $texts))) : [];
            ksort($set);
            $incourse[$courseid] = $set;
        }

        // The users' accounts, once each, by id.
        $userids = [];
        foreach ($incourse as $set) {
            $userids += $set;
        }
        ksort($userids);
        $users = [];
        foreach (array_chunk(array_keys($userids), self::IDS_PER_QUERY) as $chunk) {
            // Ids that fill at least half of their range are read as that range, those of other
            // users left out here: a range costs the database a fraction of a list of thousands of
            // ids to match (since 2.5.0; 7,000 users of the timing site: 46 -> 19 ms on PostgreSQL).
            [$first, $last] = [$chunk[0], $chunk[count($chunk) - 1]];
            if ($last - $first + 1 <= 2 * count($chunk)) {
                [$usql, $uparams] = ['id >= :ufirst AND id <= :ulast', ['ufirst' => $first, 'ulast' => $last]];
            } else {
                [$usql, $uparams] = $DB->get_in_or_equal($chunk, SQL_PARAMS_NAMED, 'u');
                $usql = "id $usql";
            }
            // At most twice IDS_PER_QUERY users at once: one query (a recordset of PostgreSQL is three).
            $fields = 'id, username, firstname, lastname, email, idnumber, suspended';
            foreach ($DB->get_records_select('user', $usql, $uparams, '', $fields) as $u) {
                if (isset($userids[$u->id])) {
                    $users[(int)$u->id] = [(int)$u->id, $u->username, (string)$u->firstname, (string)$u->lastname,
                        (string)$u->email, (string)$u->idnumber, (int)$u->suspended];
                }
            }
        }
        ksort($users);

        // Their last access to each course (no row: never).
        $lastaccess = [];
        $rs = $DB->get_recordset_select('user_lastaccess', "courseid $insql", $params, '', 'id, userid, courseid, timeaccess');
        foreach ($rs as $la) {
            $lastaccess[$la->courseid][$la->userid] = (int)$la->timeaccess;
        }
        $rs->close();

        // Each course's users by id: those whose account exists (role assignments do not join it).
        foreach ($incourse as $courseid => $set) {
            foreach ($set as $userid => $unused) {
                if (isset($users[$userid])) {
                    $state[$courseid][7][] = [(int)$userid, $lastaccess[$courseid][$userid] ?? 0];
                }
            }
        }
        // The courses whose meta instance links to each course (since 2.6.0): Moodle's meta sync
        // carries the course's enrolments into them, so a plan says where a removal reaches.
        // Sorted byte by byte, not by the database's collation.
        $metalinks = [];
        $rs = $DB->get_recordset_sql(
            "SELECT e.id, e.customint1 AS linkedcourseid, c.shortname
               FROM {enrol} e
               JOIN {course} c ON c.id = e.courseid
              WHERE e.enrol = 'meta' AND e.customint1 $insql",
            $params
        );
        foreach ($rs as $e) {
            $metalinks[(int)$e->linkedcourseid][] = $e->shortname;
        }
        $rs->close();
        ksort($metalinks);
        foreach ($metalinks as $id => $names) {
            sort($names, SORT_STRING);
            $metalinks[$id] = $names;
        }
        return ['roles' => $roles, 'users' => $users, 'metalinks' => $metalinks, 'courses' => $state];
    }

    /**
     * One table's rows of the courses (ENROLMENTS, ROLE_ASSIGNMENTS or MEMBERS) as JSON texts, one per
     * course: the rows of a course, in order, joined with commas, and the ids of their users.
     *
     * The database writes them (since 2.5.0), a course's rows aggregated into one string, so PHP handles
     * a string per course rather than one per row: most of the PHP time of a read before. A course
     * whose text the database cannot be trusted with is read row by row as before (rows_of()): a
     * string that would need escaping in JSON, or a text cut short (MySQL and MariaDB cut an
     * aggregate at group_concat_max_len, 1 MB unless raised here, and at max_allowed_packet).
     *
     * @param array $table ENROLMENTS, ROLE_ASSIGNMENTS or MEMBERS
     * @param string $where the condition on its course column
     * @param array $params the condition's parameters
     * @return array [course (or context) id => [rows text, user ids joined with commas]]
     */
    private static function rows_by_course(array $table, string $where, array $params): array {
        global $DB;
        $row = self::row_sql($table);
        $plain = '1';
        if ($table['string'] !== '') {
            $plain = "CASE WHEN {$table['string']} " . $DB->sql_regex() . " :plainstring THEN 1 ELSE 0 END";
            $params['plainstring'] = self::PLAIN_STRING;
        }
        // A row a course: get_records_sql reads them in one query (a recordset of PostgreSQL, in three).
        $records = $DB->get_records_sql(
            "SELECT {$table['course']} AS id, COUNT(1) AS n, MIN($plain) AS plain,
                    " . $DB->sql_group_concat($row, ',', $table['sort']) . " AS rowstext,
                    " . $DB->sql_group_concat($table['userid'], ',') . " AS userids
               FROM {$table['from']}
              WHERE $where
           GROUP BY {$table['course']}",
            $params
        );
        $out = [];
        $again = [];
        foreach ($records as $r) {
            // Every row holds one '[' (a plain string none) and ends with ']': else the text was cut.
            $text = (string)$r->rowstext;
            if ((int)$r->plain === 1 && substr_count($text, '[') === (int)$r->n && substr($text, -1) === ']') {
                $out[$r->id] = [$text, $r->userids];
            } else {
                $again[] = $r->id;
            }
        }
        if ($again) {
            [$insql, $inparams] = $DB->get_in_or_equal($again, SQL_PARAMS_NAMED, 'again');
            $out = self::rows_of($table, "{$table['course']} $insql", $inparams) + $out;
        }
        return $out;
    }

    /**
     * The SQL of one row's JSON text: its columns between brackets, the string column between quotes.
     *
     * @param array $table ENROLMENTS, ROLE_ASSIGNMENTS or MEMBERS
     * @return string
     */
    private static function row_sql(array $table): string {
        global $DB;
        $parts = ["'['"];
        foreach ($table['row'] as $n => $column) {
            if ($n > 0) {
                $parts[] = "','";
            }
            array_push($parts, ...($column === $table['string'] ? ["'\"'", $column, "'\"'"] : [$column]));
        }
        $parts[] = "']'";
        return $DB->sql_concat(...$parts);
    }

    /**
     * What rows_by_course() gives, read one row at a time, PHP writing each row's JSON: for the courses
     * whose text the database cannot be trusted with.
     *
     * @param array $table ENROLMENTS, ROLE_ASSIGNMENTS or MEMBERS
     * @param string $where the condition on its course column
     * @param array $params the condition's parameters
     * @return array [course (or context) id => [rows text, user ids joined with commas]]
     */
    private static function rows_of(array $table, string $where, array $params): array {
        global $DB;
        $columns = array_map(fn($c) => "$c AS " . str_replace('.', '_', $c), $table['row']);
        $fields = implode(', ', array_unique(array_merge(
            [$table['course'] . ' AS courseid', $table['userid'] . ' AS userid'],
            $columns
        )));
        $rs = $DB->get_recordset_sql(
            "SELECT $fields FROM {$table['from']} WHERE $where ORDER BY {$table['course']}, {$table['sort']}",
            $params
        );
        $rows = [];
        $users = [];
        foreach ($rs as $r) {
            $r = (array)$r;
            $values = [];
            foreach ($table['row'] as $column) {
                $value = $r[str_replace('.', '_', $column)];
                $values[] = $column === $table['string'] ? json_encode((string)$value, self::JSON_FLAGS) : (int)$value;
            }
            $rows[$r['courseid']][] = '[' . implode(',', $values) . ']';
            $users[$r['courseid']][] = (int)$r['userid'];
        }
        $rs->close();
        $out = [];
        foreach ($rows as $id => $list) {
            $out[$id] = [implode(',', $list), implode(',', $users[$id])];
        }
        return $out;
    }

    /**
     * The answer of get_course_rows: {"roles": [...], "users": [...], "metalinks": [...], "courses": [...]}, what
     * json_encode gives of those lists, byte for byte, without decoding the rows read as JSON.
     *
     * @param array $read what read() or read_none() gave
     * @param int[] $requested the courses to answer, in this order (repeats repeated)
     * @return string
     */
    public static function json(array $read, array $requested): string {
        $roles = [];
        foreach ($read['roles'] as $id => $shortname) {
            $roles[] = [(int)$id, $shortname];
        }
        $courses = [];
        foreach ($requested as $id) {
            [$courseid, $shortname, $instances, $enrolments, $roleassignments, $groups, $members, $users] = $read['courses'][$id];
            $courses[] = '[' . (int)$courseid . ',' . json_encode($shortname, self::JSON_FLAGS) . ','
                . json_encode($instances, self::JSON_FLAGS) . ',[' . implode(',', $enrolments) . '],['
                . implode(',', $roleassignments) . '],' . json_encode($groups, self::JSON_FLAGS) . ',['
                . implode(',', $members) . '],' . json_encode($users, self::JSON_FLAGS) . ']';
        }
        $metalinks = [];
        foreach ($read['metalinks'] as $id => $names) {
            foreach ($names as $name) {
                $metalinks[] = [(int)$id, $name];
            }
        }
        return '{"roles":' . json_encode($roles, self::JSON_FLAGS) . ',"users":'
            . json_encode(array_values($read['users']), self::JSON_FLAGS) . ',"metalinks":'
            . json_encode($metalinks, self::JSON_FLAGS) . ',"courses":[' . implode(',', $courses) . ']}';
    }

    /**
     * A course row of read() with its enrolments, role assignments and members decoded into lists.
     *
     * @param array $row a course row of read()
     * @return array
     */
    public static function decoded(array $row): array {
        foreach ([3, 4, 6] as $i) {
            $row[$i] = json_decode('[' . implode(',', $row[$i]) . ']', true, 3, JSON_THROW_ON_ERROR);
        }
        return $row;
    }
}
