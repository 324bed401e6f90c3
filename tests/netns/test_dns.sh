#!/usr/bin/env bash
# DNS for guests: netd answers at a non-private network's gateway for the
# playground's machines (MACHINE and MACHINE.NETWORK, A and PTR), relays
# other names to the host's resolvers (here dnsmasq, started by the test
# in its internet netns), answers SERVFAIL at once when there is none,
# ignores and counts what is not a query; a private network has no DNS;
# DHCP hands out the gateway. Its own host netns, state dir, socket and
# bpffs dir; netd and dnsmasq are stopped by their pids.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/netns/netd_lib.sh
. tests/netns/inet_lib.sh
t_setup
PLAYNET=${PLAYNET:-$PWD/build/asan/bin/playnet}
NETD=${NETD:-$PWD/build/asan/bin/netd}
export ASAN_OPTIONS=detect_leaks=1:exitcode=99
need_root "DNS tests" || exit 1
test_env pnn
P=pn$ID
INET=pnn-i$ID
unset PLAYNET_DIRECT
DNSMASQ=

cleanup() {
	[ -n "$DNSMASQ" ] && kill "$DNSMASQ" 2>/dev/null
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		"$PLAYNET" down "$P" >/dev/null 2>&1
		"$PLAYNET" down "$P-n" >/dev/null 2>&1
		stop_netd
	fi
	ip netns del "$INET" 2>/dev/null
	remove_test_env "$P"
}
trap cleanup EXIT

inet_up
ip netns exec "$INET" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
	--listen-address=203.0.113.2 --except-interface=lo --pid-file= --user=root \
	--address=/upstream.test/198.51.100.77 --local=/test/ >"$T_TMP/dnsmasq.log" 2>&1 &
DNSMASQ=$!
for i in $(seq 1 50); do
	python3 tests/netns/dnsq.py 203.0.113.2 upstream.test 2>/dev/null | grep -q 198.51.100.77 && break
	ip netns exec "$INET" true
	sleep 0.1
done
ip netns exec "$INET" python3 tests/netns/dnsq.py 203.0.113.2 upstream.test >/dev/null 2>&1 ||
	echo "dnsmasq does not answer: $(cat "$T_TMP/dnsmasq.log")" >&2

start_netd PLAYNET_DNS_UPSTREAM=203.0.113.2 || exit 1
expect_status "up" 0 "$PLAYNET" up --name "$P" tests/netns/dns.yaml
A=pg-$P.a
B=pg-$P.b
q() { ip netns exec "$1" python3 tests/netns/dnsq.py "$2" "${@:3}" 2>"$T_TMP/q.err"; }
expect_answer() { # NAME NETNS SERVER QNAME [TYPE] WANT
	local name=$1 want=${*: -1} got
	got=$(q "${@:2:$#-2}")
	[ "$got" = "$want" ] && pass "$name" || fail "$name" "got '$got', expected '$want'"
}

expect_answer "a resolves router (its address on lan)" "$A" 172.16.8.1 router "NOERROR 172.16.8.2"
expect_answer "a resolves router.lan" "$A" 172.16.8.1 router.lan "NOERROR 172.16.8.2"
expect_answer "and router.back, its address on a private network" "$A" 172.16.8.1 router.back "NOERROR 10.9.8.1"
expect_answer "names are case-blind" "$A" 172.16.8.1 ROUTER.Lan "NOERROR 172.16.8.2"
expect_answer "a machine not on that network: NXDOMAIN" "$A" 172.16.8.1 a.back NXDOMAIN
expect_answer "no such machine: NXDOMAIN" "$A" 172.16.8.1 nosuch NXDOMAIN
expect_answer "AAAA of a machine: no record, no error" "$A" 172.16.8.1 router AAAA NOERROR
expect_answer "PTR of an address" "$A" 172.16.8.1 10.8.16.172.in-addr.arpa PTR "NOERROR a.lan"
expect_answer "PTR of a private network's" "$A" 172.16.8.1 20.8.9.10.in-addr.arpa PTR "NOERROR b.back"
expect_answer "a name only the upstream knows is relayed" "$A" 172.16.8.1 upstream.test "NOERROR 198.51.100.77"
expect_answer "what the upstream does not know comes back as it says" "$A" 172.16.8.1 nosuch.test NXDOMAIN
ip netns exec "$B" python3 tests/netns/dnsq.py 10.9.8.1 router >/dev/null 2>&1 &&
	fail "a private network has no DNS" || pass "a private network has no DNS"

metric() {
	curl -s --max-time 5 --unix-socket "$PLAYNET_SOCKET" http://netd/metrics | awk -v k="$1" '$1 == k { print $2 }'
}
before=$(metric playnet_dns_malformed_total)
expect_answer "malformed queries are ignored" "$A" 172.16.8.1 --malformed "6 ignored"
after=$(metric playnet_dns_malformed_total)
[ "$((after - before))" = 6 ] && pass "and counted in /metrics" || fail "and counted in /metrics" "$before -> $after"
expect_answer "netd answers on after them" "$A" 172.16.8.1 router "NOERROR 172.16.8.2"

# DHCP hands out the gateway as the DNS server
ip netns exec "$A" timeout 10 busybox udhcpc -i eth0 -n -q -f -s "$PWD/tests/netns/udhcpc-env.sh" \
	>"$T_TMP/dhcp" 2>&1
grep -q "^dns=172.16.8.1$" "$T_TMP/dhcp" && pass "DHCP hands out the gateway as DNS" ||
	fail "DHCP hands out the gateway as DNS" "$(cat "$T_TMP/dhcp")"

# without resolvers: SERVFAIL, at once
stop_netd
start_netd PLAYNET_DNS_UPSTREAM=none || exit 1
expect_answer "with no resolver, what is not the playground's: SERVFAIL" "$A" 172.16.8.1 upstream.test SERVFAIL
ms=$(sed -n 's/ ms$//p' "$T_TMP/q.err")
[ -n "$ms" ] && [ "${ms%.*}" -lt 1000 ] && pass "at once ($ms ms)" || fail "at once" "$ms ms"
expect_answer "its own names still answer" "$A" 172.16.8.1 router.lan "NOERROR 172.16.8.2"
# an upstream that never answers: SERVFAIL after a wait
stop_netd
start_netd PLAYNET_DNS_UPSTREAM=192.0.2.53 || exit 1
expect_answer "an upstream that never answers: SERVFAIL" "$A" 172.16.8.1 upstream.test SERVFAIL
expect_status "netd refuses a bad --dns-upstream" 2 "$NETD" --dns-upstream 300.1.2.3 --check

expect_status "down" 0 "$PLAYNET" down "$P"
stop_netd
[ "$NETD_STATUS" = 0 ] && pass "netd stops cleanly (no leak)" ||
	fail "netd stops cleanly" "exit $NETD_STATUS: $(tail -20 "$T_TMP/netd.log")"
t_done
