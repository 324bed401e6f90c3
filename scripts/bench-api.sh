#!/usr/bin/env bash
# netd's API under numbers: create and delete latency (median, p99) of N
# playgrounds one after another through the unix socket, then netd's
# resident memory and fds with SCALE playgrounds up. Its own netd, host
# netns, state dir and bpffs dir, all removed after. A benchmark, not a test.
# usage: scripts/bench-api.sh [MANIFEST] [N] [SCALE]
set -euo pipefail
cd "$(dirname "$0")/.."
manifest=${1:-manifests/routing-challenge.yaml}
n=${2:-200}
scale=${3:-1000}
netd=build/bin/netd
[ -x "$netd" ] || make -s
host=pna-h$$
state=$(mktemp -d /tmp/playnet-bench.XXXXXX)
export PLAYNET_STATE_DIR=$state/state PLAYNET_HOST_NETNS=$host PLAYNET_SOCKET=$state/netd.sock
export PLAYNET_BPF_DIR=/sys/fs/bpf/playnet-bench-$$
pid=
api() { # METHOD NAME: prints curl's total time in seconds
	curl -s -o /dev/null -w '%{time_total}\n' --max-time 120 --unix-socket "$PLAYNET_SOCKET" \
		-X "$1" ${3:+--data-binary "@$3"} "http://netd/v1/playgrounds/$2"
}
cleanup() {
	if [ -n "$pid" ]; then
		for f in "$PLAYNET_STATE_DIR"/*.json; do
			[ -e "$f" ] && api DELETE "$(basename "$f" .json)" >/dev/null
		done
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null || true
	fi
	ip netns del "$host" 2>/dev/null || true
	rm -rf "$state"
}
trap cleanup EXIT
ip netns add "$host"
"$netd" 2>"$state/netd.log" &
pid=$!
for _ in $(seq 1 100); do [ -S "$PLAYNET_SOCKET" ] && break; sleep 0.05; done

stats() { # seconds, one per line, in; "median X ms, p99 Y ms" out
	sort -n | awk '{ a[NR] = $1 } END {
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		p = a[int(NR * 0.99 + 0.999)]
		printf "median %.1f ms, p99 %.1f ms, min %.1f ms, max %.1f ms (n=%d)\n",
			m * 1000, p * 1000, a[1] * 1000, a[NR] * 1000, NR }'
}
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }

echo "manifest: $manifest"
api PUT warm "$manifest" >/dev/null && api DELETE warm >/dev/null
echo "netd at rest: RSS $(rss) kB, $(ls /proc/$pid/fd | wc -l) fds"
for i in $(seq 1 "$n"); do api PUT "b$i" "$manifest"; done >"$state/create"
for i in $(seq 1 "$n"); do api DELETE "b$i"; done >"$state/delete"
echo "API create, $n playgrounds one after another: $(stats <"$state/create")"
echo "API delete, $n playgrounds one after another: $(stats <"$state/delete")"

mem0=$(awk '/^MemAvailable/ {print $2}' /proc/meminfo)
for i in $(seq 1 "$scale"); do api PUT "s$i" "$manifest"; done >"$state/scale"
mem1=$(awk '/^MemAvailable/ {print $2}' /proc/meminfo)
echo "with $scale up: netd RSS $(rss) kB, $(ls /proc/$pid/fd | wc -l) fds; kernel and all: $(( (mem0 - mem1) / scale )) kB per playground"
echo "create of the first 100: $(head -100 "$state/scale" | stats)"
echo "create of the last 100:  $(tail -100 "$state/scale" | stats)"
