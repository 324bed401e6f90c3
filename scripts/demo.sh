#!/usr/bin/env bash
# The README's main job: brings up the routing-challenge lab and shows it.
# The host side (uplink, forwarding, NAT table) goes into a namespace of its
# own, playnet-demo-host, so the machine's own network is left as it was.
# Run again to rebuild; the last lines say how to tear it all down.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it makes network namespaces)" >&2; exit 1; }
export PLAYNET_HOST_NETNS=playnet-demo-host
playnet=build/bin/playnet
name=routing-challenge
ip netns list | grep -qx "$PLAYNET_HOST_NETNS" || ip netns add "$PLAYNET_HOST_NETNS"
"$playnet" down "$name" 2>/dev/null
"$playnet" up manifests/routing-challenge.yaml
"$playnet" show "$name"
cat <<EOT

The fabric is up: netns pg-$name with a bridge per network and a tap per VM
interface (VMs come with vmlaunch), made by netd, which playnet started in
the background (log: /run/playnet/netd.log) and which serves the VMs their
addresses by DHCP. Look inside:
  ip netns exec pg-$name ip -br link
  $playnet show --json $name
  curl --unix-socket /run/playnet/netd.sock http://netd/metrics
Tear it down:
  $playnet down $name && kill \$(cat /run/playnet/netd.pid) && ip netns del $PLAYNET_HOST_NETNS
EOT
