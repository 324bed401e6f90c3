#!/usr/bin/env bash
# make soak: CYCLES create/delete cycles of manifests/bench-reference.yaml
# through netd's API, CLIENTS clients at once (half of them building every
# playground from scratch, half mostly taking over the namespaces of queued
# deletes), then a check that nothing is left (namespace, link, nftables
# table, BPF attachment or map entry, transit allocation, state file) and
# that netd's fd count and resident memory are back within 5% of where they
# were after a warm-up. Its own host netns, state dir and bpffs dir, removed
# after even on failure. Exit status 1 when something is left or has grown.
# usage: scripts/soak.sh   (SOAK_CYCLES, default 10000; SOAK_CLIENTS, 8)
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLES=${SOAK_CYCLES:-10000} CLIENTS=${SOAK_CLIENTS:-8}
MANIFEST=manifests/bench-reference.yaml
make -s all build/bench/bench_api

HOST=pns-h$$
work=$(mktemp -d /dev/shm/playnet-soak.XXXXXX)
export PLAYNET_HOST_NETNS=$HOST PLAYNET_STATE_DIR=$work/state PLAYNET_SOCKET=$work/netd.sock
export PLAYNET_BPF_DIR=/sys/fs/bpf/playnet-soak-$$
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	local ns
	for ns in $(ip netns list | awk -v p="^pg-s$$" '$1 ~ p { print $1 }'); do
		ip netns del "$ns" 2>/dev/null || true
	done
	ip netns del "$HOST" 2>/dev/null || true
	rm -rf "$work" "$PLAYNET_BPF_DIR"
}
trap cleanup EXIT
ip netns add "$HOST"
build/bin/netd 2>"$work/netd.log" &
pid=$!
for _ in $(seq 1 200); do [ -S "$PLAYNET_SOCKET" ] && break; sleep 0.05; done

api() { "build/bench/bench_api" -p "s$$" "$@" "$PLAYNET_SOCKET" "$MANIFEST"; }
pending() {
	curl -s --unix-socket "$PLAYNET_SOCKET" http://netd/metrics |
		awk '$1 == "playnet_deletes_pending" { print $2 }'
}
quiet() { # until netd has no delete under way and the kernel is done
	while [ "$(pending)" != 0 ]; do sleep 0.05; done
	while [ -n "$(ip -n "$HOST" netns list-id)" ]; do sleep 0.05; done
}
fds() { ls "/proc/$pid/fd" | wc -l; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }

# Warm-up: the guards loaded, the allocator's arenas and libcurl's
# connection buffers at their working size.
api -m cycle -n 20 -c "$CLIENTS" >/dev/null
quiet
fds0=$(fds) rss0=$(rss)
echo "soak: $CYCLES create/delete cycles, $CLIENTS clients; netd after warm-up: $fds0 fds, RSS $rss0 kB"
# Half the clients PUT the manifest, the other half tests/bench/refit.yaml,
# of the same frame: a create takes over the namespace of a delete queued
# before it when there is one, of either manifest (refitted, when the other
# one's), and builds from scratch when there is none.
recycled() { curl -s --unix-socket "$PLAYNET_SOCKET" http://netd/metrics | awk '$1 == "playnet_creates_recycled_total" { print $2 }'; }
r0=$(recycled)
t0=$EPOCHREALTIME
half=$((CLIENTS / 2))
api -m cycle -n $((CYCLES / CLIENTS)) -c "$half" >"$work/soak.txt" &
same=$!
"build/bench/bench_api" -p "s$$f" -m cycle -n $((CYCLES / CLIENTS)) -c $((CLIENTS - half)) \
	"$PLAYNET_SOCKET" tests/bench/refit.yaml >"$work/soak-refit.txt"
wait "$same"
cat "$work/soak-refit.txt" >>"$work/soak.txt"
quiet
secs=$(awk -v a="${t0/./}" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.0f", (b - a) / 1e6 }')
fds1=$(fds) rss1=$(rss)
creates=$(grep -c '^create' "$work/soak.txt")
deletes=$(grep -c '^delete' "$work/soak.txt")
echo "done in $secs s: $creates creates (201), $deletes deletes (204); $(($(recycled) - r0)) creates took over a deleted namespace"
echo "netd after: $fds1 fds, RSS $rss1 kB"

fail=0
left() { # WHAT COUNT
	if [ "$2" != 0 ]; then echo "LEFT: $1: $2"; fail=1; else echo "left: $1: none"; fi
}
left "namespaces" "$(ip netns list | grep -c "^pg-s$$" || true)"
left "host links" "$(ip -n "$HOST" -o link show | grep -vc ': lo:' || true)"
left "host addresses in the transit pool" "$(ip -n "$HOST" -4 -o addr show | grep -c ' 100\.' || true)"
left "transit allocations" "$(find "$PLAYNET_STATE_DIR/transit" -type f | wc -l)"
left "state files" "$(find "$PLAYNET_STATE_DIR" -maxdepth 1 -name '*.json' | wc -l)"
# The host netns's nftables table is shared and stays while netd runs;
# nothing else may be there.
left "nftables tables besides the host's own" \
	"$(ip netns exec "$HOST" nft list tables | grep -vcx 'table ip playnet' || true)"
left "tc/BPF attachments in the host netns" \
	"$(ip netns exec "$HOST" bpftool -j net show | grep -o '"devname"' | wc -l)"
entries=0
for map in guard_index guard_owner guard_rates; do
	[ -e "$PLAYNET_BPF_DIR/$map" ] || continue
	entries=$((entries + $(bpftool -j map dump pinned "$PLAYNET_BPF_DIR/$map" | grep -o '"key":' | wc -l)))
done
left "guard map entries" "$entries"
within() { # NAME BEFORE AFTER
	local ok
	ok=$(awk -v a="$2" -v b="$3" 'BEGIN { print (b <= a * 1.05) ? 1 : 0 }')
	echo "$1: $2 -> $3 ($(awk -v a="$2" -v b="$3" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }'))"
	[ "$ok" = 1 ] || { echo "GREW: $1 beyond 5%"; fail=1; }
}
within "netd fds" "$fds0" "$fds1"
within "netd RSS kB" "$rss0" "$rss1"
exit $fail
