#!/usr/bin/env bash
# Runs inside the stock-kernel machine (tests/netns/test_stock.sh boots it):
# Debian's own kernel, the host's root read-only over 9p, a tmpfs on /tmp
# and /run. What this host's kernel cannot show: netem's delay, jitter and
# loss, measured with ping, both directions; and one whole fabric (the
# routing challenge with netns machines, NAT egress to an "internet" host)
# on the kernel users run. The release build, through playnet --direct.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_setup
PLAYNET=$PWD/build/bin/playnet
ID=$$
HOST=pns-h$ID
INET=pns-i$ID
export PLAYNET_STATE_DIR=$T_TMP/state PLAYNET_HOST_NETNS=$HOST PLAYNET_DIRECT=1
export PLAYNET_BPF_DIR=/sys/fs/bpf/playnet-stock-$ID
P=ps$ID
echo "kernel $(uname -r)"

ip netns add "$HOST"
. tests/netns/inet_lib.sh
inet_up

# ping's summary: "SENT RECEIVED AVG_MS MDEV_MS"
ping_stats() {
	ip netns exec "pg-$P.a" ping -q -n "$@" 172.16.4.20 2>/dev/null |
		awk '/packets transmitted/ { s = $1; r = $4 }
		     /^rtt/ { split($4, v, "/"); a = v[2]; d = v[4] }
		     END { printf "%s %s %s %s\n", s, r, (a == "" ? 0 : a), (d == "" ? 0 : d) }'
}

# --- netem, declared ---------------------------------------------------------
sed 's/rate: 10mbit/delay: 50ms/' tests/netns/impair.yaml >"$T_TMP/delay.yaml"
expect_status "up with delay 50ms" 0 "$PLAYNET" up --name "$P" "$T_TMP/delay.yaml"
tc -n "pg-$P" qdisc show dev v-a-0 | grep -q "netem" && pass "netem on what a receives" ||
	fail "netem on what a receives" "$(tc -n "pg-$P" qdisc)"
tc -n "pg-$P" qdisc show dev i-a-0 | grep -q "netem" && pass "netem on a's ifb, what a sends" ||
	fail "netem on a's ifb" "$(tc -n "pg-$P" qdisc)"
ip netns exec "pg-$P.a" ping -c1 -W3 172.16.4.20 >/dev/null # ARP, before measuring
read -r sent got avg mdev <<<"$(ping_stats -c 20 -i 0.2)"
echo "delay 50ms each way: $got/$sent answered, rtt avg $avg ms, mdev $mdev ms"
awk -v a="$avg" 'BEGIN { exit !(a >= 100 && a < 150) }' && pass "50 ms each way is a round trip of 100 ms or more ($avg ms)" ||
	fail "50 ms each way is a round trip of 100 ms or more" "$avg ms"
[ "$got" = "$sent" ] && pass "no loss asked, none seen" || fail "no loss asked, none seen" "$got/$sent"

# --- changed at runtime: jitter, loss, clear -----------------------------------
expect_status "impair delay 50ms jitter 20ms" 0 "$PLAYNET" impair "$P" a/eth0 delay 50ms jitter 20ms
read -r sent got avg mdev <<<"$(ping_stats -c 30 -i 0.2)"
echo "delay 50ms jitter 20ms each way: rtt avg $avg ms, mdev $mdev ms"
awk -v d="$mdev" 'BEGIN { exit !(d >= 5) }' && pass "jitter spreads the round trips (mdev $mdev ms)" ||
	fail "jitter spreads the round trips" "mdev $mdev ms"

# A round trip survives a loss of L each way with (1-L)^2: at 20%, 0.64.
# 500 pings: 180 expected lost, sd 10.7; outside 4 sd (137..223) the
# loss is not what was asked (a chance below 1 in 15000 otherwise).
expect_status "impair loss 20%" 0 "$PLAYNET" impair "$P" a/eth0 loss 20%
read -r sent got avg mdev <<<"$(ping_stats -c 500 -i 0.01 -W 1)"
lost=$((sent - got))
echo "loss 20% each way: $lost of $sent round trips lost ($(awk -v l="$lost" -v s="$sent" 'BEGIN { printf "%.1f", 100 * l / s }')%; expected 36%)"
[ "$sent" = 500 ] && [ "$lost" -ge 137 ] && [ "$lost" -le 223 ] &&
	pass "20% each way loses 36% of round trips, within the binomial bounds ($lost of 500)" ||
	fail "20% each way loses 36% of round trips" "$lost of $sent"

# netem with a tbf under it, then a tbf alone: the root changes kind.
expect_status "impair delay 10ms rate 5mbit" 0 "$PLAYNET" impair "$P" a/eth0 delay 10ms rate 5mbit
tc -n "pg-$P" qdisc show dev v-a-0 | grep -q "qdisc tbf .* parent 1:1" && pass "a tbf under the netem" ||
	fail "a tbf under the netem" "$(tc -n "pg-$P" qdisc show dev v-a-0)"
expect_status "impair rate 5mbit alone" 0 "$PLAYNET" impair "$P" a/eth0 rate 5mbit
tc -n "pg-$P" qdisc show dev v-a-0 | grep -q netem && fail "netem goes for a rate alone" "$(tc -n "pg-$P" qdisc show dev v-a-0)" ||
	pass "netem goes for a rate alone"
expect_status "impair --clear" 0 "$PLAYNET" impair "$P" a/eth0 --clear
read -r sent got avg mdev <<<"$(ping_stats -c 50 -i 0.02)"
echo "cleared: $got/$sent answered, rtt avg $avg ms"
[ "$got" = "$sent" ] && awk -v a="$avg" 'BEGIN { exit !(a < 20) }' &&
	pass "clear takes delay and loss off ($got/$sent, $avg ms)" || fail "clear takes delay and loss off" "$got/$sent, $avg ms"
if tc -n "pg-$P" qdisc show dev v-a-0 | grep -q netem || ip -n "pg-$P" link show i-a-0 >/dev/null 2>&1; then
	fail "clear leaves no qdisc and no ifb" "$(tc -n "pg-$P" qdisc)"
else
	pass "clear leaves no qdisc and no ifb"
fi
expect_status "down" 0 "$PLAYNET" down "$P"

# --- the whole fabric: the routing challenge, NAT egress -------------------------
R=${P}r
expect_status "up the routing challenge" 0 "$PLAYNET" up --name "$R" tests/netns/routing-netns.yaml
in_machine() { local m=$1; shift; "$PLAYNET" exec "$R" "$m" -- "$@"; }
pings() { in_machine "$1" ping -c1 -W2 "$2" >/dev/null 2>&1; }
pings leaf-01 10.0.0.20 && fail "leaf-01 cannot reach leaf-02 yet" || pass "leaf-01 cannot reach leaf-02 yet"
in_machine leaf-01 ip route add 10.0.0.0/16 via 192.168.178.2
in_machine leaf-02 ip route add 192.168.178.0/24 via 10.0.0.2
in_machine router sysctl -qw net.ipv4.ip_forward=1
pings leaf-01 10.0.0.20 && pass "routed through the router" || fail "routed through the router"
before=$(inet_count host)
pings web-1 203.0.113.2 && pass "NAT egress reaches the internet host" || fail "NAT egress reaches the internet host"
after=$(inet_count host)
[ "$after" -gt "$before" ] && pass "the internet host sees the host's address" ||
	fail "the internet host sees the host's address" "$before -> $after"
pings leaf-01 203.0.113.2 && fail "a private network reaches nothing outside" ||
	pass "a private network reaches nothing outside"
# The guards hold on this kernel too (its build of them: guard.bpf.c).
pings web-1 172.16.0.1 && pass "web-1 reaches its gateway" || fail "web-1 reaches its gateway"
in_machine web-1 ip link set eth0 address 02:00:00:00:66:66
in_machine web-1 ip neigh flush all
pings web-1 172.16.0.1 && fail "a spoofed MAC is dropped" || pass "a spoofed MAC is dropped"
"$PLAYNET" stats "$R" --json >"$T_TMP/stats.json"
grep -q '"src_mac": [1-9]' "$T_TMP/stats.json" && pass "the guard counts the spoofed frames" ||
	fail "the guard counts the spoofed frames" "$(head -c 600 "$T_TMP/stats.json")"
expect_status "down the routing challenge" 0 "$PLAYNET" down "$R"

ip netns del "$INET"
ip netns del "$HOST"
rm -rf "$PLAYNET_BPF_DIR"
t_done
