#!/usr/bin/env bash
# The image figures, as a user meets them: how long `playnet image build`
# takes for debian-12 (from the catalog, mmdebstrap) and for an oci://
# image (the same root file system packed with umoci, pushed to Debian's
# docker-registry on loopback, pulled with skopeo), cold and cached, and
# how big each is; how long a per-VM qcow2 overlay takes to make (the
# qemu-img command vmlaunch runs); and the time from `playnet up --vms`
# until the routing challenge's three VMs answer on their consoles, for
# the toolkit guest and for debian-12 (manifests/debian-routing.yaml), with
# each overlay's disk use once booted. A benchmark: it prints figures and
# asserts nothing. Everything runs in a host netns, state dir, socket,
# bpffs dir and image cache of its own, removed after.
# usage: scripts/bench-images.sh [ROUNDS]   (default 3, for the up times)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
make -s all
guest=$(scripts/build-guest.sh)

work=$(mktemp -d /var/tmp/playnet-bench-images.XXXXXX)
HOST=pnbi-h$$
export PLAYNET_HOST_NETNS=$HOST PLAYNET_STATE_DIR=$work/state PLAYNET_SOCKET=$work/netd.sock
export PLAYNET_BPF_DIR=/sys/fs/bpf/playnet-bench-images-$$ PLAYNET_GUEST_DIR=$guest
export PLAYNET_IMAGE_DIR=$work/images
playnet=build/bin/playnet
P=bi$$
REG_PID=
cleanup() {
	"$playnet" down "$P" >/dev/null 2>&1 || true
	local pid
	pid=$(cat "$PLAYNET_STATE_DIR/netd.pid" 2>/dev/null) || true
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	[ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null || true
	for _ in $(seq 1 100); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	mountpoint -q "$work/mnt" 2>/dev/null && umount "$work/mnt"
	ip netns del "$HOST" 2>/dev/null || true
	rm -rf "$work" "$PLAYNET_BPF_DIR"
}
trap cleanup EXIT
ip netns add "$HOST"

seconds() { # COMMAND...: how long it ran, in seconds
	local t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1
	awk -v a="${t0/./}" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.2f\n", (b - a) / 1e6 }'
}
size_of() { # FILE: its size and what it takes on disk
	echo "$(($(stat -c %s "$1") >> 20)) MiB, $(($(du -k "$1" | cut -f1) >> 10)) MiB on disk"
}

echo "debian-12 (catalog):"
echo "  image build, cold: $(seconds "$playnet" image build debian-12) s"
echo "  image build, cached: $(seconds "$playnet" image build debian-12) s"
base=$(ls "$PLAYNET_IMAGE_DIR"/catalog/debian-12.*.ext4)
echo "  image: $(size_of "$base")"

# The same root file system as an OCI image on a registry of our own.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/registry" "$work/mnt"
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
	"$work/registry/data" "$port" >"$work/registry/config.yml"
docker-registry serve "$work/registry/config.yml" >"$work/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
mount -o loop,ro "$base" "$work/mnt"
umoci init --layout "$work/oci" && umoci new --image "$work/oci:d" && umoci unpack --image "$work/oci:d" "$work/bundle"
cp -a "$work/mnt/." "$work/bundle/rootfs/"
umount "$work/mnt"
umoci repack --image "$work/oci:d" "$work/bundle"
skopeo copy -q --dest-tls-verify=false "oci:$work/oci:d" "docker://127.0.0.1:$port/bench/debian:12"
rm -rf "$work/oci" "$work/bundle"
ref=oci://127.0.0.1:$port/bench/debian:12
echo "oci:// (the debian-12 root file system, $(du -sk "$work/registry/data" | cut -f1) KiB in the registry):"
echo "  image build (pull, unpack, ext4), cold: $(seconds "$playnet" image build "$ref") s"
echo "  image build, cached (asks the registry for the tag's digest): $(seconds "$playnet" image build "$ref") s"
echo "  image: $(size_of "$(ls "$PLAYNET_IMAGE_DIR"/oci/*.ext4)")"
kill "$REG_PID"
REG_PID=

for i in $(seq 1 10); do
	seconds qemu-img create -q -f qcow2 -b "$base" -F raw "$work/overlay-$i.qcow2" 2147483648
done | sort -n | awk '{ a[NR] = $1 * 1000 } END { printf "per-VM overlay (qemu-img create, 2 GiB): median %.0f ms (min %.0f, max %.0f, %d runs)\n", a[int((NR + 1) / 2)], a[1], a[NR], NR }'
rm -f "$work"/overlay-*.qcow2

. scripts/bench-vm-lib.sh
"$playnet" ls >/dev/null 2>&1 # netd started before the clock runs
for _ in $(seq 1 "$ROUNDS"); do
	up_time manifests/routing-challenge.yaml '^playnet: up %m' leaf-01 router leaf-02
	"$playnet" down "$P" >/dev/null 2>&1
done | stats | sed 's/^/up --vms to all three up, the routing challenge, toolkit guest: /'
for r in $(seq 1 "$ROUNDS"); do
	up_time manifests/debian-routing.yaml 'root@%m:~# ' leaf-01 router leaf-02
	[ "$r" = 1 ] && du -k "$PLAYNET_STATE_DIR/vm/$P"/*.qcow2 >"$work/du"
	"$playnet" down "$P" >/dev/null 2>&1
done | stats | sed 's/^/up --vms to all three at a root shell, the routing challenge, debian-12: /'
awk '{ printf "  overlay once booted: %s, %.1f MiB\n", $2, $1 / 1024 }' "$work/du" | sed "s|$PLAYNET_STATE_DIR/vm/$P/||"
echo "($(nproc) CPUs, kernel $(uname -r), $(qemu-system-x86_64 --version | head -1), --accel auto; image cache on $(df --output=fstype "$work" | tail -1))"
