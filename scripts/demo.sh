#!/usr/bin/env bash
# The README's main job: brings up the routing-challenge lab with three real
# VMs (QEMU, the toolkit guest of scripts/build-guest.sh) and says what was made
# and how to get in. The host side (uplink, forwarding, NAT table) goes into
# a namespace of its own, playnet-demo-host, so the machine's own network is
# left as it was. Run again to rebuild; the last lines say how to tear down.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it makes network namespaces)" >&2; exit 1; }
export PLAYNET_HOST_NETNS=playnet-demo-host
playnet=build/bin/playnet
name=routing-challenge
logs=/run/playnet/vm/$name
scripts/build-guest.sh >/dev/null
ip netns list | grep -qx "$PLAYNET_HOST_NETNS" || ip netns add "$PLAYNET_HOST_NETNS"
"$playnet" down "$name" 2>/dev/null || true
"$playnet" up manifests/routing-challenge.yaml --vms 2>&1 | grep -v '^console:'
printf 'booting'
for m in leaf-01 router leaf-02; do
	for _ in $(seq 1 300); do
		grep -aqE "^playnet: up $m" "$logs/$m.log" 2>/dev/null && break
		printf .
		sleep 0.2
	done
done
echo
for m in leaf-01 router leaf-02; do
	echo "  $m got by DHCP: $(grep -a '^playnet: eth' "$logs/$m.log" | awk '{print $2, $3}' | sort | paste -sd, - | sed 's/,/, /g')"
done
cat <<EOT

Made: netns pg-$name, bridges br-net-1 and br-net-2 (two private networks),
a tap per VM interface, three VMs on them, and netd (started by playnet;
log /run/playnet/netd.log) serving each its address. leaf-01 cannot reach
leaf-02 yet: that is the challenge (forwarding on the router, a route on
each leaf).
Get in:     $playnet console $name leaf-01      (Ctrl-] leaves)
Look:       $playnet show $name
Tear down:  $playnet down $name && kill \$(cat /run/playnet/netd.pid) && ip netns del $PLAYNET_HOST_NETNS
EOT
