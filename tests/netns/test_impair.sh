#!/usr/bin/env bash
# Impairments and links on this machine's kernel, which lacks sch_netem:
# a manifest (or a runtime change) that asks for delay is refused, naming
# what is missing, and nothing changes; a rate holds an iperf3 stream both
# ways (tbf, and an ifb for what the machine sends); links go down and up.
# Through netd's API and the CLI. What needs netem is tested on Debian's
# stock kernel by tests/stock/. Its own host netns, state dir, socket and
# bpffs dir; the netd it started is stopped by its pid.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/netns/netd_lib.sh
t_setup
PLAYNET=${PLAYNET:-$PWD/build/asan/bin/playnet}
NETD=${NETD:-$PWD/build/asan/bin/netd}
export ASAN_OPTIONS=detect_leaks=1:exitcode=99
need_root "impairment tests" || exit 1
test_env pnm
P=pm$ID
unset PLAYNET_DIRECT
IPERF_PIDS=

cleanup() {
	local p
	for p in $IPERF_PIDS; do kill "$p" 2>/dev/null; done
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		"$PLAYNET" down "$P" >/dev/null 2>&1
		"$PLAYNET" down "$P-d" >/dev/null 2>&1
		stop_netd
	fi
	remove_test_env "$P"
}
trap cleanup EXIT
start_netd || exit 1

# A netem qdisc can be made here only if the kernel has it: then the
# refusals below are not this kernel's to show.
if ip netns exec "$HOST" tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
	ip netns exec "$HOST" tc qdisc del dev lo root
	HAVE_NETEM=1
else
	HAVE_NETEM=0
fi

# --- a manifest that asks for delay: refused, nothing made ----------------
sed 's/rate: 10mbit/delay: 50ms/' tests/netns/impair.yaml >"$T_TMP/delay.yaml"
if [ "$HAVE_NETEM" = 0 ]; then
	expect_status "up with delay is refused" 1 "$PLAYNET" up --name "$P-d" "$T_TMP/delay.yaml"
	expect_stderr_has "the refusal names what is missing" \
		"machine a interface eth0: its impairment needs the netem qdisc (sch_netem), which this kernel"
	if ip netns list | grep -q "^pg-$P-d" || [ -e "$PLAYNET_STATE_DIR/$P-d.json" ]; then
		fail "nothing is made" "$(ip netns list | grep "$P-d"; ls "$PLAYNET_STATE_DIR")"
	else
		pass "nothing is made"
	fi
	api PUT "/v1/playgrounds/$P-d" --data-binary @"$T_TMP/delay.yaml"
	[ "$CODE" = 422 ] && grep -q '"kernel_lacks"' "$T_TMP/body" &&
		pass "the API answers 422 kernel_lacks" || fail "the API answers 422 kernel_lacks" "$CODE $(cat "$T_TMP/body")"
fi

# --- a rate, both ways -------------------------------------------------------
expect_status "up with rate 10mbit" 0 "$PLAYNET" up --name "$P" tests/netns/impair.yaml
ns=pg-$P
tc -n "$ns" qdisc show dev v-a-0 | grep -q "qdisc tbf" && pass "tbf on what a receives" ||
	fail "tbf on what a receives" "$(tc -n "$ns" qdisc show dev v-a-0)"
tc -n "$ns" qdisc show dev i-a-0 | grep -q "qdisc tbf" && pass "tbf on a's ifb, what a sends" ||
	fail "tbf on a's ifb" "$(ip -n "$ns" link; tc -n "$ns" qdisc)"
tc -n "$ns" qdisc show dev v-b-0 | grep -q "qdisc tbf" && fail "b is not impaired" || pass "b is not impaired"

# iperf3 mbit/s received, a -> b (or b -> a with -R)
iperf() {
	ip netns exec "pg-$P.b" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	local spid=$!
	IPERF_PIDS="$IPERF_PIDS $spid"
	local i
	for i in $(seq 1 50); do
		ip netns exec "pg-$P.b" ss -ltn | grep -q ':5201 ' && break
		sleep 0.1
	done
	ip netns exec "pg-$P.a" iperf3 -c 172.16.4.20 -p 5201 -t 4 -O 1 -J "$@" >"$T_TMP/iperf.json" 2>&1
	wait "$spid" 2>/dev/null
	/usr/bin/python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$T_TMP/iperf.json"
}
within10() { awk -v x="$1" -v want="$2" 'BEGIN { exit !(x >= want * 0.9 && x <= want * 1.1) }'; }
UP=$(iperf)
DOWN=$(iperf -R)
echo "iperf3 through rate 10mbit: a -> b $UP Mbit/s, b -> a $DOWN Mbit/s"
within10 "$UP" 10 && pass "a sends at 10 Mbit/s ($UP)" || fail "a sends at 10 Mbit/s" "$UP"
within10 "$DOWN" 10 && pass "a receives at 10 Mbit/s ($DOWN)" || fail "a receives at 10 Mbit/s" "$DOWN"
expect_status "show" 0 "$PLAYNET" show "$P"
expect_stdout_has "show says a's impairment" "a/eth0: impaired each way: rate 10mbit"

# --- changed at runtime ------------------------------------------------------
expect_status "impair rate 5mbit" 0 "$PLAYNET" impair "$P" a/eth0 rate 5mbit
expect_stdout_has "impair says what is set" "a/eth0: link up, impairment (each way) rate 5mbit"
tc -n "$ns" qdisc show dev i-a-0 | grep -q "rate 5Mbit" && pass "the ifb's tbf follows" ||
	fail "the ifb's tbf follows" "$(tc -n "$ns" qdisc show dev i-a-0)"
if [ "$HAVE_NETEM" = 0 ]; then
	expect_status "impair delay is refused" 1 "$PLAYNET" impair "$P" a/eth0 delay 50ms
	expect_stderr_has "the refusal names sch_netem" "needs the netem qdisc (sch_netem)"
	tc -n "$ns" qdisc show dev v-a-0 | grep -q "rate 5Mbit" && pass "a refused change changes nothing" ||
		fail "a refused change changes nothing" "$(tc -n "$ns" qdisc show dev v-a-0)"
	expect_status "show after the refusal" 0 "$PLAYNET" show "$P"
	expect_stdout_has "the record is unchanged" "a/eth0: impaired each way: rate 5mbit"
fi
expect_status "impair b" 0 "$PLAYNET" impair "$P" b/eth0 rate 2mbit
expect_status "impair --clear" 0 "$PLAYNET" impair "$P" b/eth0 --clear
if ip -n "$ns" link show i-b-0 >/dev/null 2>&1 || tc -n "$ns" qdisc show dev v-b-0 | grep -q tbf; then
	fail "clear takes the qdiscs and the ifb away" "$(tc -n "$ns" qdisc)"
else
	pass "clear takes the qdiscs and the ifb away"
fi
expect_status "ping b after the clear" 0 ip netns exec "pg-$P.a" ping -c1 -W2 172.16.4.20
expect_status "impair, no such interface" 1 "$PLAYNET" impair "$P" a/eth3 rate 1mbit
expect_stderr_has "it says so" "machine a has no interface eth3"
expect_status "impair, no such machine" 1 "$PLAYNET" impair "$P" zz/eth0 rate 1mbit
expect_status "impair, a bad rate" 1 "$PLAYNET" impair "$P" a/eth0 rate fast
expect_stderr_has "it says where" "impair.rate: expected a rate such as 10mbit, got 'fast'"
expect_status "impair, an unknown word" 2 "$PLAYNET" impair "$P" a/eth0 latency 5ms

# The API's own answers.
api PUT "/v1/playgrounds/$P/machines/a/interfaces/eth0/impair" -d '{"rate": "8mbit"}'
[ "$CODE" = 200 ] && grep -q '"rateBps": *8000000' "$T_TMP/body" && pass "API: PUT impair" ||
	fail "API: PUT impair" "$CODE $(cat "$T_TMP/body")"
api PUT "/v1/playgrounds/$P/machines/a/interfaces/eth0/impair" -d '{"rate": "8mbit", "delai": "1ms"}'
[ "$CODE" = 422 ] && grep -q 'delai' "$T_TMP/body" && pass "API: an unknown key is 422" ||
	fail "API: an unknown key is 422" "$CODE $(cat "$T_TMP/body")"
api POST "/v1/playgrounds/$P/machines/a/interfaces/eth0/impair" -d '{}'
[ "$CODE" = 405 ] && grep -qi '^allow: PUT, DELETE' "$T_TMP/headers" && pass "API: POST is 405" ||
	fail "API: POST is 405" "$CODE"
api PUT "/v1/playgrounds/$P/machines/a/interfaces/wlan0/impair" -d '{}'
[ "$CODE" = 400 ] && pass "API: a bad interface name is 400" || fail "API: a bad interface name is 400" "$CODE"
api DELETE "/v1/playgrounds/$P/machines/a/interfaces/eth0/impair"
[ "$CODE" = 200 ] && grep -q '"impair": *null' "$T_TMP/body" && pass "API: DELETE impair" ||
	fail "API: DELETE impair" "$CODE $(cat "$T_TMP/body")"

# --- links -------------------------------------------------------------------
expect_status "link down" 0 "$PLAYNET" link "$P" a/eth0 down
expect_stdout_has "link says so" "a/eth0: link down"
ip -n "pg-$P.a" link show eth0 | grep -q NO-CARRIER && pass "a sees its carrier go" ||
	fail "a sees its carrier go" "$(ip -n "pg-$P.a" link show eth0)"
expect_status "no ping while down" 1 ip netns exec "pg-$P.a" ping -c1 -W1 172.16.4.20
expect_status "show" 0 "$PLAYNET" show "$P"
expect_stdout_has "show says the link is down" "a/eth0: link down"
"$PLAYNET" show "$P" --json >"$T_TMP/show.json"
grep -q '"link": "down"' "$T_TMP/show.json" && pass "show --json says down" || fail "show --json says down"
expect_status "link up" 0 "$PLAYNET" link "$P" a/eth0 up
ok=1
for i in $(seq 1 20); do
	ip netns exec "pg-$P.a" ping -c1 -W1 172.16.4.20 >/dev/null 2>&1 && { ok=0; break; }
done
[ "$ok" = 0 ] && pass "pings come back after up" || fail "pings come back after up"
expect_status "link, neither up nor down" 2 "$PLAYNET" link "$P" a/eth0 sideways
api PUT "/v1/playgrounds/$P/machines/a/interfaces/eth0/link" -d '{"state": "off"}'
[ "$CODE" = 422 ] && pass "API: a bad link state is 422" || fail "API: a bad link state is 422" "$CODE"

# --- netd restarted: the record holds what was changed ------------------------
expect_status "impair before a netd restart" 0 "$PLAYNET" impair "$P" a/eth0 rate 3mbit
expect_status "link down before a netd restart" 0 "$PLAYNET" link "$P" b/eth0 down
stop_netd
ip -n "$ns" link del i-a-0
ip -n "$ns" link set v-b-0 up
start_netd || exit 1
tc -n "$ns" qdisc show dev v-a-0 | grep -q "rate 3Mbit" && pass "recovery puts the impairment back" ||
	fail "recovery puts the impairment back" "$(tc -n "$ns" qdisc show dev v-a-0)"
ip -n "$ns" link show v-b-0 | grep -q "state DOWN" && pass "recovery keeps the link down" ||
	fail "recovery keeps the link down" "$(ip -n "$ns" link show v-b-0)"

expect_status "down" 0 "$PLAYNET" down "$P"
ip netns list | grep -q "^pg-$P" && fail "down removes everything" || pass "down removes everything"
stop_netd
t_done
