#!/bin/sh
# Builds the stock-kernel test machine: Debian's linux-image-amd64 (the
# kernel playnet's users run, with sch_netem, sch_fq and the rest that this
# machine's kernel lacks) and an initramfs of busybox-static, that kernel's
# networking modules and tests/stock/init. Its init mounts the host's root
# read-only over 9p and runs a test there, in a chroot, with playnet's
# build tree and the host's tools (tests/netns/test_stock.sh boots it).
# Cached: rebuilt only when the kernel package, busybox or this script and
# its init change.
#
#   scripts/build-stock.sh [OUTDIR]      (default build/stock)
#
# Writes OUTDIR/vmlinuz and OUTDIR/initrd.img, and prints OUTDIR.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../build/stock}
mkdir -p "$out"
out=$(cd "$out" && pwd)
init=$here/../tests/stock/init

die() { echo "build-stock: $*" >&2; exit 1; }

# The 9p share and virtio; then what the fabric and its tests use, loaded
# on demand by the kernel from this initramfs (its usermode modprobe runs
# in the initramfs, not in the test's chroot): every qdisc, classifier,
# action and netfilter module, the bridge, and the devices.
MODULES="virtio_mmio 9pnet_virtio 9p ifb tun veth dummy vxlan macvlan 8021q bridge
	br_netfilter crc32c_generic"
MODULE_DIRS="net/sched net/netfilter net/ipv4/netfilter net/ipv6/netfilter net/bridge"

for t in cpio depmod; do
	command -v "$t" >/dev/null || die "$t is missing: run scripts/install-deps.sh"
done
[ -x /bin/busybox ] || die "/bin/busybox is missing: run scripts/install-deps.sh (busybox-static)"
. "$here/debian-kernel.sh"
kernel_resolve

key=$( {
	echo "$kpkg $kver"
	dpkg-query -W -f '${Package} ${Version}\n' busybox-static
	cat "$0" "$here/debian-kernel.sh" "$init"
} | sha256sum | cut -d' ' -f1)
if [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ] &&
	[ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ]; then
	echo "$out"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "build-stock: $kpkg $kver" >&2
kernel_unpack "$work"
kmods=$work/k/lib/modules/$release
depmod -b "$work/k" "$release"

root=$work/root
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/host" \
	"$root/lib/modules/$release"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
ln -s ../bin/busybox "$root/sbin/modprobe"
install -m 0755 "$init" "$root/init"

names=$MODULES
for d in $MODULE_DIRS; do
	[ -d "$kmods/kernel/$d" ] || continue
	names="$names $(find "$kmods/kernel/$d" -name '*.ko*' | sed 's|.*/||; s|\.ko.*$||')"
done
kernel_closure "$kmods" $names >"$work/modules"
[ -s "$work/modules" ] || die "no modules found in $kpkg"
kernel_install "$kmods" "$work/modules" "$root" "$release"
(cd "$root" && find . | cpio -o -H newc --quiet -R 0:0) >"$work/initrd.img"

cp "$work"/k/boot/vmlinuz-* "$out/vmlinuz.new"
mv "$work/initrd.img" "$out/initrd.img"
mv "$out/vmlinuz.new" "$out/vmlinuz"
echo "$key" >"$out/key"
echo "$out"
