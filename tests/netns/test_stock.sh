#!/usr/bin/env bash
# The fabric on Debian's stock kernel, which playnet's users run and this
# machine does not: QEMU (TCG) boots linux-image-amd64 with the host's root
# shared read-only over 9p (scripts/build-stock.sh, cached under
# build/stock), and tests/stock/inside.sh runs there as root: netem's
# delay, jitter and loss measured with ping both ways, and the routing
# challenge with NAT egress. Its PASS and FAIL lines are this test's; a
# difference between the two kernels shows up here. The VM is stopped by
# its pid, also on failure; everything else lives and dies inside it.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_setup
STOCK_TIMEOUT=${STOCK_TIMEOUT:-1200}
QPID=

cleanup() {
	[ -n "$QPID" ] && kill "$QPID" 2>/dev/null
	rm -rf "$T_TMP"
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	fail "the stock-kernel tests need root"
	exit 1
fi
for f in build/bin/playnet tests/stock/inside.sh; do
	[ -e "$f" ] || { fail "$f is missing (make all)"; exit 1; }
done
if ! out=$(scripts/build-stock.sh 2>"$T_TMP/build.err"); then
	fail "build the stock-kernel machine" "$(tail -5 "$T_TMP/build.err")"
	exit 1
fi
pass "the stock-kernel machine ($(cat "$T_TMP/build.err" | sed -n 's/^build-stock: //p')$(basename "$out"))"

# The guest's TSC runs at the host's rate under TCG: told, its clock (and
# ping's round trips) are right from the start.
khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
qemu-system-x86_64 -accel tcg -M microvm -smp 2 -m 1024 -no-user-config \
	-display none -monitor none -serial "file:$T_TMP/console" -no-reboot \
	-kernel "$out/vmlinuz" -initrd "$out/initrd.img" \
	-append "console=ttyS0 quiet panic=-1 ${khz:+tsc_early_khz=$khz} playnet.run=tests/stock/inside.sh playnet.dir=$PWD" \
	-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap" \
	-device virtio-9p-device,fsdev=hostroot,mount_tag=hostroot \
	>"$T_TMP/qemu.log" 2>&1 &
QPID=$!
waited=0
while kill -0 "$QPID" 2>/dev/null && [ "$waited" -lt "$STOCK_TIMEOUT" ]; do
	sleep 1
	waited=$((waited + 1))
done
if kill -0 "$QPID" 2>/dev/null; then
	fail "the stock-kernel machine ends within ${STOCK_TIMEOUT}s" "$(tail -20 "$T_TMP/console")"
	exit 1
fi
QPID=
tr -d '\r' <"$T_TMP/console" >"$T_TMP/out"
# The guest's own lines: its PASS and FAIL, and what it measured.
grep -E '^(PASS|FAIL|kernel |delay |loss |cleared|iperf)' "$T_TMP/out"
status=$(sed -n 's/^stock-exit \([0-9]*\)$/\1/p' "$T_TMP/out" | tail -n 1)
passes=$(grep -c '^PASS' "$T_TMP/out")
fails=$(grep -c '^FAIL' "$T_TMP/out")
T_FAILED=$((T_FAILED + fails))
if [ "$status" = 0 ] && [ "$passes" -ge 20 ]; then
	pass "the stock-kernel run ended well ($passes checks passed, $((waited))s)"
else
	fail "the stock-kernel run ended well" "exit '${status:-none}', $passes passed; $(grep -v '^\[' "$T_TMP/out" | tail -20) $(tail -5 "$T_TMP/qemu.log")"
fi
t_done
