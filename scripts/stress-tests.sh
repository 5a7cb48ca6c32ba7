#!/usr/bin/env bash
# stress-tests.sh [COUNT [PACKAGES...]] — the README's test command,
# go test -race ./..., COUNT times (default 5), with a CPU hog on every core
# beside it, as on a busy CI machine. No test may depend on wall-clock time,
# so the suite must pass all the same.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5}
shift || true
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)
hogs=()
stop() { [ ${#hogs[@]} -eq 0 ] || kill "${hogs[@]}" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq "$(nproc)"); do
	(while :; do :; done) &
	hogs+=($!)
done
go test -race -count="$count" "${pkgs[@]}"
