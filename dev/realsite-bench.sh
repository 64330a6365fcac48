#!/usr/bin/env bash
# dev/realsite-bench.sh — issue 9's real-Moodle numbers, measured in one run:
#   1. psql (mysql on a MariaDB site): the time the database takes to read, row by row, the
#      rows local_enrolctl_get_course_rows answers for the courses (the tables and joins of
#      classes/local/course_reader.php, each row as its columns);
#   2. BenchmarkPlanCommandRealSite: `enrolctl plan` as a process, of specs renewing every
#      manual enrolment of those courses (time, calls and the command's CPU per plan: the
#      number issue 20's target is about, at most twice psql's);
#      BenchmarkPlanRealSite: the same read and diff through the moodle package alone;
#   3. BenchmarkRenewRealSite (with RENEW=1; it writes): 1,200 renewals across 30 courses
#      (time and write calls). Each run moves those enrolments' end dates by a day.
# Usage (a site made by dev/moodle-site.sh): . ~/.local/state/enrolctl-dev/env; dev/realsite-bench.sh [PREFIX]
# (MariaDB: . ~/.local/state/enrolctl-dev-mariadb/env, whose MOODLE_MYSQL_ARGS and MYSQL_PWD name the database).
# PREFIX [T-] limits everything to the courses whose shortname starts with it (the seeded
# timing courses; "" for every course).
set -euo pipefail
prefix=${1-T-}
[ -n "${MOODLE_PSQL:-}${MOODLE_MYSQL_ARGS:-}" ] || { echo "source the env file of dev/moodle-site.sh" >&2; exit 2; }
: "${ENROLCTL_E2E_URL:?}" "${ENROLCTL_TOKEN:?}"
repo=$(cd "$(dirname "$0")/.." && pwd)

# q SQL: one value, from PostgreSQL or MariaDB; agg EXPR: the values of EXPR joined with commas.
if [ -n "${MOODLE_PSQL:-}" ]; then
    db=psql
    q() { psql "$MOODLE_PSQL" -qtAX -F' ' -c "$1"; }
    agg() { echo "string_agg($1::text, ',')"; }
else
    db=mysql
    # shellcheck disable=SC2086 # MOODLE_MYSQL_ARGS is a list of arguments
    q() { mysql $MOODLE_MYSQL_ARGS -N -B -e "$1" | tr '\t' ' '; }
    agg() { echo "group_concat($1 separator ',')"; }
fi
ids=$(q "select $(agg id) from mdl_course where id <> 1 and shortname like '${prefix//\'/\'\'}%'")
[ -n "$ids" ] && [ "$ids" != NULL ] || { echo "no course starts with '$prefix'" >&2; exit 2; }
in="($ids)"
counts=$(q "select count(distinct e.courseid), count(*) from mdl_user_enrolments ue join mdl_enrol e on e.id = ue.enrolid where e.courseid in $in")
echo "courses, enrolments: $counts ($db)"
# The plugin reads the accounts of the users its earlier rows name, by id (local/course_reader.php).
userids=$(q "select $(agg 'distinct userid') from (select ue.userid from mdl_user_enrolments ue join mdl_enrol e on e.id = ue.enrolid where e.courseid in $in union all select ra.userid from mdl_role_assignments ra join mdl_context ctx on ctx.id = ra.contextid and ctx.contextlevel = 50 where ctx.instanceid in $in union all select gm.userid from mdl_groups_members gm join mdl_groups g on g.id = gm.groupid where g.courseid in $in) x")
[ "$userids" != NULL ] || userids=
userin="(${userids:-0})"
# The queries, each row as its columns (standard SQL, the same on both databases).
queries() {
    cat <<SQL
SELECT id, shortname FROM mdl_role ORDER BY id;
SELECT c.id, c.shortname, c.visible, ctx.id, ctx.path, ctx.depth, ctx.contextlevel, ctx.instanceid, ctx.locked FROM mdl_course c JOIN mdl_context ctx ON ctx.instanceid = c.id AND ctx.contextlevel = 50 WHERE c.id IN $in;
SELECT e.id, e.courseid, e.enrol, e.status, e.name, e.sortorder, e.roleid, e.enrolperiod, e.customint1, e.customint2, e.customint3, ch.idnumber, lc.shortname, g.name FROM mdl_enrol e LEFT JOIN mdl_cohort ch ON e.enrol = 'cohort' AND ch.id = e.customint1 LEFT JOIN mdl_course lc ON e.enrol = 'meta' AND lc.id = e.customint1 LEFT JOIN mdl_groups g ON e.enrol IN ('cohort', 'meta') AND g.id = e.customint2 AND g.courseid = e.courseid WHERE e.courseid IN $in ORDER BY e.courseid, e.sortorder, e.id;
SELECT ue.id, e.courseid, ue.enrolid, ue.userid, ue.status, ue.timestart, ue.timeend FROM mdl_user_enrolments ue JOIN mdl_enrol e ON e.id = ue.enrolid JOIN mdl_user u ON u.id = ue.userid WHERE e.courseid IN $in ORDER BY e.courseid, ue.enrolid, ue.userid;
SELECT ra.id, ra.contextid, ra.userid, ra.roleid, ra.component, ra.itemid FROM mdl_role_assignments ra JOIN mdl_role r ON r.id = ra.roleid JOIN mdl_context ctx ON ctx.id = ra.contextid AND ctx.contextlevel = 50 WHERE ctx.instanceid IN $in ORDER BY ra.contextid, ra.userid, ra.roleid, ra.component, ra.itemid, ra.id;
SELECT g.id, g.courseid, g.name, g.idnumber FROM mdl_groups g WHERE g.courseid IN $in ORDER BY g.courseid, g.name, g.id;
SELECT gm.id, g.courseid, gm.groupid, gm.userid, gm.component, gm.itemid FROM mdl_groups_members gm JOIN mdl_groups g ON g.id = gm.groupid JOIN mdl_user u ON u.id = gm.userid WHERE g.courseid IN $in ORDER BY g.courseid, gm.groupid, gm.userid;
SELECT id, username, firstname, lastname, email, idnumber, suspended FROM mdl_user WHERE id IN $userin;
SELECT id, userid, courseid, timeaccess FROM mdl_user_lastaccess WHERE courseid IN $in;
SQL
}
# sqlms: the queries' time in ms, as the client measures each (psql's \timing; mysql's "(0.123 sec)").
sqlms() {
    if [ $db = psql ]; then
        { echo '\timing on'; queries; } | psql "$MOODLE_PSQL" -qtAX -o /dev/null | awk '/^Time:/ { t += $2 } END { printf "%.0f", t }'
    else
        # shellcheck disable=SC2086
        queries | mysql $MOODLE_MYSQL_ARGS -vvv -B | awk '/ in set \(|^Empty set \(/ { sub(/.*\(/, ""); t += $1 } END { printf "%.0f", t * 1000 }'
    fi
}
sqlms >/dev/null   # warm the cache, as the plan's reads are
echo "$db read of the same rows: $(sqlms) ms, $(sqlms) ms, $(sqlms) ms"

cd "$repo"
bench=PlanRealSite
[ "${RENEW:-}" = 1 ] && bench='PlanRealSite|RenewRealSite'
ENROLCTL_BENCH_PREFIX=$prefix go test ./internal/cli -run '^$' -bench PlanCommandRealSite -benchtime "${BENCHTIME:-5x}" | grep -E '^Benchmark|FAIL'
ENROLCTL_BENCH_PREFIX=$prefix go test ./internal/moodle -run '^$' -bench "$bench" -benchtime "${BENCHTIME:-5x}" | grep -E '^Benchmark|FAIL'
