#!/usr/bin/env bash
# Real VMs on the fabric, as root: QEMU (microvm, TCG here) boots the test
# guest of scripts/build-guest.sh on each machine's taps, through netd,
# playnet and vmlaunch (sanitizer builds). The routing challenge with three
# VMs, NAT egress and isolation from two more, the NAT-gateway challenge,
# a crash, graceful stops; Debian 12 VMs from the image catalog with
# copy-on-write disks and blank drives; VMs from oci:// images pulled from
# a registry the test runs on loopback.
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
P4=pv$ID-d
P5=pv$ID-o
VMDIR=$PLAYNET_STATE_DIR/vm
# Catalog images are cached across runs in build/ (keyed by their inputs);
# oci:// images in a cache of this run's own, to count the pulls.
export PLAYNET_IMAGE_DIR=$PWD/build/images
OCI_CACHE=$T_TMP/images
REG_PID=

cleanup() {
	# playnet only while our netd lives: it would start another one.
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		"$PLAYNET" down "$P1" >/dev/null 2>&1
		"$PLAYNET" down "$P2" >/dev/null 2>&1
		"$PLAYNET" down "$P3" >/dev/null 2>&1
		"$PLAYNET" down "$P4" >/dev/null 2>&1
		PLAYNET_IMAGE_DIR=$OCI_CACHE "$PLAYNET" down "$P5" >/dev/null 2>&1
	fi
	[ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null
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
# prints its exit status once the guest has run it; at a login prompt (the
# toolkit guest's after a logout) it logs in as root first.
# (The count lives in a file: "$(on ...)" runs in a subshell.)
on() {
	local N i log=$VMDIR/$1/$2.log
	N=$(($(cat "$T_TMP/marks" 2>/dev/null || echo 0) + 1))
	echo "$N" >"$T_TMP/marks"
	if tail -c 200 "$log" | tr -d '\r' | tail -n 1 | grep -q 'login: $'; then
		echo root | "$PLAYNET" console "$1" "$2" >/dev/null 2>&1
		for i in $(seq 1 50); do tail -c 100 "$log" | grep -q '# ' && break; sleep 0.2; done
	fi
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
expect_stderr_has "the drive is named, with its line" "vm-bad-drive.yaml:11:19: machine vm-1: drives[0].source 'oci://ghcr.io/iximiuz/labs/Ubuntu:latest': 'iximiuz/labs/Ubuntu' is not a repository name"
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

# Solved and graded without a console: exec sets the routes, check grades.
# (The transcript goes to the log, as a teacher would see it.)
transcript() { echo "\$ playnet $*" >>"$T_TMP/routing-transcript"; "$PLAYNET" "$@" >>"$T_TMP/routing-transcript" 2>&1; }
transcript check "$P1"
[ $? = 1 ] && grep -q "FAIL leaf_01_reaches_leaf_02" "$T_TMP/routing-transcript" &&
	grep -q "3 checks, 3 failed" "$T_TMP/routing-transcript" &&
	pass "check fails before the learner's fix" || fail "check fails before the learner's fix" "$(cat "$T_TMP/routing-transcript")"
[ "$(on "$P1" leaf-01 'ping -c 1 -W 2 10.0.0.20 >/dev/null 2>&1')" != 0 ] &&
	pass "leaf-01 cannot reach leaf-02 yet (at its console)" || fail "leaf-01 cannot reach leaf-02 yet (at its console)"
transcript exec "$P1" router -- sysctl -w net.ipv4.ip_forward=1 && pass "exec: the router forwards" || fail "exec: the router forwards"
transcript exec "$P1" leaf-01 -- ip route add 10.0.0.0/16 via 192.168.178.2 && pass "exec: route on leaf-01" || fail "exec: route on leaf-01"
transcript exec "$P1" leaf-02 -- ip route add 192.168.178.0/24 via 10.0.0.2 && pass "exec: route on leaf-02" || fail "exec: route on leaf-02"
transcript check "$P1" && grep -q "3 checks, 0 failed" "$T_TMP/routing-transcript" &&
	pass "check passes once the routes are in" || fail "check passes once the routes are in" "$(cat "$T_TMP/routing-transcript")"
transcript exec "$P1" leaf-01 -- ping -c 2 -W 2 10.0.0.20
echo "--- the routing challenge, solved and graded with exec and check:"; sed 's/^/    /' "$T_TMP/routing-transcript"

# exec in a toolkit VM, over its agent's channel (not the lab's network).
expect_status "exec in a VM: the command's own status (7)" 7 \
	"$PLAYNET" exec "$P1" leaf-02 -- sh -c 'echo to-out; echo to-err >&2; exit 7'
[ "$(cat "$T_TMP/out")" = to-out ] && pass "exec: stdout apart" || fail "exec: stdout apart" "$(cat "$T_TMP/out")"
[ "$(cat "$T_TMP/err")" = to-err ] && pass "exec: stderr apart" || fail "exec: stderr apart" "$(cat "$T_TMP/err")"
expect_status "exec in a VM: status 0" 0 "$PLAYNET" exec "$P1" leaf-02 -- ip -4 -o addr show eth0
expect_stdout_has "exec runs in that VM" "inet 10.0.0.20/16"
expect_status "exec with stdin" 0 sh -c "echo typed-in | '$PLAYNET' exec '$P1' leaf-02 -- cat"
expect_stdout_has "exec passes stdin" "typed-in"
expect_status "exec --timeout: killed, 124" 124 "$PLAYNET" exec "$P1" leaf-02 --timeout 1 -- sleep 30
expect_stderr_has "exec says it timed out" "sleep timed out after 1 s and was killed"
expect_status "exec as a user the VM lacks" 1 "$PLAYNET" exec "$P1" leaf-02 --user nosuch -- id
expect_stderr_has "exec says there is no such user" "no user nosuch in the machine's /etc/passwd"
expect_status "exec in a machine the playground lacks" 1 "$PLAYNET" exec "$P1" nosuch -- true
api POST "/v1/playgrounds/$P1/machines/leaf-02/exec" --data-binary '{"command": ["sh", "-c", "hostname; echo e >&2; exit 7"]}'
[ "$CODE" = 200 ] && grep -qF '"exit_status":7' "$T_TMP/body" && grep -qF '"stdout":"leaf-02\n"' "$T_TMP/body" &&
	grep -qF '"stderr":"e\n"' "$T_TMP/body" && pass "exec in a VM through the API" ||
	fail "exec in a VM through the API" "HTTP $CODE $(head -c 300 "$T_TMP/body")"
api POST "/v1/playgrounds/$P1/machines/leaf-02/exec" --data-binary '{"command": ["sleep", "30"], "timeout_seconds": 1}'
[ "$CODE" = 200 ] && grep -qF '"timed_out":true' "$T_TMP/body" && pass "the API's timeout in a VM" ||
	fail "the API's timeout in a VM" "HTTP $CODE $(head -c 300 "$T_TMP/body")"
api POST "/v1/playgrounds/$P1/machines/leaf-02/exec" --data-binary '{"command": ["id"], "user": "nosuch"}'
[ "$CODE" = 422 ] && grep -qF '"code":"exec_failed"' "$T_TMP/body" && pass "the API: a user the VM lacks is a 422" ||
	fail "the API: a user the VM lacks is a 422" "HTTP $CODE $(head -c 300 "$T_TMP/body")"
expect_status "ssh into a toolkit VM, which runs no sshd" 255 "$PLAYNET" ssh "$P1" leaf-02 --fresh -- true
expect_stderr_has "the proxy says why" "no sshd listens on port 22 in the machine"
ip -n "pg-$P1" -br link >"$T_TMP/links"
[ "$(grep -c '^t-' "$T_TMP/links")" = 4 ] && pass "the agent adds no port to the fabric (4 taps)" ||
	fail "the agent adds no port to the fabric (4 taps)" "$(cat "$T_TMP/links")"

# A link down and up: the guest sees its carrier go (QEMU's set_link) and
# its pings fail; show says so. An impairment and a restart: the VM comes
# back on the same tap, MAC, address and impairment.
expect_status "link leaf-01/eth0 down" 0 "$PLAYNET" link "$P1" leaf-01/eth0 down
expect_status "read leaf-01's carrier" 0 "$PLAYNET" exec "$P1" leaf-01 -- cat /sys/class/net/eth0/carrier
[ "$(cat "$T_TMP/out")" = 0 ] && pass "the guest sees its carrier go" || fail "the guest sees its carrier go" "$(cat "$T_TMP/out")"
expect_status "no ping while the link is down" 1 "$PLAYNET" exec "$P1" leaf-01 -- ping -c 1 -W 2 10.0.0.20
expect_status "show" 0 "$PLAYNET" show "$P1"
expect_stdout_has "show says the link is down" "leaf-01/eth0: link down"
expect_status "link leaf-01/eth0 up" 0 "$PLAYNET" link "$P1" leaf-01/eth0 up
expect_status "read leaf-01's carrier again" 0 "$PLAYNET" exec "$P1" leaf-01 -- cat /sys/class/net/eth0/carrier
[ "$(cat "$T_TMP/out")" = 1 ] && pass "the carrier comes back" || fail "the carrier comes back" "$(cat "$T_TMP/out")"
back=1
for i in $(seq 1 10); do
	"$PLAYNET" exec "$P1" leaf-01 -- ping -c 1 -W 2 10.0.0.20 >/dev/null 2>&1 && { back=0; break; }
done
[ "$back" = 0 ] && pass "pings come back after up" || fail "pings come back after up"
expect_status "impair leaf-01/eth0" 0 "$PLAYNET" impair "$P1" leaf-01/eth0 rate 20mbit
mac=$("$PLAYNET" exec "$P1" leaf-01 -- cat /sys/class/net/eth0/address)
expect_status "restart leaf-01" 0 "$PLAYNET" restart "$P1" leaf-01
expect_stderr_has "restart says so" "leaf-01 of $P1 restarted, on the same taps"
# exec waits for the agent; the address comes with the guest's DHCP after.
for i in $(seq 1 30); do
	"$PLAYNET" exec "$P1" leaf-01 -- sh -c 'cat /sys/class/net/eth0/address; ip -4 -o addr show eth0' \
		>"$T_TMP/out" 2>"$T_TMP/err" && grep -q "inet " "$T_TMP/out" && break
	sleep 1
done
[ "$(head -n 1 "$T_TMP/out")" = "$mac" ] && pass "restart keeps the MAC ($mac)" || fail "restart keeps the MAC" "$mac -> $(cat "$T_TMP/out")"
expect_stdout_has "restart keeps the address" "inet 192.168.178.10/24"
tc -n "pg-$P1" qdisc show dev t-leaf-01-0 | grep -q "rate 20Mbit" && pass "restart keeps the impairment" ||
	fail "restart keeps the impairment" "$(tc -n "pg-$P1" qdisc show dev t-leaf-01-0)"
expect_status "restart a machine the playground lacks" 1 "$PLAYNET" restart "$P1" nosuch

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
# One console session at a time: a second is refused, never queued.
sleep 3 | "$PLAYNET" console "$P2" web >/dev/null 2>&1 &
first=$!
for i in $(seq 1 50); do [ -e "$VMDIR/$P2/web.console.lock" ] && break; sleep 0.1; done
sleep 0.5
expect_status "a second console session at once" 1 "$PLAYNET" console "$P2" web </dev/null
expect_stderr_has "is refused, and says why" "the console of $P2/web is in use by another session: one at a time"
wait "$first"
[ "$(on "$P2" web 'true')" = 0 ] && pass "once the first has left, the console is free" ||
	fail "once the first has left, the console is free"
# exit logs out to a fresh login prompt; a terminal's size reaches the
# guest at attach; leaving on a terminal says how.
prompts=$(grep -ac "web login: " "$VMDIR/$P2/web.log")
echo exit | "$PLAYNET" console "$P2" web >/dev/null 2>&1
for i in $(seq 1 50); do [ "$(grep -ac "web login: " "$VMDIR/$P2/web.log")" -gt "$prompts" ] && break; sleep 0.2; done
[ "$(grep -ac "web login: " "$VMDIR/$P2/web.log")" -gt "$prompts" ] && pass "exit at the console: a fresh login prompt" ||
	fail "exit at the console: a fresh login prompt" "$(tail -c 300 "$VMDIR/$P2/web.log")"
expect_status "a console on a 40x123 terminal" 0 python3 tests/netns/console_tty.py "$PLAYNET" "$P2" web 40 123
expect_stdout_has "the guest's terminal is 40x123" "40 123"
expect_stdout_has "leaving says how" "left the console (Ctrl-]); the VM runs on"
has "$P2" db "playnet: forwarding on" "forwarding asked for on the kernel command line"
has "$P2" db "playnet: eth0 10.9.0.10/24 router - dns -" "db: address, no router"
has "$P2" web "playnet: eth0 172.16.0.10/24 router 172.16.0.1 dns 172.16.0.1" "web: DHCP hands out its gateway as DNS"
[ "$(on "$P2" web 'nslookup db.back | grep -q 10.9.0.10')" = 0 ] &&
	pass "web resolves db.back at its gateway" || fail "web resolves db.back at its gateway"

before=$(inet_count host)
[ "$(on "$P2" web 'ping -c 2 -W 2 203.0.113.2')" = 0 ] && pass "web reaches the internet host" || fail "web reaches the internet host"
after=$(inet_count host)
[ "$after" -gt "$before" ] && pass "which sees the host netns's egress address" || fail "which sees the host netns's egress address" "$before -> $after"
[ "$(inet_count other)" = 0 ] && pass "and no other source" || fail "and no other source"
[ "$(on "$P2" db 'ping -c 1 -W 2 203.0.113.2')" != 0 ] && pass "db on a private network reaches nothing outside" || fail "db on a private network reaches nothing outside"
[ "$(on "$P2" web 'ping -c 1 -W 2 203.0.113.1')" != 0 ] && pass "host address unreachable" || fail "host address unreachable"
[ "$(on "$P2" web 'wget -q -T 2 -O - http://169.254.169.254/')" != 0 ] && pass "169.254.169.254 unreachable" || fail "169.254.169.254 unreachable"
[ "$(on "$P2" web 'ping -c 1 -W 2 169.254.169.254')" != 0 ] && pass "169.254.169.254 does not answer ping" || fail "169.254.169.254 does not answer ping"

# a forward into a VM: busybox httpd in web, reached from the internet host
expect_status "a web server in the VM" 0 "$PLAYNET" exec "$P2" web -- sh -c \
	'mkdir -p /tmp/www && echo vm-web >/tmp/www/index.html && busybox httpd -p 80 -h /tmp/www </dev/null >/dev/null 2>&1'
expect_status "forward web 80 to the host's 8080" 0 "$PLAYNET" forward "$P2" web 80 8080
got=$(ip netns exec "$INET" curl -s --max-time 5 http://203.0.113.1:8080/)
[ "$got" = vm-web ] && pass "the internet host reaches the VM's web server through host:8080" ||
	fail "the internet host reaches the VM's web server through host:8080" "got '$got'"
expect_status "remove the forward" 0 "$PLAYNET" forward "$P2" web --remove 8080
got=$(ip netns exec "$INET" curl -s --max-time 3 http://203.0.113.1:8080/)
[ -z "$got" ] && pass "removed: host:8080 reaches nothing" || fail "removed: host:8080 reaches nothing" "$got"

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

# --- Debian 12 from the image catalog: copy-on-write disks, blank drives -------
expect_status "validate: an image not in the catalog" 1 "$PLAYNET" validate tests/netns/vm-bad-image.yaml
expect_stderr_has "named at its line and column, with the catalog" \
	"vm-bad-image.yaml:10:19: machine vm-1: drives[0].source: no image 'ubuntu-24-04' in the catalog (it has debian-12; \`playnet image build NAME\` builds one"
expect_status "up --vms: an image not in the catalog" 1 "$PLAYNET" up tests/netns/vm-bad-image.yaml --name "pv$ID-x" --vms
expect_stderr_has "refused at its line and column" "vm-bad-image.yaml:10:19: machine vm-1: drives[0].source 'ubuntu-24-04': no image 'ubuntu-24-04'"
[ ! -e "/run/netns/pg-pv$ID-x" ] && pass "nothing made for it" || fail "nothing made for it"
sed 's/size: 512MiB/size: 256MiB/' tests/netns/vm-debian.yaml >"$T_TMP/vm-small-xfs.yaml"
expect_status "up --vms: an xfs drive too small" 1 "$PLAYNET" up "$T_TMP/vm-small-xfs.yaml" --name "pv$ID-x" --vms
expect_stderr_has "refused at its line and column" "vm-small-xfs.yaml:29:17: machine deb-a: drives[2]: an xfs file system needs at least 300MiB"
[ ! -e "/run/netns/pg-pv$ID-x" ] && pass "nothing made for it" || fail "nothing made for it"
sed 's/filesystem: xfs/filesystem: btrfs/' tests/netns/vm-debian.yaml >"$T_TMP/vm-btrfs.yaml"
expect_status "validate: a file system playnet does not make" 1 "$PLAYNET" validate "$T_TMP/vm-btrfs.yaml"
expect_stderr_has "refused at its line and column" "vm-btrfs.yaml:30:23: playground.machines[0].drives[2].filesystem: expected ext4 or xfs, got 'btrfs'"
expect_status "image build debian-12" 0 "$PLAYNET" image build debian-12
base=$(ls "$PLAYNET_IMAGE_DIR"/catalog/debian-12.*.ext4 2>/dev/null | head -n 1)
[ -n "$base" ] && [ "$(stat -c %a "$base")" = 444 ] &&
	pass "the base image is cached, read-only" || fail "the base image is cached, read-only" "$base"
expect_status "image build again" 0 "$PLAYNET" image build debian-12
expect_stderr_has "comes from the cache" "image debian-12: cached: $base"
expect_status "image ls" 0 "$PLAYNET" image ls
grep -qE "^debian-12 +[0-9]+ MiB  $base\$" "$T_TMP/out" && pass "image ls shows it with its size" ||
	fail "image ls shows it with its size" "$(cat "$T_TMP/out")"
sum0=$(sha256sum <"$base")
expect_status "up --vms, two Debian VMs from one base" 0 "$PLAYNET" up tests/netns/vm-debian.yaml --name "$P4" --vms
expect_stderr_has "up runs the init task once deb-b has booted" "task init_deb_b: done (exit status 0)"
for m in deb-a deb-b; do
	wait_log "$P4" "$m" "root@$m:~# " 300 && pass "$m boots to its console's root shell" ||
		fail "$m boots to its console's root shell" "$(tail -c 800 "$VMDIR/$P4/$m.log")"
done
has "$P4" deb-a "playnet: /dev/vdb on /data (ext4)" "deb-a's ext4 drive mounted by the guest's init"
has "$P4" deb-a "playnet: /dev/vdc on /logs (xfs)" "deb-a's xfs drive mounted by the guest's init"
has "$P4" deb-a "playnet: root grown to its disk" "deb-a's root grown"
[ "$(on "$P4" deb-a 'systemctl is-system-running --wait; systemctl is-active multi-user.target')" = 0 ] &&
	pass "deb-a reached systemd's multi-user target" || fail "deb-a reached systemd's multi-user target"
[ "$(on "$P4" deb-b 'systemctl is-system-running --wait; systemctl is-active multi-user.target')" = 0 ] &&
	pass "deb-b reached systemd's multi-user target" || fail "deb-b reached systemd's multi-user target"
for m in deb-a:172.16.5.10 deb-b:172.16.5.11; do
	[ "$(on "$P4" "${m%%:*}" "for i in \$(seq 60); do ip -4 -o addr show eth0 | grep -q 'inet ${m#*:}/24' && break; sleep 1; done; ip -4 -o addr show eth0 | grep -q 'inet ${m#*:}/24'")" = 0 ] &&
		pass "${m%%:*} has its planned address from netd's DHCP" || fail "${m%%:*} has its planned address from netd's DHCP"
	[ "$(on "$P4" "${m%%:*}" "[ \"\$(hostname)\" = ${m%%:*} ]")" = 0 ] &&
		pass "${m%%:*} has its hostname" || fail "${m%%:*} has its hostname"
done
[ "$(on "$P4" deb-a 'for i in $(seq 60); do ip -4 -o addr show eth1 | grep -q "inet 172.16.8.10/24" && break; sleep 1; done; ip route | grep -q "^default via 172.16.8.1 dev eth1" && resolvectl dns eth1 | grep -q 192.0.2.53')" = 0 ] &&
	pass "deb-a's eth1: the gateway and DNS server of netd's DHCP, in systemd-resolved" ||
	fail "deb-a's eth1: the gateway and DNS server of netd's DHCP, in systemd-resolved"
[ "$(on "$P4" deb-a 'ping -c 1 -W 5 172.16.5.11')" = 0 ] && pass "deb-a reaches deb-b" || fail "deb-a reaches deb-b"
[ "$(on "$P4" deb-a 'echo a > /root/written-by-a && sync')" = 0 ] && pass "deb-a writes to its disk" || fail "deb-a writes to its disk"
[ "$(on "$P4" deb-b '[ ! -e /root/written-by-a ] && echo b > /root/written-by-b && sync')" = 0 ] &&
	pass "deb-b does not see deb-a's write, and writes its own" || fail "deb-b does not see deb-a's write, and writes its own"
[ "$(on "$P4" deb-a '[ -e /root/written-by-a ] && [ ! -e /root/written-by-b ]')" = 0 ] &&
	pass "deb-a does not see deb-b's write" || fail "deb-a does not see deb-b's write"
[ "$(on "$P4" deb-a '[ "$(findmnt -n -o FSTYPE /data)" = ext4 ] && [ "$(findmnt -n -o FSTYPE /logs)" = xfs ] && echo x > /data/x && echo y > /logs/y && sync')" = 0 ] &&
	pass "the blank ext4 and xfs drives are mounted and written" || fail "the blank ext4 and xfs drives are mounted and written"
[ "$(on "$P4" deb-a 's=$(df -B1M --output=size / | tail -1); f=$(df -B1M --output=avail / | tail -1); echo "root $s MiB, $f MiB free"; [ "$s" -ge 1900 ] && [ "$s" -le 2048 ] && [ "$f" -ge 1400 ]')" = 0 ] &&
	pass "size: 2GiB gives a root of about 2 GiB" || fail "size: 2GiB gives a root of about 2 GiB" "$(grep -a 'MiB free' "$VMDIR/$P4/deb-a.log" | tail -1)"
[ "$(on "$P4" deb-b 's=$(df -B1M --output=size / | tail -1); [ "$s" -lt 1000 ]')" = 0 ] &&
	pass "deb-b's root is the image's size" || fail "deb-b's root is the image's size"
[ "$(on "$P4" deb-b '[ "$(cat /sys/block/vdb/size)" = 131072 ] && ! grep -q "^/dev/vdb " /proc/mounts && ! blkid /dev/vdb')" = 0 ] &&
	pass "deb-b's size-only drive is a raw blank disk of 64 MiB" || fail "deb-b's size-only drive is a raw blank disk of 64 MiB"

# Ways into a Debian VM on a private network only, none through it.
expect_status "the init task's work is there" 0 "$PLAYNET" exec "$P4" deb-b -- cat /root/init-ran
expect_stdout_has "done as root" "init ran as root"
expect_status "show lists it" 0 "$PLAYNET" show "$P4"
expect_stdout_has "done" "init_deb_b"
expect_status "exec in a Debian VM" 3 "$PLAYNET" exec "$P4" deb-b -- sh -c 'hostname; echo oops >&2; exit 3'
[ "$(cat "$T_TMP/out")" = deb-b ] && [ "$(cat "$T_TMP/err")" = oops ] &&
	pass "exec in a Debian VM: stdout and stderr apart" || fail "exec in a Debian VM: stdout and stderr apart" "$(cat "$T_TMP/out" "$T_TMP/err")"
expect_status "exec --timeout in a Debian VM" 124 "$PLAYNET" exec "$P4" deb-b --timeout 2 -- sleep 60
expect_status "ssh into deb-b (private network only)" 0 "$PLAYNET" ssh "$P4" deb-b -- 'hostname; ip -br addr; ip -o link | wc -l'
expect_stdout_has "ssh: the planned hostname" "deb-b"
expect_stdout_has "ssh: the planned address" "172.16.5.11/24"
[ "$(tail -1 "$T_TMP/out")" = 2 ] && pass "no interface beyond the manifest's in the guest (lo, eth0)" ||
	fail "no interface beyond the manifest's in the guest (lo, eth0)" "$(cat "$T_TMP/out")"
[ "$("$PLAYNET" exec "$P4" deb-b -- sh -c "ip -4 -o addr | grep -v ' lo ' | awk '{print \$4}'")" = 172.16.5.11/24 ] &&
	pass "no address beyond the manifest's in the guest" || fail "no address beyond the manifest's in the guest"
[ -z "$(ip -n "pg-$P4" -o addr show dev br-lan)" ] && pass "no address on the private network's bridge" ||
	fail "no address on the private network's bridge" "$(ip -n "pg-$P4" -o addr show dev br-lan)"
[ "$(ip -n "pg-$P4" -br link show master br-lan | awk '{print $1}' | sort | tr '\n' ' ')" = "t-deb-a-0 t-deb-b-0 " ] &&
	pass "only the manifest's ports on the private bridge" ||
	fail "only the manifest's ports on the private bridge" "$(ip -n "pg-$P4" -br link show master br-lan)"
expect_status "ssh logs in as the manifest's default user" 0 "$PLAYNET" ssh "$P4" deb-a -- 'id -un; ls -ld ~/.ssh'
expect_stdout_has "laborant, made at first boot" "laborant"
expect_stdout_has "with the key in their home" "drwx------ 2 laborant laborant"
expect_status "ssh-config" 0 "$PLAYNET" ssh-config "$P4"
cp "$T_TMP/out" "$T_TMP/ssh_config"
expect_stdout_has "ssh-config: a Host block per VM" "Host deb-b.$P4"
head -c 1048576 /dev/urandom >"$T_TMP/1mib"
expect_status "scp of 1 MiB into deb-b" 0 scp -F "$T_TMP/ssh_config" "$T_TMP/1mib" "deb-b.$P4:/root/1mib"
expect_status "scp of it back" 0 scp -F "$T_TMP/ssh_config" "deb-b.$P4:/root/1mib" "$T_TMP/1mib.back"
[ "$(sha256sum <"$T_TMP/1mib")" = "$(sha256sum <"$T_TMP/1mib.back")" ] &&
	[ "$("$PLAYNET" exec "$P4" deb-b -- sha256sum /root/1mib | cut -d' ' -f1)" = "$(sha256sum "$T_TMP/1mib" | cut -d' ' -f1)" ] &&
	pass "the checksums match both ways" || fail "the checksums match both ways"
expect_status "playnet cp into a VM" 0 "$PLAYNET" cp "$P4" "$T_TMP/1mib" deb-b:/tmp/
expect_status "playnet cp out of it" 0 "$PLAYNET" cp "$P4" deb-b:/tmp/1mib "$T_TMP/1mib.cp"
cmp -s "$T_TMP/1mib" "$T_TMP/1mib.cp" && pass "cp: the same bytes" || fail "cp: the same bytes"
expect_status "cp of a file the VM lacks" 1 "$PLAYNET" cp "$P4" deb-b:/nonexistent "$T_TMP/x"
[ ! -e "$T_TMP/x" ] && [ ! -e "$T_TMP/x.playnet-cp" ] && pass "leaves nothing behind" || fail "leaves nothing behind"
expect_status "cp between two local paths" 2 "$PLAYNET" cp "$P4" "$T_TMP/1mib" "$T_TMP/y"
# Three sessions at once: each waits until all three are in.
sessions=
for i in 1 2 3; do
	"$PLAYNET" ssh "$P4" deb-b --fresh -- "touch /tmp/in-$i; for t in \$(seq 100); do [ -e /tmp/in-1 ] && [ -e /tmp/in-2 ] && [ -e /tmp/in-3 ] && break; sleep 0.2; done; ls /tmp/in-* | wc -l" \
		>"$T_TMP/session-$i" 2>&1 &
	sessions="$sessions $!"
done
wait $sessions
[ "$(cat "$T_TMP"/session-1 "$T_TMP"/session-2 "$T_TMP"/session-3 | tr '\n' ' ')" = "3 3 3 " ] &&
	pass "three ssh sessions at once" || fail "three ssh sessions at once" "$(cat "$T_TMP"/session-*)"
ls "$VMDIR/$P4" >"$T_TMP/disks"
grep -qx 'deb-a.d0.qcow2' "$T_TMP/disks" && grep -qx 'deb-a.d1.raw' "$T_TMP/disks" && grep -qx 'deb-b.d0.qcow2' "$T_TMP/disks" &&
	pass "each VM has its own overlay and drives" || fail "each VM has its own overlay and drives" "$(cat "$T_TMP/disks")"
expect_status "down the Debian VMs" 0 "$PLAYNET" down "$P4"
[ ! -e "$VMDIR/$P4" ] && pass "down removes the overlays and drives" || fail "down removes the overlays and drives" "$(ls "$VMDIR/$P4")"
[ -e "$base" ] && [ "$(sha256sum <"$base")" = "$sum0" ] && pass "the base is there, unchanged" ||
	fail "the base is there, unchanged"

# --- oci:// images from a registry on loopback --------------------------------------
# Debian's docker-registry, on a free port of the loopback, its data in the
# test's temp dir; the images are busybox with an init of the test's own
# (tests/netns/oci-guest), packed with umoci and pushed with skopeo.
REG_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG=127.0.0.1:$REG_PORT
mkdir -p "$T_TMP/registry"
cat >"$T_TMP/registry/config.yml" <<CONF
version: 0.1
log:
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $T_TMP/registry/data
http:
  addr: $REG
CONF
docker-registry serve "$T_TMP/registry/config.yml" >"$T_TMP/registry.log" 2>&1 &
REG_PID=$!
for i in $(seq 1 100); do curl -sf "http://$REG/v2/" >/dev/null && break; sleep 0.1; done
curl -sf "http://$REG/v2/" >/dev/null && pass "the registry answers on $REG" || fail "the registry answers on $REG" "$(tail -5 "$T_TMP/registry.log")"

# push_image NAME WITH_INIT: a busybox root file system as REG/pn/NAME:1.
push_image() {
	local lay=$T_TMP/oci-$1 r=$T_TMP/oci-$1/bundle/rootfs c
	umoci init --layout "$lay/l" && umoci new --image "$lay/l:t" && umoci unpack --image "$lay/l:t" "$lay/bundle" || return 1
	mkdir -p "$r/bin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/root"
	cp /bin/busybox "$r/bin/busybox"
	for c in sh hostname ip udhcpc cttyhack mount; do ln -s busybox "$r/bin/$c"; done
	install -m 0755 scripts/guest/udhcpc.script "$r/etc/udhcpc.script"
	if [ "$2" = 1 ]; then
		mkdir -p "$r/sbin"
		ln -s ../bin/busybox "$r/sbin/init"
		install -m 0755 tests/netns/oci-guest/rc "$r/etc/rc"
		install -m 0644 tests/netns/oci-guest/inittab "$r/etc/inittab"
	fi
	umoci repack --image "$lay/l:t" "$lay/bundle" &&
		skopeo copy -q --dest-tls-verify=false "oci:$lay/l:t" "docker://$REG/pn/$1:1"
}
push_image tiny 1 >"$T_TMP/push.log" 2>&1 && push_image noinit 0 >>"$T_TMP/push.log" 2>&1 &&
	pass "two images pushed to the registry" || fail "two images pushed to the registry" "$(tail -5 "$T_TMP/push.log")"
digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/pn/tiny:1")

# oci_manifest NAME SOURCE: a one-VM playground booting SOURCE.
oci_manifest() {
	cat >"$T_TMP/$1.yaml" <<YAML
kind: playground
playground:
  networks:
    - name: lan
      subnet: 172.16.6.0/24
  machines:
    - name: vm-1
      drives:
        - source: $2
          mount: /
      network:
        interfaces:
          - network: lan
            address: 172.16.6.10
YAML
}
blob_gets() { grep -c 'GET /v2/pn/[a-z]*/blobs/' "$T_TMP/registry.log"; }
export PLAYNET_IMAGE_DIR=$OCI_CACHE
oci_manifest vm-oci "oci://$REG/pn/tiny:1"
expect_status "up --vms from oci://" 0 "$PLAYNET" up "$T_TMP/vm-oci.yaml" --name "$P5" --vms
expect_stderr_has "says it pulls, by digest" "pulling $digest with skopeo"
wait_log "$P5" vm-1 "^oci-guest: up vm-1" 60 && pass "the oci:// VM boots into the image's own init" ||
	fail "the oci:// VM boots into the image's own init" "$(tail -c 800 "$VMDIR/$P5/vm-1.log")"
has "$P5" vm-1 "playnet: eth0 172.16.6.10/24" "with its planned address from netd's DHCP"
ls "$OCI_CACHE/oci/sha256-${digest#sha256:}.ext4" >/dev/null 2>&1 && pass "cached by the manifest's digest" ||
	fail "cached by the manifest's digest" "$(ls -R "$OCI_CACHE")"
pulls=$(blob_gets)
[ "$pulls" -gt 0 ] && pass "the registry served its blobs ($pulls)" || fail "the registry served its blobs"
expect_status "down" 0 "$PLAYNET" down "$P5"
expect_status "up --vms from oci:// again" 0 "$PLAYNET" up "$T_TMP/vm-oci.yaml" --name "$P5" --vms
[ "$(blob_gets)" = "$pulls" ] && pass "the second up uses the cache: no blob pulled" ||
	fail "the second up uses the cache: no blob pulled" "$pulls -> $(blob_gets)"
grep -q 'pulling' "$T_TMP/err" && fail "nor says it pulls" || pass "nor says it pulls"
wait_log "$P5" vm-1 "^oci-guest: up vm-1" 60 && pass "and boots" || fail "and boots"
expect_status "down" 0 "$PLAYNET" down "$P5"
oci_manifest vm-oci-digest "oci://$REG/pn/tiny:1@$digest"
expect_status "a reference with its digest" 0 "$PLAYNET" validate "$T_TMP/vm-oci-digest.yaml"

# Each bad reference: refused at its line and column, nothing made, nothing
# half written in the cache.
oci_bad() {
	oci_manifest bad "$2"
	expect_status "up --vms: $1" 1 "$PLAYNET" up "$T_TMP/bad.yaml" --name "pv$ID-x" --vms
	expect_stderr_has "$1: said at its line and column" "bad.yaml:9:19: machine vm-1: drives[0].source '$2': $3"
	[ ! -e "/run/netns/pg-pv$ID-x" ] && pass "$1: nothing made" || fail "$1: nothing made"
	[ -z "$(ls "$OCI_CACHE/tmp")" ] && [ "$(ls "$OCI_CACHE/oci" | grep -c '\.ext4$')" = 1 ] &&
		pass "$1: nothing half written in the cache" || fail "$1: nothing half written in the cache" "$(ls -R "$OCI_CACHE")"
}
zeros=sha256:0000000000000000000000000000000000000000000000000000000000000000
oci_bad "a wrong digest" "oci://$REG/pn/tiny:1@$zeros" "cannot pull docker://$REG/pn/tiny@$zeros"
expect_stderr_has "the registry says it has no such manifest" "manifest unknown"
oci_bad "an unreachable registry" "oci://127.0.0.1:1/pn/tiny:1" "cannot pull docker://127.0.0.1:1/pn/tiny:1"
expect_stderr_has "the connection is refused" "connection refused"
oci_bad "an image without /sbin/init" "oci://$REG/pn/noinit:1" "the image has no /sbin/init to boot"
oci_bad "a tag not there" "oci://$REG/pn/tiny:2" "cannot pull docker://$REG/pn/tiny:2"
oci_bad "a malformed reference" "oci://$REG/pn/Tiny" "'pn/Tiny' is not a repository name"
expect_status "image ls lists the pulled image" 0 "$PLAYNET" image ls
expect_stdout_has "by its reference" "oci://$REG/pn/tiny:1"
expect_status "image rm" 0 "$PLAYNET" image rm "oci://$REG/pn/tiny:1"
expect_stderr_has "says so" "removed from the cache"
[ -z "$(ls "$OCI_CACHE/oci" | grep '\.ext4$')" ] && pass "the image is gone" || fail "the image is gone" "$(ls "$OCI_CACHE/oci")"
export PLAYNET_IMAGE_DIR=$PWD/build/images
kill "$REG_PID" 2>/dev/null
wait "$REG_PID" 2>/dev/null
REG_PID=

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
