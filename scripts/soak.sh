#!/usr/bin/env bash
# make soak: CYCLES create/delete cycles through netd's API, CLIENTS clients
# at once, twice, each time with a netd of its own: once with takeovers on
# (half the clients PUT manifests/bench-reference.yaml, half
# tests/bench/refit.yaml, of the same frame: nearly every create takes over
# a queued delete's namespace, refitted when it was the other manifest's),
# once with takeovers off (PLAYNET_NO_TAKEOVER=1, the reference manifest:
# every create builds from scratch and every delete goes to the kernel).
# After each: a check that nothing is left (namespace, link, nftables
# table, BPF attachment or map entry, transit allocation, state file) and
# that netd's fd count and resident memory are back within 5% of where they
# were after a warm-up. Its own host netns, state dirs and bpffs dirs,
# removed after even on failure. Exit status 1 when something is left or
# has grown. usage: scripts/soak.sh   (SOAK_CYCLES, default 10000 per netd;
# SOAK_CLIENTS, 8)
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLES=${SOAK_CYCLES:-10000} CLIENTS=${SOAK_CLIENTS:-8}
MANIFEST=manifests/bench-reference.yaml
make -s all build/bench/bench_api

HOST=pns-h$$
work=$(mktemp -d /dev/shm/playnet-soak.XXXXXX)
export PLAYNET_HOST_NETNS=$HOST PLAYNET_SOCKET=$work/netd.sock
pid=
stop_netd() {
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
}
cleanup() {
	stop_netd
	local ns
	for ns in $(ip netns list | awk -v p="^pg-s$$" '$1 ~ p { print $1 }'); do
		ip netns del "$ns" 2>/dev/null || true
	done
	ip netns del "$HOST" 2>/dev/null || true
	rm -rf "$work" /sys/fs/bpf/playnet-soak-$$-*
}
trap cleanup EXIT
ip netns add "$HOST"

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
recycled() { curl -s --unix-socket "$PLAYNET_SOCKET" http://netd/metrics | awk '$1 == "playnet_creates_recycled_total" { print $2 }'; }
# clients PREFIX N MANIFEST: N clients cycling CYCLES/CLIENTS playgrounds each
clients() { build/bench/bench_api -p "s$$$1" -m cycle -n $((CYCLES / CLIENTS)) -c "$2" "$PLAYNET_SOCKET" "$3"; }

fail=0
left() { # WHAT COUNT
	if [ "$2" != 0 ]; then echo "  LEFT: $1: $2"; fail=1; else echo "  left: $1: none"; fi
}
within() { # NAME BEFORE AFTER
	local ok
	ok=$(awk -v a="$2" -v b="$3" 'BEGIN { print (b <= a * 1.05) ? 1 : 0 }')
	echo "  $1: $2 -> $3 ($(awk -v a="$2" -v b="$3" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }'))"
	[ "$ok" = 1 ] || { echo "  GREW: $1 beyond 5%"; fail=1; }
}
# Nothing of the playgrounds left: in the kernel, the state dir, the maps.
check_left() {
	left "namespaces" "$(ip netns list | grep -c "^pg-s$$" || true)"
	left "host links" "$(ip -n "$HOST" -o link show | grep -vc ': lo:' || true)"
	left "host addresses in the transit pool" "$(ip -n "$HOST" -4 -o addr show | grep -c ' 100\.' || true)"
	left "transit allocations" "$(find "$PLAYNET_STATE_DIR/transit" -type f | wc -l)"
	left "state files" "$(find "$PLAYNET_STATE_DIR" -maxdepth 1 -name '*.json' | wc -l)"
	# The host netns's nftables table is shared and stays while netd
	# runs; nothing else may be there.
	left "nftables tables besides the host's own" \
		"$(ip netns exec "$HOST" nft list tables | grep -vcx 'table ip playnet' || true)"
	left "tc/BPF attachments in the host netns" \
		"$(ip netns exec "$HOST" bpftool -j net show | grep -o '"devname"' | wc -l)"
	local entries=0 map
	for map in guard_index guard_owner guard_rates; do
		[ -e "$PLAYNET_BPF_DIR/$map" ] || continue
		entries=$((entries + $(bpftool -j map dump pinned "$PLAYNET_BPF_DIR/$map" | grep -o '"key":' | wc -l)))
	done
	left "guard map entries" "$entries"
}

# phase ID TITLE OTHER [VAR=value...]: a netd of its own (with the
# variables), warmed up; CYCLES cycles, half the clients PUT the reference
# manifest and half OTHER; the checks.
phase() {
	local id=$1 title=$2 other=$3 r0 t0 secs fds0 rss0 fds1 rss1 half=$((CLIENTS / 2))
	shift 3
	export PLAYNET_STATE_DIR=$work/state-$id PLAYNET_BPF_DIR=/sys/fs/bpf/playnet-soak-$$-$id
	env "$@" build/bin/netd 2>"$work/netd-$id.log" &
	pid=$!
	for _ in $(seq 1 200); do [ -S "$PLAYNET_SOCKET" ] && break; sleep 0.05; done
	# Warm-up: the guards loaded, the allocator's arenas and libcurl's
	# connection buffers at their working size.
	build/bench/bench_api -p "s$$${id}w" -m cycle -n 20 -c "$CLIENTS" "$PLAYNET_SOCKET" "$MANIFEST" >/dev/null
	quiet
	fds0=$(fds) rss0=$(rss) r0=$(recycled)
	echo "soak $id, $title: $CYCLES create/delete cycles, $CLIENTS clients; netd after warm-up: $fds0 fds, RSS $rss0 kB"
	t0=$EPOCHREALTIME
	clients "${id}a" "$half" "$MANIFEST" >"$work/soak-$id.txt" &
	local first=$!
	clients "${id}b" $((CLIENTS - half)) "$other" >"$work/soak-$id-b.txt"
	wait "$first"
	cat "$work/soak-$id-b.txt" >>"$work/soak-$id.txt"
	quiet
	secs=$(awk -v a="${t0/./}" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.0f", (b - a) / 1e6 }')
	fds1=$(fds) rss1=$(rss)
	echo "  done in $secs s: $(grep -c '^create' "$work/soak-$id.txt") creates (201), $(grep -c '^delete' "$work/soak-$id.txt") deletes (204); $(($(recycled) - r0)) creates took over a deleted namespace"
	echo "  netd after: $fds1 fds, RSS $rss1 kB"
	check_left
	within "netd fds" "$fds0" "$fds1"
	within "netd RSS kB" "$rss0" "$rss1"
	stop_netd
}

phase 1 "takeovers on, the reference and refit.yaml" tests/bench/refit.yaml
phase 2 "takeovers off, the reference" "$MANIFEST" PLAYNET_NO_TAKEOVER=1
exit $fail
