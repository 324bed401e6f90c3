# What bench-guest.sh and bench-images.sh share: sourced, with playnet, P
# and PLAYNET_STATE_DIR set.

# up_time MANIFEST PATTERN MACHINE...: seconds from `playnet up --vms`
# until each machine's console shows PATTERN (an extended regex; %m stands
# for the machine's name). The playground is left up.
up_time() {
	local manifest=$1 pattern=$2 t0 m
	shift 2
	t0=$EPOCHREALTIME
	"$playnet" up "$manifest" --name "$P" --vms >/dev/null 2>&1
	for m in "$@"; do
		for _ in $(seq 1 6000); do
			grep -aqE "${pattern//%m/$m}" "$PLAYNET_STATE_DIR/vm/$P/$m.log" 2>/dev/null && break
			sleep 0.05
		done
	done
	awk -v a="${t0/./}" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.2f\n", (b - a) / 1e6 }'
}

# stats: median, min and max of the seconds on stdin, one a line.
stats() { sort -n | awk '{ a[NR] = $1 } END { printf "median %.2f s (min %.2f, max %.2f, %d rounds)\n", a[int((NR + 1) / 2)], a[1], a[NR], NR }'; }
