# stop-lib.sh — sourced by the *-down.sh scripts: signal only the processes we
# started. The sourcing script defines log MESSAGE.

# ours PID MARK: true if PID is alive and its command line contains MARK.
ours() {
	local cmd
	[[ $1 =~ ^[0-9]+$ ]] || return 1
	cmd=$({ tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null) || return 1
	[[ $cmd == *"$2"* ]]
}

# stop NAME SIGNAL MARK PID...: send SIGNAL to each PID that is ours, wait up to
# 10 s, then SIGKILL what is left.
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
