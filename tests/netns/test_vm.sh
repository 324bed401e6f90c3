#!/usr/bin/env bash
# Real VMs on the fabric, as root: QEMU (microvm, TCG here) boots the test
# guest of scripts/build-guest.sh on each machine's taps, through netd,
# playnet and vmlaunch (sanitizer builds). The routing challenge with three
# VMs, NAT egress and isolation from two more, a crash, graceful stops.
# Everything runs in namespaces of the test's own; every VMM it started is
# stopped by its pid, whatever happened.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_setup
. tests/netns/netd_lib.sh
PLAYNET=${PLAYNET:-$PWD/build/asan/bin/playnet}
VMLAUNCH=${VMLAUNCH:-$PWD/build/asan/bin/vmlaunch}
NETD=${NETD:-$PWD/build/asan/bin/netd}
export PLAYNET_NETD=$NETD
export ASAN_OPTIONS=detect_leaks=1:exitcode=99
need_root "VM tests" || exit 1

T0=$(date +%s)
GUEST=$(scripts/build-guest.sh "$PWD/build/guest") || {
	fail "the test guest builds"
	exit 1
}
pass "the test guest builds"
export PLAYNET_GUEST_DIR=$GUEST

test_env pnv
INET=pnv-i$ID
P1=pv$ID-r
P2=pv$ID-n
P3=pv$ID-g
VMDIR=$PLAYNET_STATE_DIR/vm

cleanup() {
	# playnet only while our netd lives: it would start another one.
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		"$PLAYNET" down "$P1" >/dev/null 2>&1
		"$PLAYNET" down "$P2" >/dev/null 2>&1
		"$PLAYNET" down "$P3" >/dev/null 2>&1
	fi
	stop_netd
	local st pid
	for st in "$VMDIR"/*/*.status; do
		[ -e "$st" ] || continue
		pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$st")
		[ -n "$pid" ] && [ "$pid" -gt 0 ] && kill -9 "$pid" 2>/dev/null
	done
	ip netns del "$INET" 2>/dev/null
	remove_test_env "pv$ID"
}
trap cleanup EXIT

# The test's internet host behind its host netns (inet_lib.sh).
. tests/netns/inet_lib.sh
inet_up

start_netd || exit 1

# wait_log P MACHINE PATTERN [SECONDS]: the console log shows PATTERN
# (an extended regex) within SECONDS (default 120).
wait_log() {
	local log=$VMDIR/$1/$2.log i
	for i in $(seq 1 $((${4:-120} * 5))); do
		grep -aqE -- "$3" "$log" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# on P MACHINE CMD: types CMD at the console, as a person would, and
# prints its exit status once the guest has run it.
# (The count lives in a file: "$(on ...)" runs in a subshell.)
on() {
	local N
	N=$(($(cat "$T_TMP/marks" 2>/dev/null || echo 0) + 1))
	echo "$N" >"$T_TMP/marks"
	echo "$3; echo MARK-$N-\$?" | "$PLAYNET" console "$1" "$2" >/dev/null 2>&1
	wait_log "$1" "$2" "^MARK-$N-[0-9]+" 60 || { echo timeout; return; }
	grep -aoE "^MARK-$N-[0-9]+" "$VMDIR/$1/$2.log" | tail -1 | sed 's/.*-//'
}

# has P MACHINE TEXT NAME: the console log has TEXT (fixed string).
has() {
	if grep -aqF -- "$3" "$VMDIR/$1/$2.log"; then pass "$4"; else
		fail "$4" "$2's console lacks '$3': $(grep -a 'playnet:' "$VMDIR/$1/$2.log" | tail -5)"; fi
}

# --- bad input changes nothing -------------------------------------------
expect_status "up --vms with an image drive" 1 "$PLAYNET" up tests/netns/vm-bad-drive.yaml --name "pv$ID-x" --vms
expect_stderr_has "the drive is named, with its line" "vm-bad-drive.yaml:8:11: machine vm-1: drives[0].source 'oci://"
[ ! -e /run/netns/pg-pv$ID-x ] && pass "nothing made for it" || fail "nothing made for it"
expect_status "up --vms, bad backend" 2 "$PLAYNET" up tests/netns/vm-nat.yaml --name "$P2" --vms --backend xen
expect_stderr_has "the backend is named" "--backend: expected qemu, firecracker or cloud-hypervisor, got 'xen'"
expect_status "up --vms, guest missing" 1 env PLAYNET_GUEST_DIR=/nonexistent "$PLAYNET" up tests/netns/vm-nat.yaml --name "$P2" --vms
expect_stderr_has "says how to build the guest" "scripts/build-guest.sh"
[ ! -e "/run/netns/pg-$P2" ] && pass "nothing made for them" || fail "nothing made for them"
expect_status "up --vms, no such VMM" 1 "$PLAYNET" up tests/netns/vm-nat.yaml --name "$P2" --vms --vmm /nonexistent/qemu
expect_stderr_has "the VMM is named" "/nonexistent/qemu is not installed"
expect_status "vmlaunch start, no such playground" 1 "$VMLAUNCH" start "pv$ID-nosuch"
expect_stderr_has "vmlaunch says so" "no playground named pv$ID-nosuch"

# --- the routing challenge with three VMs ------------------------------------
expect_status "up --vms" 0 "$PLAYNET" up manifests/routing-challenge.yaml --name "$P1" --vms
expect_stderr_has "up names each VM" "leaf-01: qemu ("
expect_stderr_has "up says how to get in" "playnet console $P1 MACHINE"
for m in leaf-01 router leaf-02; do
	wait_log "$P1" "$m" "^playnet: up $m" || fail "$m boots" "$(tail -c 600 "$VMDIR/$P1/$m.log")"
done
pass "three VMs booted"
has "$P1" leaf-01 "playnet: eth0 192.168.178.10/24 router - dns -" "leaf-01 got its planned address by DHCP"
has "$P1" leaf-02 "playnet: eth0 10.0.0.20/16 router - dns -" "leaf-02 got its planned address by DHCP"
has "$P1" router "playnet: eth0 192.168.178.2/24" "router got eth0's address"
has "$P1" router "playnet: eth1 10.0.0.2/16" "router got eth1's address"
has "$P1" leaf-01 "lease 4294967295" "the lease is infinite"
expect_status "vmlaunch ls" 0 "$VMLAUNCH" ls "$P1" --json
accel=$(grep -o '"accel": "[a-z]*"' "$T_TMP/out" | sort -u)
case "$accel" in '"accel": "tcg"' | '"accel": "kvm"') pass "one accelerator chosen: $accel" ;; *) fail "accelerator" "$accel" ;; esac
expect_status "show" 0 "$PLAYNET" show "$P1"
expect_stdout_has "show lists the VMs" "VM       STATE    BACKEND  ACCEL"
[ "$(grep -c ' running  qemu ' "$T_TMP/out")" = 3 ] && pass "three running" || fail "three running" "$(cat "$T_TMP/out")"

[ "$(on "$P1" leaf-01 'ping -c 1 -W 2 10.0.0.20 >/dev/null 2>&1')" != 0 ] &&
	pass "leaf-01 cannot reach leaf-02 yet" || fail "leaf-01 cannot reach leaf-02 yet"
[ "$(on "$P1" router 'echo 1 > /proc/sys/net/ipv4/ip_forward')" = 0 ] && pass "router forwards" || fail "router forwards"
[ "$(on "$P1" leaf-01 'ip route add 10.0.0.0/16 via 192.168.178.2')" = 0 ] && pass "route on leaf-01" || fail "route on leaf-01"
[ "$(on "$P1" leaf-02 'ip route add 192.168.178.0/24 via 10.0.0.2')" = 0 ] && pass "route on leaf-02" || fail "route on leaf-02"
[ "$(on "$P1" leaf-01 'ping -c 3 -W 2 10.0.0.20')" = 0 ] &&
	pass "leaf-01 reaches leaf-02 through the router" || fail "leaf-01 reaches leaf-02 through the router"
grep -aE 'playnet:|MARK-|ping|bytes from|packets' "$VMDIR/$P1/leaf-01.log" | tr -d '\r' >"$T_TMP/routing-console"
echo "--- leaf-01's console:"; sed 's/^/    /' "$T_TMP/routing-console"

expect_status "vmlaunch stop" 0 "$VMLAUNCH" stop "$P1" --timeout 30
[ "$(grep -c ': stopped$' "$T_TMP/out")" = 3 ] && pass "three stopped" || fail "three stopped" "$(cat "$T_TMP/out")"
for m in leaf-01 router leaf-02; do
	has "$P1" "$m" "playnet: power button, powering off" "$m powered off by its power button"
done
expect_status "start again" 0 "$VMLAUNCH" start "$P1" --machine leaf-01 --accel tcg
expect_stdout_has "only leaf-01" "leaf-01: qemu (tcg"
expect_status "start it again" 0 "$VMLAUNCH" start "$P1" --machine leaf-01
expect_stdout_has "nothing to start" "nothing to start"
expect_status "start an unknown machine" 1 "$VMLAUNCH" start "$P1" --machine nosuch
expect_stderr_has "the machine is named" "has no machine 'nosuch'"
expect_status "config of a running playground" 0 "$VMLAUNCH" config "$P1" leaf-02 --accel tcg
expect_stdout_has "on its tap" "tap,id=n0,ifname=t-leaf-02-0,script=no,downscript=no"
expect_stdout_has "with its MAC" "virtio-net-device,netdev=n0,mac=$(sed -n 's/.*leaf-02 .*\(02\(:[0-9a-f][0-9a-f]\)\{5\}\).*/\1/p' <("$PLAYNET" show "$P1"))"
expect_status "down with a VM running" 0 "$PLAYNET" down "$P1"
expect_stderr_has "down stops the VM first" "stopped 1 VM of $P1"
[ ! -e "$VMDIR/$P1" ] && pass "the VMs' files go with it" || fail "the VMs' files go with it" "$(ls "$VMDIR/$P1")"

# --- NAT egress and isolation ---------------------------------------------------
expect_status "up --vms, with words for the kernel" 0 "$PLAYNET" up tests/netns/vm-nat.yaml --name "$P2" --vms \
	--append 'web=pn_run="echo RUN-$((6*7))"' --append db=pn_forward=1
for m in web db; do
	wait_log "$P2" "$m" "^playnet: up $m" || fail "$m boots" "$(tail -c 600 "$VMDIR/$P2/$m.log")"
done
has "$P2" web "playnet: eth0 172.16.0.10/24 router 172.16.0.1" "web has its address and the gateway by DHCP"
wait_log "$P2" web "^RUN-42" 10 && pass "the command on the kernel command line ran" || fail "the command on the kernel command line ran"
has "$P2" db "playnet: forwarding on" "forwarding asked for on the kernel command line"
has "$P2" db "playnet: eth0 10.9.0.10/24 router - dns -" "db: address, no router"

before=$(inet_count host)
[ "$(on "$P2" web 'ping -c 2 -W 2 203.0.113.2')" = 0 ] && pass "web reaches the internet host" || fail "web reaches the internet host"
after=$(inet_count host)
[ "$after" -gt "$before" ] && pass "which sees the host netns's egress address" || fail "which sees the host netns's egress address" "$before -> $after"
[ "$(inet_count other)" = 0 ] && pass "and no other source" || fail "and no other source"
[ "$(on "$P2" db 'ping -c 1 -W 2 203.0.113.2')" != 0 ] && pass "db on a private network reaches nothing outside" || fail "db on a private network reaches nothing outside"
[ "$(on "$P2" web 'ping -c 1 -W 2 203.0.113.1')" != 0 ] && pass "host address unreachable" || fail "host address unreachable"
[ "$(on "$P2" web 'wget -q -T 2 -O - http://169.254.169.254/')" != 0 ] && pass "169.254.169.254 unreachable" || fail "169.254.169.254 unreachable"
[ "$(on "$P2" web 'ping -c 1 -W 2 169.254.169.254')" != 0 ] && pass "169.254.169.254 does not answer ping" || fail "169.254.169.254 does not answer ping"

"$PLAYNET" stats "$P2" --json >"$T_TMP/s0" 2>&1
src_mac() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(i["drops"]["src_mac"] for i in d["interfaces"] if i["machine"]=="web/eth0"))' "$1"; }
[ "$(on "$P2" web 'ip link set eth0 down; ip link set eth0 address 02:00:00:00:00:99; ip link set eth0 up; ping -c 3 -W 1 172.16.0.1')" != 0 ] &&
	pass "a changed MAC gets nowhere" || fail "a changed MAC gets nowhere"
"$PLAYNET" stats "$P2" --json >"$T_TMP/s1" 2>&1
[ "$(src_mac "$T_TMP/s1")" -gt "$(src_mac "$T_TMP/s0")" ] && pass "its frames are dropped and counted" ||
	fail "its frames are dropped and counted" "$(cat "$T_TMP/s1")"

# --- the NAT-gateway challenge, solved in the toolkit guest --------------------
# The learner's side of manifests/nat-gateway.yaml: the clients on the
# private network route through the gateway, which forwards and
# masquerades with nft out of its outside interface; the kernel loads
# netfilter's modules as nft asks for them.
expect_status "up --vms, the NAT-gateway challenge" 0 "$PLAYNET" up manifests/nat-gateway.yaml --name "$P3" --vms
for m in gateway client-1 client-2; do
	wait_log "$P3" "$m" "^playnet: up $m" || fail "$m boots" "$(tail -c 600 "$VMDIR/$P3/$m.log")"
done
has "$P3" gateway "playnet: eth0 172.16.0.2/24 router 172.16.0.1" "the gateway's outside address, with the fabric's router"
has "$P3" gateway "playnet: eth1 192.168.10.1/24 router - dns -" "the gateway's inside address"
has "$P3" client-1 "playnet: eth0 192.168.10.2/24 router - dns -" "client-1's address, no router"
has "$P3" client-2 "playnet: eth0 192.168.10.3/24 router - dns -" "client-2's address, no router"
wait_log "$P3" gateway "^gateway:[^ ]*# " 30 && pass "the prompt names the machine" ||
	fail "the prompt names the machine" "$(tail -c 300 "$VMDIR/$P3/gateway.log")"
for c in client-1 client-2; do
	[ "$(on "$P3" "$c" 'ip route add default via 192.168.10.1')" = 0 ] &&
		pass "$c routes through the gateway" || fail "$c routes through the gateway"
done
[ "$(on "$P3" client-1 'ping -c 1 -W 2 203.0.113.2')" != 0 ] &&
	pass "before the gateway is configured, client-1 reaches nothing" ||
	fail "before the gateway is configured, client-1 reaches nothing"
[ "$(on "$P3" gateway 'lsmod | grep -q ^nf_tables')" != 0 ] &&
	pass "no netfilter module is loaded before nft asks" || fail "no netfilter module is loaded before nft asks"
[ "$(on "$P3" gateway "sysctl -w net.ipv4.ip_forward=1 && nft add table ip nat && nft 'add chain ip nat post { type nat hook postrouting priority srcnat ; }' && nft add rule ip nat post oifname eth0 masquerade")" = 0 ] &&
	pass "the gateway forwards and masquerades, with nft" || fail "the gateway forwards and masquerades, with nft"
[ "$(on "$P3" gateway 'nft list ruleset | grep -q masquerade && lsmod | grep -q ^nft_masq')" = 0 ] &&
	pass "nft's rules are in, its modules loaded on demand" || fail "nft's rules are in, its modules loaded on demand"
before=$(inet_count host)
for c in client-1 client-2; do
	[ "$(on "$P3" "$c" 'ping -c 2 -W 2 203.0.113.2')" = 0 ] &&
		pass "$c reaches the internet host through the gateway" ||
		fail "$c reaches the internet host through the gateway"
done
after=$(inet_count host)
[ "$after" -ge $((before + 4)) ] && pass "which sees the host netns's egress address" ||
	fail "which sees the host netns's egress address" "$before -> $after"
[ "$(inet_count other)" = 0 ] && pass "and no other source" || fail "and no other source"
[ "$(on "$P3" client-1 'traceroute -n -m 2 -w 2 203.0.113.2')" = 0 ] && pass "traceroute runs" || fail "traceroute runs"
wait_log "$P3" client-1 "^ 1  192\.168\.10\.1 " 5 && pass "its first hop is the gateway" ||
	fail "its first hop is the gateway" "$(grep -a -A3 traceroute "$VMDIR/$P3/client-1.log" | tail -4)"
[ "$(on "$P3" gateway 'iptables -A FORWARD -i eth1 -o eth0 -j ACCEPT && iptables -S FORWARD | grep -q -- "-A FORWARD -i eth1 -o eth0 -j ACCEPT"')" = 0 ] &&
	pass "iptables (nft backend) works" || fail "iptables (nft backend) works"
[ "$(on "$P3" gateway '(sleep 1; ping -c 3 192.168.10.2 >/dev/null) & timeout 15 tcpdump -ni eth1 -c 2 icmp')" = 0 ] &&
	pass "tcpdump captures" || fail "tcpdump captures"
has "$P3" gateway "ICMP echo request" "tcpdump shows the echo requests"
[ "$(on "$P3" gateway 'ethtool -i eth0 | grep -q "driver: virtio_net" && ss -s >/dev/null && bridge link >/dev/null')" = 0 ] &&
	pass "ethtool, ss and bridge run" || fail "ethtool, ss and bridge run"
# (ESC [6n: the shell asking the terminal where its cursor is.)
grep -aE 'playnet:|MARK-|gateway:|nft|masquerade|ICMP' "$VMDIR/$P3/gateway.log" |
	tr -d '\r' | sed 's/\x1b\[6n//g' >"$T_TMP/nat-console"
echo "--- the gateway's console:"; sed 's/^/    /' "$T_TMP/nat-console"
expect_status "down the NAT-gateway challenge" 0 "$PLAYNET" down "$P3"

# --- a VMM that dies is reported -----------------------------------------------
dbpid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$VMDIR/$P2/db.status")
kill -9 "$dbpid"
for i in $(seq 1 50); do grep -q crashed "$VMDIR/$P2/db.status" && break; sleep 0.1; done
expect_status "show after a crash" 0 "$PLAYNET" show "$P2"
expect_stdout_has "show reports it" "crashed  qemu"
expect_stdout_has "with how it ended" "killed by signal 9"
expect_status "show --json after a crash" 0 "$PLAYNET" show --json "$P2"
expect_stdout_has "json too" '"state": "crashed"'
expect_status "console of a dead VM" 1 "$PLAYNET" console "$P2" db
expect_stderr_has "says it is not running" "no such VM running"
expect_status "console of no such machine" 1 "$PLAYNET" console "$P2" nosuch

webpid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$VMDIR/$P2/web.status")
expect_status "down" 0 "$PLAYNET" down "$P2"
kill -0 "$webpid" 2>/dev/null && fail "web's VMM is gone" || pass "web's VMM is gone"
left=$(leftovers "pv$ID")
[ -z "$left" ] && pass "nothing left" || fail "nothing left" "$left"
[ -z "$(ls "$VMDIR" 2>/dev/null | grep -v '^kvm-probe')" ] && pass "no VM files left" || fail "no VM files left" "$(ls "$VMDIR")"
echo "VM suite took $(($(date +%s) - T0)) s"
exit 0
