#!/usr/bin/env bash
# The guest's figures, as a user meets them: the toolkit guest's size
# (kernel, initramfs packed and unpacked) and the time from `playnet up
# --vms` until every VM of a lab says on its console that it is up (its
# addresses from netd's DHCP), for one VM (manifests/single-vm.yaml) and
# the routing challenge's three, ROUNDS times each (median, min, max).
# A benchmark: it prints figures and asserts nothing. Everything runs in a
# host netns, state dir, socket and bpffs dir of its own, removed after.
# usage: scripts/bench-guest.sh [ROUNDS]   (default 3; BENCH_GUEST_DIR: a
# guest of another build to measure instead of scripts/build-guest.sh's)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
make -s all
guest=${BENCH_GUEST_DIR:-$(scripts/build-guest.sh)}

. scripts/bench-vm-lib.sh
bench_playnet /dev/shm guest
export PLAYNET_GUEST_DIR=$guest
trap bench_cleanup EXIT

# (gzip -f: an older guest's initramfs was compressed.)
read -r entries bytes mods < <(gzip -dcf "$guest/initrd.img" | cpio -it --quiet -v |
	awk '{ n++; s += $5 } $NF ~ /\.ko$/ { m++ } END { print n, s, m + 0 }')
echo "guest ($guest):"
echo "  kernel $(stat -c %s "$guest/vmlinuz") bytes; initramfs $(stat -c %s "$guest/initrd.img") bytes ($entries entries, $bytes bytes of files), $mods kernel modules"

"$playnet" ls >/dev/null 2>&1 # netd started before the clock runs
for _ in $(seq 1 "$ROUNDS"); do
	up_time manifests/single-vm.yaml '^playnet: up %m' box
	"$playnet" down "$P" >/dev/null 2>&1
done | stats |
	sed 's/^/  up --vms to its console saying up, one VM: /'
for _ in $(seq 1 "$ROUNDS"); do
	up_time manifests/routing-challenge.yaml '^playnet: up %m' leaf-01 router leaf-02
	"$playnet" down "$P" >/dev/null 2>&1
done | stats |
	sed 's/^/  up --vms to all three up, the routing challenge: /'
echo "  ($(nproc) CPUs, kernel $(uname -r), $(qemu-system-x86_64 --version | head -1), --accel auto)"
