#!/usr/bin/env bash
# Crash safety and recovery (DESIGN.md section 5): netd killed with SIGKILL
# at every step of a create and of a delete, restarted, and then the
# playground is whole and working or wholly gone, with nothing left over;
# orphans of this state dir removed at start, another state dir's left
# alone; a damaged playground repaired. Its own host netns, state dir,
# socket and bpffs dir, all removed on exit.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/netns/netd_lib.sh
t_setup
NETD=${NETD:-$PWD/build/bin/netd}
need_root "recovery tests" || exit 1
test_env pnr
P=pr$ID
M=tests/netns/crash.yaml

cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	remove_test_env "$P"
}
trap cleanup EXIT

# whole_and_working NAME: the playground answers ready with nothing missing,
# and its machines reach each other and their gateway.
whole_and_working() {
	api GET "/v1/playgrounds/$1"
	[ "$CODE" = 200 ] || { echo "GET: HTTP $CODE"; return 1; }
	grep -q '"status":"ready"' "$T_TMP/body" || { echo "not ready: $(head -c 300 "$T_TMP/body")"; return 1; }
	ip netns exec "pg-$1.a" ping -c1 -W2 172.16.7.3 >/dev/null || { echo "a cannot reach b"; return 1; }
	ip netns exec "pg-$1.b" ping -c1 -W2 172.16.7.1 >/dev/null || { echo "b cannot reach its gateway"; return 1; }
}

# The objects one whole playground leaves, to compare with after a crash.
start_netd || exit 1
api PUT "/v1/playgrounds/$P" --data-binary "@$M"
[ "$CODE" = 201 ] && pass "reference create" || fail "reference create" "HTTP $CODE $(cat "$T_TMP/body")"
WHOLE=$(leftovers "$P")
api DELETE "/v1/playgrounds/$P"
stop_netd
[ -z "$(leftovers "$P")" ] && pass "reference delete leaves nothing" || fail "reference delete leaves nothing" "$(leftovers "$P")"

# after_crash WHAT N: netd restarted; whole and working, or gone; nothing else.
after_crash() {
	start_netd || { fail "$1 step $2: netd restarts"; return; }
	api GET "/v1/playgrounds/$P"
	local why
	if [ "$CODE" = 200 ]; then
		if why=$(whole_and_working "$P") && [ "$(leftovers "$P")" = "$WHOLE" ]; then
			pass "$1 killed at step $2: whole and working after restart"
		else
			fail "$1 killed at step $2: whole and working after restart" "$why; $(leftovers "$P" | tr '\n' ' ')"
		fi
		api DELETE "/v1/playgrounds/$P"
	elif [ "$CODE" = 404 ] && [ -z "$(leftovers "$P")" ]; then
		pass "$1 killed at step $2: gone after restart"
	else
		fail "$1 killed at step $2: whole or gone after restart" "HTTP $CODE; left: $(leftovers "$P" | tr '\n' ' ')"
	fi
	stop_netd
	[ -z "$(leftovers "$P")" ] || fail "$1 step $2: cleaned up" "$(leftovers "$P" | tr '\n' ' ')"
}

# crashed: netd died of SIGKILL (status 137).
crashed() {
	wait "$PID" 2>/dev/null
	local st=$?
	PID=
	[ "$st" = 137 ]
}

creates=0
for n in $(seq 1 200); do
	start_netd PLAYNET_TEST_KILL_STEP=$n || { fail "create step $n: netd starts"; break; }
	api PUT "/v1/playgrounds/$P" --data-binary "@$M"
	if [ "$CODE" = 201 ]; then
		stop_netd
		api_done=1
		break
	fi
	crashed || { fail "create step $n: netd was killed" "HTTP $CODE"; break; }
	creates=$n
	after_crash create "$n"
done
[ "$creates" -ge 20 ] && [ "${api_done:-0}" = 1 ] && pass "crashes at all $creates steps of a create" ||
	fail "crashes at every step of a create" "$creates steps"
# The last loop made it whole: take it down for the delete crashes.
start_netd && api DELETE "/v1/playgrounds/$P" && stop_netd

deletes=0
for n in $(seq 1 100); do
	start_netd || break
	api PUT "/v1/playgrounds/$P" --data-binary "@$M"
	stop_netd
	start_netd PLAYNET_TEST_KILL_STEP=$n || { fail "delete step $n: netd starts"; break; }
	api DELETE "/v1/playgrounds/$P"
	# The answer comes first; the rest of the delete follows in netd.
	if [ "$CODE" = 204 ] && wait_deletes; then
		stop_netd
		break
	fi
	crashed || { fail "delete step $n: netd was killed" "HTTP $CODE"; break; }
	deletes=$n
	after_crash delete "$n"
done
[ "$deletes" -ge 5 ] && pass "crashes at all $deletes steps of a delete" ||
	fail "crashes at every step of a delete" "$deletes steps"
[ -z "$(leftovers "$P")" ] && pass "nothing left after the crash loops" || fail "nothing left after the crash loops" "$(leftovers "$P")"

# Orphans: a namespace and a host link tagged by this state dir but without
# a record, a stray transit allocation; and one tagged by another state dir.
start_netd || exit 1
api PUT "/v1/playgrounds/$P-keep" --data-binary "@$M"
OWNER=$(ip -n "pg-$P-keep" -o link show lo | sed -n 's/.*alias playnet\/[^ ]* \([0-9a-f]*\).*/\1/p')
[ -n "$OWNER" ] && pass "lo carries the owner tag" || fail "lo carries the owner tag" "$(ip -n "pg-$P-keep" -o link show lo)"
stop_netd
ip netns add "pg-$P-orphan"
ip -n "pg-$P-orphan" link set lo alias "playnet/$P-orphan $OWNER"
ip -n "$HOST" link add "pn-$P-o" type veth peer name "pnp-$P"
ip -n "$HOST" link set "pn-$P-o" alias "playnet/$P-orphan $OWNER"
ip netns add "pg-$P-other"
ip -n "pg-$P-other" link set lo alias "playnet/$P-other 0badc0de"
echo "$P-gone" >"$PLAYNET_STATE_DIR/transit/77"
# Damage: a tap and a netns machine of the kept playground disappear.
ip -n "pg-$P-keep" link del t-vm-0
ip netns del "pg-$P-keep.a"
MAC_B=$(ip -n "pg-$P-keep.b" -br link show eth0 | awk '{print $3}')
start_netd || exit 1
ip netns list | grep -q "^pg-$P-orphan" && fail "an orphan netns is removed" || pass "an orphan netns is removed"
ip -n "$HOST" link show "pn-$P-o" >/dev/null 2>&1 && fail "an orphan host link is removed" || pass "an orphan host link is removed"
[ ! -e "$PLAYNET_STATE_DIR/transit/77" ] && pass "a stray transit allocation is freed" || fail "a stray transit allocation is freed"
ip netns list | grep -q "^pg-$P-other" && pass "another state dir's namespace is left alone" || fail "another state dir's namespace is left alone"
ip netns del "pg-$P-other"
why=$(whole_and_working "$P-keep") && pass "a damaged playground is repaired" || fail "a damaged playground is repaired" "$why"
[ "$(ip -n "pg-$P-keep.b" -br link show eth0 | awk '{print $3}')" = "$MAC_B" ] &&
	pass "repair keeps the planned MACs" || fail "repair keeps the planned MACs"
grep -q "recovery: 0 kept, 1 repaired, 0 half-deleted finished, 0 half-created removed, 0 failed; removed 1 orphan playgrounds, 1 transit allocations" "$T_TMP/netd.log" &&
	pass "recovery says what it did" || fail "recovery says what it did" "$(grep recovery: "$T_TMP/netd.log" | tail -1)"
api DELETE "/v1/playgrounds/$P-keep"

# Namespaces an older netd hid under names of its own until it destroyed
# them (pn-deleted-OWNER-HASH, or -NAME and -NAME.MACHINE), where a crash
# left them: this netd holds a deleted playground's by fd instead, so
# recovery removes them by their tag, and leaves those of another state dir.
stop_netd
hid=("pn-deleted-$OWNER-0123abcd" "pn-deleted-$OWNER-$P-hn" "pn-deleted-$OWNER-$P-hn.m")
for ns in "${hid[@]}"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo alias "playnet/$P-hid $OWNER"
done
ip netns add "pn-deleted-0badc0de-0123abcd"
ip -n "pn-deleted-0badc0de-0123abcd" link set lo alias "playnet/$P-hid 0badc0de"
start_netd || exit 1
left=$(for ns in "${hid[@]}"; do ip netns list | awk '{print $1}' | grep -x "$ns"; done)
[ -z "$left" ] && pass "namespaces hidden by an older netd are removed" ||
	fail "namespaces hidden by an older netd are removed" "$left"
ip netns list | grep -q "^pn-deleted-0badc0de-0123abcd" &&
	pass "another state dir's hidden namespace is left alone" ||
	fail "another state dir's hidden namespace is left alone"
for ns in "${hid[@]}" "pn-deleted-0badc0de-0123abcd"; do ip netns del "$ns" 2>/dev/null; done

# Mended in place (F5, F16): ports off their bridges in two playgrounds,
# whose transit /31s the old cache of host addresses took for someone
# else's, and a port's guard gone; nothing is rebuilt.
api PUT "/v1/playgrounds/$P-r1" --data-binary "@$M"
api PUT "/v1/playgrounds/$P-r2" --data-binary "@$M"
ip -n "pg-$P-r1" link set v-a-0 nomaster
ip -n "pg-$P-r2" link set v-b-0 nomaster
ip netns exec "pg-$P-r2" tc qdisc del dev v-a-0 ingress
api GET "/v1/playgrounds/$P-r2"
grep -q "veth v-a-0 has lost its guard" "$T_TMP/body" && grep -q '"status":"degraded"' "$T_TMP/body" &&
	pass "show says a guard is gone" || fail "show says a guard is gone" "$(head -c 400 "$T_TMP/body")"
TAP1=$(ip -n "pg-$P-r1" -o link show t-vm-0 | cut -d: -f1)
stop_netd
start_netd || exit 1
for r in r1 r2; do
	grep -q "playground $P-$r: repaired in place" "$T_TMP/netd.log" &&
		pass "$r repaired in place" || fail "$r repaired in place" "$(grep "$P-$r" "$T_TMP/netd.log" | tail -3)"
	why=$(whole_and_working "$P-$r") && pass "$r whole after repair" || fail "$r whole after repair" "$why"
done
[ "$(ip -n "pg-$P-r1" -o link show t-vm-0 | cut -d: -f1)" = "$TAP1" ] &&
	pass "a repair in place keeps the taps" || fail "a repair in place keeps the taps"
ip netns exec "pg-$P-r2" tc qdisc show dev v-a-0 | grep -q "ingress.*block" &&
	pass "a lost guard is attached again" || fail "a lost guard is attached again"

# A rebuild that fails keeps the record, and a later start rebuilds it.
ip -n "pg-$P-r1" link del br-lan
stop_netd
start_netd PLAYNET_TEST_FAIL_STEP=20 || exit 1
grep -q "playground $P-r1: repair failed: .*(its record is kept)" "$T_TMP/netd.log" &&
	pass "a failed rebuild says so" || fail "a failed rebuild says so" "$(grep "$P-r1" "$T_TMP/netd.log" | tail -3)"
api GET "/v1/playgrounds/$P-r1"
[ "$CODE" = 200 ] && grep -q '"status":"degraded"' "$T_TMP/body" &&
	pass "a failed rebuild keeps the playground" || fail "a failed rebuild keeps the playground" "HTTP $CODE $(head -c 300 "$T_TMP/body")"
stop_netd
start_netd || exit 1
why=$(whole_and_working "$P-r1") && pass "the next start rebuilds it" || fail "the next start rebuilds it" "$why"
api DELETE "/v1/playgrounds/$P-r1"
api DELETE "/v1/playgrounds/$P-r2"
stop_netd
[ -z "$(leftovers "$P")" ] && pass "nothing left at the end" || fail "nothing left at the end" "$(leftovers "$P")"
t_done
