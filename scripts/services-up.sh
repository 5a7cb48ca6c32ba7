#!/usr/bin/env bash
# services-up.sh — bring up real Glance, Cinder and Nova APIs next to the Keystone of
# scripts/keystone-up.sh, for geostack's integration tests.
#
# Usage (as root, on Debian 12, after scripts/keystone-up.sh on the same STATE_DIR):
#
#     scripts/services-up.sh [STATE_DIR]
#     . STATE_DIR/services.env          # exports GEOSTACK_SERVICES=STATE_DIR/services.json
#
# STATE_DIR defaults to $GEOSTACK_STATE, then to .ci/state under the repository.
#
# What it does:
#   - installs Glance 25, Cinder 21 and Nova 26 (Zed) as the python3-* library packages
#     (the glance-api, cinder-api and nova-api packages ask debconf questions) and their
#     python clients;
#   - writes, under STATE_DIR/services, each service's configuration and the paste files
#     and launchers the library packages do not ship: sqlite databases, Glance's file
#     store, transport_url = fake://, noop notifications, keystonemiddleware with the
#     glance, cinder and nova service users of keystone.json;
#   - syncs the databases (Nova: API database, cell0 and cell1);
#   - starts, on free loopback ports, each service's own eventlet server with one worker:
#       glance-TYO1  Glance API, region TYO1, validates tokens at JP's Keystone
#       glance-SJC1  Glance API, region SJC1 (own database and store), at US's Keystone
#       cinder-TYO1  Cinder API (block storage v3), region TYO1, at JP's Keystone
#       nova-TYO1    Nova API (compute v2.1), region TYO1, at JP's Keystone
#     Glance runs its own server, not uwsgi: under uwsgi chunked uploads above ~32-64 KB
#     fail. Each service answers under the same path keystone-seed.py gave its
#     placeholder, http://127.0.0.1:PORT/<region>/<interface>/{image,volume/v3,compute/v2.1},
#     so that an endpoint still says which region and interface it is;
#   - points the catalog's image, volumev3 and compute endpoints (public, internal,
#     admin) of those regions at them; every other endpoint (those services in OSA1 and
#     SIN1, compute and volumev3 in SJC1, network everywhere) stays a closed-port
#     placeholder;
#   - seeds images, flavors and volume types (scripts/services-seed.py) and writes
#     STATE_DIR/services.json (what runs and what was seeded, read by Go tests through
#     GEOSTACK_SERVICES) and STATE_DIR/services.env;
#   - prints a summary with timings and memory to stderr and the path of services.json
#     to stdout.
#
# Run it again while everything is up (and still attached to the same Keystone) and it
# only prints the summary. If anything is missing or dead, or Keystone was set up
# afresh, it stops what it started before (by pid) and starts afresh, with empty
# databases and stores. scripts/services-down.sh stops every process this script
# started, and nothing else.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
STATE=${1:-${GEOSTACK_STATE:-$REPO/.ci/state}}
[[ -d $STATE ]] || { echo "[services-up] error: no $STATE: run scripts/keystone-up.sh $STATE first" >&2; exit 1; }
STATE=$(cd "$STATE" && pwd)
SVC=$STATE/services
PY=/usr/bin/python3
INSTANCES=(glance-TYO1 glance-SJC1 cinder-TYO1 nova-TYO1)
# Worker processes per service, besides the parent that forks them. Each eventlet
# worker serves many requests at once; 1 keeps memory and start-up low on 2 cores.
WORKERS=${GEOSTACK_SERVICES_WORKERS:-1}

log() { printf '[services-up] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[[ $(id -u) == 0 ]] || die "run as root (it installs packages)"
[[ -s $STATE/keystone.json ]] || die "no $STATE/keystone.json: run scripts/keystone-up.sh $STATE first"
[[ $WORKERS =~ ^[1-8]$ ]] || die "GEOSTACK_SERVICES_WORKERS must be 1..8"

T0=$(now)

# keystone_id: what identifies the Keystone set up in STATE (its admin user's id is
# new at every keystone-up.sh run), so that services attached to an older one are
# not taken for up.
keystone_id() {
	"$PY" -c 'import json, sys; k = json.load(open(sys.argv[1])); print(k["admin"]["id"])' "$STATE/keystone.json"
}

# --- Already up? -------------------------------------------------------------------
# ours PID MARK: PID is alive and its command line contains MARK.
ours() {
	local cmd
	[[ $1 =~ ^[0-9]+$ ]] || return 1
	cmd=$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null) || return 1
	[[ $cmd == *"$2"* ]]
}
already_up() {
	[[ -s $STATE/services.json && -s $SVC/ports && -s $SVC/keystone-id ]] || return 1
	[[ $(cat "$SVC/keystone-id") == "$(keystone_id)" ]] || return 1
	local name pid
	for name in "${INSTANCES[@]}"; do
		pid=$(cat "$SVC/run/$name.pid" 2>/dev/null) || return 1
		ours "$pid" "geostack-$name " || return 1
	done
	"$PY" - "$STATE/services.json" <<'EOF' || return 1
import json, sys, urllib.request
s = json.load(open(sys.argv[1]))
for inst in s["instances"]:
    # Version documents answer without a token (300 Multiple Choices or 200).
    try:
        urllib.request.urlopen(inst["version_url"], timeout=5)
    except urllib.error.HTTPError as e:
        if e.code != 300:
            sys.exit(1)
EOF
}
if already_up; then
	log "already running; nothing to do"
	cat "$STATE/services-summary.txt" >&2 2>/dev/null || true
	echo "$STATE/services.json"
	exit 0
fi
# Leftovers of an earlier run (a process died, Keystone was replaced, another boot).
"$SCRIPTS/services-down.sh" "$STATE" >/dev/null 2>&1 || true

# --- Install -----------------------------------------------------------------------
PACKAGES=(python3-glance python3-cinder python3-nova python3-glanceclient
	python3-cinderclient python3-novaclient python3-keystonemiddleware curl)
T=$(now)
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
	log "installing: ${missing[*]}"
	mkdir -p "$SVC"
	export DEBIAN_FRONTEND=noninteractive
	# Keep maintainer scripts from starting system-wide daemons (the dependencies
	# include none today, but this script starts only what it stops).
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	# --force-unsafe-io: no fsync per unpacked file (a throwaway CI machine).
	apt_install() {
		apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 \
			-o Dpkg::Options::=--force-unsafe-io "${missing[@]}" >>"$SVC/apt.log" 2>&1
	}
	# On a fresh machine keystone-up.sh updated the package lists moments ago; update
	# them again only if installing from them fails.
	apt_install || { apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 && apt_install; } ||
		{ tail -n 30 "$SVC/apt.log" >&2; die "apt-get install failed (see $SVC/apt.log)"; }
fi
T_INSTALL=$(since "$T")
log "packages ready (${T_INSTALL}s)"
version() { dpkg-query -W -f='${Version}' "$1" | sed 's/^[0-9]*://'; }
GLANCE_VERSION=$(version python3-glance)
CINDER_VERSION=$(version python3-cinder)
NOVA_VERSION=$(version python3-nova)

# --- State directory, ports and Keystone -------------------------------------------
T=$(now)
rm -rf "$SVC/run" "$SVC/log" "$SVC/bin" "${INSTANCES[@]/#/$SVC/}"
rm -f "$SVC/ports" "$SVC/keystone-id" "$STATE/services.json" "$STATE/services.env" \
	"$STATE/services-summary.txt"
umask 077
mkdir -p "$SVC/run" "$SVC/log" "$SVC/bin"

read -r PORT_GLANCE_TYO1 PORT_GLANCE_SJC1 PORT_CINDER PORT_NOVA < <("$PY" - <<'EOF'
import socket
socks = []
for _ in range(4):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
)
declare -A PORT=([glance-TYO1]=$PORT_GLANCE_TYO1 [glance-SJC1]=$PORT_GLANCE_SJC1
	[cinder-TYO1]=$PORT_CINDER [nova-TYO1]=$PORT_NOVA)
for name in "${INSTANCES[@]}"; do
	printf 'PORT_%s=%s\n' "${name//-/_}" "${PORT[$name]}"
done >"$SVC/ports"

# What the services need from keystone.json: the service users' password and each
# region's Keystone (the auth_url of the location the region belongs to).
SERVICE_PASSWORD=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["service_password"])' "$STATE/keystone.json")
declare -A AUTH_URL
while read -r region url; do
	AUTH_URL[$region]=$url
done < <("$PY" - "$STATE/keystone.json" <<'EOF'
import json, sys
k = json.load(open(sys.argv[1]))
for loc, regions in k["regions"].items():
    for r in regions:
        print(r, k["auth_urls"][loc])
EOF
)
keystone_id >"$SVC/keystone-id"

# authtoken SERVICE_USER REGION: keystonemiddleware's section. Tokens are validated
# at the Keystone of the region's location, as a deployment would.
authtoken() {
	cat <<EOF
[keystone_authtoken]
www_authenticate_uri = ${AUTH_URL[$2]}
auth_url = ${AUTH_URL[$2]}
auth_type = password
username = $1
password = $SERVICE_PASSWORD
user_domain_id = default
project_name = service
project_domain_id = default
service_token_roles_required = true
EOF
}

# prefixes TYPE_PATH REGION APP: paste urlmap lines that mount APP under each
# interface's path, the path the catalog endpoints carry.
prefixes() {
	local iface
	for iface in public internal admin; do
		printf '/%s/%s/%s = %s\n' "$2" "$iface" "$1" "$3"
	done
}

# launcher NAME MODULE: STATE/services/bin/geostack-NAME runs MODULE's main(). Its
# name is in every process's command line (workers are forks), which is how
# services-down.sh recognises them. It writes its own pid file and leaves the
# caller's session, so that it outlives the shell that started it.
launcher() {
	cat >"$SVC/bin/geostack-$1" <<EOF
#!$PY
# Written by scripts/services-up.sh: $2 for geostack's integration tests.
import os
import sys

try:
    os.setsid()
except OSError:
    pass  # already a session leader
with open("$SVC/run/$1.pid.tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.replace("$SVC/run/$1.pid.tmp", "$SVC/run/$1.pid")
from $2 import main
sys.exit(main())
EOF
	chmod 700 "$SVC/bin/geostack-$1"
}

# --- Glance (two regions) ----------------------------------------------------------
glance_config() { # REGION
	local name=glance-$1 dir=$SVC/glance-$1
	mkdir -p "$dir/images" "$dir/staging" "$dir/lock"
	cat >"$dir/glance-api.conf" <<EOF
# Written by scripts/services-up.sh for geostack's integration tests. Not for production.
[DEFAULT]
debug = false
use_stderr = true
bind_host = 127.0.0.1
bind_port = ${PORT[$name]}
workers = $WORKERS
transport_url = fake://
# Image import: web-download (issue 20) and glance-direct stage in node_staging_uri.
enabled_import_methods = [glance-direct,web-download,copy-image]
node_staging_uri = file://$dir/staging
# No image cache, no delayed delete: a deleted image is gone at once.
delayed_delete = false

[database]
connection = sqlite:///$dir/glance.db
# No fsync per commit: a throwaway CI database (the schema migrations alone commit
# hundreds of times).
sqlite_synchronous = false

[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = $dir/images/

[import_filtering_opts]
# web-download from a test's own HTTP server on loopback, on any port. Glance blocks
# loopback and ports other than 80 and 443 by default. These list options need the
# brackets.
allowed_hosts = [127.0.0.1,localhost]
allowed_ports = []

$(authtoken glance "$1")

[oslo_concurrency]
lock_path = $dir/lock

[oslo_messaging_notifications]
driver = noop

[oslo_policy]
enforce_scope = false
enforce_new_defaults = false

[paste_deploy]
flavor = keystone
config_file = $dir/glance-api-paste.ini
EOF
	cat >"$dir/glance-api-paste.ini" <<EOF
# Written by scripts/services-up.sh: Glance's keystone pipeline, mounted under the
# catalog's paths. glance-api loads the app "glance-api-keystone". Links in answers
# are built from the request's URL, mount path included (public_endpoint is unset:
# Cinder would put the mount path in twice, and each interface has its own path).
[composite:glance-api-keystone]
use = call:paste.urlmap:urlmap_factory
$(prefixes image "$1" glance-api)

[pipeline:glance-api]
pipeline = http_proxy_to_wsgi versionnegotiation authtoken context rootapp

[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/ = apiversions
/v2 = apiv2app

[app:apiversions]
paste.app_factory = glance.api.versions:create_resource

[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory

[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
delay_auth_decision = true

[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory
EOF
	launcher "$name" glance.cmd.api
}
glance_sync() { # REGION
	run_logged "glance-manage-$1" pymain glance.cmd.manage \
		--config-file "$SVC/glance-$1/glance-api.conf" db_sync
}

# --- Cinder ------------------------------------------------------------------------
cinder_config() {
	local name=cinder-TYO1 dir=$SVC/cinder-TYO1
	mkdir -p "$dir/state" "$dir/lock"
	cat >"$dir/cinder.conf" <<EOF
# Written by scripts/services-up.sh for geostack's integration tests. Not for production.
[DEFAULT]
debug = false
use_stderr = true
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = ${PORT[$name]}
osapi_volume_workers = $WORKERS
api_paste_config = $dir/api-paste.ini
auth_strategy = keystone
transport_url = fake://
state_path = $dir/state
# No volume service runs: a volume create is accepted and never processed.
enabled_backends =

[database]
connection = sqlite:///$dir/cinder.db
sqlite_synchronous = false

[coordination]
backend_url = file://$dir/lock

$(authtoken cinder TYO1)

[oslo_concurrency]
lock_path = $dir/lock

[oslo_messaging_notifications]
driver = noop

[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
EOF
	cat >"$dir/api-paste.ini" <<EOF
# Written by scripts/services-up.sh: Cinder's keystone pipeline, mounted under the
# catalog's paths. cinder-api loads the app "osapi_volume".
[composite:osapi_volume]
use = call:paste.urlmap:urlmap_factory
$(prefixes volume TYO1 cinder-root)

[composite:cinder-root]
use = call:cinder.api:root_app_factory
/ = apiversions
/v3 = openstack_volume_api_v3

[composite:openstack_volume_api_v3]
use = call:cinder.api.middleware.auth:pipeline_factory
keystone = request_id faultwrap sizelimit authtoken keystonecontext apiv3

[pipeline:apiversions]
pipeline = faultwrap osvolumeversionapp

[app:osvolumeversionapp]
paste.app_factory = cinder.api.versions:Versions.factory

[app:apiv3]
paste.app_factory = cinder.api.v3.router:APIRouter.factory

[filter:request_id]
paste.filter_factory = cinder.api.middleware.request_id:RequestId.factory

[filter:faultwrap]
paste.filter_factory = cinder.api.middleware.fault:FaultWrapper.factory

[filter:sizelimit]
paste.filter_factory = oslo_middleware.sizelimit:RequestBodySizeLimiter.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory

[filter:keystonecontext]
paste.filter_factory = cinder.api.middleware.auth:CinderKeystoneContext.factory
EOF
	launcher "$name" cinder.cmd.api
}
cinder_sync() {
	run_logged cinder-manage pymain cinder.cmd.manage \
		--config-file "$SVC/cinder-TYO1/cinder.conf" db sync
}

# --- Nova --------------------------------------------------------------------------
nova_config() {
	local name=nova-TYO1 dir=$SVC/nova-TYO1
	mkdir -p "$dir/state" "$dir/lock"
	cat >"$dir/nova.conf" <<EOF
# Written by scripts/services-up.sh for geostack's integration tests. Not for production.
[DEFAULT]
debug = false
use_stderr = true
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = ${PORT[$name]}
osapi_compute_workers = $WORKERS
transport_url = fake://
state_path = $dir/state
my_ip = 127.0.0.1

[api]
auth_strategy = keystone

[api_database]
connection = sqlite:///$dir/nova_api.db
sqlite_synchronous = false

[database]
# cell1's database; cell0's is nova_cell0.db.
connection = sqlite:///$dir/nova_cell1.db
sqlite_synchronous = false

[wsgi]
api_paste_config = $dir/api-paste.ini

$(authtoken nova TYO1)

[oslo_concurrency]
lock_path = $dir/lock

[oslo_messaging_notifications]
driver = noop

[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
EOF
	cat >"$dir/api-paste.ini" <<EOF
# Written by scripts/services-up.sh: Nova's keystone pipeline for API v2.1, mounted
# under the catalog's paths. nova-api loads the app "osapi_compute".
[composite:osapi_compute]
use = call:paste.urlmap:urlmap_factory
$(prefixes compute TYO1 nova-root)

[composite:nova-root]
use = call:nova.api.openstack.urlmap:urlmap_factory
/ = oscomputeversions
/v2.1 = oscomputeversion_v2
/v2.1/+ = openstack_compute_api_v21

[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
keystone = compute_req_id faultwrap request_log sizelimit authtoken keystonecontext osapi_compute_app_v21

[pipeline:oscomputeversions]
pipeline = faultwrap request_log oscomputeversionapp

[pipeline:oscomputeversion_v2]
pipeline = compute_req_id faultwrap request_log oscomputeversionapp_v2

[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory

[app:oscomputeversionapp_v2]
paste.app_factory = nova.api.openstack.compute.versions:VersionsV2.factory

[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory

[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory

[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory

[filter:request_log]
paste.filter_factory = nova.api.openstack.requestlog:RequestLog.factory

[filter:sizelimit]
paste.filter_factory = oslo_middleware:RequestBodySizeLimiter.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory

[filter:keystonecontext]
paste.filter_factory = nova.api.auth:NovaKeystoneContext.factory
EOF
	launcher "$name" nova.cmd.api
}
nova_sync() {
	local dir=$SVC/nova-TYO1
	local nm=(pymain nova.cmd.manage --config-file "$dir/nova.conf")
	# The API database (it holds the cell mappings) and cell1's, side by side; cell0
	# has cell1's schema, so it is a copy instead of a second migration run. Then the
	# two cells' mappings.
	run_logged nova-manage-api_db "${nm[@]}" api_db sync &
	local pid=$!
	run_logged nova-manage-db "${nm[@]}" db sync --local_cell
	wait "$pid"
	cp "$dir/nova_cell1.db" "$dir/nova_cell0.db"
	run_logged nova-manage-map_cell0 "${nm[@]}" cell_v2 map_cell0 \
		--database_connection "sqlite:///$dir/nova_cell0.db"
	run_logged nova-manage-create_cell "${nm[@]}" cell_v2 create_cell --name cell1 \
		--database_connection "sqlite:///$dir/nova_cell1.db" --transport-url fake://
}

# pymain MODULE ARGS...: run MODULE's main() (the packages ship no console scripts;
# not every module runs main() under python -m).
pymain() {
	local module=$1
	shift
	env -u PYTHONPATH -u PYTHONHOME "$PY" -c "import sys; from $module import main; sys.exit(main())" "$@"
}

# run_logged NAME CMD...: run CMD with its output in STATE/services/log/NAME.log.
run_logged() {
	local name=$1
	shift
	"$@" >"$SVC/log/$name.log" 2>&1 ||
		{ tail -n 30 "$SVC/log/$name.log" >&2; die "$name failed (see $SVC/log/$name.log)"; }
}

glance_config TYO1
glance_config SJC1
cinder_config
nova_config
T_CONFIG=$(since "$T")

# --- Database syncs and start --------------------------------------------------------
declare -A CONF_FILE=([glance-TYO1]=$SVC/glance-TYO1/glance-api.conf
	[glance-SJC1]=$SVC/glance-SJC1/glance-api.conf
	[cinder-TYO1]=$SVC/cinder-TYO1/cinder.conf [nova-TYO1]=$SVC/nova-TYO1/nova.conf)
declare -A VERSION_PATH=([glance-TYO1]=TYO1/public/image/ [glance-SJC1]=SJC1/public/image/
	[cinder-TYO1]=TYO1/public/volume/ [nova-TYO1]=TYO1/public/compute/)
declare -A SYNC=([glance-TYO1]="glance_sync TYO1" [glance-SJC1]="glance_sync SJC1"
	[cinder-TYO1]=cinder_sync [nova-TYO1]=nova_sync)

# wait_up NAME: until the version document answers (each server binds its port only
# once its application is loaded).
wait_up() {
	local name=$1 url=http://127.0.0.1:${PORT[$1]}/${VERSION_PATH[$1]} deadline=$((SECONDS + 120)) pid
	until curl -sS -o /dev/null --max-time 10 -w '%{http_code}' "$url" 2>/dev/null | grep -q '^[23]'; do
		pid=$(cat "$SVC/run/$name.pid" 2>/dev/null) || pid=
		if ((SECONDS > deadline)) || { [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; }; then
			tail -n 40 "$SVC/log/$name.log" >&2
			die "$name did not answer GET $url (log: $SVC/log/$name.log)"
		fi
		sleep 0.2
	done
	# The workers, so that services-down.sh can stop them even after the parent was
	# killed with SIGKILL. They are forked once the application is loaded.
	pid=$(cat "$SVC/run/$name.pid")
	local children deadline2=$((SECONDS + 30))
	until children=$(ps -o pid= --ppid "$pid" | tr -s ' \n' ' ') && [[ $(wc -w <<<"$children") -ge $WORKERS ]]; do
		((SECONDS > deadline2)) && die "$name: fewer than $WORKERS workers after 30 s"
		sleep 0.1
	done
	echo "$children" >"$SVC/run/$name.children"
}

# bring_up NAME: sync its databases, start it, wait until it answers; the timings go
# to STATE/services/run/NAME.timing. The four run side by side, so that Glance and
# Cinder load while Nova's sequential syncs run.
bring_up() {
	local name=$1 t sync
	t=$(now)
	${SYNC[$name]}
	sync=$(since "$t")
	t=$(now)
	env -u PYTHONPATH -u PYTHONHOME "$SVC/bin/geostack-$name" --config-file "${CONF_FILE[$name]}" \
		</dev/null >"$SVC/log/$name.log" 2>&1 &
	wait_up "$name"
	echo "db sync ${sync}s, start $(since "$t")s" >"$SVC/run/$name.timing"
}
T=$(now)
UP_PIDS=()
for name in "${INSTANCES[@]}"; do
	bring_up "$name" &
	UP_PIDS+=($!)
done
for pid in "${UP_PIDS[@]}"; do
	wait "$pid" || die "a service did not come up (logs in $SVC/log)"
done
T_START=$(since "$T")
log "four APIs answer (${T_START}s: database syncs and start)"

# --- Catalog and seed ----------------------------------------------------------------
T=$(now)
instance_args=()
for name in "${INSTANCES[@]}"; do
	instance_args+=(--instance "$name=${PORT[$name]}")
done
env -u PYTHONPATH -u PYTHONHOME "$PY" "$SCRIPTS/services-seed.py" \
	--state "$STATE" \
	--keystone-json "$STATE/keystone.json" \
	--workers "$WORKERS" \
	--version "glance=$GLANCE_VERSION" --version "cinder=$CINDER_VERSION" --version "nova=$NOVA_VERSION" \
	"${instance_args[@]}" \
	--out "$STATE/services.json" >"$SVC/log/seed.log" 2>&1 ||
	{ tail -n 40 "$SVC/log/seed.log" >&2; die "seeding failed (see $SVC/log/seed.log)"; }
cat >"$STATE/services.env" <<EOF
export GEOSTACK_SERVICES=$STATE/services.json
EOF
T_SEED=$(since "$T")
log "catalog updated and seeded (${T_SEED}s)"

# --- Summary -----------------------------------------------------------------------
# memory NAME: RSS and PSS (proportional: shared pages divided among the processes
# sharing them) summed over the parent and its workers, in MiB.
memory() {
	local pid rss=0 pss=0 r p
	for pid in $(cat "$SVC/run/$1.pid") $(cat "$SVC/run/$1.children"); do
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || r=0
		p=$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null) || p=0
		rss=$((rss + ${r:-0})) pss=$((pss + ${p:-0}))
	done
	printf 'RSS %d MiB, PSS %d MiB' $((rss / 1024)) $((pss / 1024))
}
T_TOTAL=$(since "$T0")
{
	echo "Glance $GLANCE_VERSION, Cinder $CINDER_VERSION, Nova $NOVA_VERSION up ($WORKERS worker(s) each):"
	for name in "${INSTANCES[@]}"; do
		printf '  %-12s http://127.0.0.1:%s/%s  pid %s, %s; %s\n' "$name" "${PORT[$name]}" \
			"${VERSION_PATH[$name]%public/*}<interface>/..." "$(cat "$SVC/run/$name.pid")" \
			"$(memory "$name")" "$(cat "$SVC/run/$name.timing")"
	done
	"$PY" - "$STATE/services.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
for region, images in sorted(s["images"].items()):
    kinds = {}
    for i in images:
        kinds[i["kind"]] = kinds.get(i["kind"], 0) + 1
    print("  seeded in %s: %d images (%s)" % (region, len(images), ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
print("  seeded in TYO1: %d flavors, %d volume types (+ Cinder's __DEFAULT__)" % (
    len(s["flavors"]), len([v for v in s["volume_types"] if v["kind"] != "builtin"])))
EOF
	echo "  timings: install ${T_INSTALL}s, config ${T_CONFIG}s, database syncs and start ${T_START}s," \
		"catalog+seed ${T_SEED}s, total ${T_TOTAL}s"
	echo "  export GEOSTACK_SERVICES=$STATE/services.json (or: . $STATE/services.env)"
	echo "  stop with: scripts/services-down.sh $STATE"
} >"$STATE/services-summary.txt"
cat "$STATE/services-summary.txt" >&2
echo "$STATE/services.json"
