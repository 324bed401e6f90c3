#!/usr/bin/env bash
# playnet validate|plan|graph through the sanitizer build of the binary:
# the bad-manifest corpus, hostile files, exit codes and output forms.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
t_setup
PLAYNET=${PLAYNET:-build/asan/bin/playnet}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99

# Every bad manifest is rejected with exit 1 and exactly the expected errors.
for f in tests/bad/*.yaml; do
	name=bad/$(basename "$f" .yaml)
	"$PLAYNET" validate "$f" >"$T_TMP/out" 2>"$T_TMP/err"
	st=$?
	if [ $st -ne 1 ]; then
		fail "$name" "exit $st, expected 1: $(head -c 300 "$T_TMP/err")"
	elif ! diff -u "${f%.yaml}.err" "$T_TMP/err" >"$T_TMP/diff"; then
		fail "$name" "$(cat "$T_TMP/diff")"
	elif [ -s "$T_TMP/out" ]; then
		fail "$name" "printed on stdout"
	else
		pass "$name"
	fi
done

# Every example manifest is valid and plans.
for f in manifests/*.yaml; do
	expect_status "valid/$(basename "$f" .yaml)" 0 "$PLAYNET" validate "$f"
	expect_stderr_has "valid/$(basename "$f" .yaml) says OK" "configuration OK"
	expect_status "plan/$(basename "$f" .yaml)" 0 "$PLAYNET" plan "$f"
done

# Hostile files made here, too big to commit.
head -c $((1024 * 1024 + 100)) /dev/zero | tr '\0' '#' >"$T_TMP/huge.yaml"
expect_status "huge file rejected" 1 "$PLAYNET" validate "$T_TMP/huge.yaml"
expect_stderr_has "huge file message" "huge.yaml: manifest too large: more than 1048576 bytes"

{ printf 'kind: playground\nplayground: '; head -c 200000 /dev/zero | tr '\0' '['; } >"$T_TMP/deep.yaml"
expect_status "deep nesting rejected" 1 "$PLAYNET" validate "$T_TMP/deep.yaml"
expect_stderr_has "deep nesting message" "document nested too deeply"

{ printf 'kind: playground\nplayground:\n  machines:\n'; for i in $(seq 1 20000); do echo "    - {name: m$i}"; done; } >"$T_TMP/wide.yaml"
expect_status "many machines rejected" 1 "$PLAYNET" validate "$T_TMP/wide.yaml"
expect_stderr_has "many machines message" "too many machines: 20000 (the limit is 16)"
{ printf 'kind: playground\nplayground:\n  machines:\n'; for i in $(seq 1 40000); do echo "    - {name: m$i}"; done; } >"$T_TMP/wider.yaml"
expect_status "too many nodes rejected" 1 "$PLAYNET" validate "$T_TMP/wider.yaml"
expect_stderr_has "too many nodes message" "document too large: too many YAML nodes"

printf 'kind: playground\nplayground:\n  machines: [{name: a}]\n' >"$T_TMP/ok.yaml"
printf '\xff\xfe garbage \x00\x01' >"$T_TMP/binary.yaml"
expect_status "binary file rejected" 1 "$PLAYNET" validate "$T_TMP/binary.yaml"
expect_stderr_has "binary file message" "invalid YAML"

expect_status "missing file" 1 "$PLAYNET" validate "$T_TMP/nope.yaml"
expect_stderr_has "missing file message" "nope.yaml: cannot open: No such file or directory"
expect_status "directory" 1 "$PLAYNET" validate "$T_TMP"
expect_stderr_has "directory message" "not a regular file"

# Limits are configurable, by option and by environment.
expect_status "limit option" 1 "$PLAYNET" --max-machines 1 validate manifests/routing-challenge.yaml
expect_stderr_has "limit option message" "too many machines: 3 (the limit is 1)"
expect_status "limit env" 1 env PLAYNET_MAX_NETWORKS=1 "$PLAYNET" validate manifests/routing-challenge.yaml
expect_stderr_has "limit env message" "too many networks: 2 (the limit is 1)"
expect_status "limit option bad" 2 "$PLAYNET" --max-machines zero validate manifests/routing-challenge.yaml

# Usage errors exit 2.
expect_status "no command" 2 "$PLAYNET"
expect_status "unknown command" 2 "$PLAYNET" frobnicate
expect_status "validate without file" 2 "$PLAYNET" validate
expect_status "plan bad option" 2 "$PLAYNET" plan --bogus manifests/single-vm.yaml
expect_status "graph bad format" 2 "$PLAYNET" graph --format png manifests/single-vm.yaml
expect_status "help" 0 "$PLAYNET" --help
expect_stdout_has "help lists plan" "plan FILE"

# plan: the routing challenge as the issue gives it.
expect_status "plan json" 0 "$PLAYNET" plan --json manifests/routing-challenge.yaml
expect_stdout_has "plan json leaf-01" '"cidr": "192.168.178.10/24"'
expect_stdout_has "plan json router net-2" '"cidr": "10.0.0.2/16"'
expect_stdout_has "plan json leaf-02" '"cidr": "10.0.0.20/16"'
if grep -q '"gateway": "' "$T_TMP/out"; then fail "plan json no gateways" "a gateway on a private network"; else pass "plan json no gateways"; fi
cp "$T_TMP/out" "$T_TMP/plan1.json"
"$PLAYNET" plan --json manifests/routing-challenge.yaml >"$T_TMP/plan2.json" 2>/dev/null
if cmp -s "$T_TMP/plan1.json" "$T_TMP/plan2.json"; then pass "plan json deterministic"; else fail "plan json deterministic"; fi
if diff -q "$T_TMP/plan1.json" tests/golden/routing-challenge.plan.json >/dev/null; then pass "plan json golden"; else fail "plan json golden"; fi
expect_status "plan --name" 0 "$PLAYNET" plan --json --name other manifests/routing-challenge.yaml
expect_stdout_has "plan --name used" '"netns": "pg-other"'
expect_status "plan bad --name" 1 "$PLAYNET" plan --name ../x manifests/routing-challenge.yaml
expect_stderr_has "plan bad --name message" "invalid playground name '../x'"
cp manifests/single-vm.yaml "$T_TMP/Not Valid!.yaml"
expect_status "plan underivable name" 2 "$PLAYNET" plan "$T_TMP/Not Valid!.yaml"
expect_stderr_has "plan underivable name message" "give one with --name"
expect_status "plan table" 0 "$PLAYNET" plan manifests/routing-challenge.yaml
expect_stdout_has "plan table row" "192.168.178.10/24"
expect_stdout_has "plan table header" "MACHINE"
expect_status "plan of a bad manifest" 1 "$PLAYNET" plan tests/bad/unknown-network.yaml
expect_stderr_has "plan of a bad manifest message" "unknown network 'net-2'"

# A title's terminal escapes are shown, not sent to the terminal (F17).
printf 'kind: playground\ntitle: "red \\e[31mALERT\\e]0;owned\\a"\nplayground:\n  machines: [{name: m}]\n' >"$T_TMP/esc.yaml"
expect_status "plan of a title with escapes" 0 "$PLAYNET" plan "$T_TMP/esc.yaml"
if grep -q "$(printf '\033')" "$T_TMP/out"; then fail "a title's escapes are not printed raw"; else
	pass "a title's escapes are not printed raw"; fi
expect_stdout_has "a title's escapes are shown" 'red \x1b[31mALERT\x1b]0;owned\x07'

# graph: DOT always; SVG through Graphviz when installed.
expect_status "graph dot" 0 "$PLAYNET" graph manifests/five-machine-lab.yaml
expect_stdout_has "graph dot edge" '"m:router" -- "net:lan-a" [label="eth1 10.1.0.1"]'
expect_stdout_has "graph dot network box" '"net:dmz" [shape=box'
if command -v dot >/dev/null; then
	expect_status "graph svg" 0 "$PLAYNET" graph --format svg manifests/five-machine-lab.yaml
	expect_stdout_has "graph svg output" "<svg"
	dot -Tsvg <"$T_TMP/out" >/dev/null 2>&1 || true
	"$PLAYNET" graph manifests/five-machine-lab.yaml 2>/dev/null | dot -Tsvg >/dev/null 2>&1 &&
		pass "graph dot parses" || fail "graph dot parses"
fi
expect_status "graph svg without dot" 3 env PATH=/nonexistent "$PWD/$PLAYNET" graph --format svg manifests/single-vm.yaml
expect_stderr_has "graph svg without dot message" "needs the 'dot' program from Graphviz"

# labctl's own forms: a top-level name: names the playground when --name is
# not given, and an address may carry its network's prefix.
cat >"$T_TMP/labctl.yaml" <<'YAML'
kind: playground
name: from-the-file
playground:
  networks:
    - name: net-1
      subnet: 172.16.0.0/24
  machines:
    - name: a
      network:
        interfaces:
          - network: net-1
            address: 172.16.0.5/24
YAML
expect_status "labctl name and address/prefix" 0 "$PLAYNET" plan --json "$T_TMP/labctl.yaml"
expect_stdout_has "name: names it" '"name": "from-the-file"'
expect_stdout_has "the address with its prefix" '"cidr": "172.16.0.5/24"'
expect_status "--name still wins" 0 "$PLAYNET" plan --json --name given "$T_TMP/labctl.yaml"
expect_stdout_has "--name names it" '"name": "given"'
sed 's/^name: from-the-file/name: Not_A_Name/' "$T_TMP/labctl.yaml" >"$T_TMP/badname.yaml"
expect_status "a bad top-level name" 1 "$PLAYNET" validate "$T_TMP/badname.yaml"
expect_stderr_has "said at its line" "badname.yaml:2:7: name: 'Not_A_Name' is not a playground name"

# A machine without interfaces while networks are defined gets no network
# card: allowed, and warned about.
cat >"$T_TMP/nocard.yaml" <<'YAML'
kind: playground
playground:
  networks:
    - name: net-1
      subnet: 172.16.0.0/24
  machines:
    - name: a
      network:
        interfaces:
          - network: net-1
    - name: lonely
YAML
expect_status "machine without interfaces: valid" 0 "$PLAYNET" validate "$T_TMP/nocard.yaml"
expect_stderr_has "and warned about" "nocard.yaml:11:7: warning: playground.machines[1]: machine lonely has no interfaces"
expect_status "plan warns too" 0 "$PLAYNET" plan "$T_TMP/nocard.yaml"
expect_stderr_has "plan's warning" "warning: playground.machines[1]: machine lonely has no interfaces"

t_done
