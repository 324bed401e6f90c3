# The reference playground (manifests/bench-reference.yaml) as the peers
# build it: the same objects as playnet's fabric, named alike, without the
# eBPF guards and without state files. Sourced by peer-*.sh; every peer
# defines peer_create NAME INDEX and peer_delete NAME INDEX, run with
# HOST set to the host netns. INDEX picks the transit /31 (100.64.0.0/10),
# as playnet's allocator would. peer_delete below serves the peers that make
# nothing but the playground's namespace.

# network bridge gateway/prefix (empty: private)
PEER_NETWORKS="net-1 br-net-1 -
net-2 br-net-2 -
local br-local 172.16.0.1/24"
# tap bridge
PEER_TAPS="t-vm-1-0 br-local
t-vm-1-1 br-net-1
t-router-0 br-net-1
t-router-1 br-net-2
t-router-2 br-local"
PEER_NAT_SUBNET=172.16.0.0/24

peer_ns() { echo "pg-$1"; }
peer_host_end() { echo "pnq-$2"; }
# Sets ns, h (host end), hs and is (host and inside transit addresses) for
# NAME INDEX; the caller declares them local.
peer_names() {
	ns=$(peer_ns "$1") h=$(peer_host_end "$1" "$2")
	read -r hs is <<<"$(peer_transit "$2")"
}
# The uplink's host end, then the namespace with everything in it.
peer_delete() {
	ip -n "$HOST" link del "$(peer_host_end "$1" "$2")"
	ip netns del "$(peer_ns "$1")"
}
# host address, inside address of transit /31 number $1
peer_transit() {
	local n=$((2 * $1))
	echo "100.$((64 + (n >> 16))).$(((n >> 8) & 255)).$((n & 255)) 100.$((64 + ((n + 1) >> 16))).$((((n + 1) >> 8) & 255)).$(((n + 1) & 255))"
}

# The playground's nftables table, as nft_playground_batch makes it.
peer_ruleset() {
	cat <<RULES
table ip playnet {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "uplink0" ip saddr $PEER_NAT_SUBNET masquerade
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "br-local" oifname "uplink0" accept
	}
}
RULES
}

# The host side, shared by all playgrounds: made once before the runs
# (named apart from playnet's own host table in the same host netns).
peer_host_ruleset() {
	cat <<'RULES'
table ip peers {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		iifname "pnq-*" oifname != "pnq-*" masquerade
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname "pnq-*" oifname "pnq-*" drop
		iifname "pnq-*" accept
		oifname "pnq-*" ct state established,related accept
		oifname "pnq-*" drop
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "pnq-*" ct state established,related accept
		iifname "pnq-*" drop
	}
}
RULES
}

peer_sysctls="net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=0 net.ipv6.conf.default.disable_ipv6=1"
