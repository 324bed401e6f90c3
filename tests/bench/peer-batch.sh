# Peer: ip -batch for the links, addresses and routes, nft -f for the rules,
# one sysctl command: the fastest a script gets.
. "$(dirname "${BASH_SOURCE[0]}")/peer_lib.sh"

peer_create() {
	local ns h hs is
	peer_names "$1" "$2"
	ip netns add "$ns"
	# shellcheck disable=SC2086
	ip netns exec "$ns" sysctl -qw $peer_sysctls
	ip -n "$HOST" -batch - <<CMDS
link add $h type veth peer name uplink0 netns $ns
addr add $hs/31 dev $h
link set $h up
CMDS
	{
		echo "link set lo up"
		while read -r net br gw; do
			echo "link add $br type bridge"
			echo "link set $br alias $net"
			[ "$gw" = - ] || echo "addr add $gw dev $br"
			echo "link set $br up"
		done <<<"$PEER_NETWORKS"
		while read -r tap br; do
			echo "tuntap add $tap mode tap vnet_hdr"
			echo "link set $tap master $br up"
		done <<<"$PEER_TAPS"
		echo "addr add $is/31 dev uplink0"
		echo "link set uplink0 up"
		echo "route add default via $hs"
	} | ip -n "$ns" -batch -
	peer_ruleset | ip netns exec "$ns" nft -f -
}
