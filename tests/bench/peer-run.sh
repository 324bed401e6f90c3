#!/usr/bin/env bash
# Runs a peer N times, create then delete, in the host netns HOST, and
# prints "create MICROSECONDS" / "delete MICROSECONDS" lines like
# bench_fabric. The timer is this shell's clock around each function: no
# process start of this script is counted, only the commands the peer runs.
# usage: tests/bench/peer-run.sh ip|batch|cni N   (HOST and PEER_DIR set)
set -euo pipefail
peer=$1 n=$2
. "$(dirname "$0")/peer-$peer.sh"
for i in $(seq 0 $((n - 1))); do
	t0=$EPOCHREALTIME
	peer_create "pq$i" "$i"
	t1=$EPOCHREALTIME
	peer_delete "pq$i" "$i"
	t2=$EPOCHREALTIME
	echo "create ${t1/./} ${t0/./}" "delete ${t2/./} ${t1/./}"
done | awk '{ print $1, $2 - $3; print $4, $5 - $6 }'
