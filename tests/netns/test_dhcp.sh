#!/usr/bin/env bash
# DHCP for guests, served by netd: busybox udhcpc in netns machines gets
# exactly the planned address, and router, DNS and hostname only on a
# network with egress; a client with an unknown MAC gets nothing. Its own
# host netns, state dir, socket and bpffs dir, all removed on exit.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/netns/netd_lib.sh
t_setup
NETD=${NETD:-$PWD/build/asan/bin/netd}
export ASAN_OPTIONS=detect_leaks=1:exitcode=99
need_root "DHCP tests" || exit 1
test_env pnh
P=pdh$ID
STRANGER=pnh-s$ID

cleanup() {
	[ -n "$PID" ] && api DELETE "/v1/playgrounds/$P"
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$STRANGER" 2>/dev/null
	remove_test_env "$P"
}
trap cleanup EXIT

lease_is() { # NAME FILE KEY VALUE
	local got
	got=$(sed -n "s/^$3=//p" "$2" 2>/dev/null)
	if [ "$got" = "$4" ]; then pass "$1"; else fail "$1" "$3='$got', expected '$4'"; fi
}

start_netd || exit 1
api PUT "/v1/playgrounds/$P" --data-binary @tests/netns/dhcp.yaml
[ "$CODE" = 201 ] && pass "playground created" || fail "playground created" "HTTP $CODE $(cat "$T_TMP/body")"

# The fabric configured these machines; DHCP must give back the same.
A=pg-$P.client-a B=pg-$P.client-b
ip -n "$A" addr flush dev eth0
ip -n "$B" addr flush dev eth0
MAC_A=$(ip -n "$A" -br link show eth0 | awk '{print $3}')

if dhcp_lease "$A" eth0 "$T_TMP/a"; then pass "client-a gets a lease"; else fail "client-a gets a lease" "$(cat "$T_TMP/udhcpc.log")"; fi
lease_is "client-a address" "$T_TMP/a" ip 172.16.9.20
lease_is "client-a mask" "$T_TMP/a" subnet 255.255.255.0
lease_is "client-a router" "$T_TMP/a" router 172.16.9.1
lease_is "client-a DNS" "$T_TMP/a" dns 192.0.2.53
lease_is "client-a hostname" "$T_TMP/a" hostname client-a
lease_is "client-a MTU" "$T_TMP/a" mtu 1500
lease_is "client-a lease is infinite" "$T_TMP/a" lease 4294967295
lease_is "client-a: the server is the gateway" "$T_TMP/a" serverid 172.16.9.1

if dhcp_lease "$B" eth0 "$T_TMP/b"; then pass "client-b gets a lease"; else fail "client-b gets a lease" "$(cat "$T_TMP/udhcpc.log")"; fi
lease_is "client-b address (private network)" "$T_TMP/b" ip 10.9.0.30
lease_is "client-b mask" "$T_TMP/b" subnet 255.255.255.0
lease_is "client-b: no router on a private network" "$T_TMP/b" router ""
lease_is "client-b: no DNS on a private network" "$T_TMP/b" dns ""
lease_is "client-b hostname" "$T_TMP/b" hostname client-b
lease_is "client-b: a link-local server id (systemd-networkd wants one)" "$T_TMP/b" serverid 169.254.0.1

# The address it got works: the machine on the egress network reaches its gateway.
ip -n "$A" addr add 172.16.9.20/24 dev eth0
ip netns exec "$A" ping -c1 -W2 172.16.9.1 >/dev/null 2>&1 &&
	pass "the leased address works" || fail "the leased address works"

# A stranger on the bridge: a veth of the test's own, with a MAC no lease has.
ip netns add "$STRANGER"
ip -n "pg-$P" link add pnh-x$ID type veth peer name eth0 netns "$STRANGER"
ip -n "pg-$P" link set pnh-x$ID master br-lan up
ip -n "$STRANGER" link set eth0 address 02:00:00:00:99:99 up
if dhcp_lease "$STRANGER" eth0 "$T_TMP/s"; then fail "an unknown MAC gets nothing" "$(cat "$T_TMP/s")"; else pass "an unknown MAC gets nothing"; fi

api GET /metrics
cp "$T_TMP/body" "$T_TMP/metrics"
metric() { sed -n "s/^$1 //p" "$T_TMP/metrics"; }
[ "$(metric 'playnet_dhcp_sent_total{type="offer"}')" = 2 ] && pass "metrics: 2 offers" ||
	fail "metrics: 2 offers" "$(grep dhcp "$T_TMP/metrics")"
[ "$(metric 'playnet_dhcp_sent_total{type="ack"}')" = 2 ] && pass "metrics: 2 acks" ||
	fail "metrics: 2 acks" "$(grep dhcp "$T_TMP/metrics")"
[ "$(metric 'playnet_dhcp_received_total{type="discover"}')" -ge 3 ] 2>/dev/null &&
	pass "metrics: discovers counted" || fail "metrics: discovers counted" "$(grep dhcp "$T_TMP/metrics")"
[ "$(metric 'playnet_dhcp_ignored_total{reason="unknown_mac"}')" -ge 1 ] 2>/dev/null &&
	pass "metrics: the unknown MAC is counted" || fail "metrics: the unknown MAC is counted" "$(grep dhcp "$T_TMP/metrics")"
grep -q "$P: DHCP ack 172.16.9.20 to $MAC_A on lan" "$T_TMP/netd.log" &&
	pass "netd logs the lease" || fail "netd logs the lease" "$(grep DHCP "$T_TMP/netd.log")"

# Servers go with their playground: no socket keeps the namespace alive.
api DELETE "/v1/playgrounds/$P"
[ "$CODE" = 204 ] && pass "playground deleted" || fail "playground deleted" "HTTP $CODE"
# The paced delete opens a netlink socket of its own in each step: counted
# once it is done. Five: netd's own four, and DNS's relay to the host's
# resolvers.
wait_deletes
[ "$(ls -l /proc/$PID/fd | grep -c 'socket:')" -le 5 ] && pass "its DHCP sockets are closed" ||
	fail "its DHCP sockets are closed" "$(ls -l /proc/$PID/fd | grep -c socket:) sockets"

kill "$PID"
wait "$PID"
rc=$?
PID=
[ "$rc" = 0 ] && pass "netd exits cleanly (no leak)" || fail "netd exits cleanly (no leak)" "exit $rc: $(tail -5 "$T_TMP/netd.log")"
t_done
