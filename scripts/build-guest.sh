#!/bin/sh
# Builds playnet's default guest, the toolkit guest, from Debian packages
# only: the kernel of linux-image-amd64 and an initramfs of busybox-static,
# the tools routing and NAT labs use (nft, iptables and ip6tables on the
# nft backend, tcpdump, iproute2's ip, ss and bridge, traceroute, ethtool)
# with their shared libraries, the kernel modules they need with a
# modules.dep for modprobe, and scripts/guest/. Its init also boots a
# root disk (a catalog or oci:// image) and mounts the manifest's drives.
# With them, playnet's agent (build/bin/pnagent, made by make), which
# serves exec and ssh on a channel of its own (netd/lib/agent_proto.h).
# Cached: rebuilt only when one of those packages, the agent or the guest's
# scripts change.
#
#   scripts/build-guest.sh [OUTDIR]      (default build/guest)
#
# Writes OUTDIR/vmlinuz, OUTDIR/initrd.img (a cpio archive, not
# compressed) and OUTDIR/modules.tar (the modules, for images to carry),
# and prints OUTDIR.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../build/guest}
mkdir -p "$out"
out=$(cd "$out" && pwd)

die() { echo "build-guest: $*" >&2; exit 1; }

# The tools, each as package:path of the binary the guest runs.
TOOLS="nftables:/usr/sbin/nft iptables:/usr/sbin/xtables-nft-multi
	tcpdump:/usr/bin/tcpdump iproute2:/usr/bin/ip iproute2:/usr/bin/ss
	iproute2:/usr/sbin/bridge traceroute:/usr/bin/traceroute.db
	ethtool:/usr/sbin/ethtool e2fsprogs:/sbin/resize2fs"
# Names under which the guest runs xtables-nft-multi and traceroute.db.
XTABLES="iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore"

# The modules the guest loads (with what they depend on): virtio and its
# console's power button; disks (virtio_blk, ext4, xfs); netfilter with
# conntrack and NAT for nft and iptables-nft; bridges, VLANs, VXLAN and
# tunnels; the qdiscs of impairment labs. (AF_PACKET, for tcpdump, and
# nft's counters are built into Debian's kernel.)
MODULES="virtio_mmio virtio_net virtio_blk virtio_console evdev button
	vmw_vsock_virtio_transport
	ext4 xfs
	nf_tables nft_chain_nat nft_masq nft_nat nft_redir nft_ct nft_reject_inet
	nft_reject_ipv4 nft_reject_ipv6 nft_fib_inet nft_fib_ipv4 nft_fib_ipv6
	nft_limit nft_log nft_compat nft_quota nft_numgen nft_hash
	nf_conntrack nf_nat nf_defrag_ipv4 nf_defrag_ipv6 nf_log_syslog
	x_tables xt_MASQUERADE xt_conntrack xt_state xt_tcpudp xt_nat xt_addrtype
	xt_comment xt_multiport xt_LOG xt_mark xt_REDIRECT xt_limit
	ipt_REJECT ip6t_REJECT
	bridge br_netfilter 8021q vxlan veth dummy macvlan ipip ip_gre
	sch_netem sch_htb sch_tbf sch_prio cls_u32 cls_basic act_mirred
	autofs4 binfmt_misc vrf"

for t in cpio depmod; do
	command -v "$t" >/dev/null || die "$t is missing: run scripts/install-deps.sh"
done
agent=${PNAGENT:-$here/../build/bin/pnagent}
[ -x "$agent" ] || die "$agent is missing: run make first"
[ -x /bin/busybox ] || die "/bin/busybox is missing: run scripts/install-deps.sh (busybox-static)"
pkgs="busybox-static"
for t in $TOOLS; do
	[ -x "${t#*:}" ] || die "${t#*:} is missing: run scripts/install-deps.sh (${t%%:*})"
	pkgs="$pkgs ${t%%:*}"
done

. "$here/debian-kernel.sh"
kernel_resolve

key=$( {
	echo "$kpkg $kver"
	dpkg-query -W -f '${Package} ${Version}\n' $(echo "$pkgs" | tr ' ' '\n' | sort -u)
	cat "$0" "$here/debian-kernel.sh" "$here"/guest/* "$agent"
} | sha256sum | cut -d' ' -f1)
if [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ] &&
	[ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ -f "$out/modules.tar" ]; then
	echo "$out"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "build-guest: $kpkg $kver, the toolkit from $(echo "$pkgs" | tr ' ' '\n' | sort -u | tr '\n' ' ')" >&2
kernel_unpack "$work"

root=$work/root
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc/acpi/PWRF" \
	"$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/root" "$root/run" \
	"$root/lib/modules/$release"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
# The kernel asks /sbin/modprobe for what it loads on demand (nf_tables'
# chains and expressions, crc32c, ...).
ln -s ../bin/busybox "$root/sbin/modprobe"
install -m 0755 "$here/guest/init" "$root/init"
install -m 0755 "$agent" "$root/bin/pnagent"
install -m 0755 "$here/guest/udhcpc.script" "$root/etc/udhcpc.script"
install -m 0755 "$here/guest/power" "$root/etc/acpi/PWRF/00000080"
install -m 0644 "$here/guest/inittab" "$root/etc/inittab"
install -m 0755 "$here/guest/console" "$root/etc/console"
install -m 0644 "$here/guest/profile" "$root/etc/profile"
# iptables and getprotobyname read these; tcpdump drops to its own user.
cp /etc/protocols /etc/services "$root/etc/"
# root logs in at the console with no password (a lab's machine).
printf 'root::0:0:root:/root:/bin/sh\ntcpdump:x:100:100:tcpdump:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf "playnet's toolkit guest: log in as root (no password)\n\n" >"$root/etc/issue"
printf 'root:x:0:\ntcpdump:x:100:\n' >"$root/etc/group"

# A file copied to the same path in the guest, links followed.
put() {
	mkdir -p "$root$(dirname "$1")"
	cp -L "$1" "$root$1"
}
# What the dynamic loader maps for FILE: its libraries, and the loader.
libs_of() {
	ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
}
objs=$work/objs
: >"$objs"
for t in $TOOLS; do
	put "${t#*:}"
	echo "${t#*:}" >>"$objs"
done
for n in $XTABLES; do ln -s xtables-nft-multi "$root/usr/sbin/$n"; done
ln -s traceroute.db "$root/usr/bin/traceroute"
# iptables' matches and targets, which it loads itself.
xt=/usr/lib/x86_64-linux-gnu/xtables
[ -d "$xt" ] || die "$xt is missing: run scripts/install-deps.sh (iptables)"
for so in "$xt"/*.so; do
	put "$so"
	echo "$so" >>"$objs"
done
while read -r o; do libs_of "$o"; done <"$objs" | sort -u | while read -r lib; do put "$lib"; done

# The modules named and every one they depend on, by the modules.dep of
# the whole package (which depmod writes at install time, so here too);
# then modules.dep and modules.alias of just those.
kmods=$work/k/lib/modules/$release
depmod -b "$work/k" "$release"
kernel_closure "$kmods" $MODULES >"$work/modules"
[ -s "$work/modules" ] || die "no modules found in $kpkg"
# crc32c for libcrc32c (ext4, nf_conntrack's SCTP, ...), which the kernel
# asks for by its crypto alias.
ls "$kmods"/kernel/crypto/crc32c_generic.ko* "$kmods"/kernel/arch/x86/crypto/crc32c-intel.ko* 2>/dev/null |
	sed "s|^$kmods/||" >>"$work/modules"
kernel_install "$kmods" "$work/modules" "$root" "$release"

# Not compressed: under TCG the guest's kernel takes longer to unpack
# it (12 MB by gzip: 2.5 s more, zstd 2.5 s, lz4 1 s) than QEMU takes to
# load it whole.
(cd "$root" && find . | cpio -o -H newc --quiet -R 0:0) > "$work/initrd.img"

# The same modules for the images that boot with this kernel.
tar -C "$root" -cf "$work/modules.tar" "lib/modules/$release"

cp "$work"/k/boot/vmlinuz-* "$out/vmlinuz.new"
mv "$work/initrd.img" "$out/initrd.img"
mv "$work/modules.tar" "$out/modules.tar"
mv "$out/vmlinuz.new" "$out/vmlinuz"
echo "$key" > "$out/key"
echo "$out"
