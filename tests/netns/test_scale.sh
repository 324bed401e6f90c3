#!/usr/bin/env bash
# netd at scale: 100 playgrounds survive a restart of netd untouched (same
# links, MACs, addresses; machines keep pinging through; DHCP served again),
# and 50 clients each creating and deleting 20 playgrounds at once get every
# answer, leave exactly what they asked for, and leave netd with the fds and
# memory it had. Its own host netns, state dir, socket and bpffs dir.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/netns/netd_lib.sh
t_setup
NETD=${NETD:-$PWD/build/bin/netd}
need_root "scale tests" || exit 1
test_env pns
P=ps$ID
PINGS=()

cleanup() {
	[ ${#PINGS[@]} -gt 0 ] && kill "${PINGS[@]}" 2>/dev/null
	if [ -n "$PID" ]; then
		for f in "$PLAYNET_STATE_DIR"/*.json; do
			[ -e "$f" ] && api DELETE "/v1/playgrounds/$(basename "$f" .json)"
		done
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	remove_test_env "$P"
}
trap cleanup EXIT
start_netd || exit 1

# put_many FILE MANIFEST: PUT each name of FILE, 10 at a time; codes in $T_TMP/codes.
put_many() {
	: >"$T_TMP/codes"
	xargs -P 10 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 120 \
		--unix-socket "$PLAYNET_SOCKET" -X PUT --data-binary "@$2" \
		"http://netd/v1/playgrounds/{}" <"$1" >>"$T_TMP/codes"
}
del_many() {
	: >"$T_TMP/codes"
	xargs -P 10 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 120 \
		--unix-socket "$PLAYNET_SOCKET" -X DELETE "http://netd/v1/playgrounds/{}" \
		<"$1" >>"$T_TMP/codes"
}
all_codes() { # NAME WANT COUNT
	local n
	n=$(grep -cx "$2" "$T_TMP/codes")
	[ "$n" = "$3" ] && pass "$1" || fail "$1" "$n of $3: $(sort "$T_TMP/codes" | uniq -c | tr '\n' ' ')"
}

# What the kernel holds for a playground, everything that must not change.
snapshot() {
	local p
	while read -r p; do
		echo "== $p"
		ip -n "pg-$p" -o link show | sed 's/ state [A-Z]* / /; s/qlen [0-9]*//'
		ip -4 -n "pg-$p" -o addr show
		ip -4 -n "pg-$p.a" -o addr show
		ip -n "pg-$p.a" -o link show eth0
	done <"$T_TMP/hundred"
}

seq -f "$P-r%g" 1 100 >"$T_TMP/hundred"
put_many "$T_TMP/hundred" tests/netns/pair.yaml
all_codes "100 playgrounds created" 201 100
# A tap's carrier reaches its flags (NO-CARRIER) through the kernel's
# linkwatch work, a second late and later under load: the picture to
# compare with is one that two looks in a row agree on.
snapshot >"$T_TMP/before"
for _ in 1 2 3 4 5; do
	sleep 1
	snapshot >"$T_TMP/again"
	cmp -s "$T_TMP/before" "$T_TMP/again" && break
	mv "$T_TMP/again" "$T_TMP/before"
done
for i in 1 50 100; do
	ip netns exec "pg-$P-r$i.a" ping -i 0.1 -W 1 172.16.3.3 >"$T_TMP/ping$i" 2>&1 &
	PINGS+=($!)
done
sleep 0.5
stop_netd
[ "$NETD_STATUS" = 0 ] && pass "netd stops with 100 up" || fail "netd stops with 100 up" "status $NETD_STATUS"
start_netd || exit 1
grep -q "recovery: 100 kept, 0 repaired, 0 half-deleted finished, 0 half-created removed, 0 failed; removed 0 orphan" "$T_TMP/netd.log" &&
	pass "all 100 kept by recovery" || fail "all 100 kept by recovery" "$(grep recovery: "$T_TMP/netd.log" | tail -1)"
sleep 0.5
kill -INT "${PINGS[@]}"
wait "${PINGS[@]}" 2>/dev/null
PINGS=()
lost=0
for i in 1 50 100; do
	grep -q ' 0% packet loss' "$T_TMP/ping$i" || lost=$((lost + 1))
done
[ "$lost" = 0 ] && pass "machines keep pinging through the restart" ||
	fail "machines keep pinging through the restart" "$(grep -h 'packet loss' "$T_TMP"/ping*)"
snapshot >"$T_TMP/after"
cmp -s "$T_TMP/before" "$T_TMP/after" && pass "100 playgrounds untouched (links, MACs, addresses)" ||
	fail "100 playgrounds untouched" "$(diff "$T_TMP/before" "$T_TMP/after" | head -5)"
api GET "/v1/playgrounds/$P-r77"
grep -q '"status":"ready"' "$T_TMP/body" && pass "a playground reads back ready" || fail "a playground reads back ready"
# DHCP is served again after the restart.
dhcp_lease "pg-$P-r77.b" eth0 "$T_TMP/lease"
[ "$(sed -n 's/^ip=//p' "$T_TMP/lease" 2>/dev/null)" = 172.16.3.3 ] && pass "DHCP served after the restart" ||
	fail "DHCP served after the restart" "$(cat "$T_TMP/lease" "$T_TMP/udhcpc.log" 2>/dev/null)"
del_many "$T_TMP/hundred"
all_codes "100 playgrounds deleted" 204 100
[ -z "$(leftovers "$P")" ] && pass "nothing left of the 100" || fail "nothing left of the 100" "$(leftovers "$P")"

# Load: 50 clients at once, each creating N playgrounds and deleting the
# first half, one request at a time.
client() { # C N
	local c=$1 i code
	for i in $(seq 1 "$2"); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 300 --unix-socket "$PLAYNET_SOCKET" \
			-X PUT --data-binary @tests/netns/tiny.yaml "http://netd/v1/playgrounds/$P-c$c-$i")
		echo "PUT $code" >>"$T_TMP/load"
	done
	for i in $(seq 1 $(($2 / 2))); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 300 --unix-socket "$PLAYNET_SOCKET" \
			-X DELETE "http://netd/v1/playgrounds/$P-c$c-$i")
		echo "DELETE $code" >>"$T_TMP/load"
	done
}
clients() { # N
	local c pids=()
	: >"$T_TMP/load"
	for c in $(seq 1 50); do
		client "$c" "$1" &
		pids+=($!)
	done
	wait "${pids[@]}"
}
# A warm-up at the same concurrency (BPF loaded, buffers grown), then the
# fds and memory to come back to.
clients 2
for c in $(seq 1 50); do echo "$P-c$c-2"; done >"$T_TMP/warm"
del_many "$T_TMP/warm"
wait_deletes
sleep 0.5 # the closer thread's last packet sockets
FDS0=$(netd_fds) RSS0=$(netd_rss)
clients 20
n=$(grep -cx 'PUT 201' "$T_TMP/load")
[ "$n" = 1000 ] && pass "50 clients: 1000 creates answered 201" || fail "50 clients: 1000 creates answered 201" "$(sort "$T_TMP/load" | uniq -c | tr '\n' ' ')"
n=$(grep -cx 'DELETE 204' "$T_TMP/load")
[ "$n" = 500 ] && pass "50 clients: 500 deletes answered 204" || fail "50 clients: 500 deletes answered 204" "$(sort "$T_TMP/load" | uniq -c | tr '\n' ' ')"
for c in $(seq 1 50); do seq -f "$P-c$c-%g" 11 20; done | sort >"$T_TMP/want"
api GET /v1/playgrounds
grep -o '"name":"[^"]*"' "$T_TMP/body" | cut -d'"' -f4 | sort >"$T_TMP/have"
cmp -s "$T_TMP/want" "$T_TMP/have" && pass "the end state equals the requests (500 up)" ||
	fail "the end state equals the requests" "$(diff "$T_TMP/want" "$T_TMP/have" | head -5)"
wait_deletes
[ "$(ip netns list | grep -c "^pg-$P-c")" = 500 ] && pass "500 namespaces in the kernel" ||
	fail "500 namespaces in the kernel" "$(ip netns list | grep -c "^pg-$P-c")"
del_many "$T_TMP/want"
all_codes "the other 500 deleted" 204 500
[ -z "$(leftovers "$P")" ] && pass "no object leaked" || fail "no object leaked" "$(leftovers "$P")"
sleep 0.5
FDS1=$(netd_fds) RSS1=$(netd_rss)
[ "$FDS1" = "$FDS0" ] && pass "netd's fds back to $FDS0" || fail "netd's fds back to $FDS0" "$FDS1"
# Freed memory may stay in malloc's arenas: allow 5% or 1 MiB.
[ "$RSS1" -le $((RSS0 + RSS0 / 20 > RSS0 + 1024 ? RSS0 + RSS0 / 20 : RSS0 + 1024)) ] &&
	pass "netd's RSS back near ${RSS0} kB ($RSS1 kB)" || fail "netd's RSS back near ${RSS0} kB" "$RSS1 kB"
echo "scale: rss before ${RSS0} kB, after ${RSS1} kB; fds $FDS0 -> $FDS1" >&2
stop_netd
[ "$NETD_STATUS" = 0 ] && pass "netd stops cleanly" || fail "netd stops cleanly" "status $NETD_STATUS"
t_done
