#!/usr/bin/env bash
# ksm-down.sh — stop the processes scripts/ksm-up.sh started, and nothing else.
#
# Usage: scripts/ksm-down.sh [STATE_DIR]
#
# STATE_DIR defaults to $GEOSTACK_STATE, then .ci/state. It reads the pid files under
# STATE_DIR/ksm/run and signals a pid only while its command line still names the
# process ksm-up.sh started ("geostack-ksm-ksm", "geostack-ksm-plain"). The Keystone
# of keystone-up.sh is left alone, and so is the state directory (configuration,
# logs, ksm.json) for inspection; ksm-up.sh replaces it.
set -euo pipefail

SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPTS/.." && pwd)
STATE=${1:-${GEOSTACK_STATE:-$REPO/.ci/state}}
RUN=$STATE/ksm/run

log() { printf '[ksm-down] %s\n' "$*" >&2; }

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

for name in ksm plain; do
	pidfile=$RUN/$name.pid
	[[ -f $pidfile ]] || continue
	children=()
	[[ -f $RUN/$name.children ]] && read -r -a children <"$RUN/$name.children" || true
	# SIGINT: uwsgi's immediate shutdown. The children recorded at start-up are
	# stopped too, in case the master was killed with SIGKILL and left them behind.
	stop "uwsgi $name" INT "geostack-ksm-$name" "$(cat "$pidfile")"
	stop "uwsgi $name workers" KILL "geostack-ksm-$name" "${children[@]}"
	rm -f "$pidfile" "$RUN/$name.children"
done
