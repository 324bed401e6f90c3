#!/usr/bin/env bash
# Port forwards: from the test's internet host, from a client on a private
# LAN of the host's, and from the host itself (its address and its
# loopback), HTTP to the host's port 8080 reaches a web server in a netns
# machine, and UDP its echo server; traffic to another address through
# the host is not touched, and the playground still reaches nothing the
# uplink guard denies. Forwards added and removed at runtime, kept across
# netd's restart, gone with the playground; the bad cases refused with
# nothing changed. Its own host netns, state dir, socket and bpffs dir;
# the netd and servers it started are stopped by their pids.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/netns/netd_lib.sh
. tests/netns/inet_lib.sh
t_setup
PLAYNET=${PLAYNET:-$PWD/build/asan/bin/playnet}
NETD=${NETD:-$PWD/build/asan/bin/netd}
export ASAN_OPTIONS=detect_leaks=1:exitcode=99
need_root "forward tests" || exit 1
test_env pnf
P=pf$ID
INET=pnf-i$ID
FAR=pnf-f$ID
LAN=pnf-l$ID
unset PLAYNET_DIRECT
SERVERS=

cleanup() {
	local p
	for p in $SERVERS; do kill "$p" 2>/dev/null; done
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		"$PLAYNET" down "$P" >/dev/null 2>&1
		"$PLAYNET" down "$P-b" >/dev/null 2>&1
		"$PLAYNET" down "$P-c" >/dev/null 2>&1
		stop_netd
	fi
	ip netns del "$INET" 2>/dev/null
	ip netns del "$FAR" 2>/dev/null
	ip netns del "$LAN" 2>/dev/null
	remove_test_env "$P"
}
trap cleanup EXIT

# serve NETNS ADDR PORT TEXT: an HTTP server answering TEXT; its pid in SERVERS
serve() {
	mkdir -p "$T_TMP/www-$1-$3"
	echo "$4" >"$T_TMP/www-$1-$3/index.html"
	ip netns exec "$1" python3 -m http.server "$3" --bind "$2" --directory "$T_TMP/www-$1-$3" \
		>/dev/null 2>&1 &
	SERVERS="$SERVERS $!"
	local i
	for i in $(seq 1 100); do
		ip netns exec "$1" ss -ltn | grep -q "$2:$3 " && return 0
		sleep 0.1
	done
	echo "the server in $1 did not start" >&2
}
# udp_echo NETNS ADDR PORT: answers each datagram with "echo: " and it
udp_echo() {
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(b"echo: " + d, a)' "$2" "$3" >/dev/null 2>&1 &
	SERVERS="$SERVERS $!"
	sleep 0.3
}
# get NETNS URL: the body, or nothing within 3 s
get() { ip netns exec "$1" curl -s --max-time 3 "$2" 2>/dev/null; }
# udp NETNS ADDR PORT: the answer to "hi", or nothing within 2 s
udp() {
	ip netns exec "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"hi", (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recv(2048).decode())
except OSError:
    pass' "$2" "$3" 2>/dev/null
}
expect_get() { # NAME NETNS URL WANT
	local got
	got=$(get "$2" "$3")
	[ "$got" = "$4" ] && pass "$1" || fail "$1" "got '$got', expected '$4'"
}

start_netd || exit 1
inet_up
ip -n "$HOST" link set lo up # as on any host: for its loopback's clients
# a LAN of the host's, in RFC 1918 space, which the uplink guard denies
behind_host "$LAN" lan0 192.168.77.1 192.168.77.2
ip -n "$LAN" route add default via 192.168.77.1
# another network behind the host, which the internet host reaches through it
behind_host "$FAR" far0 198.51.100.1 198.51.100.2
ip -n "$FAR" route add default via 198.51.100.1
ip -n "$INET" route add 198.51.100.0/24 via 203.0.113.1

expect_status "up with forwards" 0 "$PLAYNET" up --name "$P" tests/netns/forward.yaml
WEB=pg-$P.web
OTHER=pg-$P.other
serve "$WEB" 172.16.6.10 80 "web"
serve "$OTHER" 172.16.6.20 80 "other"
serve "$FAR" 198.51.100.2 8080 "far"
serve "$LAN" 192.168.77.2 80 "lan"
udp_echo "$WEB" 172.16.6.10 5353

# --- reached from everywhere it should be ----------------------------------
expect_get "the internet host reaches web through host:8080" "$INET" http://203.0.113.1:8080/ web
expect_get "a client on the host's private LAN does too" "$LAN" http://192.168.77.1:8080/ web
expect_get "the host itself, on its own address" "$HOST" http://203.0.113.1:8080/ web
expect_get "the host itself, on its loopback" "$HOST" http://127.0.0.1:8080/ web
got=$(udp "$INET" 203.0.113.1 5353)
[ "$got" = "echo: hi" ] && pass "UDP 5353 reaches web's echo server" || fail "UDP 5353 reaches web's echo server" "got '$got'"

# --- and nothing else --------------------------------------------------------
expect_get "traffic to another address through the host is not touched" "$INET" http://198.51.100.2:8080/ far
got=$(get "$INET" http://203.0.113.1:8081/)
[ -z "$got" ] && pass "a port with no forward reaches nothing" || fail "a port with no forward reaches nothing" "$got"
got=$(get "$WEB" http://192.168.77.2/)
[ -z "$got" ] && pass "web still reaches nothing on the host's LAN (guard, then nft)" ||
	fail "web still reaches nothing on the host's LAN" "$got"
got=$(get "$WEB" http://203.0.113.1:8080/)
[ -z "$got" ] && pass "web cannot reach the host's own address through its forward" ||
	fail "web cannot reach the host's own address" "$got"
ip netns exec "$HOST" nft list table ip playnet | grep -q 'comment "denied uplinks"' &&
	pass "the host's table drops what the guard leaves to it" ||
	fail "the host's table drops what the guard leaves to it" "$(ip netns exec "$HOST" nft list table ip playnet)"
ip netns exec "$HOST" nft list table ip "playnet-fwd-$P" | grep -q 'fib daddr type local' &&
	pass "the forwards match only the host's own addresses" ||
	fail "the forwards match only the host's own addresses" "$(ip netns exec "$HOST" nft list ruleset)"

# --- at runtime --------------------------------------------------------------
expect_status "forward other 80 to 8081" 0 "$PLAYNET" forward "$P" other 80 8081
expect_stdout_has "it says so" "$P other: tcp *:8081 -> 80"
expect_get "host:8081 reaches other" "$INET" http://203.0.113.1:8081/ other
expect_status "list" 0 "$PLAYNET" forward "$P"
expect_stdout_has "the list has web's" "$P web: tcp *:8080 -> 80"
expect_stdout_has "... and its UDP one" "$P web: udp *:5353 -> 5353"
expect_stdout_has "... and other's" "$P other: tcp *:8081 -> 80"
api GET "/v1/playgrounds/$P"
grep -q '"hostPort": *8081' "$T_TMP/body" && pass "show --json has it" || fail "show --json has it" "$(head -c 300 "$T_TMP/body")"
expect_status "remove it" 0 "$PLAYNET" forward "$P" other --remove 8081
got=$(get "$INET" http://203.0.113.1:8081/)
[ -z "$got" ] && pass "removed, it reaches nothing" || fail "removed, it reaches nothing" "$got"
api POST "/v1/playgrounds/$P/machines/other/forwards" -d '{"port": 80, "hostPort": 8082, "hostAddress": "192.168.77.1"}'
[ "$CODE" = 200 ] && pass "the API adds one on one address" || fail "the API adds one on one address" "$CODE $(cat "$T_TMP/body")"
expect_get "reached on that address" "$LAN" http://192.168.77.1:8082/ other
got=$(get "$INET" http://203.0.113.1:8082/)
[ -z "$got" ] && pass "not on another" || fail "not on another" "$got"
api DELETE "/v1/playgrounds/$P/machines/other/forwards/tcp/8082"
[ "$CODE" = 200 ] && pass "the API removes it" || fail "the API removes it" "$CODE $(cat "$T_TMP/body")"

# --- the bad cases: refused, nothing changed ----------------------------------
before=$(ip netns exec "$HOST" nft list ruleset | md5sum)
expect_status "a forward to a private-only machine" 1 "$PLAYNET" forward "$P" db 80 8090
expect_stderr_has "says why" "machine db is on no non-private network"
expect_status "a host port playnet has" 1 "$PLAYNET" forward "$P" other 80 8080
expect_stderr_has "says whose" "host port 8080/tcp is already forwarded to machine web"
ip netns exec "$HOST" python3 -c 'import socket,time; s=socket.socket(); s.bind(("0.0.0.0", 9090)); s.listen(); time.sleep(60)' &
SERVERS="$SERVERS $!"
sleep 0.3
expect_status "a host port another program listens on" 1 "$PLAYNET" forward "$P" other 80 9090
expect_stderr_has "says so" "host port 9090/tcp is in use in the host netns"
expect_status "a port out of range" 2 "$PLAYNET" forward "$P" other 80 70000
expect_status "a machine port out of range" 2 "$PLAYNET" forward "$P" other 0 8095
expect_status "an unknown machine" 1 "$PLAYNET" forward "$P" nosuch 80 8096
expect_status "removing what is not there" 1 "$PLAYNET" forward "$P" other --remove 8097
[ "$(ip netns exec "$HOST" nft list ruleset | md5sum)" = "$before" ] &&
	pass "the host's ruleset is as it was" || fail "the host's ruleset is as it was"
sed -e 's/^title: Forwards/title: Forwards again/' -e 's/172.16.6/172.16.7/' tests/netns/forward.yaml >"$T_TMP/b.yaml"
expect_status "a playground whose forward playnet has" 1 "$PLAYNET" up --name "$P-b" "$T_TMP/b.yaml"
expect_stderr_has "is refused, saying whose" "host port 8080/tcp is already forwarded to machine web of playground $P"
ip netns list | grep -q "^pg-$P-b" && fail "nothing of it is made" || pass "nothing of it is made"
cat >"$T_TMP/c.yaml" <<'YAML'
kind: playground
playground:
  networks:
    - {name: lan, subnet: 172.16.9.0/24}
  machines:
    - {name: m, runtime: netns, network: {interfaces: [{network: lan}]}}
YAML
expect_status "up a playground with no forward" 0 "$PLAYNET" up --name "$P-c" "$T_TMP/c.yaml"
expect_status "its first forward, on a host port another playground has" 1 "$PLAYNET" forward "$P-c" m 80 8080
expect_stderr_has "is refused, saying whose" "host port 8080/tcp is already forwarded to machine web of playground $P"
expect_status "... or another program listens on" 1 "$PLAYNET" forward "$P-c" m 80 9090
expect_status "down it" 0 "$PLAYNET" down "$P-c"
cat >"$T_TMP/bad.yaml" <<'YAML'
kind: playground
playground:
  networks:
    - name: back
      subnet: 10.9.8.0/24
      private: true
  machines:
    - name: db
      runtime: netns
      forwards:
        - port: 80
          hostPort: 70000
        - port: 22
          protocol: sctp
      network:
        interfaces:
          - network: back
YAML
expect_status "validate refuses bad forwards" 1 "$PLAYNET" validate "$T_TMP/bad.yaml"
expect_stderr_has "a host port out of range" "playground.machines[0].forwards[0].hostPort"
expect_stderr_has "a protocol" "expected tcp or udp, got 'sctp'"
expect_stderr_has "a private-only machine" "machine db is on no non-private network"

# --- netd's restart, and the delete -------------------------------------------
stop_netd
start_netd || exit 1
expect_get "after netd's restart, host:8080 still reaches web" "$INET" http://203.0.113.1:8080/ web
# what a crash could leave: the table lost, and one of no playground
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=
ip netns exec "$HOST" nft delete table ip "playnet-fwd-$P"
ip netns exec "$HOST" nft add table ip playnet-fwd-ghost$ID
start_netd || exit 1
expect_get "recovery puts a lost forwards table back" "$INET" http://203.0.113.1:8080/ web
grep -q "playground $P: host nftables table playnet-fwd-$P (its forwards) is missing" "$T_TMP/netd.log" &&
	pass "netd's log says what it found missing" || fail "netd's log says what it found missing" "$(tail -5 "$T_TMP/netd.log")"
ip netns exec "$HOST" nft list tables | grep -q "playnet-fwd-ghost$ID" &&
	fail "a forwards table of no playground is removed" || pass "a forwards table of no playground is removed"
expect_status "forward after the restart" 0 "$PLAYNET" forward "$P" other 80 8081
expect_get "and a new one works" "$INET" http://203.0.113.1:8081/ other
expect_status "down" 0 "$PLAYNET" down "$P"
wait_deletes
ip netns exec "$HOST" nft list tables | grep -q "playnet-fwd-$P" &&
	fail "the forwards table goes with the playground" || pass "the forwards table goes with the playground"
got=$(get "$INET" http://203.0.113.1:8080/)
[ -z "$got" ] && pass "host:8080 reaches nothing any more" || fail "host:8080 reaches nothing any more" "$got"

stop_netd
[ "$NETD_STATUS" = 0 ] && pass "netd stops cleanly (no leak)" ||
	fail "netd stops cleanly" "exit $NETD_STATUS: $(tail -20 "$T_TMP/netd.log")"
t_done
