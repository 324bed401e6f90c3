#!/usr/bin/env bash
# Installs every Debian package playnet needs to build and to run its tests.
# Idempotent: does nothing (not even apt-get update) when all are present.
set -euo pipefail

PACKAGES=(
	# build
	gcc make pkg-config clang llvm libclang-rt-14-dev
	libyaml-dev libjson-c-dev libnl-3-dev libnl-route-3-dev libmnl-dev
	libnftnl-dev libbpf-dev bpftool libelf-dev zlib1g-dev
	libmicrohttpd-dev libcmocka-dev libcurl4-openssl-dev libseccomp-dev libpcap-dev
	# run time and tests
	iproute2 nftables iputils-ping graphviz curl procps busybox-static
	# the hostile-input suite: crafted frames, and netd confined as its
	# systemd unit would confine it (tests/netns/confine.py)
	python3-scapy python3-seccomp systemd util-linux
	# VMs: the VMM, and what scripts/build-guest.sh packs the toolkit guest
	# with (its tools are copied from their packages with their libraries;
	# depmod writes the modules.dep of the kernel modules it carries)
	qemu-system-x86 cpio kmod netbase nftables iptables tcpdump iproute2
	traceroute ethtool e2fsprogs
	# images and disks: the catalog (mmdebstrap), oci:// images (skopeo,
	# umoci; a registry on loopback for the tests), overlays (qemu-img),
	# blank drives (mkfs.ext4, mkfs.xfs)
	mmdebstrap skopeo umoci docker-registry qemu-utils xfsprogs
	# ways into a VM: the static agent the guests carry (libc.a), and
	# OpenSSH's client for playnet ssh and its keys
	libc6-dev openssh-client
	# impairments: iperf3 measures a rate limit; Debian's python3 reads
	# its JSON; the stock-kernel machine (scripts/build-stock.sh) is QEMU
	# with 9p, busybox and that kernel's modules, as above
	iperf3 python3
	# capture: tshark reads what playnet capture writes; DNS: dnsmasq is
	# the tests' upstream resolver
	tshark dnsmasq-base
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
