#!/usr/bin/env bash
# The hostile-input suite (issue 20, ../shared/reviews/security-2026-12.md):
# netns machines send crafted frames with scapy; each case checks the
# verdict where it would land (a victim's socket, its ARP table, the
# "internet") and the counter that must say so. Then the API wedge.
# Its own host netns, "internet", state dir and bpffs dir, removed on exit.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/netns/netd_lib.sh
t_setup
REAL_NETD=${NETD:-$PWD/build/asan/bin/netd}
PY=/usr/bin/python3
HOSTILE=$PWD/tests/netns/hostile.py
need_root "hostile-input tests" || exit 1
test_env phs
# netd confined as scripts/netd.service confines it (tests/netns/confine.py):
# every case below also checks that the unit lets netd do its work. The
# leak checker at exit traces the process, which the unit forbids.
NETD=$T_TMP/netd-confined
cat >"$NETD" <<SH
#!/bin/sh
ASAN_OPTIONS=detect_leaks=0 exec $PY $PWD/tests/netns/confine.py $PWD/scripts/netd.service $REAL_NETD "\$@"
SH
chmod +x "$NETD"
INET=phs-i$ID
P=ph$ID
API_MAX_TIME=20
. tests/netns/inet_lib.sh

LISTENERS=()
cleanup() {
	local l
	for l in "${LISTENERS[@]}"; do kill "$l" 2>/dev/null; wait "$l" 2>/dev/null; done
	[ -n "$PID" ] && api DELETE "/v1/playgrounds/$P"
	stop_netd
	ip netns del "$INET" 2>/dev/null
	umount "$PLAYNET_STATE_DIR" 2>/dev/null
	remove_test_env "$P"
}
trap cleanup EXIT

in_m() { local m=$1; shift; ip netns exec "pg-$P.$m" "$@"; }
# send MACHINE PROBE ARGS...: a probe that cannot be sent fails the suite
send() {
	in_m "$1" "$PY" "$HOSTILE" send "${@:2}" >"$T_TMP/send.log" 2>&1 ||
		fail "send $2 from $1" "$(tail -3 "$T_TMP/send.log")"
}

# stats: the playground's counters as "key value" lines, guard drops as
# DEVICE/REASON and fabric drops as NETWORK.REASON.
stats() {
	api GET "/v1/playgrounds/$P/stats"
	"$PY" - "$T_TMP/body" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for i in j["interfaces"]:
    for r, n in i["drops"].items():
        print("%s/%s %d" % (i["machine"] or "uplink", r, n))
    print("%s/pass %d" % (i["machine"] or "uplink", i["passPackets"]))
for n in j.get("networks", []):
    for r, v in n["drops"].items():
        print("%s.%s %d" % (n["network"], r, v))
PY
}
snap() { stats >"$T_TMP/$1"; }
# moved BEFORE AFTER KEY: by how much KEY grew
moved() {
	local a b
	a=$(awk -v k="$3" '$1 == k {print $2}' "$T_TMP/$1")
	b=$(awk -v k="$3" '$1 == k {print $2}' "$T_TMP/$2")
	echo $((${b:-0} - ${a:-0}))
}
# counted NAME KEY: KEY moved between snapshots s0 and s1
counted() {
	local n
	n=$(moved s0 s1 "$2")
	if [ "$n" -gt 0 ]; then pass "$1 counted as $2"; else fail "$1 counted as $2" "moved by $n"; fi
}

# listen MACHINE|inet PORT SECONDS [DST DPORT]: a UDP listener in the
# background, writing to $T_TMP/listen.PORT (hostile.py udp)
listen() {
	local out=$T_TMP/listen.$2 where=$1
	shift
	if [ "$where" = inet ]; then
		ip netns exec "$INET" "$PY" "$HOSTILE" udp "$@" >"$out" 2>&1 &
	else
		in_m "$where" "$PY" "$HOSTILE" udp "$@" >"$out" 2>&1 &
	fi
	LISTENERS+=($!)
	local i
	for i in $(seq 1 100); do grep -q listening "$out" 2>/dev/null && return 0; sleep 0.05; done
}
# nothing_got NAME PORT [WHAT]: the listener on PORT got no WHAT (any datagram)
nothing_got() {
	local n
	wait "${LISTENERS[-1]}" 2>/dev/null
	n=$(grep -c "got ${3:-}" "$T_TMP/listen.$2")
	if [ "$n" = 0 ]; then pass "$1"; else fail "$1" "$(grep "got ${3:-}" "$T_TMP/listen.$2" | head -3)"; fi
}

inet_up
# The state dir on a small filesystem of its own, to be filled (F8, F15).
mkdir -p "$PLAYNET_STATE_DIR"
mount -t tmpfs -o size=1m,mode=0750 playnet-test "$PLAYNET_STATE_DIR"
start_netd || { fail "netd starts" "$(tail -5 "$T_TMP/netd.log")"; exit 1; }
# NET_ADMIN NET_RAW NET_BIND_SERVICE SYS_ADMIN BPF PERFMON SETUID SETGID
# SETPCAP, as the unit has it
want_caps=$(printf '%016x' $(((1 << 12) | (1 << 13) | (1 << 10) | (1 << 21) | (1 << 39) | (1 << 38) | (1 << 7) | (1 << 6) | (1 << 8))))
st=/proc/$PID/status
grep -q "^CapBnd:.$want_caps" "$st" && grep -q "^CapEff:.$want_caps" "$st" &&
	grep -q "^NoNewPrivs:.1" "$st" && grep -q "^Seccomp:.2" "$st" &&
	pass "netd runs confined as its unit confines it" ||
	fail "netd runs confined as its unit confines it" "$(grep -E '^(Cap|NoNew|Secc)' "$st" | tr '\n' ' ')"
api PUT "/v1/playgrounds/$P" --data-binary @tests/netns/hostile.yaml
[ "$CODE" = 201 ] && pass "hostile playground up" || { fail "hostile playground up" "$CODE $(cat "$T_TMP/body")"; exit 1; }
api GET "/v1/playgrounds/$P"
cp "$T_TMP/body" "$T_TMP/show.json"
field() { "$PY" -c "import json,sys; j=json.load(open('$T_TMP/show.json')); print($1)"; }
INSIDE=$(field "j['transit']['inside'].split('/')[0]")
BR_PRIV=$(field "[n['bridge'] for n in j['networks'] if n['name']=='priv'][0]")
BR_NAT1=$(field "[n['bridge'] for n in j['networks'] if n['name']=='nat1'][0]")
BR_NAT2=$(field "[n['bridge'] for n in j['networks'] if n['name']=='nat2'][0]")
mac_of() { ip -n "pg-$P" -o link show "$1" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }
MAC_PRIV=$(mac_of "$BR_PRIV")
MAC_NAT1=$(mac_of "$BR_NAT1")
MAC_NAT2=$(mac_of "$BR_NAT2")
ATT_MAC=$(in_m att cat /sys/class/net/eth0/address)
in_m vic ping -c1 -W1 172.16.5.1 >/dev/null 2>&1 && pass "vic reaches its gateway" || fail "vic reaches its gateway"
in_m m2 ping -c1 -W2 203.0.113.2 >/dev/null 2>&1 && pass "m2 reaches the internet" || fail "m2 reaches the internet"

# --- F2: tags --------------------------------------------------------------
snap s0
send att arp-qq 172.16.5.1 172.16.5.20
send att arp-q 172.16.5.1 172.16.5.20
sleep 0.3
snap s1
if in_m vic ip neigh show 172.16.5.1 | grep -qi "$ATT_MAC"; then
	fail "tagged ARP does not poison the victim" "$(in_m vic ip neigh show 172.16.5.1)"
else pass "tagged ARP does not poison the victim"; fi
[ "$(moved s0 s1 att/eth0/vlan)" = 2 ] && pass "both tagged ARP frames counted as vlan" ||
	fail "both tagged ARP frames counted as vlan" "moved by $(moved s0 s1 att/eth0/vlan)"

# A network that opts into VLANs: one tag reaches the checks, two never do.
snap s0
send vt arp-q 10.8.0.99 10.8.0.20
send vt arp-qq 10.8.0.99 10.8.0.20
snap s1
[ "$(moved s0 s1 vt/eth0/arp_spa)" = 1 ] && [ "$(moved s0 s1 vt/eth0/vlan)" = 1 ] &&
	pass "with vlans: true, one tag is checked inside and two are dropped" ||
	fail "with vlans: true, one tag is checked inside and two are dropped" \
		"arp_spa +$(moved s0 s1 vt/eth0/arp_spa), vlan +$(moved s0 s1 vt/eth0/vlan)"

listen inet 5000 2
snap s0
send att spoof-qq 172.16.5.20 203.0.113.2 "$MAC_NAT1"
snap s1
nothing_got "double-tagged spoofed source does not reach the internet" 5000
counted "double-tagged spoofed source" att/eth0/vlan

listen vic 68 2
snap s0
send att dhcp-qq 172.16.5.10
send att dhcp-1067 172.16.5.10
snap s1
nothing_got "no rogue DHCP reply reaches the victim (tagged, or from port 1067)" 68
counted "double-tagged rogue DHCP" att/eth0/vlan
counted "rogue DHCP from port 1067" att/eth0/dhcp_server

snap s0
send att mpls 172.16.5.20 203.0.113.2
snap s1
counted "IPv4 inside MPLS" att/eth0/ethertype

# --- F1: the fabric's own stack, from a private network ----------------------
listen inet 5001 2
snap s0
send p2 icmp "$MAC_PRIV" 203.0.113.2 "$INSIDE" EXFIL-FROM-PRIVATE-NET
send p2 ip "$MAC_PRIV" 203.0.113.2 203.0.113.2 5001 5001 EXFIL-ROUTED
sleep 0.3
snap s1
nothing_got "nothing from a private network reaches the internet" 5001
[ "$(moved s0 s1 priv.private)" = 2 ] && pass "private network's frames to the fabric counted" ||
	fail "private network's frames to the fabric counted" "moved by $(moved s0 s1 priv.private)"
[ "$(moved s0 s1 uplink/pass)" = 0 ] && pass "nothing passed the uplink meanwhile" ||
	fail "nothing passed the uplink meanwhile" "moved by $(moved s0 s1 uplink/pass)"
in_m p2 "$PY" "$HOSTILE" noarp 172.16.5.1 && pass "no ARP answer on a private network (nat1's gateway)" ||
	fail "no ARP answer on a private network (nat1's gateway)"
in_m p2 "$PY" "$HOSTILE" noarp "$INSIDE" && pass "no ARP answer on a private network (uplink0)" ||
	fail "no ARP answer on a private network (uplink0)"

# An answered flow of m2's, then others trying to ride it both ways.
listen inet 5002 3
listen m2 4000 3 203.0.113.2 5002
sleep 0.3
grep -q "got b'ACK'" "$T_TMP/listen.4000" && pass "m2's flow is answered" ||
	fail "m2's flow is answered" "$(cat "$T_TMP/listen.4000" "$T_TMP/listen.5002")"
snap s0
send p2 ip "$MAC_PRIV" 203.0.113.2 "$INSIDE" 5002 4000 INJECTED-FROM-PRIVATE-NET
send p2 ip "$MAC_PRIV" 172.16.6.10 203.0.113.2 4000 5002 EXFIL-VIA-CONNTRACK
send att ip "$MAC_NAT1" 172.16.5.10 172.16.6.10 4000 4000 CROSS-NETWORK
sleep 0.3
snap s1
nothing_got "no injection into m2's flow from a private network" 4000 "b'INJ"
nothing_got "no ride on m2's flow out of a private network" 5002 "b'EXFIL"
[ "$(moved s0 s1 priv.private)" = 2 ] && pass "both rides counted" ||
	fail "both rides counted" "moved by $(moved s0 s1 priv.private)"
counted "NAT network to another network" nat1.forward

# From an unguarded NAT network: spoofed sources and the fabric's other addresses.
listen inet 5003 2
snap s0
send m2 ip "$MAC_NAT2" 172.16.5.20 203.0.113.2 4000 5003 SPOOFED-NAT
send m2 icmp "$MAC_NAT2" 203.0.113.2 "$INSIDE" REFLECT
snap s1
nothing_got "a spoofed source does not leave a NAT network" 5003
counted "spoofed sources on a NAT network" nat2.spoofed
snap s0
send m2 icmp "$MAC_NAT2" 172.16.6.10 "$INSIDE" UPLINK0
send m2 icmp "$MAC_NAT2" 172.16.6.10 172.16.5.1 OTHER-GATEWAY
snap s1
[ "$(moved s0 s1 nat2.fabric)" = 2 ] && pass "the fabric's other addresses refuse a NAT network" ||
	fail "the fabric's other addresses refuse a NAT network" "moved by $(moved s0 s1 nat2.fabric)"
in_m m2 ping -c1 -W1 172.16.6.1 >/dev/null 2>&1 && pass "a NAT network's own gateway still answers" ||
	fail "a NAT network's own gateway still answers"

# --- F6: a host address that appears after the playground -------------------
ip -n "$HOST" addr add 198.18.7.7/32 dev lo
sleep 0.3
snap s0
in_m m2 ping -c1 -W1 198.18.7.7 >/dev/null 2>&1
snap s1
counted "a host address added later" uplink/uplink_deny

# --- F4: the API after its connection limit ----------------------------------
"$PY" - "$PLAYNET_SOCKET" 1100 12 <<'PY' >"$T_TMP/wedge.log" 2>&1
import resource, socket, struct, sys, time
path, n, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 100), hard))
# libmicrohttpd times connections out by whole seconds of CLOCK_MONOTONIC:
# opened early in one second, they all go in one run, which is the case
# that left the listen socket out of its epoll set.
while time.monotonic() % 1 > 0.05:
    time.sleep(0.01)
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # blocking, so a connect waits for room in the backlog as a client's
    # would; SO_SNDTIMEO bounds that wait
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 2, 0))
    try:
        s.connect(path)
    except OSError:
        pass
    socks.append(s)
time.sleep(hold)
for s in socks:
    s.close()
print("held", n)
PY
API_MAX_TIME=5 api GET /healthz
[ "$CODE" = 200 ] && pass "the API answers after 1100 idle connections timed out" ||
	fail "the API answers after 1100 idle connections timed out" "HTTP $CODE; $(cat "$T_TMP/wedge.log")"

# --- F13, F7: DHCP for another machine's MAC; a flood -------------------------
metric() {
	curl -s --max-time 5 --unix-socket "$PLAYNET_SOCKET" http://netd/metrics |
		awk -v k="$1" '$1 == k {print $2}'
}
# F18: guests' packets are read by an engine that holds nothing.
ENG=$(metric playnet_dhcp_engine_pid)
st=/proc/$ENG/status
if [ -n "$ENG" ] && [ -r "$st" ] && grep -q "^Uid:.65534" "$st" && grep -q "^CapEff:.0000000000000000" "$st" &&
	grep -q "^CapBnd:.0000000000000000" "$st" && grep -q "^NoNewPrivs:.1" "$st" && grep -q "^Seccomp:.2" "$st"; then
	pass "the DHCP engine runs as nobody, no capabilities, no_new_privs, seccomp"
else
	fail "the DHCP engine runs as nobody, no capabilities, no_new_privs, seccomp" "pid '$ENG': $(grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs|Seccomp)' "$st" 2>&1 | tr '\n' ' ')"
fi
kill -KILL "$ENG" 2>/dev/null
dhcp_lease "pg-$P.vic" eth0 "$T_TMP/lease" && grep -q "^ip=172.16.5.20$" "$T_TMP/lease" &&
	pass "a killed engine is made anew, and leases go on" ||
	fail "a killed engine is made anew, and leases go on" "$(cat "$T_TMP/udhcpc.log" "$T_TMP/lease" 2>&1 | tail -3)"
[ "$(metric playnet_dhcp_engine_pid)" != "$ENG" ] && pass "the new engine is another process" ||
	fail "the new engine is another process"
VIC_MAC=$(in_m vic cat /sys/class/net/eth0/address)
c0=$(metric 'playnet_dhcp_ignored_total{reason="chaddr"}')
o0=$(metric 'playnet_dhcp_sent_total{type="offer"}')
send att discover "$VIC_MAC" 3
sleep 0.3
c1=$(metric 'playnet_dhcp_ignored_total{reason="chaddr"}')
o1=$(metric 'playnet_dhcp_sent_total{type="offer"}')
[ "$((c1 - c0))" = 3 ] && [ "$o1" = "$o0" ] && pass "no answer to a DISCOVER naming another machine" ||
	fail "no answer to a DISCOVER naming another machine" "chaddr +$((c1 - c0)), offers +$((o1 - o0))"
log0=$(stat -c %s "$T_TMP/netd.log")
r0=$(metric 'playnet_dhcp_ignored_total{reason="rate"}')
send att discover "$ATT_MAC" 3000
sleep 0.5
r1=$(metric 'playnet_dhcp_ignored_total{reason="rate"}')
log1=$(stat -c %s "$T_TMP/netd.log")
[ "$((r1 - r0))" -gt 2000 ] && pass "a DHCP flood is cut by the bridge's rate" ||
	fail "a DHCP flood is cut by the bridge's rate" "rate +$((r1 - r0))"
[ "$((log1 - log0))" -lt 20000 ] && pass "a DHCP flood does not fill the log" ||
	fail "a DHCP flood does not fill the log" "+$((log1 - log0)) bytes"

# --- F11: a restart right after a crash ---------------------------------------
kill -KILL "$PID"
OLD=$PID
PID=
start_netd && pass "netd starts at once after a kill -9" ||
	fail "netd starts at once after a kill -9" "$(tail -3 "$T_TMP/netd.log")"
wait "$OLD" 2>/dev/null

# --- F18: the HTTP front end holds nothing, and comes back --------------------
frontend_pid() {
	local c
	for c in $(cat /proc/"$PID"/task/*/children 2>/dev/null); do
		grep -qa -- --frontend "/proc/$c/cmdline" 2>/dev/null && echo "$c"
	done
}
api GET /healthz # answered once the front end serves, confined
FE=$(frontend_pid)
st=/proc/$FE/status
if [ -n "$FE" ] && grep -q "^Uid:.65534" "$st" && grep -q "^CapEff:.0000000000000000" "$st" &&
	grep -q "^CapBnd:.0000000000000000" "$st" && grep -q "^NoNewPrivs:.1" "$st" && grep -q "^Seccomp:.2" "$st"; then
	pass "the HTTP front end runs as nobody, no capabilities, no_new_privs, seccomp"
else
	fail "the HTTP front end runs as nobody, no capabilities, no_new_privs, seccomp" "pid '$FE': $(grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs|Seccomp)' "$st" 2>&1 | tr '\n' ' ')"
fi
kill -KILL "$FE" 2>/dev/null
sleep 0.5
api GET /healthz
[ "$CODE" = 200 ] && [ -n "$(frontend_pid)" ] && [ "$(frontend_pid)" != "$FE" ] &&
	pass "a killed front end is made anew, and the API answers" ||
	fail "a killed front end is made anew, and the API answers" "HTTP $CODE, front end '$(frontend_pid)'"

# --- F12: an escaped NUL in the path ------------------------------------------
api DELETE "/v1/playgrounds/$P%00xyz"
[ "$CODE" = 400 ] && pass "a name with %00 is refused" || fail "a name with %00 is refused" "HTTP $CODE"
api GET "/v1/playgrounds/$P%00/etc"
[ "$CODE" = 400 ] || [ "$CODE" = 404 ] && pass "a path with %00 finds nothing" ||
	fail "a path with %00 finds nothing" "HTTP $CODE"
api GET "/v1/playgrounds/$P"
[ "$CODE" = 200 ] && pass "the playground outlives %00 requests" || fail "the playground outlives %00 requests" "HTTP $CODE"

# --- F10: a DELETE of a name with no record touches no one else's objects ---
V=${P}v
ip netns add "pg-$V"
ip netns add "pg-$V.db"
ip -n "$HOST" link add "pn-$V" type veth peer name "pv-$ID"
api DELETE "/v1/playgrounds/$V"
[ "$CODE" = 204 ] && pass "DELETE of an unrecorded name answers 204" || fail "DELETE of an unrecorded name answers 204" "HTTP $CODE"
[ -e "/run/netns/pg-$V" ] && [ -e "/run/netns/pg-$V.db" ] &&
	ip -n "$HOST" link show "pn-$V" >/dev/null 2>&1 &&
	pass "objects netd did not make survive a DELETE of their name" ||
	fail "objects netd did not make survive a DELETE of their name"
ip netns del "pg-$V.db"
ip netns del "pg-$V"
ip -n "$HOST" link del "pn-$V" 2>/dev/null

# --- F14: a subnet in the transit pool --------------------------------------
sed 's#10.5.0.0/24#100.64.0.0/16#; s#10.5.0.10#100.64.0.10#; s#10.5.0.20#100.64.0.20#' \
	tests/netns/hostile.yaml >"$T_TMP/transit.yaml"
api PUT "/v1/playgrounds/${P}t" --data-binary "@$T_TMP/transit.yaml"
[ "$CODE" = 422 ] && grep -q "overlaps the transit pool" "$T_TMP/body" &&
	pass "a subnet in the transit pool is refused" ||
	fail "a subnet in the transit pool is refused" "HTTP $CODE $(head -c 200 "$T_TMP/body")"

# --- F8, F15: a full state filesystem -----------------------------------------
dd if=/dev/zero of="$PLAYNET_STATE_DIR/filler" bs=4k 2>/dev/null
api PUT "/v1/playgrounds/${P}f" --data-binary @tests/netns/hostile.yaml
[ "$CODE" = 503 ] && grep -q "is full" "$T_TMP/body" && ! grep -q exhausted "$T_TMP/body" &&
	pass "a full state dir is said to be full" || fail "a full state dir is said to be full" "HTTP $CODE $(head -c 200 "$T_TMP/body")"
[ ! -e "/run/netns/pg-${P}f" ] && pass "a create on a full state dir makes nothing" ||
	fail "a create on a full state dir makes nothing"
api DELETE "/v1/playgrounds/$P"
[ "$CODE" = 204 ] && pass "a delete needs no free space" || fail "a delete needs no free space" "HTTP $CODE $(head -c 200 "$T_TMP/body")"
wait_deletes
[ ! -e "/run/netns/pg-$P" ] && [ ! -e "/run/netns/pg-$P.att" ] && pass "a delete on a full state dir removes the playground" ||
	fail "a delete on a full state dir removes the playground"
rm -f "$PLAYNET_STATE_DIR/filler"

api DELETE "/v1/playgrounds/$P"
[ "$CODE" = 204 ] && pass "delete" || fail "delete" "$CODE"
wait_deletes

# --- F18: who may do what on the socket (SO_PEERCRED) ----------------------
as_user() { # UID GID METHOD PATH: the HTTP status a request of that user gets
	setpriv --reuid "$1" --regid "$2" --clear-groups curl -s -o /dev/null -w '%{http_code}' \
		--max-time 5 --unix-socket "$PLAYNET_SOCKET" -X "$3" "http://netd$4"
}
chmod 0711 "$T_TMP"
stop_netd
NETD_ARGS="--read-group nogroup" start_netd || fail "netd starts with --read-group"
[ "$(stat -c %a "$PLAYNET_SOCKET")" = 666 ] && pass "with a read group the socket is 0666" ||
	fail "with a read group the socket is 0666" "$(stat -c %a "$PLAYNET_SOCKET")"
[ "$(as_user 65534 65534 GET /v1/playgrounds)" = 200 ] && pass "the read group may list" ||
	fail "the read group may list"
[ "$(as_user 65534 65534 PUT /v1/playgrounds/${P}r)" = 403 ] && pass "the read group may not create" ||
	fail "the read group may not create"
[ "$(as_user 65534 65534 DELETE /v1/playgrounds/${P}r)" = 403 ] && pass "the read group may not delete" ||
	fail "the read group may not delete"
[ "$(as_user 65534 65534 GET /v1/playgrounds/${P}r/networks/lan/capture)" = 403 ] &&
	pass "the read group may not capture" || fail "the read group may not capture"
[ "$(as_user 4242 4242 GET /v1/playgrounds)" = 403 ] && pass "anyone else may not even read" ||
	fail "anyone else may not even read"
stop_netd
start_netd
[ "$(stat -c %a "$PLAYNET_SOCKET")" = 660 ] && pass "without one it is 0660" ||
	fail "without one it is 0660" "$(stat -c %a "$PLAYNET_SOCKET")"
[ "$(as_user 65534 65534 GET /v1/playgrounds)" = 000 ] && pass "and others cannot connect" ||
	fail "and others cannot connect"
left=$(leftovers "$P")
[ -z "$left" ] && pass "nothing left" || fail "nothing left" "$left"
stop_netd
t_done
