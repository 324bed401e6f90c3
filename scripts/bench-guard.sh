#!/usr/bin/env bash
# The guards' cost on a real stream: one iperf3 TCP stream between two netns
# machines on one bridge with and without the guards, in ROUNDS rounds of
# one run each way (scripts/bench.sh runs it after bench_guard's ns per
# packet). The ratio is of the medians: on a shared machine one run in a
# few can lose a tenth of its throughput to a neighbour, guards or not.
# Everything in namespaces made here and removed after. A benchmark, not a
# test. usage: scripts/bench-guard.sh [SECONDS [ROUNDS]]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5} rounds=${2:-4}
command -v iperf3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 >/dev/null; }
make -s build/bin/playnet

host=pnb-h$$
name=bg$$
export PLAYNET_STATE_DIR=$(mktemp -d /tmp/playnet-bench.XXXXXX)
export PLAYNET_HOST_NETNS=$host PLAYNET_BPF_DIR=/sys/fs/bpf/playnet-bench-$$
export PLAYNET_SOCKET=$PLAYNET_STATE_DIR/netd.sock # not /run/playnet's, which may not be
export PLAYNET_LOG=$PLAYNET_STATE_DIR/netd.log
playnet=build/bin/playnet
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null || true
	"$playnet" down "$name" >/dev/null 2>&1 || true
	# the netd that playnet started for this state dir
	[ -e "$PLAYNET_STATE_DIR/netd.pid" ] && kill "$(cat "$PLAYNET_STATE_DIR/netd.pid")" 2>/dev/null && sleep 0.3
	ip netns del "$host" 2>/dev/null || true
	rm -rf "$PLAYNET_STATE_DIR"
}
trap cleanup EXIT
ip netns add "$host"
"$playnet" up --name "$name" tests/netns/routing-netns.yaml 2>/dev/null
"$playnet" exec "$name" web-2 -- iperf3 -s -1 -D >/dev/null 2>&1 || true
iperf() { # Gbit/s of one TCP stream web-1 -> web-2
	"$playnet" exec "$name" web-2 -- iperf3 -s -1 -D >/dev/null 2>&1
	sleep 0.3
	"$playnet" exec "$name" web-1 -- iperf3 -c 172.16.0.3 -t "$secs" -J |
		awk -F'[:,]' '/"bits_per_second"/ { v = $2 } END { printf "%.2f", v / 1e9 }'
}
guards_off() {
	ip netns exec "pg-$name" tc qdisc del dev v-web-1-0 ingress
	ip netns exec "pg-$name" tc qdisc del dev v-web-2-0 ingress
}
median() { tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END {
	printf "%.2f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
on=() off=()
for r in $(seq 1 "$rounds"); do
	if [ "$r" -gt 1 ]; then # the guards back, on a playground made again
		"$playnet" down "$name" >/dev/null 2>&1
		"$playnet" up --name "$name" tests/netns/routing-netns.yaml 2>/dev/null
	fi
	on+=("$(iperf)")
	guards_off
	off+=("$(iperf)")
done
echo "iperf3, one TCP stream web-1 -> web-2 on one bridge, ${secs}s each, Gbit/s:"
echo "  guards on:  ${on[*]} (median $(echo "${on[*]}" | median))"
echo "  guards off: ${off[*]} (median $(echo "${off[*]}" | median))"
awk -v a="$(echo "${on[*]}" | median)" -v b="$(echo "${off[*]}" | median)" \
	'BEGIN { printf "  ratio on/off: %.3f\n", a / b }'
