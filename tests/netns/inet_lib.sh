# The tests' "internet": a host at 203.0.113.2 in netns $INET behind the
# test's host netns $HOST (203.0.113.1 on egress0), counting the echo
# requests it gets by source address.

# behind_host NETNS DEV HOST_ADDR PEER_ADDR (each /24): a netns of the
# test's joined to $HOST by a veth (DEV in $HOST, eth0 in NETNS).
behind_host() {
	ip netns add "$1"
	ip link add "$2" netns "$HOST" type veth peer name eth0 netns "$1"
	ip -n "$HOST" addr add "$3/24" dev "$2"
	ip -n "$HOST" link set "$2" up
	ip -n "$1" addr add "$4/24" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$1" link set lo up
}

inet_up() {
	behind_host "$INET" egress0 203.0.113.1 203.0.113.2
	ip netns exec "$INET" nft -f - <<NFT
table ip count {
	chain in {
		type filter hook input priority 0;
		ip saddr 203.0.113.1 icmp type echo-request counter
		ip saddr != 203.0.113.1 icmp type echo-request counter
	}
}
NFT
}

inet_count() { # $1: "host" (from 203.0.113.1) or "other"
	ip netns exec "$INET" nft list chain ip count in |
		awk -v want="$1" '/counter/ { n++; if ((want == "host" && n == 1) || (want == "other" && n == 2)) print $(NF-2) }'
}
