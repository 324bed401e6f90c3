#!/usr/bin/env bash
# DNS answers per second from netd: clients in netns machines keep 16
# queries in flight each at their network's gateway for SECONDS, asking a
# machine's name (answered from the plan), first from one network, then
# from four at once. Each network has its own limit of 1000 a second
# against a guest's flood, so these figures show the limit; what netd
# could answer is its CPU time per answer, measured over the four-network
# run (/proc/PID/stat), turned into answers per CPU-second. A benchmark:
# it prints figures and asserts nothing. Everything runs in a
# host netns, state dir, socket and bpffs dir of its own, removed after.
# usage: scripts/bench-dns.sh [SECONDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
make -s all

. scripts/bench-vm-lib.sh
bench_playnet /tmp dns
export PLAYNET_DNS_UPSTREAM=none
trap bench_cleanup EXIT
cat >"$work/dns.yaml" <<'YAML'
kind: playground
playground:
  networks:
    - {name: n1, subnet: 172.16.11.0/24}
    - {name: n2, subnet: 172.16.12.0/24}
    - {name: n3, subnet: 172.16.13.0/24}
    - {name: n4, subnet: 172.16.14.0/24}
  machines:
    - {name: c1, runtime: netns, network: {interfaces: [{network: n1}]}}
    - {name: c2, runtime: netns, network: {interfaces: [{network: n2}]}}
    - {name: c3, runtime: netns, network: {interfaces: [{network: n3}]}}
    - {name: c4, runtime: netns, network: {interfaces: [{network: n4}]}}
YAML
"$playnet" up "$work/dns.yaml" --name "$P" >/dev/null
echo "machine: $(nproc) CPUs, kernel $(uname -r); ${SECS} s a run"
echo "one network:   $(ip netns exec "pg-$P.c1" python3 tests/netns/dnsq.py 172.16.11.1 --rate c1 "$SECS")"
pid=$(cat "$PLAYNET_STATE_DIR/netd.pid")
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
answered() {
	curl -s --unix-socket "$PLAYNET_SOCKET" http://netd/metrics |
		awk '$1 == "playnet_dns_queries_total{result=\"answered\"}" { print $2 }'
}
t0=$(cpu)
a0=$(answered)
for i in 1 2 3 4; do
	ip netns exec "pg-$P.c$i" python3 tests/netns/dnsq.py "172.16.1$i.1" --rate c1 "$SECS" >"$work/r$i" &
done
wait
t1=$(cpu)
a1=$(answered)
total=$(awk '{ s += $1 } END { print s }' "$work"/r?)
echo "four at once:  $total answers in $SECS s: $((total / SECS)) a second"
hz=$(getconf CLK_TCK)
awk -v n=$((a1 - a0)) -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN {
	if (t == 0) { print "netd CPU: under one tick for " n " answers"; exit }
	printf "netd CPU:      %.1f us an answer (%d answers, %d ticks): %.0f answers per CPU-second\n",
		t / hz * 1e6 / n, n, t, n / (t / hz) }'
curl -s --unix-socket "$PLAYNET_SOCKET" http://netd/metrics | grep '^playnet_dns_queries_total'
