#!/usr/bin/env bash
# The guards' cost on a real stream: one iperf3 TCP stream between two netns
# machines on one bridge with and without the guards, twice each, in the
# same run (scripts/bench.sh runs it after bench_guard's ns per packet).
# Everything in namespaces made here and removed after. A benchmark, not a
# test. usage: scripts/bench-guard.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
command -v iperf3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 >/dev/null; }
make -s build/bin/playnet

host=pnb-h$$
name=bg$$
export PLAYNET_STATE_DIR=$(mktemp -d /tmp/playnet-bench.XXXXXX)
export PLAYNET_HOST_NETNS=$host PLAYNET_BPF_DIR=/sys/fs/bpf/playnet-bench-$$
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
on1=$(iperf)
guards_off
off1=$(iperf)
"$playnet" down "$name" >/dev/null 2>&1
"$playnet" up --name "$name" tests/netns/routing-netns.yaml 2>/dev/null
on2=$(iperf)
guards_off
off2=$(iperf)
echo "iperf3, one TCP stream web-1 -> web-2 on one bridge, ${secs}s each, Gbit/s:"
echo "  guards on:  $on1 $on2"
echo "  guards off: $off1 $off2"
awk -v a="$on1" -v b="$on2" -v c="$off1" -v d="$off2" \
	'BEGIN { printf "  ratio on/off: %.3f\n", (a + b) / (c + d) }'
