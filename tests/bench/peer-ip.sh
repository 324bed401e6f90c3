# Peer: one ip, nft or sysctl command per object.
. "$(dirname "${BASH_SOURCE[0]}")/peer_lib.sh"

peer_create() {
	local ns h hs is
	peer_names "$1" "$2"
	ip netns add "$ns"
	for s in $peer_sysctls; do ip netns exec "$ns" sysctl -qw "$s"; done
	ip -n "$ns" link set lo up
	while read -r net br gw; do
		ip -n "$ns" link add "$br" type bridge
		ip -n "$ns" link set "$br" alias "$net"
		[ "$gw" = - ] || ip -n "$ns" addr add "$gw" dev "$br"
		ip -n "$ns" link set "$br" up
	done <<<"$PEER_NETWORKS"
	while read -r tap br; do
		ip -n "$ns" tuntap add "$tap" mode tap vnet_hdr
		ip -n "$ns" link set "$tap" master "$br"
		ip -n "$ns" link set "$tap" up
	done <<<"$PEER_TAPS"
	ip -n "$HOST" link add "$h" type veth peer name uplink0 netns "$ns"
	ip -n "$HOST" addr add "$hs/31" dev "$h"
	ip -n "$HOST" link set "$h" up
	ip -n "$ns" addr add "$is/31" dev uplink0
	ip -n "$ns" link set uplink0 up
	ip -n "$ns" route add default via "$hs"
	ip netns exec "$ns" nft add table ip playnet
	ip netns exec "$ns" nft add chain ip playnet postrouting '{ type nat hook postrouting priority srcnat; policy accept; }'
	ip netns exec "$ns" nft add rule ip playnet postrouting oifname uplink0 ip saddr "$PEER_NAT_SUBNET" masquerade
	ip netns exec "$ns" nft add chain ip playnet forward '{ type filter hook forward priority filter; policy drop; }'
	ip netns exec "$ns" nft add rule ip playnet forward ct state established,related accept
	ip netns exec "$ns" nft add rule ip playnet forward iifname br-local oifname uplink0 accept
}
