#!/usr/bin/env bash
# deploy/services.sh: make sure the local PostgreSQL and Redis that the
# demo and the test suite use are up, starting them when they are not.
#
#   PostgreSQL  127.0.0.1:5432, user postgres, database "test"
#   Redis       127.0.0.1:6379
#
# Used by `make run`, `make test` and .ci/run. Safe to run any number of
# times: it only starts what does not answer. Settings (environment):
#
#   PGHOST, PGPORT, PGUSER       PostgreSQL to check (127.0.0.1, 5432, postgres)
#   SERVICES_DATABASES           databases to create when missing ("test")
#   REDIS_HOST, REDIS_PORT       Redis to check (127.0.0.1, 6379)
#   SERVICES_WAIT                seconds to wait for each service (30)
#   CREDITBRIDGE_PG_TRUST_LOCAL  set to 1 to let this script allow
#                                password-less login of the postgres user from
#                                127.0.0.1/::1 in pg_hba.conf (local development
#                                machines only; needs root)
#
# Exits non-zero with instructions when a service cannot be reached.
set -euo pipefail

PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
export PGHOST PGPORT PGUSER
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${REDIS_PORT:-6379}"
WAIT="${SERVICES_WAIT:-30}"
DATABASES="${SERVICES_DATABASES:-test}"

INSTALL_HINT="install them first (Debian/Ubuntu: apt-get install -y postgresql redis-server)"

say() { printf 'services: %s\n' "$*"; }
die() {
	printf 'services: ERROR: %s\n' "$1" >&2
	shift
	for line in "$@"; do printf '  %s\n' "$line" >&2; done
	exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }

# wait_for CHECK_FUNCTION: polls the check once a second up to $WAIT s.
wait_for() {
	local check=$1 i
	for ((i = 0; i < WAIT; i++)); do
		if "$check"; then
			return 0
		fi
		sleep 1
	done
	"$check"
}

# ---------------------------------------------------------------- PostgreSQL

# pg_port_open: something accepts TCP connections on PGHOST:PGPORT.
pg_port_open() {
	if have pg_isready; then
		# Exit code 0 = accepting, 1 = rejecting (starting up), 2/3 = no answer.
		pg_isready -q -h "$PGHOST" -p "$PGPORT" -t 2
		return $?
	fi
	(exec 3<>"/dev/tcp/$PGHOST/$PGPORT") 2>/dev/null
}

# pg_login: we can log in and run a query (checks auth, not only the port).
pg_login() {
	psql -X -q -w -d postgres -tAc 'select 1' >/dev/null 2>&1
}

pg_start() {
	if ! have pg_ctlcluster || [ ! -d /etc/postgresql ]; then
		return 1
	fi
	local versions version
	versions=$(ls /etc/postgresql 2>/dev/null | sort -V)
	[ -n "$versions" ] || return 1
	version=$(printf '%s\n' "$versions" | tail -n 1)
	[ -d "/etc/postgresql/$version/main" ] || return 1
	say "PostgreSQL is not answering on $PGHOST:$PGPORT; starting cluster $version/main"
	if is_root; then
		pg_ctlcluster --skip-systemctl-redirect "$version" main start || return 1
	elif have sudo && sudo -n true 2>/dev/null; then
		sudo -n pg_ctlcluster --skip-systemctl-redirect "$version" main start || return 1
	else
		pg_ctlcluster --skip-systemctl-redirect "$version" main start || return 1
	fi
}

# pg_as_postgres SQL: runs SQL as the postgres OS user over the local socket
# (Debian's default "peer" authentication), whatever PGHOST says.
pg_as_postgres() {
	su postgres -s /bin/sh -c "unset PGHOST PGUSER PGPASSWORD; psql -X -w -p '$PGPORT' -tAc \"$1\"" 2>/dev/null
}

# pg_allow_local_trust adds, at the top of pg_hba.conf, rules that let the
# postgres user log in without a password from the loopback addresses, then
# reloads. Only with CREDITBRIDGE_PG_TRUST_LOCAL=1 and as root.
pg_allow_local_trust() {
	local hba
	hba=$(pg_as_postgres 'show hba_file' | head -n 1) || true
	if [ -z "$hba" ] || [ ! -f "$hba" ]; then
		return 1
	fi
	if ! grep -q 'creditbridge deploy/services.sh' "$hba"; then
		say "adding loopback trust rules for user postgres to $hba (backup: $hba.creditbridge.bak)"
		cp -p "$hba" "$hba.creditbridge.bak"
		{
			echo "# added by creditbridge deploy/services.sh (CREDITBRIDGE_PG_TRUST_LOCAL=1): local development only"
			echo "host all postgres 127.0.0.1/32 trust"
			echo "host all postgres ::1/128 trust"
			cat "$hba.creditbridge.bak"
		} >"$hba"
	fi
	pg_as_postgres 'select pg_reload_conf()' >/dev/null || return 1
	sleep 1
}

check_postgres() {
	if ! pg_port_open; then
		pg_start || true
		if ! wait_for pg_port_open; then
			die "PostgreSQL does not answer on $PGHOST:$PGPORT and could not be started." \
				"If it is not installed, $INSTALL_HINT." \
				"Then start it: sudo systemctl start postgresql" \
				"  (or, without systemd: sudo pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start)" \
				"Another server? set PGHOST/PGPORT here and TEST_DATABASE_URL for the tests."
		fi
	fi
	if ! have psql; then
		say "PostgreSQL answers on $PGHOST:$PGPORT (psql not installed: cannot check login or create databases)"
		return 0
	fi
	if ! pg_login; then
		if [ "${CREDITBRIDGE_PG_TRUST_LOCAL:-}" = 1 ] && is_root && pg_allow_local_trust && pg_login; then
			:
		else
			local err
			err=$(psql -X -q -w -d postgres -tAc 'select 1' 2>&1 || true)
			die "PostgreSQL answers on $PGHOST:$PGPORT but user $PGUSER cannot log in (without a password):" \
				"  $err" \
				"creditbridge's tests and demo connect as postgres://postgres@127.0.0.1:5432/test (no password)." \
				"On a development machine, either:" \
				"  - let this script add loopback trust rules for user postgres to pg_hba.conf (root):" \
				"      sudo CREDITBRIDGE_PG_TRUST_LOCAL=1 deploy/services.sh" \
				"  - or give postgres a password and export it (pgx and psql read PGPASSWORD):" \
				"      sudo -u postgres psql -c \"ALTER USER postgres PASSWORD 'postgres'\"; export PGPASSWORD=postgres"
		fi
	fi
	local db exists
	for db in $DATABASES; do
		exists=$(psql -X -q -w -d postgres -tAc "select 1 from pg_database where datname = '$db'")
		if [ "$exists" != 1 ]; then
			say "creating database $db"
			createdb -w "$db" || die "could not create database $db on $PGHOST:$PGPORT as $PGUSER"
		fi
	done
	say "PostgreSQL OK ($PGUSER@$PGHOST:$PGPORT, databases: $DATABASES)"
}

# --------------------------------------------------------------------- Redis

redis_ping() {
	if have redis-cli; then
		[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
		return $?
	fi
	# No redis-cli: speak the protocol by hand, in a subshell so that a
	# failed connection cannot end this script.
	(
		exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT" || exit 1
		printf 'PING\r\n' >&3
		reply=""
		read -r -t 2 reply <&3 || true
		[ "${reply%$'\r'}" = "+PONG" ]
	) 2>/dev/null
}

redis_start() {
	have redis-server || return 1
	case "$REDIS_HOST" in
	127.0.0.1 | localhost | ::1) ;;
	*) return 1 ;; # not ours to start
	esac
	local dir=/var/lib/redis logdir=/var/log/redis
	if [ ! -d "$dir" ] || [ ! -w "$dir" ]; then
		dir="${TMPDIR:-/tmp}/creditbridge-redis"
		mkdir -p "$dir"
	fi
	if [ ! -d "$logdir" ] || [ ! -w "$logdir" ]; then
		logdir="$dir"
	fi
	say "Redis is not answering on $REDIS_HOST:$REDIS_PORT; starting redis-server (dir $dir, log $logdir/ci.log)"
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
		--save "" --appendonly no --dir "$dir" --logfile "$logdir/ci.log"
}

check_redis() {
	if ! redis_ping; then
		redis_start || true
		if ! wait_for redis_ping; then
			die "Redis does not answer on $REDIS_HOST:$REDIS_PORT and could not be started." \
				"If it is not installed, $INSTALL_HINT." \
				"Then start it: sudo systemctl start redis-server" \
				"  (or: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no)"
		fi
	fi
	say "Redis OK ($REDIS_HOST:$REDIS_PORT)"
}

check_postgres
check_redis
