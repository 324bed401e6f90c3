#!/usr/bin/env bash
# Capture throughput: an iperf3 UDP stream between two netns machines at
# rising rates, captured on their network by `playnet capture ... udp`
# into a file; per rate, the frames iperf3 sent, the frames in the file,
# and what the kernel dropped (the packet socket's tp_drops, the figure
# libpcap reports as ps_drop, which netd logs as each capture ends). A
# benchmark: it prints figures and asserts nothing. Everything runs in a
# host netns, state dir, socket and bpffs dir of its own, removed after.
# iperf3 sends one datagram more than it counts (its opening one), which
# the capture keeps: "lost" is then -1.
# usage: [LEN=BYTES] scripts/bench-capture.sh [SECONDS] [RATE...]
#        (default 1400-byte datagrams, 5 s, 100M 400M 1G 2G)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
shift || true
RATES=${*:-100M 400M 1G 2G}
LEN=${LEN:-1400}
make -s all

. scripts/bench-vm-lib.sh
bench_playnet /tmp capture
export PLAYNET_LOG=$work/netd.log
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; bench_cleanup' EXIT

"$playnet" up tests/netns/capture.yaml --name "$P" >/dev/null 2>&1
echo "machine: $(nproc) CPUs, kernel $(uname -r); iperf3 UDP, ${LEN}-byte datagrams, ${SECS} s a rate"
ip netns exec "pg-$P.b" iperf3 -s -p 5201 >/dev/null 2>&1 &
SPID=$!
for _ in $(seq 1 50); do ip netns exec "pg-$P.b" ss -ltn | grep -q ':5201 ' && break; sleep 0.1; done
printf '%-6s %12s %12s %10s %12s %10s\n' rate sent captured kept/s dropped lost
for rate in $RATES; do
	"$playnet" capture "$P" net-1 -w "$work/cap.pcap" udp port 5201 2>"$work/cap.err" &
	cpid=$!
	for _ in $(seq 1 50); do
		curl -s --unix-socket "$PLAYNET_SOCKET" http://netd/metrics | grep -q '^playnet_captures 1' && break
		sleep 0.1
	done
	ip netns exec "pg-$P.a" iperf3 -c 172.16.5.20 -p 5201 -u -b "$rate" -l "$LEN" -t "$SECS" -J >"$work/iperf.json"
	sleep 1
	kill -INT "$cpid"
	wait "$cpid" || true
	sent=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum"]["packets"])' <"$work/iperf.json")
	got=$(tshark -r "$work/cap.pcap" -Y 'udp.dstport == 5201 && data' 2>/dev/null | wc -l)
	for _ in $(seq 1 50); do
		curl -s --unix-socket "$PLAYNET_SOCKET" http://netd/metrics | grep -q '^playnet_captures 0' && break
		sleep 0.1
	done
	drops=$(grep -o 'capture ended ([a-z ]*): [0-9]* frames taken, [0-9]* dropped' "$PLAYNET_LOG" |
		tail -1 | awk '{ print $(NF - 1) }')
	printf '%-6s %12s %12s %10.0f %12s %10s\n' "$rate" "$sent" "$got" "$(echo "$got / $SECS" | bc -l)" \
		"${drops:-?}" "$((sent - got))"
done
