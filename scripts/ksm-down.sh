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

# shellcheck source=scripts/stop-lib.sh
. "$SCRIPTS/stop-lib.sh"

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
