#!/usr/bin/env bash
# keystone-down.sh — stop the processes scripts/keystone-up.sh started, and nothing else.
#
# Usage: scripts/keystone-down.sh [STATE_DIR]     (default: $GEOSTACK_STATE, then .ci/state)
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
RUN=$STATE/run

log() { printf '[keystone-down] %s\n' "$*" >&2; }

[[ -d $RUN ]] || { log "nothing to stop: no $RUN"; exit 0; }

# ours PID MARK: true if PID is alive and its command line contains MARK.
ours() {
	local cmd
	[[ $1 =~ ^[0-9]+$ ]] || return 1
	cmd=$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null) || return 1
	[[ $cmd == *"$2"* ]]
}

# stop NAME SIGNAL MARK PID...: send SIGNAL, wait up to 10 s, then SIGKILL what is left.
stop() {
	local name=$1 sig=$2 mark=$3 pid alive=()
	shift 3
	for pid in "$@"; do
		if ours "$pid" "$mark"; then
			kill "-$sig" "$pid" 2>/dev/null || true
			alive+=("$pid")
		fi
	done
	((${#alive[@]})) || return 0
	local deadline=$((SECONDS + 10)) left
	while :; do
		left=()
		for pid in "${alive[@]}"; do
			ours "$pid" "$mark" && left+=("$pid")
		done
		((${#left[@]})) || break
		if ((SECONDS >= deadline)); then
			log "$name: SIGKILL ${left[*]}"
			kill -KILL "${left[@]}" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	log "stopped $name (${alive[*]})"
}

for loc in JP US SG; do
	pidfile=$RUN/$loc.pid
	[[ -f $pidfile ]] || continue
	master=$(cat "$pidfile")
	# The master stops its workers and HTTP router. The children recorded at start-up
	# are stopped too, in case the master was killed with SIGKILL and left them behind.
	children=()
	[[ -f $RUN/$loc.children ]] && read -r -a children <"$RUN/$loc.children" || true
	# SIGINT: uwsgi's immediate shutdown (SIGTERM waits for the workers' grace period).
	stop "keystone $loc" INT "geostack-keystone-$loc" "$master"
	stop "keystone $loc workers" KILL "geostack-keystone-$loc" "${children[@]}"
	rm -f "$pidfile" "$RUN/$loc.children"
done

# shellcheck disable=SC1091
[[ -f $STATE/ports ]] && . "$STATE/ports"
declare -A MC_PORT=([memcached-keystone]=${PORT_MC_KEYSTONE:-} [memcached-tests]=${PORT_MC_TESTS:-})
for name in memcached-keystone memcached-tests; do
	pidfile=$RUN/$name.pid
	[[ -f $pidfile && -n ${MC_PORT[$name]} ]] || continue
	stop "$name" TERM "memcached -d -u root -l 127.0.0.1 -p ${MC_PORT[$name]} " "$(cat "$pidfile")"
	rm -f "$pidfile"
done
