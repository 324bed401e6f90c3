# Peer: the CNI bridge plugin with host-local IPAM (Debian's
# containernetworking-plugins) for the 5 interfaces, as a container runtime
# would call it: one ADD per interface, into a netns per machine (CNI wires
# veths into namespaces, not taps). The playground's netns, uplink and
# rules as peer-batch.sh makes them. Needs PEER_DIR, a scratch dir.
. "$(dirname "${BASH_SOURCE[0]}")/peer_lib.sh"
CNI_BIN=${CNI_BIN:-/usr/lib/cni}

# machine ifname network bridge subnet address gateway(- for private)
PEER_CNI_IFS="vm-1 eth0 local br-local 172.16.0.0/24 172.16.0.10 172.16.0.1
vm-1 eth1 net-1 br-net-1 192.168.178.0/24 192.168.178.10 -
router eth0 net-1 br-net-1 192.168.178.0/24 192.168.178.2 -
router eth1 net-2 br-net-2 10.0.0.0/16 10.0.0.2 -
router eth2 local br-local 172.16.0.0/24 172.16.0.2 172.16.0.1"

peer_cni() { # COMMAND NAME machine ifname network bridge subnet address gateway
	local cmd=$1 ns isgw=false gw=
	ns=$(peer_ns "$2")
	shift 2
	if [ "$7" != - ]; then isgw=true gw=", \"gateway\": \"$7\""; fi
	CNI_COMMAND=$cmd CNI_CONTAINERID="$ns-$1" CNI_NETNS="/run/netns/$ns.$1" \
	CNI_IFNAME=$2 CNI_PATH=$CNI_BIN CNI_ARGS="IgnoreUnknown=1;IP=$6" \
		ip netns exec "$ns" "$CNI_BIN/bridge" >/dev/null <<CONF
{ "cniVersion": "1.0.0", "name": "$3", "type": "bridge", "bridge": "$4",
  "isGateway": $isgw,
  "ipam": { "type": "host-local", "dataDir": "$PEER_DIR/$ns/ipam",
            "ranges": [[{ "subnet": "$5"$gw }]] } }
CONF
}

peer_create() {
	local ns h hs is
	peer_names "$1" "$2"
	ip netns add "$ns"
	ip netns add "$ns.vm-1"
	ip netns add "$ns.router"
	# shellcheck disable=SC2086
	ip netns exec "$ns" sysctl -qw $peer_sysctls
	ip -n "$ns" link set lo up
	while read -r m ifn net br sub addr gw; do
		peer_cni ADD "$1" "$m" "$ifn" "$net" "$br" "$sub" "$addr" "$gw" || return 1
	done <<<"$PEER_CNI_IFS"
	ip -n "$HOST" -batch - <<CMDS
link add $h type veth peer name uplink0 netns $ns
addr add $hs/31 dev $h
link set $h up
CMDS
	ip -n "$ns" -batch - <<CMDS
addr add $is/31 dev uplink0
link set uplink0 up
route add default via $hs
CMDS
	peer_ruleset | ip netns exec "$ns" nft -f -
}

peer_delete() {
	local ns
	ns=$(peer_ns "$1")
	while read -r m ifn net br sub addr gw; do
		peer_cni DEL "$1" "$m" "$ifn" "$net" "$br" "$sub" "$addr" "$gw"
	done <<<"$PEER_CNI_IFS"
	ip -n "$HOST" link del "$(peer_host_end "$1" "$2")"
	ip netns del "$ns.vm-1"
	ip netns del "$ns.router"
	ip netns del "$ns"
	rm -rf "${PEER_DIR:?}/$ns"
}
