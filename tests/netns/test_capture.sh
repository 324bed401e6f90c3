#!/usr/bin/env bash
# Packet capture through netd: a network's and an interface's frames as a
# pcap stream that tshark reads, a filter in tcpdump's language, a count,
# and a capture that ends and frees what it held when its client is killed
# or its playground deleted. Its own host netns, state dir, socket and
# bpffs dir; the netd it started is stopped by its pid.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/netns/netd_lib.sh
t_setup
PLAYNET=${PLAYNET:-$PWD/build/asan/bin/playnet}
NETD=${NETD:-$PWD/build/asan/bin/netd}
export ASAN_OPTIONS=detect_leaks=1:exitcode=99
need_root "capture tests" || exit 1
test_env pnc
P=pc$ID
unset PLAYNET_DIRECT
CAP_PIDS=

cleanup() {
	local p
	for p in $CAP_PIDS; do kill "$p" 2>/dev/null; done
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		"$PLAYNET" down "$P" >/dev/null 2>&1
		stop_netd
	fi
	remove_test_env "$P"
}
trap cleanup EXIT
start_netd || exit 1
expect_status "up" 0 "$PLAYNET" up --name "$P" tests/netns/capture.yaml
A=pg-$P.a
B=pg-$P.b

# captures: the playnet_captures gauge of netd
captures() {
	curl -s --max-time 5 --unix-socket "$PLAYNET_SOCKET" http://netd/metrics |
		awk '$1 == "playnet_captures" { print $2 }'
}
captures_are() { [ "$(captures)" = "$1" ]; }
# packet sockets in the playground's namespace
packet_sockets() { ip netns exec "pg-$P" ss -A packet -a -H | wc -l; }
PS0=
no_packet_socket() { [ "$(packet_sockets)" = "$PS0" ]; } # DHCP has its own
# wait_for CMD...: up to 10 s for CMD to succeed
wait_for() {
	local i
	for i in $(seq 1 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
# the front end: netd's child run as "netd --frontend ..."
frontend_pid() {
	local c
	for c in $(pgrep -P "$PID"); do
		tr '\0' ' ' <"/proc/$c/cmdline" | grep -q -- ' --frontend ' && echo "$c"
	done
}
fds_of() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
fe_fds_back() { [ "$(fds_of "$FE")" = "$FE_FDS" ]; }
PS0=$(packet_sockets)
FE=$(frontend_pid)
FE_FDS=$(fds_of "$FE")
NETD_FDS=$(netd_fds)

# --- a ping on net-1, into a file --------------------------------------------
"$PLAYNET" capture "$P" net-1 -w "$T_TMP/ping.pcap" -c 4 icmp 2>"$T_TMP/cap.err" &
CAP=$!
CAP_PIDS="$CAP_PIDS $CAP"
wait_for captures_are 1 || fail "the capture is under way" "$(captures)"
ip netns exec "$A" ping -c 2 -i 0.2 -W 2 172.16.5.20 >/dev/null 2>&1
# and what the filter is to drop: UDP, and ARP's
ip netns exec "$A" bash -c 'echo x >/dev/udp/172.16.5.20/9' 2>/dev/null
wait "$CAP"
rc=$?
[ "$rc" = 0 ] && pass "capture -c 4 ends by itself" || fail "capture -c 4 ends by itself" "exit $rc: $(cat "$T_TMP/cap.err")"
grep -q "4 frames captured, 0 dropped by the kernel" "$T_TMP/cap.err" &&
	pass "it says what it captured" || fail "it says what it captured" "$(cat "$T_TMP/cap.err")"
tshark -r "$T_TMP/ping.pcap" -T fields -e ip.src -e ip.dst -e icmp.type >"$T_TMP/fields" 2>"$T_TMP/tshark.err"
echo "tshark -r of the capture:"; tshark -r "$T_TMP/ping.pcap" 2>/dev/null | sed 's/^/  /'
if [ "$(grep -c . "$T_TMP/fields")" = 4 ] &&
	grep -qP '^172\.16\.5\.10\t172\.16\.5\.20\t8$' "$T_TMP/fields" &&
	grep -qP '^172\.16\.5\.20\t172\.16\.5\.10\t0$' "$T_TMP/fields"; then
	pass "tshark reads the pings with their addresses"
else
	fail "tshark reads the pings with their addresses" "$(cat "$T_TMP/fields" "$T_TMP/tshark.err")"
fi

# --- the filter drops the rest -----------------------------------------------
"$PLAYNET" capture "$P" net-1 -w "$T_TMP/all.pcap" -c 6 2>/dev/null &
CAP=$!
wait_for captures_are 1
ip netns exec "$A" bash -c 'for i in 1 2 3 4 5 6; do echo x >/dev/udp/172.16.5.20/9; done' 2>/dev/null
wait "$CAP"
n=$(tshark -r "$T_TMP/all.pcap" -Y udp 2>/dev/null | wc -l)
[ "$n" -ge 1 ] && pass "without a filter UDP is captured" || fail "without a filter UDP is captured" "$(tshark -r "$T_TMP/all.pcap" 2>&1)"
n=$(tshark -r "$T_TMP/ping.pcap" -Y '!icmp' 2>/dev/null | wc -l)
[ "$n" = 0 ] && pass "with 'icmp' nothing else is" || fail "with 'icmp' nothing else is" "$(tshark -r "$T_TMP/ping.pcap" 2>&1)"

# --- one interface, down a pipe ----------------------------------------------
( "$PLAYNET" capture "$P" b/eth0 -c 2 icmp and host 172.16.5.10 | tshark -r - -T fields -e ip.src -e ip.dst \
	>"$T_TMP/pipe" 2>/dev/null ) &
CAP=$!
wait_for captures_are 1
ip netns exec "$A" ping -c 1 -W 2 172.16.5.20 >/dev/null 2>&1
wait "$CAP"
if [ "$(cat "$T_TMP/pipe")" = "$(printf '172.16.5.10\t172.16.5.20\n172.16.5.20\t172.16.5.10')" ]; then
	pass "b/eth0 through a pipe into tshark"
else
	fail "b/eth0 through a pipe into tshark" "$(cat "$T_TMP/pipe")"
fi

# --- the bad cases -----------------------------------------------------------
expect_status "a filter that does not compile" 1 "$PLAYNET" capture "$P" net-1 -w "$T_TMP/x" icmp and
expect_stderr_has "says libpcap's reason" "filter: can't parse filter expression: syntax error"
expect_status "an unknown network" 1 "$PLAYNET" capture "$P" net-9 -w "$T_TMP/x"
expect_stderr_has "says which" "has no network net-9"
expect_status "an unknown interface" 1 "$PLAYNET" capture "$P" a/eth3 -w "$T_TMP/x"
expect_status "not to a terminal" 2 script -qec "$PLAYNET capture $P net-1" /dev/null
api GET "/v1/playgrounds/$P/networks/net-1/capture?count=0"
[ "$CODE" = 400 ] && pass "the API refuses count=0" || fail "the API refuses count=0" "$CODE"
api POST "/v1/playgrounds/$P/networks/net-1/capture"
[ "$CODE" = 405 ] && pass "the API allows only GET" || fail "the API allows only GET" "$CODE"
( wait_for captures_are 1 && ip netns exec "$A" ping -c 1 -W 2 172.16.5.20 >/dev/null 2>&1 ) &
APID=$!
api GET "/v1/playgrounds/$P/networks/net-1/capture?count=1" --max-time 10
wait "$APID"
if [ "$CODE" = 200 ] && grep -qi '^content-type: application/vnd.tcpdump.pcap' "$T_TMP/headers" &&
	grep -qi '^transfer-encoding: chunked' "$T_TMP/headers"; then
	pass "the API answers a chunked application/vnd.tcpdump.pcap"
else
	fail "the API answers a chunked application/vnd.tcpdump.pcap" "$CODE $(cat "$T_TMP/headers")"
fi

# --- a client killed mid-stream frees everything ----------------------------
"$PLAYNET" capture "$P" net-1 -w "$T_TMP/killed.pcap" 2>/dev/null &
CAP=$!
CAP_PIDS="$CAP_PIDS $CAP"
wait_for captures_are 1
[ "$(packet_sockets)" -gt "$PS0" ] && pass "a packet socket while it runs" || fail "a packet socket while it runs" "$(packet_sockets)"
[ -n "$FE" ] && [ "$(fds_of "$FE")" -gt "$FE_FDS" ] &&
	pass "the front end holds the capture's fds while it runs" ||
	fail "the front end holds the capture's fds while it runs" "pid '$FE': $(fds_of "$FE") (was $FE_FDS)"
ip netns exec "$A" ping -c 3 -i 0.2 -W 2 172.16.5.20 >/dev/null 2>&1
kill -9 "$CAP"
wait "$CAP" 2>/dev/null
if wait_for captures_are 0 && wait_for no_packet_socket; then
	pass "a killed client's capture ends: no capture, no packet socket"
else
	fail "a killed client's capture ends" "captures $(captures), packet sockets $(packet_sockets) (was $PS0)"
fi
if wait_for fe_fds_back && [ "$(netd_fds)" = "$NETD_FDS" ]; then
	pass "netd and its front end hold the fds they held before"
else
	fail "netd and its front end hold the fds they held before" \
		"front end $(fds_of "$FE") (was $FE_FDS), netd $(netd_fds) (was $NETD_FDS)"
fi
# idle: no frame comes, the client goes all the same
"$PLAYNET" capture "$P" a/eth0 -w "$T_TMP/idle.pcap" 'udp port 7' 2>/dev/null &
CAP=$!
wait_for captures_are 1
kill -9 "$CAP"
wait "$CAP" 2>/dev/null
wait_for captures_are 0 && wait_for no_packet_socket &&
	pass "an idle capture ends when its client is killed" ||
	fail "an idle capture ends when its client is killed" "captures $(captures)"

# --- a delete ends a capture, and waits for none -----------------------------
"$PLAYNET" capture "$P" net-1 -w "$T_TMP/deleted.pcap" 2>"$T_TMP/cap.err" &
CAP=$!
wait_for captures_are 1
expect_status "down while a capture runs" 0 timeout 30 "$PLAYNET" down "$P"
if wait_for bash -c "! kill -0 $CAP 2>/dev/null"; then
	wait "$CAP"
	rc=$?
	[ "$rc" = 0 ] && grep -q "the playground was deleted" "$T_TMP/cap.err" &&
		pass "the capture ends: the playground was deleted" ||
		fail "the capture ends: the playground was deleted" "exit $rc: $(cat "$T_TMP/cap.err")"
else
	fail "the capture ends with its playground" "still running"
	kill "$CAP"
fi
wait_deletes
wait_for bash -c "! ip netns list | grep -q '^pg-$P'" && pass "the namespaces are gone" ||
	fail "the namespaces are gone" "$(ip netns list | grep "pg-$P")"
[ "$(captures)" = 0 ] && pass "no capture is left" || fail "no capture is left" "$(captures)"

stop_netd
[ "$NETD_STATUS" = 0 ] && pass "netd stops cleanly (no leak)" ||
	fail "netd stops cleanly" "exit $NETD_STATUS: $(tail -20 "$T_TMP/netd.log")"
t_done
