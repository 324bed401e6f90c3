#!/usr/bin/env bash
# Impairments and links changed at runtime, timed as a user meets them:
# `playnet impair P a/eth0 rate 10mbit` (an ifb, two tbfs, the u32
# steering and the guard's flag), `impair --clear`, `link down` and `link
# up`, each through netd (median and p99 of ROUNDS); and the API call of
# the same alone (curl). On this machine's kernel only a rate can be
# applied (no sch_netem); netem's own figure is measured the same way by
# tests/stock/ under TCG, which says little of a real machine. A
# benchmark: it prints figures and asserts nothing. Everything runs in a
# host netns, state dir, socket and bpffs dir of its own, removed after.
# usage: scripts/bench-impair.sh [ROUNDS]   (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-100}
make -s all

. scripts/bench-vm-lib.sh
bench_playnet /tmp impair
trap bench_cleanup EXIT

"$playnet" up tests/netns/pair.yaml --name "$P" >/dev/null 2>&1
echo "machine: $(nproc) CPUs, kernel $(uname -r)"
both() { "$playnet" impair "$P" a/eth0 rate 10mbit && "$playnet" impair "$P" a/eth0 --clear; }
both >/dev/null # the kernel's modules loaded, netd's first probe made
apply=$work/apply clear=$work/clear
for _ in $(seq 1 "$ROUNDS"); do
	ms 1 "$playnet" impair "$P" a/eth0 rate 10mbit >>"$apply"
	ms 1 "$playnet" impair "$P" a/eth0 --clear >>"$clear"
done
echo "impair rate 10mbit, apply (playnet through netd): $(pct <"$apply")"
echo "impair --clear (playnet through netd):            $(pct <"$clear")"
: >"$apply"
: >"$clear"
url=http://netd/v1/playgrounds/$P/machines/a/interfaces/eth0/impair
for _ in $(seq 1 "$ROUNDS"); do
	ms 1 curl -sf --unix-socket "$PLAYNET_SOCKET" -X PUT -d '{"rate": "10mbit"}' "$url" >>"$apply"
	ms 1 curl -sf --unix-socket "$PLAYNET_SOCKET" -X DELETE "$url" >>"$clear"
done
echo "PUT .../impair {rate: 10mbit} (curl):              $(pct <"$apply")"
echo "DELETE .../impair (curl):                          $(pct <"$clear")"
: >"$apply"
: >"$clear"
for _ in $(seq 1 "$ROUNDS"); do
	ms 1 "$playnet" link "$P" a/eth0 down >>"$apply"
	ms 1 "$playnet" link "$P" a/eth0 up >>"$clear"
done
echo "link down (playnet through netd):                 $(pct <"$apply")"
echo "link up (playnet through netd):                   $(pct <"$clear")"
