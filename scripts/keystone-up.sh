#!/usr/bin/env bash
# keystone-up.sh — bring up a real Keystone for geostack's integration tests.
#
# Usage (as root, on Debian 12):
#
#     scripts/keystone-up.sh [STATE_DIR]
#     export GEOSTACK_KEYSTONE=STATE_DIR/keystone.json   # or: . STATE_DIR/keystone.env
#
# STATE_DIR defaults to $GEOSTACK_STATE, then to .ci/state under the repository.
#
# What it does:
#   - installs Keystone 22 (python3-keystone, not the debconf-driven "keystone"
#     package), uwsgi with its python3 plugin, sqlite3, memcached and curl;
#   - writes STATE_DIR/keystone.conf: sqlite database (WAL mode), Fernet tokens and
#     credential keys under STATE_DIR, memcached as Keystone's cache;
#   - starts two memcached daemons on free loopback ports: one is Keystone's cache,
#     the other is left empty for the library's own shared-cache tests;
#   - starts three keystone-wsgi-public instances under uwsgi, on three free loopback
#     ports, sharing that one database and one Fernet key repository. They stand for
#     the locations JP (primary), US and SG: a token issued by any of them validates
#     at all of them, and a revocation at one is seen by all;
#   - bootstraps and seeds the world (scripts/keystone-seed.py);
#   - writes STATE_DIR/keystone.json (the description the Go tests read through
#     GEOSTACK_KEYSTONE) and STATE_DIR/keystone.env (shell exports);
#   - checks the result with curl (scripts/keystone-verify.sh) unless
#     GEOSTACK_KEYSTONE_VERIFY=0, and prints a summary with timings.
#
# Run it again while everything is up and it only prints the summary. If anything is
# missing or dead it stops what it started before (by pid) and starts afresh.
# scripts/keystone-down.sh stops every process this script started, and nothing else.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
STATE=${1:-${GEOSTACK_STATE:-$REPO/.ci/state}}
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)

# Another python3 (pyenv, a venv) may come first on PATH; Keystone lives in the
# system interpreter's site-packages.
PY=/usr/bin/python3
LOCATIONS=(JP US SG)

log() { printf '[keystone-up] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[[ $(id -u) == 0 ]] || die "run as root (it installs packages and writes Fernet keys owned by root)"

T0=$(now)

# --- Already up? -------------------------------------------------------------------
already_up() {
	[[ -s $STATE/keystone.json && -s $STATE/ports ]] || return 1
	local name pid
	for name in "${LOCATIONS[@]}" memcached-keystone memcached-tests; do
		pid=$(cat "$STATE/run/$name.pid" 2>/dev/null) || return 1
		kill -0 "$pid" 2>/dev/null || return 1
	done
	# shellcheck disable=SC1091
	. "$STATE/ports"
	for name in "${LOCATIONS[@]}"; do
		local var="PORT_$name"
		curl -fsS -o /dev/null --max-time 5 "http://127.0.0.1:${!var}/v3" || return 1
	done
}
if already_up; then
	log "already running; nothing to do"
	cat "$STATE/summary.txt" >&2 2>/dev/null || true
	echo "$STATE/keystone.json"
	exit 0
fi
# Leftovers of an earlier run (some process died, or the state is from another boot).
"$SCRIPTS/keystone-down.sh" "$STATE" >/dev/null 2>&1 || true

# --- Install -----------------------------------------------------------------------
PACKAGES=(python3-keystone python3-keystoneauth1 python3-keystoneclient uwsgi-core
	uwsgi-plugin-python3 sqlite3 memcached curl python3-openstackclient)
T=$(now)
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Keep the memcached package's postinst from starting a system-wide memcached
	# on 11211: we start our own, on ports we choose, and stop only what we start.
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get update -qq >&2
	# --force-unsafe-io: no fsync per unpacked file; a throwaway CI machine does not
	# need the packages to survive a power cut mid-install.
	apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-unsafe-io \
		"${missing[@]}" >"$STATE/apt.log" 2>&1 ||
		{ tail -n 30 "$STATE/apt.log" >&2; die "apt-get install failed (see $STATE/apt.log)"; }
fi
T_INSTALL=$(since "$T")
log "packages ready (${T_INSTALL}s)"

KEYSTONE_VERSION=$(dpkg-query -W -f='${Version}' python3-keystone | sed 's/^[0-9]*://')
UWSGI=$(command -v uwsgi-core || command -v uwsgi) || die "uwsgi not found"
WSGI_PUBLIC=/usr/bin/keystone-wsgi-public
[[ -x $WSGI_PUBLIC ]] || die "$WSGI_PUBLIC not found"

# --- State directory and ports -----------------------------------------------------
T=$(now)
rm -rf "$STATE/run" "$STATE/log" "$STATE/fernet-keys" "$STATE/credential-keys"
rm -f "$STATE"/keystone.db* "$STATE/keystone.conf" "$STATE/keystone.json" \
	"$STATE/keystone.env" "$STATE/ports" "$STATE/summary.txt"
mkdir -p "$STATE/run" "$STATE/log"
chmod 700 "$STATE"

# Five free loopback ports, chosen at once so they differ. Another process could
# still take one before we bind it; the start-up checks below would then fail loudly.
read -r PORT_JP PORT_US PORT_SG PORT_MC_KEYSTONE PORT_MC_TESTS < <("$PY" - <<'EOF'
import socket
socks = []
for _ in range(5):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
)
cat >"$STATE/ports" <<EOF
PORT_JP=$PORT_JP
PORT_US=$PORT_US
PORT_SG=$PORT_SG
PORT_MC_KEYSTONE=$PORT_MC_KEYSTONE
PORT_MC_TESTS=$PORT_MC_TESTS
EOF

# --- memcached ---------------------------------------------------------------------
start_memcached() { # name port
	memcached -d -u root -l 127.0.0.1 -p "$2" -U 0 -m 64 -c 1024 -P "$STATE/run/$1.pid"
}
start_memcached memcached-keystone "$PORT_MC_KEYSTONE"
start_memcached memcached-tests "$PORT_MC_TESTS"

# --- keystone.conf -----------------------------------------------------------------
CONF=$STATE/keystone.conf
cat >"$CONF" <<EOF
# Written by scripts/keystone-up.sh for geostack's integration tests. Not for production.
[DEFAULT]
debug = false
# Logs go to stderr, which uwsgi writes to STATE/log/<location>.log.
use_stderr = true

[database]
connection = sqlite:///$STATE/keystone.db
# No fsync per commit: a throwaway CI database. Seeding issues ~120 writes.
sqlite_synchronous = false

[token]
provider = fernet
expiration = 3600

[fernet_tokens]
key_repository = $STATE/fernet-keys
max_active_keys = 3

[fernet_receipts]
key_repository = $STATE/fernet-keys

[credential]
key_repository = $STATE/credential-keys

[identity]
# bcrypt cost. 4 keeps CI fast (a password token costs ~1 ms of hashing); Keystone's
# default is 12, about 200 ms of Keystone CPU per password token. Latencies measured
# against this Keystone are therefore lower than a default deployment's.
password_hash_rounds = 4

[cache]
# Without a cache every authenticated call costs hundreds of ms of SQL on 2 cores.
# All three instances share this one memcached, which is also how a revocation at
# one instance invalidates the cached validations at the others.
enabled = true
backend = oslo_cache.memcache_pool
memcache_servers = 127.0.0.1:$PORT_MC_KEYSTONE

[oslo_policy]
# The default policy is compiled into Keystone; no policy file is needed.
enforce_scope = false
enforce_new_defaults = false
EOF

KM=(keystone-manage --config-file "$CONF")
# keystone-manage spends ~2 s of CPU importing Keystone before it does anything, so
# the three independent steps run side by side.
km() { # logname args...: run keystone-manage, log to STATE/log/keystone-manage-<logname>.log
	local name=$1
	shift
	"${KM[@]}" "$@" >"$STATE/log/keystone-manage-$name.log" 2>&1 ||
		{ tail -n 30 "$STATE/log/keystone-manage-$name.log" >&2; die "keystone-manage $name failed"; }
}
km db_sync db_sync &
pid_db=$!
km fernet_setup fernet_setup --keystone-user root --keystone-group root &
pid_fernet=$!
km credential_setup credential_setup --keystone-user root --keystone-group root &
pid_cred=$!
wait "$pid_db" && wait "$pid_fernet" && wait "$pid_cred" || die "keystone-manage failed"
# WAL lets the six uwsgi workers read while one writes; without it writes fail with
# "database is locked".
[[ $(sqlite3 "$STATE/keystone.db" 'PRAGMA journal_mode=WAL;') == wal ]] || die "could not enable WAL"
T_CONFIG=$(since "$T")
log "config, db_sync and keys (${T_CONFIG}s)"

# --- Three Keystone instances, started while bootstrap runs ------------------------
T=$(now)
declare -A PORT=([JP]=$PORT_JP [US]=$PORT_US [SG]=$PORT_SG)
START_PID=()
for loc in "${LOCATIONS[@]}"; do
	# Each returns once its instance answers GET /v3 (see keystone-instance.sh for
	# the uwsgi flags and why).
	"$SCRIPTS/keystone-instance.sh" "$STATE" "$loc" "${PORT[$loc]}" >/dev/null &
	START_PID+=($!)
done

# Bootstrap: admin user, project and role (with a system-scope assignment), the
# member and reader roles, region JP and JP's identity endpoints.
secret() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(18))'; }
ADMIN_PASSWORD=$(secret)
SERVICE_PASSWORD=$(secret)
USER_PASSWORD=$(secret)
# The password goes through the environment, where ps does not show it.
OS_BOOTSTRAP_PASSWORD=$ADMIN_PASSWORD km bootstrap bootstrap \
	--bootstrap-username admin \
	--bootstrap-project-name admin \
	--bootstrap-role-name admin \
	--bootstrap-service-name keystone \
	--bootstrap-region-id JP \
	--bootstrap-admin-url "http://127.0.0.1:$PORT_JP/v3" \
	--bootstrap-internal-url "http://127.0.0.1:$PORT_JP/v3" \
	--bootstrap-public-url "http://127.0.0.1:$PORT_JP/v3"
T_BOOTSTRAP=$(since "$T")
log "bootstrap (${T_BOOTSTRAP}s, while the instances load)"

for pid in "${START_PID[@]}"; do
	wait "$pid" || die "a Keystone instance did not start (logs in $STATE/log)"
done
T_START=$(since "$T")
log "three instances answer GET /v3 (${T_START}s since start, bootstrap included)"

# --- Seed ----------------------------------------------------------------------------
T=$(now)
env -u PYTHONPATH -u PYTHONHOME \
	GEOSTACK_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
	GEOSTACK_SERVICE_PASSWORD="$SERVICE_PASSWORD" \
	GEOSTACK_USER_PASSWORD="$USER_PASSWORD" \
	"$PY" "$SCRIPTS/keystone-seed.py" \
	--state "$STATE" \
	--keystone-version "$KEYSTONE_VERSION" \
	--auth-url "JP=http://127.0.0.1:$PORT_JP/v3" \
	--auth-url "US=http://127.0.0.1:$PORT_US/v3" \
	--auth-url "SG=http://127.0.0.1:$PORT_SG/v3" \
	--memcached "127.0.0.1:$PORT_MC_TESTS" \
	--keystone-memcached "127.0.0.1:$PORT_MC_KEYSTONE" \
	--out "$STATE/keystone.json"
chmod 600 "$STATE/keystone.json"
cat >"$STATE/keystone.env" <<EOF
export GEOSTACK_KEYSTONE=$STATE/keystone.json
export GEOSTACK_MEMCACHED=127.0.0.1:$PORT_MC_TESTS
EOF
T_SEED=$(since "$T")
log "seeded (${T_SEED}s)"

# --- Verify ------------------------------------------------------------------------
VERIFY_OUT=
T_VERIFY=skipped
if [[ ${GEOSTACK_KEYSTONE_VERIFY:-1} != 0 ]]; then
	T=$(now)
	VERIFY_OUT=$("$SCRIPTS/keystone-verify.sh" "$STATE/keystone.json") ||
		{ printf '%s\n' "$VERIFY_OUT" >&2; die "verification failed"; }
	T_VERIFY=$(since "$T")s
fi

T_TOTAL=$(since "$T0")
{
	echo "Keystone $KEYSTONE_VERSION up: JP (primary) :$PORT_JP, US :$PORT_US, SG :$PORT_SG"
	echo "  memcached: Keystone's cache 127.0.0.1:$PORT_MC_KEYSTONE, tests (GEOSTACK_MEMCACHED) 127.0.0.1:$PORT_MC_TESTS"
	echo "  timings: install ${T_INSTALL}s, config+db_sync+keys ${T_CONFIG}s," \
		"start+bootstrap ${T_START}s (bootstrap ${T_BOOTSTRAP}s), seed ${T_SEED}s, verify ${T_VERIFY}, total ${T_TOTAL}s"
	echo "  password_hash_rounds = 4 (CI speed; Keystone's default is 12)"
	[[ -n $VERIFY_OUT ]] && printf '%s\n' "$VERIFY_OUT" | sed 's/^/  /'
	echo "  export GEOSTACK_KEYSTONE=$STATE/keystone.json GEOSTACK_MEMCACHED=127.0.0.1:$PORT_MC_TESTS"
	echo "  (or: . $STATE/keystone.env); stop with: scripts/keystone-down.sh $STATE"
} >"$STATE/summary.txt"
cat "$STATE/summary.txt" >&2
echo "$STATE/keystone.json"
