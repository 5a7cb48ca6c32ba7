#!/usr/bin/env bash
# services-down.sh — stop the processes scripts/services-up.sh started, and nothing else.
#
# Usage: scripts/services-down.sh [STATE_DIR [NAME...]]
#
# STATE_DIR defaults to $GEOSTACK_STATE, then .ci/state. NAMEs are instances
# (glance-TYO1, glance-SJC1, cinder-TYO1, nova-TYO1); without, it stops all of them.
#
# It reads the pid files under STATE_DIR/services/run. A pid is signalled only while
# its command line still names the launcher services-up.sh wrote for that instance
# (STATE_DIR/services/bin/geostack-<name>; the workers are forks and carry the same
# command line), so a pid reused by an unrelated process after a crash is left alone.
# Keystone is not touched (scripts/keystone-down.sh). The catalog keeps the endpoints
# services-up.sh registered, and the state (databases, stores, logs, services.json) is
# kept for inspection; services-up.sh replaces it.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
STATE=${1:-${GEOSTACK_STATE:-$REPO/.ci/state}}
shift || true
RUN=$STATE/services/run

log() { printf '[services-down] %s\n' "$*" >&2; }

[[ -d $RUN ]] || { log "nothing to stop: no $RUN"; exit 0; }
STATE=$(cd "$STATE" && pwd)
RUN=$STATE/services/run

# shellcheck source=scripts/stop-lib.sh
. "$SCRIPTS/stop-lib.sh"

if (($#)); then
	names=("$@")
else
	names=()
	for pidfile in "$RUN"/*.pid; do
		[[ -e $pidfile ]] || continue
		names+=("$(basename "$pidfile" .pid)")
	done
fi
pids=()
names_stopping=()
for name in "${names[@]}"; do
	[[ $name =~ ^(glance|cinder|nova)-[A-Za-z0-9_]+$ ]] || { log "bad name $name"; exit 2; }
	pidfile=$RUN/$name.pid
	[[ -f $pidfile ]] || { log "no $pidfile"; continue; }
	# The parent stops its workers on SIGTERM. The workers recorded at start-up are
	# stopped too, in case the parent was killed with SIGKILL and left them behind.
	# The trailing space keeps glance-TYO1 from matching a longer name.
	stop "$name" TERM "$STATE/services/bin/geostack-$name " "$(cat "$pidfile")" &
	pids+=($!)
	names_stopping+=("$name")
done
# The instances stop side by side (each takes up to a second to drain).
for pid in ${pids[@]+"${pids[@]}"}; do
	wait "$pid" || true
done
for name in ${names_stopping[@]+"${names_stopping[@]}"}; do
	children=()
	[[ -f $RUN/$name.children ]] && read -r -a children <"$RUN/$name.children" || true
	stop "$name workers" KILL "$STATE/services/bin/geostack-$name " "${children[@]}"
	rm -f "$RUN/$name.pid" "$RUN/$name.children" "$RUN/$name.timing"
done
