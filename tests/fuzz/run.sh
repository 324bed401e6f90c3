#!/usr/bin/env bash
# Runs each libFuzzer target for FUZZ_SECONDS, or for FUZZ_RUNS executions
# when that is set, from its committed seed corpus (the committed
# corpus is only changed by hand, with crashers made into seeds). Prints
# PASS/FAIL lines for tests/run.sh.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
failed=0
for bin in build/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin" | sed 's/^fuzz_//')
	seeds=tests/fuzz/corpus/$name
	# The manifest reader also starts from the bad manifests and the
	# example labs themselves, read where they are (no copies to drift).
	extra=()
	[ "$name" = manifest ] && extra=(tests/bad manifests)
	work=$(mktemp -d /tmp/playnet-fuzz.XXXXXX)
	artifacts=build/fuzz/artifacts/$name
	mkdir -p "$artifacts"
	if [ -n "${FUZZ_RUNS:-}" ]; then limit=-runs=$FUZZ_RUNS; else limit=-max_total_time=$secs; fi
	start=$(date +%s)
	if "$bin" "$limit" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$artifacts/" -print_final_stats=1 \
		"$work" "$seeds" "${extra[@]}" >"build/fuzz/$name.log" 2>&1; then
		echo "PASS fuzz/$name ($(grep -ao 'stat::number_of_executed_units: *[0-9]*' "build/fuzz/$name.log" | grep -o '[0-9]*$') runs in $(($(date +%s) - start))s, 0 crashes)"
	else
		echo "FAIL fuzz/$name: see build/fuzz/$name.log and $artifacts/"
		tail -n 30 "build/fuzz/$name.log"
		failed=1
	fi
	rm -rf "$work"
done
exit $failed
