#!/bin/sh
# Builds playnet's test guest from Debian packages only: the kernel of
# linux-image-amd64 and an initramfs of busybox-static, the virtio network
# modules and scripts/guest/. Cached: rebuilt only when the kernel package,
# busybox-static or the guest's scripts change.
#
#   scripts/build-guest.sh [OUTDIR]      (default build/guest)
#
# Writes OUTDIR/vmlinuz and OUTDIR/initrd.img and prints OUTDIR.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../build/guest}
mkdir -p "$out"
out=$(cd "$out" && pwd)

die() { echo "build-guest: $*" >&2; exit 1; }
command -v cpio >/dev/null || die "cpio is missing: run scripts/install-deps.sh"
[ -x /bin/busybox ] || die "/bin/busybox is missing: run scripts/install-deps.sh (busybox-static)"

# The kernel package linux-image-amd64 stands for, and its version.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1
}
kpkg=$(kernel_package)
if [ -z "$kpkg" ]; then
	# A machine whose package lists were cleaned knows no kernel package yet.
	apt-get update -qq >/dev/null 2>&1 || true
	kpkg=$(kernel_package)
fi
[ -n "$kpkg" ] || die "apt knows no linux-image-amd64 (apt-get update failed?)"
kver=$(apt-cache policy "$kpkg" | sed -n 's/^ *Candidate: //p')
bbver=$(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null) ||
	die "busybox-static is not installed: run scripts/install-deps.sh"

key=$( {
	echo "$kpkg $kver busybox-static $bbver"
	cat "$0" "$here"/guest/*
} | sha256sum | cut -d' ' -f1)
if [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ] &&
	[ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ]; then
	echo "$out"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "build-guest: $kpkg $kver, busybox-static $bbver" >&2
(cd "$work" && apt-get download "$kpkg=$kver" >/dev/null 2>&1) ||
	die "apt-get download $kpkg=$kver failed"
deb=$(ls "$work"/"$kpkg"_*.deb)
dpkg-deb -x "$deb" "$work/k"

root=$work/root
mkdir -p "$root/bin" "$root/etc/acpi/PWRF" "$root/lib/modules" "$root/proc" \
	"$root/sys" "$root/dev" "$root/tmp" "$root/root"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$here/guest/init" "$root/init"
install -m 0755 "$here/guest/udhcpc.script" "$root/etc/udhcpc.script"
install -m 0755 "$here/guest/power" "$root/etc/acpi/PWRF/00000080"
install -m 0644 "$here/guest/inittab" "$root/etc/inittab"
mods=$work/k/lib/modules/$(ls "$work/k/lib/modules")/kernel
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_mmio \
	net/core/failover drivers/net/net_failover drivers/net/virtio_net drivers/block/virtio_blk \
	drivers/input/evdev drivers/acpi/button; do
	cp "$mods/$m.ko" "$root/lib/modules/"
done
(cd "$root" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -9 > "$work/initrd.img"

cp "$work"/k/boot/vmlinuz-* "$out/vmlinuz.new"
mv "$work/initrd.img" "$out/initrd.img"
mv "$out/vmlinuz.new" "$out/vmlinuz"
echo "$key" > "$out/key"
echo "$out"
