# Helpers for tests that drive a netd of their own: start and stop it, call
# its API, and list what a state dir has left in the kernel. Needs
# PLAYNET_STATE_DIR, PLAYNET_SOCKET, PLAYNET_BPF_DIR and HOST (the test's host
# netns) set, and NETD pointing at the binary.
PID=

# start_netd [VAR=value...]: in the background (with NETD_ARGS), logging to $T_TMP/netd.log;
# returns once it listens (recovery is done by then).
start_netd() {
	rm -f "$PLAYNET_SOCKET"
	env "$@" "$NETD" ${NETD_ARGS:-} >>"$T_TMP/netd.log" 2>&1 &
	PID=$!
	local i
	for i in $(seq 1 200); do
		[ -S "$PLAYNET_SOCKET" ] && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "netd did not start: $(tail -5 "$T_TMP/netd.log")" >&2
	return 1
}

# stop_netd: SIGTERM and its exit status in $NETD_STATUS.
stop_netd() {
	[ -n "$PID" ] || return 0
	kill -TERM "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	NETD_STATUS=$?
	PID=
}

# api METHOD PATH [curl args...]: status in $CODE, body in $T_TMP/body,
# headers in $T_TMP/headers; at most API_MAX_TIME seconds (default 60).
api() {
	local method=$1 path=$2
	shift 2
	CODE=$(curl -s -o "$T_TMP/body" -D "$T_TMP/headers" -w '%{http_code}' \
		--max-time "${API_MAX_TIME:-60}" \
		--unix-socket "$PLAYNET_SOCKET" -X "$method" "$@" "http://netd$path")
}

# wait_deletes: until the deletes netd has answered are done (it hands the
# namespaces to the kernel one at a time); 1 when the netd this test
# started is gone meanwhile. Also for a netd that playnet started.
wait_deletes() {
	local i n
	for i in $(seq 1 1200); do
		[ -z "$PID" ] || kill -0 "$PID" 2>/dev/null || return 1
		n=$(curl -s --max-time 5 --unix-socket "$PLAYNET_SOCKET" http://netd/metrics |
			awk '$1 == "playnet_deletes_pending" { print $2 }') || true
		[ -z "$n" ] && [ -z "$PID" ] && return 0 # no netd to wait for
		[ "$n" = 0 ] && return 0
		sleep 0.05
	done
	echo "netd's deletes did not finish" >&2
	return 1
}

# What the state dir has in the kernel and on disk for playgrounds whose
# names start with $1, one line per kind that is not empty (once netd's
# deletes are done).
leftovers() {
	local ns links transit records entries=0
	wait_deletes >/dev/null || true
	ns=$(ip netns list | awk '{print $1}' | grep -cE "^pg-$1")
	links=$(ip -n "$HOST" -o link show 2>/dev/null | grep -c ": pn-")
	transit=$(ls "$PLAYNET_STATE_DIR/transit" 2>/dev/null | wc -l)
	records=$(ls "$PLAYNET_STATE_DIR" 2>/dev/null | grep -c '\.json$')
	local map
	for map in guard_index guard_owner guard_rates; do
		[ -e "$PLAYNET_BPF_DIR/$map" ] || continue
		entries=$((entries + $(bpftool -j map dump pinned "$PLAYNET_BPF_DIR/$map" | grep -o '"key":' | wc -l)))
	done
	[ "$ns" = 0 ] || echo "netns: $ns"
	[ "$links" = 0 ] || echo "host links: $links"
	[ "$transit" = 0 ] || echo "transit allocations: $transit"
	[ "$records" = 0 ] || echo "records: $records"
	[ "$entries" = 0 ] || echo "guard entries: $entries"
}

# dhcp_lease NETNS IFACE OUT: one busybox udhcpc run of a few seconds; the
# lease's options in OUT, KEY=value per line (ip, subnet, router, dns,
# hostname, mtu, lease); udhcpc's output in $T_TMP/udhcpc.log.
dhcp_lease() {
	local script=$T_TMP/udhcpc-script
	if [ ! -x "$script" ]; then
		cat >"$script" <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] || exit 0
printf 'ip=%s\nsubnet=%s\nrouter=%s\ndns=%s\nhostname=%s\nmtu=%s\nlease=%s\nserverid=%s\n' \
	"$ip" "$subnet" "$router" "$dns" "$hostname" "$mtu" "$lease" "$serverid" >"$LEASE_FILE"
SCRIPT
		chmod +x "$script"
	fi
	rm -f "$3"
	LEASE_FILE=$3 timeout 20 ip netns exec "$1" busybox udhcpc -i "$2" -n -q -f \
		-t 3 -T 1 -s "$script" >"$T_TMP/udhcpc.log" 2>&1
}

# fd count and RSS (kB) of netd.
netd_fds() { ls "/proc/$PID/fd" | wc -l; }
netd_rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }

# need_root WHAT: fails the test when not root.
need_root() {
	[ "$(id -u)" -eq 0 ] && return 0
	fail "$1 need root"
	return 1
}

# test_env TAG: a host netns name of the test's own ($HOST, made here), and
# its own state dir, socket and bpffs dir; ID for unique names.
test_env() {
	ID=$$
	HOST=$1-h$ID
	export PLAYNET_STATE_DIR=$T_TMP/state PLAYNET_HOST_NETNS=$HOST
	export PLAYNET_BPF_DIR=/sys/fs/bpf/playnet-test-$ID PLAYNET_SOCKET=$T_TMP/netd.sock
	ip netns add "$HOST"
}

# remove_test_env PREFIX: the namespaces of playgrounds named PREFIX*, the
# host netns, the pinned maps and the temp dir, whatever is left of them.
remove_test_env() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^pg-$1"); do ip netns del "$ns"; done
	ip netns del "$HOST" 2>/dev/null
	rm -f "$PLAYNET_BPF_DIR"/guard_* 2>/dev/null
	rmdir "$PLAYNET_BPF_DIR" 2>/dev/null
	rm -rf "$T_TMP"
}
