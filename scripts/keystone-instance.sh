#!/usr/bin/env bash
# keystone-instance.sh — start one more keystone-wsgi-public instance over the
# database, Fernet keys and cache of a Keystone set up by keystone-up.sh.
#
# Usage: scripts/keystone-instance.sh STATE_DIR NAME [PORT]
#
# keystone-up.sh starts JP, US and SG with it. A test that must kill a Keystone
# (failover) starts its own disposable instance instead of killing a shared one,
# which other packages' tests may be using at the same moment:
#
#     out=$(scripts/keystone-instance.sh .ci/state failover-1)   # prints: AUTH_URL PID
#     ...
#     scripts/keystone-down.sh .ci/state failover-1
#
# NAME is [A-Za-z0-9_-]+; PORT defaults to a free loopback port. The process is
# named "geostack-keystone-NAME" (that is how keystone-down.sh recognises it), its
# pid is in STATE_DIR/run/NAME.pid and its log in STATE_DIR/log/NAME.log. The script
# returns once the instance answers GET /v3 and prints "AUTH_URL PID".
set -euo pipefail

[[ $# -ge 2 ]] || { echo "usage: $0 STATE_DIR NAME [PORT]" >&2; exit 2; }
STATE=$(cd "$1" && pwd)
NAME=$2
PORT=${3:-}
[[ $NAME =~ ^[A-Za-z0-9_-]+$ ]] || { echo "keystone-instance: bad name $NAME" >&2; exit 2; }
[[ -f $STATE/keystone.conf ]] || { echo "keystone-instance: no $STATE/keystone.conf; run keystone-up.sh" >&2; exit 1; }
PY=/usr/bin/python3
UWSGI=$(command -v uwsgi-core || command -v uwsgi)
if [[ -z $PORT ]]; then
	PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
mkdir -p "$STATE/run" "$STATE/log"
PIDFILE=$STATE/run/$NAME.pid
if [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
	echo "keystone-instance: $NAME is already running (pid $(cat "$PIDFILE"))" >&2
	exit 1
fi

# --http (uwsgi's HTTP router in front of the workers) with keep-alive and a large
# buffer: --http-socket gave Go keep-alive clients EOF/reset errors, --http11-socket
# let idle keep-alive clients pin workers, and without the larger buffer each
# keep-alive request took ~56 ms instead of ~11 ms.
# One thread per worker: sqlite and Keystone's DB layer are not happy otherwise.
# --lazy-apps builds the application in each worker after the fork: Keystone queries
# the database while it loads (check_project_depth), and a connection opened before a
# fork must not be shared. --shared-pyimport still imports Keystone's modules once,
# in the master (imports open no connection), which makes start-up ~30% faster.
# --die-on-term makes SIGTERM a stop, not a reload.
env -u PYTHONPATH -u PYTHONHOME \
	OS_KEYSTONE_CONFIG_DIR="$STATE" OS_KEYSTONE_CONFIG_FILES=keystone.conf \
	"$UWSGI" --plugin http,python3 \
	--http "127.0.0.1:$PORT" --http-keepalive --http-buffer-size 131072 \
	--buffer-size 65535 \
	--shared-pyimport keystone.server.wsgi \
	--wsgi-file /usr/bin/keystone-wsgi-public \
	--master --processes 2 --threads 1 --lazy-apps --need-app \
	--die-on-term --vacuum \
	--procname-prefix-spaced "geostack-keystone-$NAME" \
	--pidfile "$PIDFILE" \
	--daemonize "$STATE/log/$NAME.log"

URL=http://127.0.0.1:$PORT/v3
deadline=$((SECONDS + 90))
until curl -fsS -o /dev/null --max-time 20 "$URL" 2>/dev/null; do
	if ((SECONDS > deadline)); then
		tail -n 40 "$STATE/log/$NAME.log" >&2
		echo "keystone-instance: $NAME did not answer GET /v3 on port $PORT within 90 s" >&2
		exit 1
	fi
	sleep 0.2
done
# The workers and HTTP router, so that keystone-down.sh can stop them even after
# the master was killed with SIGKILL.
MASTER=$(cat "$PIDFILE")
{ ps -o pid= --ppid "$MASTER" | tr -s ' \n' ' '; echo; } >"$STATE/run/$NAME.children"
echo "$URL $MASTER"
