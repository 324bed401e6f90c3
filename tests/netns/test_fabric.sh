#!/usr/bin/env bash
# The fabric in the kernel, end to end, as root: every namespace this test
# makes has a unique name and is removed on exit, whatever happened. Its
# host netns and "internet" netns are its own; nothing touches the root
# netns. Uses the sanitizer build of playnet.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_setup
PLAYNET=${PLAYNET:-$PWD/build/asan/bin/playnet}
export ASAN_OPTIONS=detect_leaks=1:exitcode=99

if [ "$(id -u)" -ne 0 ]; then
	fail "netns tests need root"
	exit 1
fi

ID=$$
HOST=pnt-h$ID
INET=pnt-i$ID
export PLAYNET_STATE_DIR=$T_TMP/state PLAYNET_HOST_NETNS=$HOST
export PLAYNET_BPF_DIR=/sys/fs/bpf/playnet-test-$ID
# The fabric itself, in playnet's own process: each call may shape it
# differently (pools, guard configs, rates), which a running netd would
# not take. tests/netns/test_cli_netd.sh drives the same through netd.
export PLAYNET_DIRECT=1
P1=pt$ID-a
P2=pt$ID-b
P3=pt$ID-c
ALL_PG="$P1 $P2 $P3 pt$ID-d pt$ID-e pt$ID-f"

cleanup() {
	for p in $ALL_PG; do
		"$PLAYNET" down "$p" >/dev/null 2>&1
		for ns in $(ip netns list | awk '{print $1}' | grep -E "^pg-$p(\.|$)"); do
			ip netns del "$ns" 2>/dev/null
		done
	done
	ip netns del "$INET" 2>/dev/null
	ip netns del "$HOST" 2>/dev/null
	for d in "$PLAYNET_BPF_DIR" "$PLAYNET_BPF_DIR"-2 "$PLAYNET_BPF_DIR"-3; do
		rm -f "$d"/guard_* 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
	rm -rf "$T_TMP"
}
trap cleanup EXIT

# nothing_of P: no namespace, host link, state or transit record remains
nothing_of() {
	local p=$1 left=""
	ip netns list | awk '{print $1}' | grep -qE "^pg-$p(\.|$)" && left="$left netns"
	ip -n "$HOST" link show "pn-$p" >/dev/null 2>&1 && left="$left host-link"
	[ -e "$PLAYNET_STATE_DIR/$p.json" ] && left="$left state"
	grep -qx "$p" "$PLAYNET_STATE_DIR"/transit/* 2>/dev/null && left="$left transit"
	[ -z "$left" ] || { echo "left:$left"; return 1; }
}

in_machine() { local p=$1 m=$2; shift 2; "$PLAYNET" exec "$p" "$m" -- "$@"; }
pings() { in_machine "$1" "$2" ping -c1 -W1 "$3" >/dev/null 2>&1; }

# The host netns, and an "internet" host behind it (inet_lib.sh).
ip netns add "$HOST"
. tests/netns/inet_lib.sh
inet_up

M=tests/netns/routing-netns.yaml

# --- up, objects, rulesets ---------------------------------------------
expect_status "up" 0 "$PLAYNET" up --name "$P1" "$M"
expect_stderr_has "up says so" "playground $P1 is up"
for ns in pg-$P1 pg-$P1.leaf-01 pg-$P1.router pg-$P1.leaf-02 pg-$P1.web-1 pg-$P1.web-2; do
	[ -e "/run/netns/$ns" ] && pass "netns $ns" || fail "netns $ns"
done
# counters as "counter": what they count is the hostile suite's to check
ip netns exec "pg-$P1" nft list ruleset 2>&1 |
	sed 's/counter packets [0-9]* bytes [0-9]*/counter/' >"$T_TMP/pg.nft"
if diff -u tests/netns/golden/playground.nft "$T_TMP/pg.nft" >"$T_TMP/d"; then pass "playground ruleset"; else fail "playground ruleset" "$(cat "$T_TMP/d")"; fi
ip netns exec "$HOST" nft list table ip playnet >"$T_TMP/host.nft" 2>&1
if diff -u tests/netns/golden/host.nft "$T_TMP/host.nft" >"$T_TMP/d"; then pass "host ruleset"; else fail "host ruleset" "$(cat "$T_TMP/d")"; fi
[ "$(ip netns exec "pg-$P1" cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo 0)" = 0 ] &&
	pass "bridge netfilter off" || fail "bridge netfilter off"
[ "$(ip netns exec "pg-$P1" cat /proc/sys/net/ipv6/conf/default/disable_ipv6)" = 1 ] &&
	[ -z "$(ip -n "pg-$P1" -6 -o addr show | awk '$2 != "lo"')" ] &&
	pass "no IPv6 on fabric links" || fail "no IPv6 on fabric links"
# not even a multicast route per uplink in the host netns, where they add up
[ "$(ip netns exec "$HOST" cat "/proc/sys/net/ipv6/conf/pn-$P1/disable_ipv6")" = 1 ] &&
	[ -z "$(ip -n "$HOST" -6 route show table all dev "pn-$P1")" ] &&
	pass "no IPv6 on the uplink's host end" ||
	fail "no IPv6 on the uplink's host end" "$(ip -n "$HOST" -6 route show table all)"

expect_status "ls" 0 "$PLAYNET" ls
expect_stdout_has "ls lists it" "$P1"
expect_status "ls json" 0 "$PLAYNET" ls --json
expect_stdout_has "ls json lists it" "\"name\": \"$P1\""
expect_status "show" 0 "$PLAYNET" show "$P1"
expect_stdout_has "show status" "status ready"
expect_status "show json" 0 "$PLAYNET" show --json "$P1"
expect_stdout_has "show json status" '"status": "ready"'
expect_stdout_has "show json transit" '"transit": {'

# --- connectivity ----------------------------------------------------------
pings "$P1" web-1 172.16.0.3 && pass "same network" || fail "same network"
pings "$P1" web-1 172.16.0.1 && pass "gateway" || fail "gateway"
pings "$P1" leaf-01 192.168.178.2 && pass "private network" || fail "private network"

# the routing challenge: no way across until the learner builds one
pings "$P1" leaf-01 10.0.0.20 && fail "leaf-01 cannot reach leaf-02 yet" || pass "leaf-01 cannot reach leaf-02 yet"
in_machine "$P1" leaf-01 ip route add 10.0.0.0/16 via 192.168.178.2
in_machine "$P1" leaf-02 ip route add 192.168.178.0/24 via 10.0.0.2
pings "$P1" leaf-01 10.0.0.20 && fail "no forwarding on the router: still no way" || pass "no forwarding on the router: still no way"
in_machine "$P1" router sysctl -qw net.ipv4.ip_forward=1
pings "$P1" leaf-01 10.0.0.20 && pass "routed through the router" || fail "routed through the router"

# egress through both NATs
before=$(inet_count host)
pings "$P1" web-1 203.0.113.2 && pass "internet reachable" || fail "internet reachable"
after=$(inet_count host)
[ "$after" -gt "$before" ] && pass "internet sees the host's address" || fail "internet sees the host's address" "$before -> $after"
[ "$(inet_count other)" = 0 ] && pass "no other source seen" || fail "no other source seen"
pings "$P1" leaf-01 203.0.113.2 && fail "private network reaches nothing outside" || pass "private network reaches nothing outside"
pings "$P1" router 203.0.113.2 && fail "router without egress reaches nothing outside" || pass "router without egress reaches nothing outside"
pings "$P1" web-1 203.0.113.1 && fail "host address unreachable" || pass "host address unreachable"
pings "$P1" web-1 100.64.0.0 && fail "transit address unreachable" || pass "transit address unreachable"

# --- a twin playground, side by side ------------------------------------------
expect_status "twin up" 0 "$PLAYNET" up --name "$P2" "$M"
pings "$P2" web-1 203.0.113.2 && pass "twin reaches internet" || fail "twin reaches internet"
for p in $P1 $P2; do
	in_machine "$p" web-2 nft add table ip c
	in_machine "$p" web-2 nft add chain ip c in '{ type filter hook input priority 0; }'
	in_machine "$p" web-2 nft add rule ip c in icmp type echo-request counter
done
for i in 1 2 3; do pings "$P1" web-1 172.16.0.3; done
seen() { in_machine "$1" web-2 nft list chain ip c in | awk '/counter/ {print $(NF-2)}'; }
[ "$(seen "$P1")" = 3 ] && pass "own twin sees the pings" || fail "own twin sees the pings" "$(seen "$P1")"
[ "$(seen "$P2")" = 0 ] && pass "other twin sees nothing" || fail "other twin sees nothing" "$(seen "$P2")"
pings "$P1" web-1 100.64.0.2 && fail "other playground's transit unreachable" || pass "other playground's transit unreachable"

# --- guards ------------------------------------------------------------------
stat_row() { "$PLAYNET" stats "$1" 2>/dev/null | awk -v dev="$2" '$1 == dev'; }
expect_status "stats" 0 "$PLAYNET" stats "$P1"
expect_stdout_has "stats lists the uplink" "pn-$P1"
expect_status "stats json" 0 "$PLAYNET" stats --json "$P1"
expect_stdout_has "stats json total" '"total": {'
expect_status "stats unknown playground" 1 "$PLAYNET" stats "pt$ID-zz"
mac=$(in_machine "$P1" web-2 ip -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
pings "$P1" web-2 172.16.0.2 && pass "before the MAC change" || fail "before the MAC change"
in_machine "$P1" web-2 ip link set eth0 address 02:00:00:00:00:99
pings "$P1" web-2 172.16.0.2 && fail "a changed MAC is cut off" || pass "a changed MAC is cut off"
stat_row "$P1" v-web-2-0 | grep -q "src_mac=" && pass "spoofed MAC counted" || fail "spoofed MAC counted" "$(stat_row "$P1" v-web-2-0)"
in_machine "$P1" web-2 ip link set eth0 address "$mac"
pings "$P1" web-2 172.16.0.2 && pass "the assigned MAC works again" || fail "the assigned MAC works again"
for dst in 169.254.169.254 203.0.113.1 100.64.0.2; do
	pings "$P1" web-1 "$dst" && fail "uplink guard: $dst unreachable" || pass "uplink guard: $dst unreachable"
done
deny=$(stat_row "$P1" "pn-$P1" | grep -o 'uplink_deny=[0-9]*' | cut -d= -f2)
[ "${deny:-0}" -ge 3 ] && pass "uplink drops counted" || fail "uplink drops counted" "$(stat_row "$P1" "pn-$P1")"
pings "$P1" web-1 203.0.113.2 && pass "internet still reachable with guards" || fail "internet still reachable with guards"

# an operator exception: a host on a private address behind the host netns,
# denied by default, reachable once allowed (own state dir: the deny list is
# shared by every playground of a state dir)
ip -n "$INET" addr add 10.250.0.2/32 dev eth0
ip -n "$HOST" route add 10.250.0.2/32 via 203.0.113.2
S3=$T_TMP/state3
B3=$PLAYNET_BPF_DIR-3
expect_status "same host netns, same pool" 1 env PLAYNET_STATE_DIR="$S3" PLAYNET_BPF_DIR="$B3" "$PLAYNET" up --name "pt$ID-d" "$M"
expect_stderr_has "same pool message" "transit address 100.64.0.0 is already in use in the host netns"
out=$(PLAYNET_STATE_DIR=$S3 nothing_of "pt$ID-d") && pass "same pool: nothing made" || fail "same pool: nothing made" "$out"
export PLAYNET_TRANSIT_POOL=100.100.0.0/24
printf '# test\nallow 10.250.0.2/32\n\ndeny 198.51.100.0/24\n' >"$T_TMP/guard.conf"
printf 'allow 10.250.0.2\n' >"$T_TMP/bad.conf"
expect_status "bad guard config" 1 env PLAYNET_STATE_DIR="$S3" PLAYNET_BPF_DIR="$B3" "$PLAYNET" --guard-config "$T_TMP/bad.conf" up --name "pt$ID-d" "$M"
expect_stderr_has "bad guard config message" "bad.conf:1:1: allow: expected one IPv4 CIDR"
expect_status "up without exception" 0 env PLAYNET_STATE_DIR="$S3" PLAYNET_BPF_DIR="$B3" "$PLAYNET" up --name "pt$ID-d" "$M"
PLAYNET_STATE_DIR=$S3 PLAYNET_BPF_DIR=$B3 pings "pt$ID-d" web-1 10.250.0.2 && fail "private host denied by default" || pass "private host denied by default"
expect_status "down" 0 env PLAYNET_STATE_DIR="$S3" PLAYNET_BPF_DIR="$B3" "$PLAYNET" down "pt$ID-d"
expect_status "up with exception" 0 env PLAYNET_STATE_DIR="$S3" PLAYNET_BPF_DIR="$B3" "$PLAYNET" --guard-config "$T_TMP/guard.conf" up --name "pt$ID-d" "$M"
PLAYNET_STATE_DIR=$S3 PLAYNET_BPF_DIR=$B3 pings "pt$ID-d" web-1 10.250.0.2 && pass "exception wins over the deny list" || fail "exception wins over the deny list"
expect_status "down again" 0 env PLAYNET_STATE_DIR="$S3" PLAYNET_BPF_DIR="$B3" "$PLAYNET" down "pt$ID-d"

# an egress rate: 8kbit is 1000 bytes/s, so a burst of large pings overflows
# the bucket (16 KiB) and the drops are counted
expect_status "bad rate" 2 "$PLAYNET" --uplink-rate fast up --name "pt$ID-d" "$M"
expect_status "up with a rate" 0 env PLAYNET_STATE_DIR="$S3" PLAYNET_BPF_DIR="$B3" "$PLAYNET" --uplink-rate 8kbit up --name "pt$ID-d" "$M"
PLAYNET_STATE_DIR=$S3 PLAYNET_BPF_DIR=$B3 in_machine "pt$ID-d" web-1 ping -q -c 40 -i 0.01 -s 1400 -W1 203.0.113.2 >/dev/null 2>&1
rate=$(PLAYNET_STATE_DIR=$S3 PLAYNET_BPF_DIR=$B3 stat_row "pt$ID-d" "pn-pt$ID-d" | grep -o 'uplink_rate=[0-9]*' | cut -d= -f2)
[ "${rate:-0}" -gt 0 ] && pass "egress over the rate dropped and counted" || fail "egress over the rate dropped and counted" "$(PLAYNET_STATE_DIR=$S3 PLAYNET_BPF_DIR=$B3 stat_row "pt$ID-d" "pn-pt$ID-d")"
expect_status "down with a rate" 0 env PLAYNET_STATE_DIR="$S3" PLAYNET_BPF_DIR="$B3" "$PLAYNET" down "pt$ID-d"
unset PLAYNET_TRANSIT_POOL

# --- exec ------------------------------------------------------------------
expect_status "exec status passes through" 7 "$PLAYNET" exec "$P1" web-1 -- sh -c 'exit 7'
expect_status "exec on a VM" 1 "$PLAYNET" exec "$P1" vm -- true
expect_stderr_has "exec on a VM that is not running says so" "/vm: the VM is not running"
expect_status "exec unknown machine" 1 "$PLAYNET" exec "$P1" nope -- true
expect_status "exec unknown playground" 1 "$PLAYNET" exec "pt$ID-zz" web-1 -- true
expect_status "exec usage" 2 "$PLAYNET" exec "$P1" web-1 true

# --- show notices what was removed behind its back -------------------------------
ip -n "pg-$P2" link del br-net-1
expect_status "show degraded" 0 "$PLAYNET" show "$P2"
expect_stdout_has "show names the missing bridge" "missing: bridge br-net-1 (network net-1) is missing"
expect_stdout_has "show status degraded" "status degraded"
expect_stdout_has "show names the detached port" "veth v-leaf-01-0 is not attached to its bridge"

# --- down ----------------------------------------------------------------------
expect_status "down" 0 "$PLAYNET" down "$P2"
out=$(nothing_of "$P2") && pass "down leaves nothing" || fail "down leaves nothing" "$out"
expect_status "down again" 0 "$PLAYNET" down "$P2"
expect_status "down never made" 0 "$PLAYNET" down "pt$ID-zz"
pings "$P1" web-1 203.0.113.2 && pass "first playground unharmed" || fail "first playground unharmed"

# --- bad input: clear error, nothing created ---------------------------------------
# --direct answers as netd does (one backend): the same manifest again is
# up already, another one under the same name a conflict.
expect_status "up again, same manifest" 0 "$PLAYNET" up --name "$P1" "$M"
expect_stderr_has "up again message" "playground $P1 is up already, from the same manifest"
expect_status "exists already" 1 "$PLAYNET" up --name "$P1" manifests/single-vm.yaml
expect_stderr_has "exists already message" "a playground of that name exists with another manifest"
pings "$P1" web-1 172.16.0.3 && pass "existing one untouched" || fail "existing one untouched"
expect_status "name too long" 1 "$PLAYNET" up --name "pt$ID-abcdefghijabcdefghijabcdefghij" "$M"
expect_stderr_has "name too long message" "invalid playground name"
expect_status "missing host netns" 1 env PLAYNET_HOST_NETNS="pnt-nope$ID" "$PLAYNET" up --name "$P3" "$M"
expect_stderr_has "missing host netns message" "host netns 'pnt-nope$ID': No such file or directory"
out=$(nothing_of "$P3") && pass "missing host netns: nothing made" || fail "missing host netns: nothing made" "$out"
expect_status "bad manifest" 1 "$PLAYNET" up --name "$P3" tests/bad/unknown-network.yaml
out=$(nothing_of "$P3") && pass "bad manifest: nothing made" || fail "bad manifest: nothing made" "$out"
expect_status "down bad name" 1 "$PLAYNET" down "../x"

# transit pool exhausted: a pool of one /31, with its own state dir
S2=$T_TMP/state2
B2=$PLAYNET_BPF_DIR-2
expect_status "small pool first" 0 env PLAYNET_STATE_DIR="$S2" PLAYNET_BPF_DIR="$B2" "$PLAYNET" --transit-pool 100.127.0.0/31 up --name "pt$ID-d" "$M"
expect_status "small pool exhausted" 1 env PLAYNET_STATE_DIR="$S2" PLAYNET_BPF_DIR="$B2" "$PLAYNET" --transit-pool 100.127.0.0/31 up --name "pt$ID-e" "$M"
expect_stderr_has "exhausted message" "transit pool 100.127.0.0/31 is exhausted"
out=$(PLAYNET_STATE_DIR=$S2 nothing_of "pt$ID-e") && pass "exhausted: nothing made" || fail "exhausted: nothing made" "$out"
expect_status "small pool down" 0 env PLAYNET_STATE_DIR="$S2" PLAYNET_BPF_DIR="$B2" "$PLAYNET" down "pt$ID-d"
expect_status "small pool reusable" 0 env PLAYNET_STATE_DIR="$S2" PLAYNET_BPF_DIR="$B2" "$PLAYNET" --transit-pool 100.127.0.0/31 up --name "pt$ID-e" tests/netns/routing-netns.yaml
expect_status "small pool down again" 0 env PLAYNET_STATE_DIR="$S2" PLAYNET_BPF_DIR="$B2" "$PLAYNET" down "pt$ID-e"
expect_status "bad pool" 2 "$PLAYNET" --transit-pool 100.64.0.1/10 ls

# --- a failure at every step of create leaves nothing -------------------------------
F=pt$ID-f
steps=0
for n in $(seq 1 200); do
	PLAYNET_TEST_FAIL_STEP=$n "$PLAYNET" up --name "$F" "$M" >"$T_TMP/out" 2>"$T_TMP/err"
	st=$?
	if [ $st -eq 0 ]; then
		steps=$((n - 1))
		break
	fi
	if [ $st -ne 3 ] || ! grep -q "failure injected at step $n" "$T_TMP/err"; then
		fail "fail at step $n" "exit $st: $(head -c 300 "$T_TMP/err")"
		break
	fi
	if ! out=$(nothing_of "$F"); then
		fail "fail at step $n leaves nothing" "$out: $(cat "$T_TMP/err")"
		"$PLAYNET" down "$F" >/dev/null 2>&1
	fi
done
[ "$steps" -ge 20 ] && pass "failure injected at each of $steps steps, nothing left" || fail "failure injection covered $steps steps"
expect_status "past the last step, up worked" 0 "$PLAYNET" show "$F"
expect_stdout_has "and the playground is ready" "status ready"
expect_status "and down" 0 "$PLAYNET" down "$F"

expect_status "final down" 0 "$PLAYNET" down "$P1"
out=$(nothing_of "$P1") && pass "final down leaves nothing" || fail "final down leaves nothing" "$out"
ls "$PLAYNET_STATE_DIR"/transit | grep -q . && fail "transit records left" || pass "no transit records left"
for d in "$PLAYNET_BPF_DIR" "$B2" "$B3"; do
	[ -e "$d" ] && fail "BPF maps unpinned with the last playground ($d)" || pass "BPF maps unpinned with the last playground"
done

t_done
