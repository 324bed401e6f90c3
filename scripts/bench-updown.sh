#!/usr/bin/env bash
# Median and p90 of `playnet up` and `playnet down` over N runs of a manifest
# (default: the routing challenge, 20 runs), wall clock of the whole command
# talking to the netd it started,
# in a host netns made for the run and removed after. A benchmark, not a test.
# usage: scripts/bench-updown.sh [MANIFEST] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
manifest=${1:-manifests/routing-challenge.yaml}
n=${2:-20}
playnet=build/bin/playnet
[ -x "$playnet" ] || make -s
host=pnb-h$$
state=$(mktemp -d /tmp/playnet-bench.XXXXXX)
name=bench$$
export PLAYNET_STATE_DIR=$state PLAYNET_HOST_NETNS=$host PLAYNET_SOCKET=$state/netd.sock
cleanup() {
	"$playnet" down "$name" >/dev/null 2>&1 || true
	[ -e "$state/netd.pid" ] && kill "$(cat "$state/netd.pid")" 2>/dev/null && sleep 0.3
	ip netns del "$host" 2>/dev/null || true
	rm -rf "$state"
}
trap cleanup EXIT
ip netns add "$host"
# The first command starts netd; it is not part of the figures.
"$playnet" ls >/dev/null 2>&1

now() { date +%s%N; }
ups=() downs=()
for i in $(seq 1 "$n"); do
	t0=$(now)
	"$playnet" up --name "$name" "$manifest" 2>/dev/null
	t1=$(now)
	"$playnet" down "$name" 2>/dev/null
	t2=$(now)
	ups+=($(( (t1 - t0) / 1000 )))
	downs+=($(( (t2 - t1) / 1000 )))
done
stats() { # microseconds in, "median X ms, p90 Y ms" out
	printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END {
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		p = a[int(NR * 0.9 + 0.999)]
		printf "median %.1f ms, p90 %.1f ms, min %.1f ms, max %.1f ms\n", m / 1000, p / 1000, a[1] / 1000, a[NR] / 1000 }'
}
echo "$manifest, $n runs, whole command (process start to exit):"
echo "  up:   $(stats "${ups[@]}")"
echo "  down: $(stats "${downs[@]}")"
