#!/usr/bin/env bash
# netd and its API through a real unix socket, with curl, as root: its own
# host netns, state dir, socket and bpffs dir, all removed on exit. The
# sanitizer build of netd: a leak at exit fails the last check.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/netns/netd_lib.sh
t_setup
NETD=${NETD:-$PWD/build/asan/bin/netd}
PLAYNET=${PLAYNET:-$PWD/build/asan/bin/playnet}
export ASAN_OPTIONS=detect_leaks=1:exitcode=99
API_MAX_TIME=20
need_root "netd tests" || exit 1
test_env pnd
P=pd$ID-a

# Through the API while netd runs: playnet would start a netd of its own.
cleanup() {
	[ -n "$PID" ] && api DELETE "/v1/playgrounds/$P"
	stop_netd
	remove_test_env "$P"
}
trap cleanup EXIT

expect_code() { # NAME WANT
	if [ "$CODE" = "$2" ]; then pass "$1"; else fail "$1" "HTTP $CODE, expected $2: $(head -c 300 "$T_TMP/body")"; fi
}
body_has() {
	if grep -qF -- "$2" "$T_TMP/body"; then pass "$1"; else fail "$1" "body lacks '$2': $(head -c 300 "$T_TMP/body")"; fi
}

start_netd && pass "netd listens" || fail "netd listens" "$(cat "$T_TMP/netd.log")"
[ "$(stat -c %a "$PLAYNET_SOCKET")" = 660 ] && pass "socket mode 0660" || fail "socket mode 0660" "$(stat -c %a "$PLAYNET_SOCKET")"

expect_status "netd -n" 0 "$NETD" -n
expect_stderr_has "netd -n says OK" "configuration OK"
expect_status "netd bad option" 2 "$NETD" --transit-pool nonsense -n
expect_status "a second netd" 1 "$NETD"
expect_stderr_has "a second netd is refused" "is in use by another netd or playnet"

M=tests/netns/routing-netns.yaml
api GET /healthz; expect_code "healthz" 200; body_has "healthz body" '"status":"ok"'
api PUT "/v1/playgrounds/$P" --data-binary "@$M"; expect_code "PUT creates" 201
body_has "PUT answers the topology" '"netnsPath":"/run/netns/pg-'"$P"'"'
body_has "PUT answers ready" '"status":"ready"'
body_has "PUT answers the taps" '"device":"t-vm-0"'
api PUT "/v1/playgrounds/$P" --data-binary "@$M"; expect_code "PUT same again" 200
api PUT "/v1/playgrounds/$P" --data-binary @manifests/single-vm.yaml; expect_code "PUT different" 409
body_has "409 says why" '"code":"conflict"'
api GET /v1/playgrounds; expect_code "list" 200; body_has "list has it" "\"name\":\"$P\""
api GET "/v1/playgrounds/$P"; expect_code "get" 200; body_has "get has MACs" '"mac":"02:'
api GET "/v1/playgrounds/$P/stats"; expect_code "stats" 200; body_has "stats total" '"total":'
"$PLAYNET" exec "$P" web-1 -- ping -c1 -W1 172.16.0.3 >/dev/null 2>&1 &&
	pass "the playground works" || fail "the playground works"

# A command in a machine through the API, as a grader runs one.
X=/v1/playgrounds/$P/machines
api POST "$X/leaf-02/exec" --data-binary '{"command": ["sh", "-c", "ip -4 -o addr show eth0; echo warn >&2; exit 7"]}'
expect_code "exec in a netns machine" 200
body_has "its exit status" '"exit_status":7'
body_has "its stdout, from its own netns" 'inet 10.0.0.20/16'
body_has "its stderr apart" '"stderr":"warn\n"'
api POST "$X/leaf-01/exec" --data-binary '{"command": ["cat"], "stdin": "given"}'
expect_code "exec with stdin" 200; body_has "stdin reaches the command" '"stdout":"given"'
api POST "$X/leaf-01/exec" --data-binary '{"command": ["sleep", "30"], "timeout_seconds": 1}'
expect_code "exec that times out" 200; body_has "says it timed out" '"timed_out":true'
api POST "$X/leaf-01/exec" --data-binary '{"command": ["no-such-program"]}'
expect_code "exec of a program the machine lacks" 200; body_has "127, as a shell says" '"exit_status":127'
api POST "$X/nosuch/exec" --data-binary '{"command": ["true"]}'
expect_code "exec in a machine the playground lacks" 404; body_has "the usual error JSON" '"code":"not_found"'
api POST "/v1/playgrounds/nosuch-$ID/machines/leaf-01/exec" --data-binary '{"command": ["true"]}'
expect_code "exec in a playground that is not there" 404
api POST "$X/vm/exec" --data-binary '{"command": ["true"]}'
expect_code "exec in a VM that is not running" 409; body_has "says so" '"code":"not_running"'
api POST "$X/leaf-01/exec" --data-binary '{"command": "true"}'
expect_code "exec with a bad body" 400; body_has "says what is wrong" 'command: a list of strings'
api POST "$X/leaf-01/exec" --data-binary '{"command": ["true"], "shell": true}'
expect_code "exec with an unknown field" 400; body_has "names it" "unknown field 'shell'"
api GET "$X/leaf-01/exec"
expect_code "exec by GET" 405
# A command under way holds up no other request.
curl -s -o "$T_TMP/slow" --max-time 30 --unix-socket "$PLAYNET_SOCKET" -X POST \
	--data-binary '{"command": ["sh", "-c", "sleep 6; echo slow-done"]}' "http://netd$X/leaf-01/exec" &
SLOW=$!
sleep 1
api GET "/v1/playgrounds/$P"; expect_code "a GET while a command runs" 200
kill -0 "$SLOW" 2>/dev/null && pass "answered while the command still ran" || fail "answered while the command still ran"
wait "$SLOW"
grep -q slow-done "$T_TMP/slow" && pass "the slow command's answer came after" || fail "the slow command's answer came after" "$(cat "$T_TMP/slow")"
# netd's namespaces are made ahead by a thread: they must come set up alike
[ "$(ip netns exec "pg-$P" cat /proc/sys/net/ipv6/conf/default/disable_ipv6)" = 1 ] &&
	[ -z "$(ip -n "pg-$P" -6 -o addr show | awk '$2 != "lo"')" ] &&
	pass "made-ahead netns has no IPv6" || fail "made-ahead netns has no IPv6"
[ "$(ip netns exec "pg-$P" cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo 0)" = 0 ] &&
	pass "made-ahead netns: bridge netfilter off" || fail "made-ahead netns: bridge netfilter off"
api GET /metrics; expect_code "metrics" 200
body_has "metrics playgrounds" "playnet_playgrounds 1"
body_has "metrics creates" "playnet_creates_total 1"
body_has "metrics histogram" 'playnet_create_seconds_bucket{le="+Inf"} 1'
body_has "metrics guards" "playnet_guard_passed_packets_total{playground=\"$P\"}"
grep -q "text/plain" "$T_TMP/headers" && pass "metrics content type" || fail "metrics content type"

# bad bodies
api PUT /v1/playgrounds/bad --data-binary @tests/bad/truncated.yaml; expect_code "bad YAML" 422
body_has "bad YAML position" '"line":12,"column":1'
api PUT /v1/playgrounds/bad --data-binary '{"kind": "playground", "playground": {'; expect_code "bad JSON" 422
body_has "bad JSON code" '"code":"invalid_manifest"'
api PUT /v1/playgrounds/bad --data-binary @tests/bad/unknown-network.yaml; expect_code "invalid manifest" 422
body_has "invalid manifest message" "unknown network 'net-2'"
api PUT /v1/playgrounds/bad -H 'Content-Type: application/yaml' --data-binary ''; expect_code "empty body" 400
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' '#' >"$T_TMP/big"
api PUT /v1/playgrounds/bad --data-binary @"$T_TMP/big"; expect_code "oversized body" 413
api PUT /v1/playgrounds/bad -H 'Transfer-Encoding: chunked' --data-binary @"$T_TMP/big"; expect_code "oversized chunked body" 413
[ ! -e "$PLAYNET_STATE_DIR/bad.json" ] && pass "bad bodies made nothing" || fail "bad bodies made nothing"
# the front end planned them; the parent counted what it refused
api GET /metrics; body_has "refused manifests counted" 'playnet_errors_total{kind="manifest"} 3'
# the record holds the plan the parent read, beside the manifest as given
python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["plan"]["version"] == 1 and len(r["plan"]["machines"]) == 6 and r["manifest"] == open(sys.argv[2]).read() else 1)' \
	"$PLAYNET_STATE_DIR/$P.json" "$M" && pass "the record holds its plan" || fail "the record holds its plan"

# paths, methods, names
api GET /nope; expect_code "unknown path" 404
api GET /v1/playgrounds/x/y; expect_code "unknown sub-path" 404
api POST "/v1/playgrounds/$P"; expect_code "wrong method" 405
grep -qi '^allow: GET, PUT, DELETE' "$T_TMP/headers" && pass "405 says Allow" || fail "405 says Allow" "$(cat "$T_TMP/headers")"
api PATCH /v1/playgrounds; expect_code "wrong method on the list" 405
api PUT /v1/playgrounds/a%2Fb --data-binary "@$M"; [ "$CODE" = 404 ] || [ "$CODE" = 400 ] && pass "name with /" || fail "name with /" "$CODE"
api PUT /v1/playgrounds/.. --path-as-is --data-binary "@$M"; expect_code "name .." 400
api PUT /v1/playgrounds/a%20b --data-binary "@$M"; expect_code "name with a space" 400
api PUT "/v1/playgrounds/$(head -c 300 /dev/zero | tr '\0' 'a')" --data-binary "@$M"; expect_code "300-character name" 400
api GET /v1/playgrounds/nothing-here; expect_code "unknown playground" 404
api GET /v1/playgrounds/nothing-here/stats; expect_code "unknown playground stats" 404

# 200 clients at once, and a slow one that must not hold the others up
curl -s -o /dev/null --max-time 60 --limit-rate 1 --unix-socket "$PLAYNET_SOCKET" \
	-X PUT --data-binary "@$M" "http://netd/v1/playgrounds/slow$ID" &
SLOW=$!
sleep 0.2
clients=()
for i in $(seq 1 200); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 --unix-socket "$PLAYNET_SOCKET" \
		"http://netd/v1/playgrounds/$P" >>"$T_TMP/codes" &
	clients+=($!)
done
wait "${clients[@]}"
ok=$(grep -c '^200$' "$T_TMP/codes")
[ "$ok" = 200 ] && pass "200 clients at once served" || fail "200 clients at once served" "$ok of 200: $(sort "$T_TMP/codes" | uniq -c | tr '\n' ' ')"
kill "$SLOW" 2>/dev/null
wait "$SLOW" 2>/dev/null
[ ! -e "$PLAYNET_STATE_DIR/slow$ID.json" ] && pass "the half-sent request made nothing" || fail "the half-sent request made nothing"

api DELETE "/v1/playgrounds/$P"; expect_code "DELETE" 204
api DELETE "/v1/playgrounds/$P"; expect_code "DELETE again" 204
api GET "/v1/playgrounds/$P"; expect_code "gone" 404
wait_deletes
ip netns list | grep -q "pg-$P" && fail "nothing left in the kernel" || pass "nothing left in the kernel"
api GET /metrics; body_has "metrics deletes" "playnet_deletes_total 2"

# Creates of a manifest of the same frame (as many networks, the machines'
# ports on the same ones) take over the namespaces of deletes still queued,
# refitted: netd hands the kernel one at a time, so of five deleted at once
# most are still there when five creates follow. This one has another
# network, subnet, NAT and machine than tiny.yaml's.
R=tests/netns/tiny.yaml
REFIT='kind: playground
playground:
  networks: [{name: lab, subnet: 10.9.0.0/24}]
  machines: [{name: box, network: {interfaces: [{network: lab}]}}]
'
for i in 1 2 3 4 5; do api PUT "/v1/playgrounds/$P-o$i" --data-binary "@$R"; done
expect_code "five to delete" 201
for i in 1 2 3 4 5; do api DELETE "/v1/playgrounds/$P-o$i"; done
expect_code "five deleted" 204
for i in 1 2 3 4 5; do api PUT "/v1/playgrounds/$P-n$i" --data-binary "$REFIT"; done
expect_code "five created after them" 201
api GET /metrics
n=$(awk '$1 == "playnet_creates_recycled_total" { print $2 }' "$T_TMP/body")
[ "${n:-0}" -ge 1 ] && pass "creates took over deleted namespaces ($n of 5)" ||
	fail "creates took over deleted namespaces" "$(grep recycled "$T_TMP/body")"
read -r took donor < <(sed -n "s/.*playground $P-\(n[0-9]\): took over the namespace of deleted $P-\(o[0-9]\)$/\1 \2/p" "$T_TMP/netd.log" | head -1)
api GET "/v1/playgrounds/$P-$took"; body_has "a taken-over playground reads back ready" '"status":"ready"'
host=$(grep -o '"hostDevice":"[^"]*"' "$T_TMP/body" | cut -d'"' -f4)
api GET "/v1/playgrounds/$P-$took/stats"; body_has "its counters start from zero" '"passPackets":0'
ip -n "pg-$P-$took" -o link show t-box-0 >/dev/null 2>&1 && [ -n "$host" ] &&
	ip -n "$HOST" -o link show "$host" >/dev/null 2>&1 &&
	[ -n "$donor" ] && [ ! -e "/run/netns/pg-$P-$donor" ] &&
	pass "its namespace and uplink carry its name" ||
	fail "its namespace and uplink carry its name" "$host; $(ip netns list | grep "$P-" | tr '\n' ' ')"
addrs=$(ip -n "pg-$P-$took" -4 -o addr show | awk '$2 != "lo" && $2 != "uplink0" { print $2, $4 }')
[ "$addrs" = "br-lab 10.9.0.1/24" ] && ! ip -n "pg-$P-$took" -o link show br-net >/dev/null 2>&1 &&
	pass "its bridge is refitted: renamed, its gateway" ||
	fail "its bridge is refitted: renamed, its gateway" "$addrs; $(ip -n "pg-$P-$took" -o link show | cut -d' ' -f2 | tr '\n' ' ')"
ip netns exec "pg-$P-$took" nft list table ip playnet 2>&1 | grep -q 'ip saddr 10.9.0.0/24 masquerade' &&
	pass "its NAT is its own" || fail "its NAT is its own" "$(ip netns exec "pg-$P-$took" nft list table ip playnet 2>&1)"

# Deleted and created again under its own name while its delete is queued
# behind others: reset where it stands, the same namespace.
for i in 1 2 3 4 5; do api PUT "/v1/playgrounds/$P-r$i" --data-binary "@$R"; done
expect_code "five to reset" 201
ino=$(stat -L -c %i "/run/netns/pg-$P-r5")
for i in 1 2 3 4 5; do api DELETE "/v1/playgrounds/$P-r$i"; done
api PUT "/v1/playgrounds/$P-r5" --data-binary "@$R"; expect_code "the last created again" 201
grep -q "playground $P-r5: deleted and created again where it stood" "$T_TMP/netd.log" &&
	[ "$(stat -L -c %i "/run/netns/pg-$P-r5")" = "$ino" ] &&
	pass "reset where it stood, in the same namespace" ||
	fail "reset where it stood, in the same namespace" "$(grep "$P-r5" "$T_TMP/netd.log" | tail -3)"
api GET "/v1/playgrounds/$P-r5"; body_has "the reset playground reads back ready" '"status":"ready"'
api GET "/v1/playgrounds/$P-r5/stats"; body_has "its counters start from zero" '"passPackets":0'
for i in 1 2 3 4 5; do api DELETE "/v1/playgrounds/$P-n$i"; done
api DELETE "/v1/playgrounds/$P-r5"
expect_code "and deleted" 204
[ -z "$(leftovers "$P-")" ] && pass "nothing left of the fifteen" || fail "nothing left of the fifteen" "$(leftovers "$P-")"

stop_netd
[ "$NETD_STATUS" -eq 0 ] && pass "netd stops on SIGTERM, no leak" || fail "netd stops on SIGTERM, no leak" "exit $NETD_STATUS: $(tail -20 "$T_TMP/netd.log")"

# Takeovers off: the same five deletes and creates all build from scratch.
expect_status "PLAYNET_NO_TAKEOVER takes 0 or 1" 2 env PLAYNET_NO_TAKEOVER=yes "$NETD" -n
expect_stderr_has "and says so" "PLAYNET_NO_TAKEOVER (0 or 1): invalid value 'yes'"
start_netd PLAYNET_NO_TAKEOVER=1 || fail "netd starts with takeovers off" "$(tail -5 "$T_TMP/netd.log")"
for i in 1 2 3 4 5; do api PUT "/v1/playgrounds/$P-p$i" --data-binary "@$R"; done
for i in 1 2 3 4 5; do api DELETE "/v1/playgrounds/$P-p$i"; done
for i in 1 2 3 4 5; do api PUT "/v1/playgrounds/$P-q$i" --data-binary "@$R"; done
expect_code "five created after five deleted" 201
api GET /metrics; body_has "none took over, takeovers off" "playnet_creates_recycled_total 0"
for i in 1 2 3 4 5; do api DELETE "/v1/playgrounds/$P-q$i"; done
stop_netd
[ "$NETD_STATUS" -eq 0 ] && pass "and stops, no leak" || fail "and stops, no leak" "exit $NETD_STATUS: $(tail -20 "$T_TMP/netd.log")"
[ -z "$(leftovers "$P-")" ] && pass "nothing left of the ten" || fail "nothing left of the ten" "$(leftovers "$P-")"
[ ! -e "$PLAYNET_SOCKET" ] && pass "socket removed" || fail "socket removed"
grep -q "playground $P: created" "$T_TMP/netd.log" && pass "one log line per event, with the name" || fail "one log line per event, with the name"

t_done
