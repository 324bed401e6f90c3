# The tests' "internet": a host at 203.0.113.2 in netns $INET behind the
# test's host netns $HOST (203.0.113.1 on egress0), counting the echo
# requests it gets by source address.

inet_up() {
	ip netns add "$INET"
	ip link add egress0 netns "$HOST" type veth peer name eth0 netns "$INET"
	ip -n "$HOST" addr add 203.0.113.1/24 dev egress0
	ip -n "$HOST" link set egress0 up
	ip -n "$INET" addr add 203.0.113.2/24 dev eth0
	ip -n "$INET" link set eth0 up
	ip -n "$INET" link set lo up
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
