#!/usr/bin/env bash
# make bench: playnet against the ways people build the same network today,
# in one run on this machine, on manifests/bench-reference.yaml:
#   1. create/delete of N playgrounds (median, p99) through playnet's
#      library and API, and through the peers of tests/bench/ (one ip/nft
#      command per object, ip -batch + nft -f, CNI bridge + host-local);
#   2. SCALE playgrounds up through the API, SCALE_ROUNDS times: create time
#      against how many are up (the plot), netd's memory, the kernel's
#      memory per playground;
#   3. churn: CHURN playgrounds deleted while a client keeps creating, against
#      the kernel's own floor for destroying as many;
#   4. the guards' cost per packet and on an iperf3 stream.
# Everything runs in a host netns, state dirs and bpffs dirs made here and
# removed after, even on failure. A benchmark: it prints figures, writes
# them to build/bench/results.json and build/bench/create-vs-up.svg, and
# asserts nothing. usage: scripts/bench.sh   (BENCH_N, BENCH_SCALE,
# BENCH_SCALE_ROUNDS, BENCH_CHURN, BENCH_IPERF_SECONDS, BENCH_IPERF_ROUNDS
# override the sizes)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_N:-100} SCALE=${BENCH_SCALE:-1000} CHURN=${BENCH_CHURN:-200}
MANIFEST=manifests/bench-reference.yaml
OUT=build/bench
need=()
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v gnuplot >/dev/null || need+=(gnuplot-nox)
command -v iperf3 >/dev/null || need+=(iperf3)
if [ ${#need[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
make -s all "$OUT/bench_fabric" "$OUT/bench_api" "$OUT/bench_guard"

tag=b$$
HOST=pnb-h$$
work=$(mktemp -d /dev/shm/playnet-bench.XXXXXX) # tmpfs, as /run is
export PLAYNET_HOST_NETNS=$HOST
netd_pid=
stop_netd() {
	[ -n "$netd_pid" ] || return 0
	kill "$netd_pid" 2>/dev/null || true
	wait "$netd_pid" 2>/dev/null || true
	netd_pid=
}
cleanup() {
	stop_netd
	local ns
	for ns in $(ip netns list | awk -v p="^pg-[a-z]$tag" '$1 ~ p { print $1 }'); do
		ip netns del "$ns" 2>/dev/null || true
	done
	ip netns del "$HOST" 2>/dev/null || true
	rm -rf "$work" /sys/fs/bpf/playnet-bench-lib-$$ /sys/fs/bpf/playnet-bench-api-$$
}
trap cleanup EXIT
ip netns add "$HOST"
(. tests/bench/peer_lib.sh && peer_host_ruleset) | ip netns exec "$HOST" nft -f -

# --- helpers ---------------------------------------------------------------
# "create|delete US" lines on stdin; prints "median p99 n" in ms
stats() {
	sort -n | awk '{ a[NR] = $1 } END {
		if (!NR) { print "0 0 0"; exit }
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "%.2f %.2f %d\n", m / 1000, a[int(NR * 0.99 + 0.999)] / 1000, NR }'
}
pick() { awk -v w="$1" '$1 == w { print $2 }' "$2"; }
# Until netd has no delete under way, the kernel has destroyed every
# namespace that had a link to the host netns (their ids there go when it
# begins, the uplinks' host ends with their transit addresses when it ends:
# the library and netd share the transit pool in one host netns), and the
# rtnl lock is free again (a link change in the host netns takes it, after
# the kernel's last cleanup has let go of it).
settle() {
	local t0=$EPOCHREALTIME
	while [ -n "$netd_pid" ] && ! curl -s --unix-socket "$work/netd.sock" http://netd/metrics |
		grep -qx 'playnet_deletes_pending 0'; do
		sleep 0.01
	done
	while [ -n "$(ip -n "$HOST" netns list-id)" ] ||
		[ "$(ip -n "$HOST" -o link show | wc -l)" -gt 1 ]; do
		sleep 0.01
		(( ${EPOCHREALTIME/./} - ${t0/./} < 600000000 )) || { echo "bench: kernel did not settle" >&2; return 1; }
	done
	ip -n "$HOST" link set lo up
}
lib() { # MODE N PREFIX
	PLAYNET_STATE_DIR=$work/lib PLAYNET_BPF_DIR=/sys/fs/bpf/playnet-bench-lib-$$ \
		"$OUT/bench_fabric" -m "$1" -n "$2" -p "$3" "$MANIFEST"
}
start_netd() { # [VAR=value...]
	env PLAYNET_STATE_DIR="$work/api" PLAYNET_SOCKET="$work/netd.sock" \
		PLAYNET_BPF_DIR="/sys/fs/bpf/playnet-bench-api-$$" "$@" build/bin/netd 2>>"$work/netd.log" &
	netd_pid=$!
	for _ in $(seq 1 200); do [ -S "$work/netd.sock" ] && return 0; sleep 0.05; done
	echo "bench: netd did not start" >&2
	return 1
}
api() { # MODE N PREFIX [MANIFEST]
	"$OUT/bench_api" -m "$1" -n "$2" -p "$3" "$work/netd.sock" "${4:-$MANIFEST}"
}
peer() { # PEER MODE N PREFIX
	HOST=$HOST PEER_DIR=$work/cni tests/bench/peer-run.sh "$@"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$netd_pid/status"; }
fds() { ls "/proc/$netd_pid/fd" | wc -l; }
mem_avail_kb() { awk '/^MemAvailable/ { print $2 }' /proc/meminfo; }

echo "playnet bench: $MANIFEST, $(nproc) CPUs, kernel $(uname -r)"

# --- 1. create and delete, side by side --------------------------------------
# Each tool creates N playgrounds one after another, then deletes them, then
# waits for the kernel to finish before the next tool starts.
declare -A C D
run_tool() { # NAME COMMAND... (the command gets MODE N PREFIX)
	local name=$1
	shift
	"$@" up "$N" "${name:0:1}$tag-" >"$work/$name.up"
	"$@" down "$N" "${name:0:1}$tag-" >"$work/$name.down"
	settle
	C[$name]=$(pick create "$work/$name.up" | stats)
	D[$name]=$(pick delete "$work/$name.down" | stats)
}
lib up 1 "l${tag}w" >/dev/null && lib down 1 "l${tag}w" >/dev/null # loads the guards
start_netd
api up 1 "a${tag}w" >/dev/null && api down 1 "a${tag}w" >/dev/null
settle
run_tool lib lib
run_tool api api
stop_netd
run_tool ip peer ip
run_tool batch peer batch
run_tool cni peer cni
settle

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0) ? a / b : 0 }'; }
med() { echo "${1%% *}"; }
echo
echo "1. Create and delete, $N playgrounds one after another (ms)"
printf '%-34s %8s %8s %8s %8s %10s\n' "" "create" "p99" "delete" "p99" "create ×"
label() {
	case $1 in
	lib) echo "playnet, library (guards, state)" ;;
	api) echo "playnet, API (HTTP on unix socket)" ;;
	ip) echo "ip/nft, one command per object" ;;
	batch) echo "ip -batch + nft -f" ;;
	cni) echo "CNI bridge + host-local" ;;
	esac
}
for t in lib api ip batch cni; do
	read -r cm cp _ <<<"${C[$t]}"
	read -r dm dp _ <<<"${D[$t]}"
	printf '%-34s %8s %8s %8s %8s %10s\n' "$(label "$t")" "$cm" "$cp" "$dm" "$dp" \
		"$(ratio "$cm" "$(med "${C[lib]}")")"
done
echo "(create ×: the tool's median create over playnet's library median)"

# --- 2. scale ----------------------------------------------------------------
# SCALE up through the API, then all deleted, SCALE_ROUNDS times: the
# machine is shared, and a round's two medians, taken seconds apart, each
# take in whatever else ran then. Every round is printed; the one of the
# median ratio is reported in full (memory, plot, raw figures).
SCALE_ROUNDS=${BENCH_SCALE_ROUNDS:-3}
start_netd
api up 1 "a${tag}w" >/dev/null && api down 1 "a${tag}w" >/dev/null
settle
rss0=$(rss_kb) fds0=$(fds)
echo
echo "2. $SCALE playgrounds up through the API, $SCALE_ROUNDS rounds"
rounds=() # per round: "last/first first last rss fds kernel_kb down_s round"
for r in $(seq 1 "$SCALE_ROUNDS"); do
	mem0=$(mem_avail_kb)
	api up "$SCALE" "a${tag}s$r-" >"$work/scale$r.up"
	rss1=$(rss_kb) fds1=$(fds) mem1=$(mem_avail_kb)
	# (awk, not head: head leaves early, and under pipefail pick's SIGPIPE
	# would end the bench)
	first=$(med "$(pick create "$work/scale$r.up" | awk 'NR <= 100' | stats)")
	last=$(med "$(pick create "$work/scale$r.up" | tail -100 | stats)")
	t0=$EPOCHREALTIME
	api down "$SCALE" "a${tag}s$r-" >/dev/null
	settle
	down_s=$(awk -v a="${t0/./}" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
	rounds+=("$(awk -v l="$last" -v f="$first" 'BEGIN { printf "%.3f", l / f }') $first $last $rss1 $fds1 $(( (mem0 - mem1) / SCALE )) $down_s $r")
	echo "  round $r: create, first 100: median $first ms; last 100: median $last ms (× $(ratio "$last" "$first")); netd RSS $rss1 kB with $SCALE up"
done
read -r _ first last rss1 fds1 kmem scale_down_s sround <<<"$(printf '%s\n' "${rounds[@]}" | sort -n | sed -n "$(( (SCALE_ROUNDS + 1) / 2 ))p")"
echo "  the round of the median ratio, $sround: first 100 $first ms, last 100 $last ms (× $(ratio "$last" "$first"))"
echo "  netd: RSS $rss0 kB at rest, $rss1 kB with $SCALE up; fds $fds0 -> $fds1"
echo "  kernel and all, from MemAvailable: $kmem kB per playground"
echo "  deleting all $SCALE until the kernel was done: $scale_down_s s"

# --- 3. churn ----------------------------------------------------------------
# The kernel's floors for CHURN playgrounds with nothing else running:
# handed over all at once (it destroys them in a few long batches, holding
# the rtnl lock throughout), and one after another, each once the last is
# done (one namespace per cleanup: what a create can afford to wait for).
floor() { # all|serial: seconds
	lib up "$CHURN" "f${tag}-" >/dev/null
	local t0=$EPOCHREALTIME i
	for i in $(seq 0 $((CHURN - 1))); do
		ip netns del "pg-f$tag-$i"
		[ "$1" = all ] && continue
		while ip -n "$HOST" link show "$(naming_uplink "f$tag-$i")" >/dev/null 2>&1; do sleep 0.005; done
	done
	settle
	awk -v a="${t0/./}" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.2f", (b - a) / 1e6 }'
	rm -rf "$work/lib" /sys/fs/bpf/playnet-bench-lib-$$ # records of what ip removed behind its back
}
# The uplink's host end of a playground, as playnet names it.
naming_uplink() { build/bin/playnet plan --name "$1" --json "$MANIFEST" | sed -n 's/.*"hostDevice": *"\([^"]*\)".*/\1/p'; }
floor_s=$(floor all)
serial_s=$(floor serial)
# playnet: CHURN up, then all deleted through the API by one client while
# another creates and deletes one playground every 50 ms until netd and
# the kernel are done with them. Each probe is a new name: a PUT of a name
# whose delete is still queued first finishes that delete (the name, its
# host link and netns must be free), which is a delete's cost, not a create's.
# Three times: probes of the same manifest, which netd builds by taking over
# the namespace of a queued delete; probes of tests/bench/refit.yaml, of the
# same frame and nothing else alike, which netd builds by taking one over
# and refitting it; and probes of the same manifest to a netd with
# takeovers off, which builds each from scratch (what paced destruction
# alone buys).
recycled() { curl -s --unix-socket "$work/netd.sock" http://netd/metrics | awk '$1 == "playnet_creates_recycled_total" { print $2 }'; }
churn() { # ID PROBE_MANIFEST: "median p99 n all_gone_s api_done_s recycled"
	local id=$1 t0 deleter probes=0 r0 gone done_s
	r0=$(recycled)
	api up "$CHURN" "a${tag}$id" >/dev/null
	t0=$EPOCHREALTIME
	{ api down "$CHURN" "a${tag}$id" >"$work/churn$id.down"; echo "$EPOCHREALTIME" >"$work/churn$id.api-done"; } &
	deleter=$!
	: >"$work/churn$id.probe"
	while kill -0 "$deleter" 2>/dev/null || compgen -G "$work/api/a${tag}$id*.json" >/dev/null; do # records go last
		probes=$((probes + 1))
		api cycle 1 "a${tag}p$id$probes-" "$2" >>"$work/churn$id.probe"
		sleep 0.05
	done
	wait "$deleter"
	gone=$(awk -v a="${t0/./}" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
	done_s=$(awk -v a="${t0/./}" -v b="$(tr -d . <"$work/churn$id.api-done")" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
	settle
	echo "$(pick create "$work/churn$id.probe" | stats) $gone $done_s $(($(recycled) - r0))"
}
REFIT=tests/bench/refit.yaml
read -r pm pp pn churn_s api_done_s prec <<<"$(churn s "$MANIFEST")"
read -r fm fp fn fchurn_s fapi_done_s frec <<<"$(churn r "$REFIT")"
stop_netd
start_netd PLAYNET_NO_TAKEOVER=1
read -r om op on ochurn_s oapi_done_s orec <<<"$(churn o "$MANIFEST")"
churn_line() { # MEDIAN P99 GONE_S API_DONE_S
	echo "    median $1 ms, p99 $2 ms; all $CHURN gone after $3 s (× $(ratio "$3" "$serial_s") the serial floor; API calls done after $4 s)"
}
echo
echo "3. Churn: $CHURN playgrounds deleted through the API while a client creates"
echo "  the kernel alone, nothing else running: $floor_s s handed over at once, $serial_s s one after another"
echo "  creates of the same manifest ($prec of $pn took over a deleted namespace):"
churn_line "$pm" "$pp" "$churn_s" "$api_done_s"
echo "  creates of another manifest of the same frame, $REFIT ($frec of $fn took over one, refitted):"
churn_line "$fm" "$fp" "$fchurn_s" "$fapi_done_s"
echo "  creates of the same manifest, takeovers off (PLAYNET_NO_TAKEOVER=1; $orec of $on took over one):"
churn_line "$om" "$op" "$ochurn_s" "$oapi_done_s"
stop_netd

# --- 4. guards ---------------------------------------------------------------
echo
echo "4. Guards"
# The kernel frees the churn's namespaces for a while after their links are
# gone (cleanup_net's RCU barriers, a CPU's worth at times): iperf waits
# until the count of live namespaces has held still for 2 s.
quiet() {
	local last=-1 same=0 now i
	for i in $(seq 1 600); do
		now=$(awk '$1 == "net_namespace" { print $2 }' /proc/slabinfo)
		if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi
		[ "$same" -ge 10 ] && return 0
		last=$now
		sleep 0.2
	done
}
quiet
"$OUT/bench_guard" 1000000 | tee "$work/guard.txt"
scripts/bench-guard.sh "${BENCH_IPERF_SECONDS:-5}" "${BENCH_IPERF_ROUNDS:-4}" | tee "$work/iperf.txt"
tap_ns=$(awk '/tap guard/ && /pass/ { for (i = 1; i <= NF; i++) if ($i == "ns") { print $(i - 1); exit } }' "$work/guard.txt")
uplink_ns=$(awk '/uplink guard/ && /pass/ { for (i = 1; i <= NF; i++) if ($i == "ns") { print $(i - 1); exit } }' "$work/guard.txt")
iperf_ratio=$(awk '/ratio on\/off/ { print $NF }' "$work/iperf.txt")
floor_ns=$(awk '/floor/ { for (i = 1; i <= NF; i++) if ($i == "ns") { print $(i - 1); exit } }' "$work/guard.txt")

# --- results -----------------------------------------------------------------
mkdir -p "$OUT"
tool_json() { # NAME
	read -r cm cp cn <<<"${C[$1]}"
	read -r dm dp dn <<<"${D[$1]}"
	printf '"%s": {"create_ms": {"median": %s, "p99": %s, "n": %s}, "delete_ms": {"median": %s, "p99": %s, "n": %s}, "raw_create_us": [%s], "raw_delete_us": [%s]}' \
		"$1" "$cm" "$cp" "$cn" "$dm" "$dp" "$dn" \
		"$(pick create "$work/$1.up" | paste -sd,)" "$(pick delete "$work/$1.down" | paste -sd,)"
}
{
	printf '{"manifest": "%s", "date": "%s", "cpus": %s, "mem_kb": %s, "kernel": "%s", "n": %s,\n' \
		"$MANIFEST" "$(date -u +%Y-%m-%d)" "$(nproc)" "$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)" \
		"$(uname -r)" "$N"
	printf '"tools": {'
	sep=
	for t in lib api ip batch cni; do printf '%s\n  ' "$sep"; tool_json "$t"; sep=,; done
	printf '},\n"scale": {"playgrounds": %s, "rounds": [%s], "reported_round": %s, "first100_median_ms": %s, "last100_median_ms": %s, "netd_rss_kb_rest": %s, "netd_rss_kb_up": %s, "netd_fds_rest": %s, "netd_fds_up": %s, "kernel_kb_per_playground": %s, "delete_all_s": %s, "raw_create_us": [%s]},\n' \
		"$SCALE" "$(printf '%s\n' "${rounds[@]}" | sort -k8n | awk '{ printf "%s{\"first100_median_ms\": %s, \"last100_median_ms\": %s, \"netd_rss_kb_up\": %s}", (NR > 1 ? ", " : ""), $2, $3, $4 }')" \
		"$sround" "$first" "$last" "$rss0" "$rss1" "$fds0" "$fds1" "$kmem" "$scale_down_s" \
		"$(pick create "$work/scale$sround.up" | paste -sd,)"
	printf '"churn": {"playgrounds": %s, "kernel_floor_all_s": %s, "kernel_floor_serial_s": %s,\n' \
		"$CHURN" "$floor_s" "$serial_s"
	printf '  "same_manifest": {"create_median_ms": %s, "create_p99_ms": %s, "creates": %s, "recycled": %s, "all_gone_s": %s, "api_done_s": %s, "raw_create_us": [%s]},\n' \
		"$pm" "$pp" "$pn" "$prec" "$churn_s" "$api_done_s" "$(pick create "$work/churns.probe" | paste -sd,)"
	printf '  "refit_manifest": {"create_median_ms": %s, "create_p99_ms": %s, "creates": %s, "recycled": %s, "all_gone_s": %s, "api_done_s": %s, "raw_create_us": [%s]},\n' \
		"$fm" "$fp" "$fn" "$frec" "$fchurn_s" "$fapi_done_s" "$(pick create "$work/churnr.probe" | paste -sd,)"
	printf '  "takeovers_off": {"create_median_ms": %s, "create_p99_ms": %s, "creates": %s, "recycled": %s, "all_gone_s": %s, "api_done_s": %s, "raw_create_us": [%s]}},\n' \
		"$om" "$op" "$on" "$orec" "$ochurn_s" "$oapi_done_s" "$(pick create "$work/churno.probe" | paste -sd,)"
	printf '"guards": {"tap_ns": %s, "uplink_ns": %s, "test_run_floor_ns": %s, "iperf_ratio_on_off": %s}}\n' \
		"${tap_ns:-null}" "${uplink_ns:-null}" "${floor_ns:-null}" "${iperf_ratio:-null}"
} >"$OUT/results.json"
pick create "$work/scale$sround.up" | awk '{ print NR - 1, $1 / 1000 }' >"$work/scale.dat"
gnuplot <<PLOT
set terminal svg size 800,480 dynamic background rgb 'white'
set output '$OUT/create-vs-up.svg'
set title 'playnet: create of the reference playground through the API'
set xlabel 'playgrounds already up'
set ylabel 'create latency (ms)'
set grid
set key top left
plot '$work/scale.dat' using 1:2 with points pt 7 ps 0.3 title 'each create', \
     '$work/scale.dat' using 1:2 smooth bezier lw 2 title 'trend'
PLOT
echo
echo "raw figures: $OUT/results.json; plot: $OUT/create-vs-up.svg"
