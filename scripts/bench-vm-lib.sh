# What the benchmarks of playgrounds (bench-guest.sh, bench-images.sh,
# bench-access.sh, bench-impair.sh) share: sourced.

# bench_playnet DIR TAG: a host netns, state dir, socket and bpffs dir of
# the benchmark's own (work dir $work under DIR), and P, a playground name;
# bench_cleanup (on EXIT: the caller's trap may add to it) removes them.
bench_playnet() {
	work=$(mktemp -d "$1/playnet-bench-$2.XXXXXX")
	HOST=pnb$2-h$$
	export PLAYNET_HOST_NETNS=$HOST PLAYNET_STATE_DIR=$work/state PLAYNET_SOCKET=$work/netd.sock
	export PLAYNET_BPF_DIR=/sys/fs/bpf/playnet-bench-$2-$$
	playnet=build/bin/playnet
	P=b$2$$
	ip netns add "$HOST"
}

bench_cleanup() {
	"$playnet" down "$P" >/dev/null 2>&1 || true
	local pid
	pid=$(cat "$PLAYNET_STATE_DIR/netd.pid" 2>/dev/null) || true
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	ip netns del "$HOST" 2>/dev/null || true
	rm -rf "$work" "$PLAYNET_BPF_DIR"
}

# up_time: with playnet, P and PLAYNET_STATE_DIR set (bench_playnet).

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

# ms: the milliseconds each run of a command takes, one a line; a run
# that fails stops the benchmark, saying why (a figure of failures is no
# figure).
ms() {
	local n=$1 t0
	shift
	for _ in $(seq 1 "$n"); do
		t0=$EPOCHREALTIME
		if ! "$@" >/dev/null 2>"$work/err"; then
			echo "failed: $*: $(cat "$work/err")" >&2
			exit 1
		fi
		awk -v a="${t0/./}" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.1f\n", (b - a) / 1e3 }'
	done
}
# pct: median and p99 of the milliseconds on stdin.
pct() { sort -n | awk '{ a[NR] = $1 } END { printf "median %.1f ms, p99 %.1f ms (%d runs)\n", a[int((NR + 1) / 2)], a[int(NR * 0.99 + 0.999)], NR }'; }

