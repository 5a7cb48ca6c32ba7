#!/usr/bin/env bash
# ksm-up.sh — run the real keystonemiddleware next to the Keystone of keystone-up.sh,
# for identity/authtoken's parity test.
#
# Usage (as root, on Debian 12, after scripts/keystone-up.sh on the same STATE_DIR):
#
#     scripts/ksm-up.sh [STATE_DIR]
#     . STATE_DIR/ksm.env          # exports GEOSTACK_KSM=STATE_DIR/ksm.json
#
# STATE_DIR defaults to $GEOSTACK_STATE, then to .ci/state under the repository.
#
# What it does:
#   - installs python3-keystonemiddleware, uwsgi-core and uwsgi-plugin-python3 from
#     Debian if missing;
#   - writes two [keystone_authtoken] files under STATE_DIR/ksm, the same but for
#     delay_auth_decision (off in strict.conf, on in delay.conf), against the SG
#     location's Keystone with the glance service user;
#   - starts scripts/ksm-app.py (an echo application: it answers with the identity
#     headers, environ keys and oslo.context policy values it received) under uwsgi
#     twice: "ksm", behind auth_token, one port per configuration; and "plain",
#     without any middleware, for geostack's Go handler and a Go reverse proxy to
#     sit in front of;
#   - writes STATE_DIR/ksm.json (URLs, the configuration used, pids, logs) and
#     STATE_DIR/ksm.env.
#
# Run it again while everything is up (for the same Keystone) and it only prints.
# scripts/ksm-down.sh stops what it started, and nothing else. Its pid files live in
# STATE_DIR/ksm/run, apart from keystone-up.sh's, which keystone-down.sh owns.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
STATE=${1:-${GEOSTACK_STATE:-$REPO/.ci/state}}
PY=/usr/bin/python3

log() { printf '[ksm-up] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[[ $(id -u) == 0 ]] || die "run as root (it installs packages)"
[[ -d $STATE ]] || die "no state directory $STATE: run scripts/keystone-up.sh first"
STATE=$(cd "$STATE" && pwd)
KJSON=$STATE/keystone.json
[[ -s $KJSON ]] || die "no $KJSON: run scripts/keystone-up.sh $STATE first"
KSM=$STATE/ksm
T0=$(now)

# The Keystone this configuration was written for: keystone-up.sh re-seeds with new
# ports and passwords, and then everything here must be redone.
KEYSTONE_ID=$(sha256sum "$KJSON" | cut -c1-16)

# --- Already up? -------------------------------------------------------------------
already_up() {
	[[ -s $STATE/ksm.json && -s $KSM/ports ]] || return 1
	grep -q "\"keystone_id\": \"$KEYSTONE_ID\"" "$STATE/ksm.json" || return 1
	local name pid
	for name in ksm plain; do
		pid=$(cat "$KSM/run/$name.pid" 2>/dev/null) || return 1
		kill -0 "$pid" 2>/dev/null || return 1
	done
	# shellcheck disable=SC1091
	. "$KSM/ports"
	for port in "$PORT_STRICT" "$PORT_DELAY" "$PORT_PLAIN"; do
		# 200 (plain, delay) or 401 (strict): anything but a failure to connect.
		curl -sS -o /dev/null --max-time 5 "http://127.0.0.1:$port/" || return 1
	done
}
if already_up; then
	log "already running; nothing to do"
	cat "$KSM/summary.txt" >&2 2>/dev/null || true
	echo "$STATE/ksm.json"
	exit 0
fi
"$SCRIPTS/ksm-down.sh" "$STATE" >/dev/null 2>&1 || true

# --- Install -----------------------------------------------------------------------
T=$(now)
PACKAGES=(python3-keystonemiddleware python3-oslo.context uwsgi-core uwsgi-plugin-python3 curl)
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
	log "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 \
		-o Dpkg::Options::=--force-unsafe-io "${missing[@]}" >"$STATE/apt-ksm.log" 2>&1 ||
		{ tail -n 30 "$STATE/apt-ksm.log" >&2; die "apt-get install failed (see $STATE/apt-ksm.log)"; }
fi
KSM_VERSION=$(dpkg-query -W -f='${Version}' python3-keystonemiddleware | sed 's/^[0-9]*://')
UWSGI=$(command -v uwsgi-core || command -v uwsgi) || die "uwsgi not found"
T_INSTALL=$(since "$T")

# --- Configuration -----------------------------------------------------------------
rm -rf "$KSM"
mkdir -p "$KSM/run" "$KSM/log"
chmod 700 "$KSM"

# The settings, from keystone.json. The backend stands in the SG location, like the
# Validator of identity/authtoken's integration tests: it validates at SG's Keystone
# and sends clients to SG's for a token.
# shellcheck disable=SC2046
read -r AUTH_URL SERVICE_USER SERVICE_PASSWORD SERVICE_PROJECT < <("$PY" - "$KJSON" <<'EOF'
import json, sys
env = json.load(open(sys.argv[1]))
glance = [u for u in env["service_users"] if u["name"] == "glance"][0]
print(env["auth_urls"]["SG"], glance["name"], glance["password"], env["service_project"]["name"])
EOF
)
SERVICE_TYPE=compute # a type in the seeded catalog: access rules are checked against it

read -r PORT_STRICT PORT_DELAY PORT_PLAIN < <("$PY" - <<'EOF'
import socket
socks = []
for _ in range(3):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
)
cat >"$KSM/ports" <<EOF
PORT_STRICT=$PORT_STRICT
PORT_DELAY=$PORT_DELAY
PORT_PLAIN=$PORT_PLAIN
EOF

write_conf() { # file delay_auth_decision
	(
		umask 077
		cat >"$1" <<EOF
# Written by scripts/ksm-up.sh for geostack's parity test. Not for production.
[keystone_authtoken]
auth_type = password
auth_url = $AUTH_URL
username = $SERVICE_USER
password = $SERVICE_PASSWORD
user_domain_id = default
project_name = $SERVICE_PROJECT
project_domain_id = default
# Validate at SG's Keystone, as the Go Validator does (Home SG; admin_auth_url).
region_name = SG
interface = admin
www_authenticate_uri = $AUTH_URL
service_token_roles = service
service_token_roles_required = true
delay_auth_decision = $2
include_service_catalog = true
service_type = $SERVICE_TYPE
token_cache_time = 300
EOF
	)
}
write_conf "$KSM/strict.conf" false
write_conf "$KSM/delay.conf" true

# --- uwsgi ---------------------------------------------------------------------------
T=$(now)
start() { # name mode ports...: start ksm-app.py under uwsgi, one --http per port
	local name=$1 mode=$2
	shift 2
	local https=() p
	for p in "$@"; do https+=(--http "127.0.0.1:$p"); done
	# See keystone-instance.sh for the router, keep-alive and buffer flags. The large
	# --buffer-size also lets an X-Service-Catalog header through to "plain".
	# --lazy-apps builds auth_token in each worker, with its own token cache and
	# HTTP session, rather than sharing one across the fork.
	env -u PYTHONPATH -u PYTHONHOME \
		GEOSTACK_KSM_MODE="$mode" \
		GEOSTACK_KSM_PORTS="$PORT_STRICT=$KSM/strict.conf,$PORT_DELAY=$KSM/delay.conf" \
		"$UWSGI" --plugin http,python3 \
		"${https[@]}" --http-keepalive --http-buffer-size 131072 \
		--buffer-size 65535 \
		--wsgi-file "$SCRIPTS/ksm-app.py" \
		--master --processes 2 --threads 1 --lazy-apps --need-app \
		--die-on-term --vacuum \
		--procname-prefix-spaced "geostack-ksm-$name" \
		--pidfile "$KSM/run/$name.pid" \
		--daemonize "$KSM/log/$name.log"
}
start ksm ksm "$PORT_STRICT" "$PORT_DELAY"
start plain plain "$PORT_PLAIN"

wait_up() { # name port
	local deadline=$((SECONDS + 60))
	until curl -sS -o /dev/null --max-time 10 "http://127.0.0.1:$2/" 2>/dev/null; do
		if ((SECONDS > deadline)); then
			tail -n 40 "$KSM/log/$1.log" >&2
			die "$1 did not answer on port $2 within 60 s"
		fi
		sleep 0.2
	done
}
wait_up plain "$PORT_PLAIN"
wait_up ksm "$PORT_STRICT"
wait_up ksm "$PORT_DELAY"
for name in ksm plain; do
	{ ps -o pid= --ppid "$(cat "$KSM/run/$name.pid")" | tr -s ' \n' ' '; echo; } >"$KSM/run/$name.children"
done
T_START=$(since "$T")

# A request without a token: 401 with auth_token's WWW-Authenticate from strict, and
# X-Identity-Status: Invalid from delay. Anything else means auth_token is not in
# front of the application.
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_STRICT/")
[[ $code == 401 ]] || die "strict port answered $code without a token, want 401 (see $KSM/log/ksm.log)"
curl -fsS "http://127.0.0.1:$PORT_DELAY/" | grep -q '"HTTP_X_IDENTITY_STATUS": "Invalid"' ||
	die "delay port did not pass X-Identity-Status: Invalid (see $KSM/log/ksm.log)"

"$PY" - "$STATE/ksm.json" <<EOF
import json, os, sys
out = sys.argv[1]
env = {
    "schema": 1,
    "keystonemiddleware_version": "$KSM_VERSION",
    "keystone": "$KJSON",
    "keystone_id": "$KEYSTONE_ID",
    "urls": {
        "strict": "http://127.0.0.1:$PORT_STRICT",
        "delay": "http://127.0.0.1:$PORT_DELAY",
        "plain": "http://127.0.0.1:$PORT_PLAIN",
    },
    "config": {
        "auth_url": "$AUTH_URL",
        "www_authenticate_uri": "$AUTH_URL",
        "region_name": "SG",
        "interface": "admin",
        "username": "$SERVICE_USER",
        "user_domain_id": "default",
        "project_name": "$SERVICE_PROJECT",
        "project_domain_id": "default",
        "service_token_roles": ["service"],
        "service_token_roles_required": True,
        "include_service_catalog": True,
        "service_type": "$SERVICE_TYPE",
        "token_cache_time": 300,
        "delay_auth_decision": {"strict": False, "delay": True},
    },
    "config_files": {"strict": "$KSM/strict.conf", "delay": "$KSM/delay.conf"},
    "pids": {n: int(open("$KSM/run/%s.pid" % n).read()) for n in ("ksm", "plain")},
    "logs": {"ksm": "$KSM/log/ksm.log", "plain": "$KSM/log/plain.log"},
    "state_dir": "$STATE",
}
tmp = out + ".tmp"
with open(tmp, "w") as f:
    json.dump(env, f, indent=2, sort_keys=True)
    f.write("\n")
os.replace(tmp, out)
EOF
echo "export GEOSTACK_KSM=$STATE/ksm.json" >"$STATE/ksm.env"

{
	echo "keystonemiddleware $KSM_VERSION up against $AUTH_URL (service user $SERVICE_USER, service_type $SERVICE_TYPE):"
	echo "  strict (delay_auth_decision = false) http://127.0.0.1:$PORT_STRICT"
	echo "  delay  (delay_auth_decision = true)  http://127.0.0.1:$PORT_DELAY"
	echo "  plain  (no middleware)               http://127.0.0.1:$PORT_PLAIN"
	echo "  timings: install ${T_INSTALL}s, start ${T_START}s, total $(since "$T0")s"
	echo "  export GEOSTACK_KSM=$STATE/ksm.json (or: . $STATE/ksm.env); stop with: scripts/ksm-down.sh $STATE"
} >"$KSM/summary.txt"
cat "$KSM/summary.txt" >&2
echo "$STATE/ksm.json"
