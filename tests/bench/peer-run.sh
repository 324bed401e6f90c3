#!/usr/bin/env bash
# Runs a peer on N playgrounds PREFIX0 .. PREFIX(N-1) in the host netns
# HOST and prints "create|delete MICROSECONDS" lines like bench_fabric. The
# clock is this shell's, around each function: the start of this script is
# not counted, only the commands the peer runs.
# usage: tests/bench/peer-run.sh ip|batch|cni up|down N PREFIX
#        (HOST, and PEER_DIR for cni, in the environment)
set -euo pipefail
peer=$1 mode=$2 n=$3 prefix=$4
. "$(dirname "$0")/peer-$peer.sh"
op=peer_create word=create
[ "$mode" = down ] && op=peer_delete word=delete
for i in $(seq 0 $((n - 1))); do
	t0=$EPOCHREALTIME
	$op "$prefix$i" "$i"
	t1=$EPOCHREALTIME
	echo "$word $(( ${t1/./} - ${t0/./} ))"
done
