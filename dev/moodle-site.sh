#!/usr/bin/env bash
# dev/moodle-site.sh MOODLE_CHECKOUT — turn a Moodle 5.1 checkout into a seeded local test site.
#
# One command gives every developer the same real Moodle on 127.0.0.1 (Debian 12, as root):
# PHP 8.2 + PostgreSQL 15 (or MariaDB 10.11) + Apache prefork/mod_php, the checkout's web root without the
# site-specific plugins, local_enrolctl from this repository, web services with the enrolctl
# and enrolctl_testing services, a least-privilege "enrolctl" account, tokens, and two seeded
# data sets: the sandbox's demo site (internal/moodlesim/demo.go) and a ~100-course timing site.
#
# Re-running is safe: files are re-synced, the database is installed only once, the plugin is
# upgraded, configuration is re-applied, and the seeders skip what already exists.
#
# The tokens and passwords go to $ENROLCTL_DEV_OUT/env (default
# ${XDG_STATE_HOME:-$HOME/.local/state}/enrolctl-dev/env, under the user's home), never to
# the repository. Environment knobs (defaults in brackets):
#   MOODLE_DBTYPE [pgsql]         pgsql: PostgreSQL 15; mariadb: MariaDB 10.11 (Debian's
#                                 mariadb-server), Moodle's dbtype 'mariadb'. The site's database
#                                 server holds the external enrolment table too; one server of
#                                 each kind serves every site of the machine.
#   MOODLE_PORT [8080]            Apache listens on 127.0.0.1:$MOODLE_PORT only
#   MOODLE_SITE_DIR [/var/www/enrolctl-moodle]   code (config.php + public/)
#   MOODLE_DATA_DIR [/var/lib/enrolctl-moodledata]
#   MOODLE_DB [moodle]            database and database role of the site
#   MOODLE_EXTDB [enrolctl_extdb] database of the external enrolment table
#   ENROLCTL_DEV_OUT [${XDG_STATE_HOME:-~/.local/state}/enrolctl-dev]   env file, site config
#   SEED [demo,timing]            which data sets to seed ("" for none)
#   MOODLE_DEBUG [normal]         Moodle's debug level: normal (as a production site: errors and
#                                 warnings logged, debuginfo in web-service errors), developer
#                                 (E_ALL and Moodle's developer checks, for debugging the plugin;
#                                 slower), none. normal and none are the site's setting, as an
#                                 administrator sets it; developer is forced in config.php, where
#                                 any debug level makes every request rebuild Moodle's component
#                                 cache (core_component::is_developer()).
set -euo pipefail

checkout=${1:?usage: dev/moodle-site.sh MOODLE_CHECKOUT}
checkout=$(cd "$checkout" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
port=${MOODLE_PORT:-8080}
site=${MOODLE_SITE_DIR:-/var/www/enrolctl-moodle}
data=${MOODLE_DATA_DIR:-/var/lib/enrolctl-moodledata}
out=${ENROLCTL_DEV_OUT:-${XDG_STATE_HOME:-$HOME/.local/state}/enrolctl-dev}
seed=${SEED-demo,timing}
wwwroot="http://127.0.0.1:$port"
dbname=${MOODLE_DB:-moodle}
dbuser=$dbname
extdb=${MOODLE_EXTDB:-enrolctl_extdb}
dbtype=${MOODLE_DBTYPE:-pgsql}
case $dbtype in
    pgsql) dbpackages='php8.2-pgsql postgresql-15 postgresql-client-15' dbport=5432 extdbtype=postgres ;;
    mariadb) dbpackages='php8.2-mysql mariadb-server mariadb-client' dbport=3306 extdbtype=mysqli ;;
    *) echo "MOODLE_DBTYPE: pgsql or mariadb" >&2; exit 2 ;;
esac
# debug: the site's setting (config table); forced: what config.php forces, if anything.
forced=
case ${MOODLE_DEBUG:-normal} in
    normal) debug=15 ;;   # DEBUG_NORMAL: E_ERROR | E_PARSE | E_WARNING | E_NOTICE
    developer) debug=32767 forced='$CFG->debug = (E_ALL);' ;;   # DEBUG_DEVELOPER
    none) debug=0 ;;
    *) echo "MOODLE_DEBUG: normal, developer or none" >&2; exit 2 ;;
esac

log() { printf '\n== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
as_www() { runuser -u www-data -- "$@"; }
psql_pg() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtAX "$@"; }
mysql_root() { mysql -uroot -N -B "$@"; }   # Debian's root@localhost logs in through the socket
# SQL on stdin, run as the site's database user in database $1.
sql_site() {
    if [ "$dbtype" = pgsql ]; then
        PGPASSWORD=$DBPASS psql -h 127.0.0.1 -U "$dbuser" -d "$1" -v ON_ERROR_STOP=1 -qtAX
    else
        MYSQL_PWD=$DBPASS mysql -h 127.0.0.1 -P 3306 -u "$dbuser" -N -B "$1"
    fi
}

[ -f "$checkout/public/version.php" ] || { echo "$checkout: not a Moodle 5.1+ checkout (no public/version.php)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (installs packages and services)" >&2; exit 2; }
mkdir -p "$out"
chmod 700 "$out"

# Secrets survive re-runs: the env file is the source of truth once written.
if [ -f "$out/secrets" ]; then
    # shellcheck disable=SC1091
    . "$out/secrets"
else
    DBPASS=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    ADMINPASS="Adm-$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')!"
    printf 'DBPASS=%s\nADMINPASS=%s\n' "$DBPASS" "$ADMINPASS" > "$out/secrets"
    chmod 600 "$out/secrets"
fi

log "packages"
# shellcheck disable=SC2086 # $dbpackages is a list
if ! dpkg -s $dbpackages libapache2-mod-php8.2 rsync >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        php8.2-cli php8.2-curl php8.2-xml php8.2-mbstring php8.2-zip php8.2-gd \
        php8.2-intl php8.2-soap php8.2-opcache php8.2-readline libapache2-mod-php8.2 apache2 \
        $dbpackages rsync >/dev/null
fi
cat > /etc/php/8.2/mods-available/enrolctl-moodle.ini <<'EOF'
; Moodle 5.x requires max_input_vars >= 5000.
max_input_vars = 5000
memory_limit = 512M
post_max_size = 64M
upload_max_filesize = 64M
EOF
phpenmod -v 8.2 enrolctl-moodle

if [ "$dbtype" = pgsql ]; then
    log "postgresql"
    pg_ctlcluster 15 main status >/dev/null 2>&1 || pg_ctlcluster 15 main start
    if [ "$(psql_pg -c "select 1 from pg_roles where rolname='$dbuser'")" != 1 ]; then
        psql_pg -c "create role $dbuser login password '$DBPASS'"
    else
        psql_pg -c "alter role $dbuser password '$DBPASS'"
    fi
    for db in $dbname $extdb; do
        [ "$(psql_pg -c "select 1 from pg_database where datname='$db'")" = 1 ] ||
            psql_pg -c "create database $db owner $dbuser encoding 'UTF8' template template0"
    done
else
    log "mariadb"
    # What Moodle asks of MariaDB (utf8mb4, a full Unicode collation, InnoDB with Barracuda: the
    # defaults of 10.11), listening on loopback only.
    cat > /etc/mysql/mariadb.conf.d/90-enrolctl-moodle.cnf <<'EOF'
[mysqld]
bind-address = 127.0.0.1
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
innodb_file_per_table = 1
EOF
    mysqladmin ping >/dev/null 2>&1 || service mariadb start >/dev/null
    for db in $dbname $extdb; do
        mysql_root -e "create database if not exists \`$db\` default character set utf8mb4 collate utf8mb4_unicode_ci"
    done
    # config.php connects over TCP to 127.0.0.1; the mysql client may use the socket (localhost).
    for host in localhost 127.0.0.1; do
        mysql_root -e "create user if not exists '$dbuser'@'$host' identified by '$DBPASS';
            alter user '$dbuser'@'$host' identified by '$DBPASS';
            grant all privileges on \`$dbname\`.* to '$dbuser'@'$host';
            grant all privileges on \`$extdb\`.* to '$dbuser'@'$host'"
    done
fi
# The external database enrolment source: one row per (course, user, role).
sql_site "$extdb" <<'SQL'
create table if not exists enrolments (course varchar(255) not null, username varchar(100) not null,
    role varchar(100) not null default 'student', primary key (course, username, role))
SQL

log "code -> $site"
mkdir -p "$site"
rsync -a --delete \
    --exclude=/config.php --exclude=/public/local \
    --exclude=/public/enrol/muprog --exclude=/public/admin/tool/mulib --exclude=/public/admin/tool/muprog \
    --exclude=/public/blocks/annual_report --exclude=/public/blocks/approved_courses --exclude=/public/theme/stream \
    --exclude=.git "$checkout/" "$site/"
mkdir -p "$site/public/local"
rsync -a --delete "$repo/moodle/local_enrolctl/" "$site/public/local/enrolctl/"
# Only the companion plugin lives under local/: drop anything else a previous run left.
find "$site/public/local" -mindepth 1 -maxdepth 1 ! -name enrolctl -exec rm -rf {} +
mkdir -p "$data"
chown -R www-data:www-data "$data"
chown -R root:root "$site"
dbcollation=
[ "$dbtype" = mariadb ] && dbcollation=", 'dbcollation' => 'utf8mb4_unicode_ci'"
cat > "$site/config.php" <<EOF
<?php  // Written by enrolctl's dev/moodle-site.sh; re-written on every run.
unset(\$CFG);
global \$CFG;
\$CFG = new stdClass();
\$CFG->dbtype    = '$dbtype';
\$CFG->dblibrary = 'native';
\$CFG->dbhost    = '127.0.0.1';
\$CFG->dbname    = '$dbname';
\$CFG->dbuser    = '$dbuser';
\$CFG->dbpass    = '$DBPASS';
\$CFG->prefix    = 'mdl_';
\$CFG->dboptions = ['dbpersist' => 0, 'dbport' => $dbport$dbcollation];
\$CFG->wwwroot   = '$wwwroot';
\$CFG->dataroot  = '$data';
\$CFG->admin     = 'admin';
\$CFG->directorypermissions = 02777;
// A throw-away test site set up as in production (MOODLE_DEBUG=developer for debugging), never sending mail.
// A production site's debug level is its setting: forced here, any level makes every request
// rebuild the component cache (about 2,500 directory reads), as a developer's site does.
$forced
\$CFG->debugdisplay = 0;
\$CFG->noemailever = true;
require_once(__DIR__ . '/lib/setup.php');
EOF
chown root:www-data "$site/config.php"
chmod 640 "$site/config.php"

log "apache on 127.0.0.1:$port"
# Only 127.0.0.1: drop Debian's "Listen 80/443", keep other sites' ports of earlier runs.
sed -i -E '/^\s*Listen\s+(80|443)\s*$/d; /<IfModule/,/<\/IfModule>/d' /etc/apache2/ports.conf
grep -q '^ServerName ' /etc/apache2/ports.conf || echo 'ServerName 127.0.0.1' >> /etc/apache2/ports.conf
grep -qx "Listen 127.0.0.1:$port" /etc/apache2/ports.conf || echo "Listen 127.0.0.1:$port" >> /etc/apache2/ports.conf
conf=enrolctl-moodle-$port
cat > /etc/apache2/sites-available/$conf.conf <<EOF
<VirtualHost 127.0.0.1:$port>
    ServerName 127.0.0.1
    DocumentRoot $site/public
    <Directory $site/public>
        Options -Indexes +FollowSymLinks
        AllowOverride None
        Require all granted
        AcceptPathInfo On
    </Directory>
    ErrorLog \${APACHE_LOG_DIR}/$conf-error.log
    CustomLog \${APACHE_LOG_DIR}/$conf-access.log combined
</VirtualHost>
EOF
a2dissite -q 000-default >/dev/null 2>&1 || true
a2dismod -q mpm_event >/dev/null 2>&1 || true
a2enmod -q mpm_prefork php8.2 >/dev/null
a2dissite -q enrolctl-moodle >/dev/null 2>&1 || true   # the name used before per-port sites
a2ensite -q $conf >/dev/null
if apache2ctl -t >/dev/null 2>&1 && pidof apache2 >/dev/null; then apache2ctl graceful; else apache2ctl start; fi

log "moodle database"
installed=$(echo "select 1 from information_schema.tables where table_name = 'mdl_config'
    and table_schema in ('public', '$dbname')" | sql_site "$dbname" 2>/dev/null || true)
if [ "$installed" != 1 ]; then
    as_www php "$site/admin/cli/install_database.php" --agree-license --lang=en \
        --adminuser=admin --adminpass="$ADMINPASS" --adminemail=admin@example.invalid \
        --fullname="enrolctl test site" --shortname=enrolctl --supportemail=admin@example.invalid
fi
# Installs local_enrolctl the first time, upgrades it after a version bump.
as_www php "$site/admin/cli/upgrade.php" --non-interactive
as_www php "$site/admin/cli/purge_caches.php"
as_www php "$site/admin/cli/cfg.php" --name=debug --set="$debug"

log "web services, role, account, tokens"
umask 077
{
    as_www env MOODLE_SITE_DIR="$site" php "$repo/dev/moodle/configure.php" --extdb="$extdb" \
        --extdbtype="$extdbtype" --dbuser="$dbuser" --dbpass="$DBPASS"
    printf 'export MOODLE_ADMIN_USER=admin\nexport MOODLE_ADMIN_PASSWORD=%s\nexport MOODLE_SITE_DIR=%s\n' \
        "$ADMINPASS" "$site"
    if [ "$dbtype" = pgsql ]; then
        printf "export MOODLE_PSQL='host=127.0.0.1 dbname=%s user=%s password=%s'\n" "$dbname" "$dbuser" "$DBPASS"
    else
        printf "export MOODLE_MYSQL_ARGS='-h 127.0.0.1 -u %s %s' MYSQL_PWD='%s'\n" "$dbuser" "$dbname" "$DBPASS"
    fi
} > "$out/env.new"
mv "$out/env.new" "$out/env"
printf 'sites:\n  dev:\n    url: %s\n    token_env: ENROLCTL_TOKEN\n    read_token_env: ENROLCTL_READ_TOKEN\n    timezone: Europe/Paris\n' "$wwwroot" > "$out/enrolctl.yaml"
umask 022

# Seeding: the demo definition comes from moodlesim (one source of truth), written as JSON by
# dev/sitejson; the timing site is generated there too. dev/moodle/seed.php loads either.
IFS=, read -ra sets <<< "$seed"
for s in "${sets[@]}"; do
    [ -n "$s" ] || continue
    log "seed $s"
    json=/var/tmp/enrolctl-seed-$s.json   # readable by www-data; holds no secret
    (cd "$repo" && go run ./dev/sitejson "$s") > "$json"
    chmod 644 "$json"
    as_www env MOODLE_SITE_DIR="$site" php "$repo/dev/moodle/seed.php" --file="$json" --extdb="$extdb" \
        --extdbtype="$extdbtype" --dbuser="$dbuser" --dbpass="$DBPASS"
done
if [ ${#sets[@]} -gt 0 ]; then
    log "external database sync"
    as_www php "$site/admin/cli/scheduled_task.php" --execute='\enrol_database\task\sync_enrolments' | tail -3
fi

log "check"
# shellcheck disable=SC1091
. "$out/env"
curl -fsS "$ENROLCTL_E2E_URL/webservice/rest/server.php" -d wstoken="$ENROLCTL_TOKEN" \
    -d wsfunction=local_enrolctl_get_site_status -d moodlewsrestformat=json | head -c 300
echo
echo "site: $wwwroot  (admin password and tokens in $out/env, $out/secrets)"
