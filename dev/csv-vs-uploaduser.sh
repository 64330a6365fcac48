#!/usr/bin/env bash
# dev/csv-vs-uploaduser.sh — issue 9's CSV comparison, measured in one run on the dev site:
# the same 1,000-row upload-users CSV (2,000 student enrolments, each with a group) enrolled by
# Moodle's own admin/tool/uploaduser/cli/uploaduser.php into ten new courses, and by
# `enrolctl import csv` + `enrolctl apply` into ten other new courses (dev/moodle/csvbench.php
# makes them with the site's default methods and writes the two files).
#
# Then the welcome messages enrolctl's plugin queued are sent by running their ad hoc task, timed
# apart (uploaduser sends its own inside its run), and both sides are counted in the database:
# enrolments, group memberships and welcome notifications must be equal.
#
# Usage (as root, on a site made by dev/moodle-site.sh):
#   . ~/.local/state/enrolctl-dev/env; dev/csv-vs-uploaduser.sh [--welcome on|off|site] [--rows N] [PREFIX]
# PREFIX (default CSV<time>) names the 20 courses; every run needs a new one.
set -euo pipefail
welcome=site rows=1000
while [ $# -gt 0 ]; do
    case $1 in
        --welcome) welcome=$2; shift 2 ;;
        --rows) rows=$2; shift 2 ;;
        -*) echo "unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
prefix=${1:-CSV$(date -u +%H%M%S)}
: "${MOODLE_PSQL:?source the env file of dev/moodle-site.sh}" "${ENROLCTL_E2E_URL:?}" "${ENROLCTL_TOKEN:?}"
site=${MOODLE_SITE_DIR:-/var/www/enrolctl-moodle}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /var/tmp/csvbench.XXXXXX)
chown www-data: "$work"   # csvbench.php writes the CSVs here
as_www() { runuser -u www-data -- "$@"; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
sql() { psql "$MOODLE_PSQL" -qtAX -c "$1"; }

(cd "$repo" && go build -o "$work/enrolctl" ./cmd/enrolctl)
as_www env MOODLE_SITE_DIR="$site" php "$repo/dev/moodle/csvbench.php" --prefix="$prefix" --rows="$rows" \
    --welcome="$welcome" --out="$work" >/dev/null
echo "courses $prefix-U0..9 (uploaduser) and $prefix-E0..9 (enrolctl), $rows rows, welcome message: $welcome"

# enrolctl's workspace: the new courses adopted as they are (not timed: done once per site).
mkdir -p "$work/ws" && cd "$work/ws"
cp "${ENROLCTL_DEV_OUT:-${XDG_STATE_HOME:-$HOME/.local/state}/enrolctl-dev}/enrolctl.yaml" .   # the site configuration dev/moodle-site.sh wrote
git init -q && "$work/enrolctl" import moodle --course "$prefix-E*" > "$work/adopt.log" 2>&1
git add -A && git -c user.email=dev@localhost -c user.name=dev commit -qm adopt

# Welcome messages queued by earlier applies are sent now, so the timed task run below is this one's.
as_www php "$site/admin/cli/adhoc_task.php" --execute --classname='\local_enrolctl\task\send_welcome_messages' \
    > "$work/welcome-before.log" 2>&1

echo "load before uploaduser: $(cut -d' ' -f1-3 /proc/loadavg)"
s=$(now)
as_www php "$site/public/admin/tool/uploaduser/cli/uploaduser.php" --file="$work/uploaduser.csv" --uutype=3 \
    > "$work/uploaduser.log" 2>&1
e=$(now); uu=$(secs "$s" "$e")
echo "uploaduser: ${uu} s"

echo "load before enrolctl: $(cut -d' ' -f1-3 /proc/loadavg)"
s=$(now)
"$work/enrolctl" import csv "$work/enrolctl.csv" > "$work/import.log"
m=$(now)
"$work/enrolctl" apply --auto-approve --course "$prefix-E*" > "$work/apply.log"
e=$(now); imp=$(secs "$s" "$m"); app=$(secs "$m" "$e"); ec=$(secs "$s" "$e")
echo "enrolctl: ${ec} s (import csv ${imp} s, apply ${app} s; $(grep -o 'write_calls":[0-9]*' .enrolctl/audit.log | tail -1))"

s=$(now)
as_www php "$site/admin/cli/adhoc_task.php" --execute --classname='\local_enrolctl\task\send_welcome_messages' \
    > "$work/welcome.log" 2>&1
e=$(now)
echo "welcome messages queued by enrolctl, sent by cron's task: $(secs "$s" "$e") s"

for set in U E; do
    like="$prefix-$set%"
    echo "$set: enrolments $(sql "select count(*) from mdl_user_enrolments ue join mdl_enrol e on e.id = ue.enrolid join mdl_course c on c.id = e.courseid where c.shortname like '$like'")," \
        "members $(sql "select count(*) from mdl_groups_members gm join mdl_groups g on g.id = gm.groupid join mdl_course c on c.id = g.courseid where c.shortname like '$like'")," \
        "welcome notifications $(sql "select count(*) from mdl_notifications n where n.eventtype = 'enrolcoursewelcomemessage' and n.subject like '%CSV bench $prefix-$set%'")"
done
echo "ratio uploaduser / enrolctl: $(echo "scale=1; $uu / $ec" | bc)"
echo "logs: $work"
