#!/usr/bin/env bash
# Runs the whole suite and ends with one line "N passed, N failed".
# cmocka binaries print their own summaries; shell tests print PASS/FAIL
# lines. A binary or script that dies without a summary counts as a failure.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
log=$(mktemp /tmp/playnet-run.XXXXXX)
trap 'rm -f "$log"' EXIT

run_cmocka() {
	local bin=$1
	"$bin" >"$log" 2>&1
	local st=$?
	grep -E '^\[ +(PASSED|FAILED|ERROR|LINE) +\]|^\[=+\] [0-9]+ test|FAILED TEST|^ERROR: ' "$log"
	local p f
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ $st -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "FAIL $bin exited $st"
		tail -n 40 "$log"
		failed=$((failed + 1))
	fi
}

run_script() {
	local script=$1
	"$script" >"$log" 2>&1
	local st=$?
	grep -E '^(FAIL|PASS fuzz)' -A30 "$log" | grep -v '^PASS [^f]'
	local p f
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	echo "$script: $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
	if [ $st -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $script exited $st"
		tail -n 40 "$log"
		failed=$((failed + 1))
	fi
}

for bin in build/asan/tests/test_*; do
	echo "== $bin"
	run_cmocka "$bin"
done
for script in tests/cli/test_*.sh tests/netns/test_*.sh; do
	echo "== $script"
	run_script "$script"
done
echo "== fuzzers"
run_script tests/fuzz/run.sh

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
