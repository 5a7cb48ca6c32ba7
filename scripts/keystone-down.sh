#!/usr/bin/env bash
# keystone-down.sh — stop the processes scripts/keystone-up.sh started, and nothing else.
#
# Usage: scripts/keystone-down.sh [STATE_DIR [NAME...]]
#
# STATE_DIR defaults to $GEOSTACK_STATE, then .ci/state. With NAMEs it stops only
# those Keystone instances (e.g. one started by keystone-instance.sh); without, it
# stops every instance and both memcached daemons.
#
# It reads the pid files under STATE_DIR/run. A pid is signalled only while its
# command line still names the process we started (uwsgi instances are named
# "geostack-keystone-<location>", memcached carries its port), so a pid reused by
# an unrelated process after a crash is left alone. The state directory (database,
# keys, logs, keystone.json) is kept for inspection; keystone-up.sh replaces it.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
STATE=${1:-${GEOSTACK_STATE:-$REPO/.ci/state}}
shift || true
RUN=$STATE/run

log() { printf '[keystone-down] %s\n' "$*" >&2; }

[[ -d $RUN ]] || { log "nothing to stop: no $RUN"; exit 0; }

# shellcheck source=scripts/stop-lib.sh
. "$SCRIPTS/stop-lib.sh"

if (($#)); then
	names=("$@")
else
	names=()
	for pidfile in "$RUN"/*.pid; do
		[[ -e $pidfile ]] || continue
		name=$(basename "$pidfile" .pid)
		[[ $name == memcached-* ]] || names+=("$name")
	done
fi
for name in "${names[@]}"; do
	[[ $name =~ ^[A-Za-z0-9_-]+$ ]] || { log "bad name $name"; exit 2; }
	pidfile=$RUN/$name.pid
	[[ -f $pidfile ]] || { log "no $pidfile"; continue; }
	master=$(cat "$pidfile")
	# The master stops its workers and HTTP router. The children recorded at start-up
	# are stopped too, in case the master was killed with SIGKILL and left them behind.
	children=()
	[[ -f $RUN/$name.children ]] && read -r -a children <"$RUN/$name.children" || true
	# SIGINT: uwsgi's immediate shutdown (SIGTERM waits for the workers' grace period).
	stop "keystone $name" INT "geostack-keystone-$name" "$master"
	stop "keystone $name workers" KILL "geostack-keystone-$name" "${children[@]}"
	rm -f "$pidfile" "$RUN/$name.children"
done
(($#)) && exit 0

# shellcheck disable=SC1091
[[ -f $STATE/ports ]] && . "$STATE/ports"
declare -A MC_PORT=([memcached-keystone]=${PORT_MC_KEYSTONE:-} [memcached-tests]=${PORT_MC_TESTS:-})
for name in memcached-keystone memcached-tests; do
	pidfile=$RUN/$name.pid
	[[ -f $pidfile && -n ${MC_PORT[$name]} ]] || continue
	stop "$name" TERM "memcached -d -u root -l 127.0.0.1 -p ${MC_PORT[$name]} " "$(cat "$pidfile")"
	rm -f "$pidfile"
done
