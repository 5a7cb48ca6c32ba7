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
