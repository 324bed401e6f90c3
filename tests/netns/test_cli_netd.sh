#!/usr/bin/env bash
# playnet through netd: the first command starts netd in the background,
# every later one talks to it; up, ls, show, stats, exec and down with their
# outputs and exit codes; --direct refused while netd holds the state dir.
# Its own host netns, state dir, socket and bpffs dir; the netd it started
# is stopped by its pid.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/netns/netd_lib.sh
t_setup
PLAYNET=${PLAYNET:-$PWD/build/asan/bin/playnet}
NETD=${NETD:-$PWD/build/asan/bin/netd}
export ASAN_OPTIONS=detect_leaks=1:exitcode=99
need_root "CLI-through-netd tests" || exit 1
test_env pnc
P=pc$ID
unset PLAYNET_DIRECT

netd_pid() { cat "$PLAYNET_STATE_DIR/netd.pid" 2>/dev/null; }
cleanup() {
	local pid
	pid=$(netd_pid)
	# Only while that netd runs: playnet would start another one.
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		"$PLAYNET" down "$P" >/dev/null 2>&1
		kill "$pid" 2>/dev/null
		for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	fi
	[ -n "${NETD_LOG:-}" ] && rm -f "$NETD_LOG"
	remove_test_env "$P"
}
trap cleanup EXIT
M=tests/netns/pair.yaml

expect_status "up starts netd" 0 "$PLAYNET" up --name "$P" "$M"
expect_stderr_has "up says it started netd" "started netd (pid"
expect_stderr_has "up says what it made" "playground $P is up in"
PID1=$(netd_pid)
NETD_LOG=$(sed -n 's/.*started netd (pid [0-9]*, log \(.*\))$/\1/p' "$T_TMP/err")
[ -n "$PID1" ] && kill -0 "$PID1" 2>/dev/null && pass "netd runs in the background" || fail "netd runs in the background"
[ -S "$PLAYNET_SOCKET" ] && pass "on the socket asked for" || fail "on the socket asked for"

expect_status "up again, same manifest" 0 "$PLAYNET" up --name "$P" "$M"
expect_stderr_has "up again says so" "is up already"
[ "$(netd_pid)" = "$PID1" ] && pass "the same netd answers" || fail "the same netd answers" "$(netd_pid) != $PID1"
expect_status "up, other manifest under that name" 1 "$PLAYNET" up --name "$P" tests/netns/crash.yaml
expect_stderr_has "conflict said" "exists with another manifest"
expect_status "up, bad manifest: checked before netd" 1 "$PLAYNET" up --name "$P-x" tests/bad/unknown-network.yaml
expect_stderr_has "with file and line" "tests/bad/unknown-network.yaml:"

expect_status "ls" 0 "$PLAYNET" ls
expect_stdout_has "ls lists it" "$P  ready"
expect_status "ls --json" 0 "$PLAYNET" ls --json
expect_stdout_has "ls --json lists it" "\"name\": \"$P\""
expect_status "show" 0 "$PLAYNET" show "$P"
expect_stdout_has "show gives the table" "t-vm-0 (tap)"
expect_stdout_has "show gives the status" "status ready"
expect_status "show --json" 0 "$PLAYNET" show --json "$P"
expect_stdout_has "show --json, stable form" '"netnsPath": "/run/netns/pg-'"$P"'"'
expect_status "show unknown" 1 "$PLAYNET" show "$P-nope"
expect_stderr_has "show unknown says so" "no such playground"
expect_status "show bad name" 1 "$PLAYNET" show "../etc"

expect_status "exec" 0 "$PLAYNET" exec "$P" a -- ping -c1 -W2 172.16.3.3
expect_status "exec status passes through" 7 "$PLAYNET" exec "$P" a -- sh -c 'exit 7'
expect_status "exec --timeout in a netns machine" 124 "$PLAYNET" exec "$P" a --timeout 1 -- sleep 30
expect_stderr_has "says it timed out" "sleep timed out after 1 s and was killed"
expect_status "exec --timeout, done in time" 3 "$PLAYNET" exec "$P" a --timeout 30 -- sh -c 'exit 3'
expect_status "exec --user in a netns machine" 1 "$PLAYNET" exec "$P" a --user nobody -- true
expect_status "exec with a bad timeout" 2 "$PLAYNET" exec "$P" a --timeout 0 -- true
expect_status "exec on a VM" 1 "$PLAYNET" exec "$P" vm -- true
expect_status "exec unknown machine" 1 "$PLAYNET" exec "$P" nope -- true
# Init tasks and checks (tests/netns/tasks.yaml), as a teacher runs them.
T=$P-t
expect_status "tasks of a playground without them" 1 "$PLAYNET" tasks "$P"
expect_stderr_has "says there are none" "$P has no tasks"
expect_status "check without checks" 1 "$PLAYNET" check "$P"
expect_status "up runs the init tasks: three fail" 1 "$PLAYNET" up tests/netns/tasks.yaml --name "$T"
expect_stderr_has "up says so" "3 init tasks of $T failed: 'playnet tasks $T' shows them"
expect_status "tasks" 0 "$PLAYNET" tasks "$T"
task_is() { # NAME STATUS EXIT TEXT
	if grep -E "^$1 +init +[a-z]+ +$2 +$3 " "$T_TMP/out" | grep -qF -- "$4"; then pass "task $1: $2, $3"; else
		fail "task $1: $2, $3" "$(cat "$T_TMP/out")"; fi
}
task_is init_server done 0 "exit status 0"
task_is init_client done 0 "exit status 0"
task_is init_broken failed 3 "exit status 3"
task_is init_slow failed - "timed out after 1 s"
task_is init_after_broken failed - "not run: it needs init_broken, which did not succeed"
expect_stdout_has "tasks shows the whole output" "about to fail"
expect_stdout_has "as the machine printed it" "inet 10.5.0.20/24"
expect_status "tasks --json" 0 "$PLAYNET" tasks "$T" --json
first=$(grep -o '"name": "init_[a-z_]*"' "$T_TMP/out" | head -2 | tr '\n' ' ')
[ "$first" = '"name": "init_server" "name": "init_client" ' ] && pass "in needs order: init_server first" ||
	fail "in needs order: init_server first" "$first"
server_end=$(tr -d '\n ' <"$T_TMP/out" | grep -o '"name":"init_server"[^}]*' | sed -n 's/.*"ended":\([0-9.]*\).*/\1/p')
client_start=$(tr -d '\n ' <"$T_TMP/out" | grep -o '"name":"init_client"[^}]*' | sed -n 's/.*"started":\([0-9.]*\).*/\1/p')
[ -n "$server_end" ] && [ -n "$client_start" ] && awk -v a="$server_end" -v b="$client_start" 'BEGIN { exit !(b >= a) }' &&
	pass "init_client started after init_server ended" || fail "init_client started after init_server ended" "$server_end $client_start"
expect_status "show lists the tasks" 0 "$PLAYNET" show "$T"
expect_stdout_has "with their status" "init_slow"
expect_status "show --json has them" 0 "$PLAYNET" show --json "$T"
expect_stdout_has "with status and exit status" '"status": "failed"'
expect_status "check before the learner's fix" 1 "$PLAYNET" check "$T"
expect_stdout_has "a check passes" "PASS verify_init_route"
expect_stdout_has "a check fails" "FAIL verify_learner_route: exit status 1"
expect_stdout_has "and the count" "2 checks, 1 failed"
expect_status "the learner's fix, by exec" 0 "$PLAYNET" exec "$T" client -- ip route add 10.77.0.0/16 via 10.5.0.10
expect_status "check after it" 0 "$PLAYNET" check "$T"
expect_stdout_has "all pass" "2 checks, 0 failed"
expect_status "tasks --run runs what did not succeed, again" 1 "$PLAYNET" tasks "$T" --run
expect_status "down the tasks' playground" 0 "$PLAYNET" down "$T"
expect_status "its tasks go with it" 1 "$PLAYNET" tasks "$T"

expect_status "stats" 0 "$PLAYNET" stats "$P"
expect_stdout_has "stats counts the pings" "a/eth0"
expect_status "stats --json" 0 "$PLAYNET" stats --json "$P"
expect_stdout_has "stats --json total" '"total": {'

expect_status "--direct while netd runs" 3 "$PLAYNET" --direct up --name "$P-d" "$M"
expect_stderr_has "--direct refused with a reason" "in use by netd: drop --direct"
[ ! -e "$PLAYNET_STATE_DIR/$P-d.json" ] && pass "--direct made nothing" || fail "--direct made nothing"

ns_inode=$(stat -L -c %i "/run/netns/pg-$P")
expect_status "down" 0 "$PLAYNET" down "$P"
expect_stderr_has "down says so" "playground $P is down"
# Down means it at once: the namespaces that wait for the kernel (or for a
# create to take them over) carry no name of the playground.
left=$(ip netns list | awk '{print $1}' | grep -E "^pg-$P(\.|$)")
[ -z "$left" ] && pass "no pg-$P namespace right after down" || fail "no pg-$P namespace right after down" "$left"
ip netns exec "pg-$P.a" true 2>/dev/null && fail "its machine's netns is gone by name" || pass "its machine's netns is gone by name"
# netd holds them by fd until its delete is done, then lets go.
PID=$(netd_pid) wait_deletes
# (An fd opened through a name since unmounted reads as "/": by inode.)
held=$(stat -L -c %i "/proc/$(netd_pid)/fd/"* 2>/dev/null | grep -cx "$ns_inode")
[ "$held" = 0 ] && pass "netd lets go of the namespace once the delete is done" ||
	fail "netd lets go of the namespace once the delete is done" "$held fds"
expect_status "down again" 0 "$PLAYNET" down "$P"
ip netns list | grep -q "^pg-$P" && fail "down removed the namespaces" || pass "down removed the namespaces"
case $NETD_LOG in
/var/log/playnet/netd-*.log) pass "netd logs under /var/log/playnet, not in the state dir" ;;
*) fail "netd logs under /var/log/playnet, not in the state dir" "'$NETD_LOG'" ;;
esac
grep -q "playground $P: created" "$NETD_LOG" && pass "netd logs there" || fail "netd logs there"

# netd gone: the next command starts a new one, which finds nothing to recover.
kill "$PID1"
for i in $(seq 1 100); do kill -0 "$PID1" 2>/dev/null || break; sleep 0.05; done
expect_status "ls starts netd again" 0 "$PLAYNET" ls
[ -n "$(netd_pid)" ] && [ "$(netd_pid)" != "$PID1" ] && pass "a new netd" || fail "a new netd"
# A netd that cannot start is reported, not waited for.
expect_status "netd that cannot start" 3 env PLAYNET_SOCKET="$T_TMP/other.sock" "$PLAYNET" ls
expect_stderr_has "its failure is said" "exited with status 1 at start"

# A delete of nothing is no error, and says so.
expect_status "down of nothing" 0 "$PLAYNET" down "$P-none"
expect_stderr_has "down of nothing says so" "no playground named $P-none: nothing to take down"

# graph of a playground that is up, by its name.
expect_status "up for graph" 0 "$PLAYNET" up --name "$P" "$M"
expect_status "graph of a running playground" 0 "$PLAYNET" graph "$P"
expect_stdout_has "graph draws its machines" '"m:a"'

# Fabric options that the running netd does not have are refused, not
# ignored: playnet would act on that netd's fabric.
expect_status "another host netns than netd's" 1 env PLAYNET_HOST_NETNS="$HOST-other" "$PLAYNET" up --name "$P-o" "$M"
expect_stderr_has "netd's value said" "runs with --host-netns '$HOST', not '$HOST-other' as asked"
expect_stderr_has "how to stop it said" "kill \$(cat $PLAYNET_STATE_DIR/netd.pid)"
[ ! -e "$PLAYNET_STATE_DIR/$P-o.json" ] && pass "a refused option made nothing" || fail "a refused option made nothing"
expect_status "another transit pool than netd's" 1 "$PLAYNET" --transit-pool 100.100.0.0/16 ls
expect_stderr_has "the pool said" "runs with --transit-pool '100.64.0.0/10', not '100.100.0.0/16'"
expect_status "the same options are fine" 0 "$PLAYNET" --transit-pool 100.64.0.0/10 ls

# The transit /31 is recorded: show stays right under another pool.
up_host=$("$PLAYNET" show --json "$P" | python3 -c 'import json,sys; print(json.load(sys.stdin)["transit"]["host"])')
PID2=$(netd_pid)
kill "$PID2"
for i in $(seq 1 100); do kill -0 "$PID2" 2>/dev/null || break; sleep 0.05; done
expect_status "netd again with another pool" 0 "$PLAYNET" --transit-pool 100.100.0.0/16 show --json "$P"
expect_stdout_has "show keeps the recorded /31" "\"host\": \"$up_host\""
ip -n "$HOST" -o addr show | grep -q " ${up_host%/31}/31 " && pass "which is the one on the link" || fail "which is the one on the link" "$(ip -n "$HOST" -o addr show)"
PID3=$(netd_pid)
expect_status "down under the other pool" 0 "$PLAYNET" --transit-pool 100.100.0.0/16 down "$P"
kill "$PID3"
for i in $(seq 1 100); do kill -0 "$PID3" 2>/dev/null || break; sleep 0.05; done

# netd makes the directory of its socket (/run/playnet after a reboot).
NS_SOCK=$T_TMP/run/a/netd.sock
env PLAYNET_SOCKET="$NS_SOCK" "$NETD" >"$T_TMP/netd2.log" 2>&1 &
PID4=$!
for i in $(seq 1 100); do [ -S "$NS_SOCK" ] && break; kill -0 "$PID4" 2>/dev/null || break; sleep 0.05; done
[ -S "$NS_SOCK" ] && pass "netd made its socket's directory" || fail "netd made its socket's directory" "$(tail -3 "$T_TMP/netd2.log")"
kill "$PID4" 2>/dev/null
wait "$PID4" 2>/dev/null
t_done
