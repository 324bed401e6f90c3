#!/usr/bin/env bash
# The ways into a machine, timed as a user meets them: `playnet exec P M --
# true` round trips for a VM (debian-12, its agent over virtio-serial) and
# for a netns machine (median and p99 of ROUNDS), `playnet ssh P M -- true`
# with connection reuse (ControlMaster, the default) and without
# (--fresh), and scp of a 100 MiB file into the VM (under TCG here). A
# benchmark: it prints figures and asserts nothing. Everything runs in a
# host netns, state dir, socket and bpffs dir of its own, removed after;
# the image cache is build/images, as the tests keep it.
# usage: scripts/bench-access.sh [ROUNDS]   (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-100}
make -s all
guest=$(scripts/build-guest.sh)

. scripts/bench-vm-lib.sh
bench_playnet /var/tmp access
export PLAYNET_GUEST_DIR=$guest PLAYNET_IMAGE_DIR=$PWD/build/images
trap bench_cleanup EXIT

"$playnet" up scripts/bench-access.yaml --name "$P" --vms >/dev/null
# Booted: ssh waits for the VM's own init (as tasks do).
"$playnet" ssh "$P" deb --fresh -- true >/dev/null
accel=$(sed -n 's/.*"accel": *"\([a-z]*\)".*/\1/p' "$PLAYNET_STATE_DIR/vm/$P/deb.status")
echo "machine: $(nproc) CPUs, kernel $(uname -r), the VM under ${accel:-?}"
echo "exec round trip, VM (debian-12, virtio-serial):   $(ms "$ROUNDS" "$playnet" exec "$P" deb -- true | pct)"
echo "exec round trip, netns machine:                   $(ms "$ROUNDS" "$playnet" exec "$P" ns -- true | pct)"
echo "ssh -- true, a connection each (--fresh):          $(ms 20 "$playnet" ssh "$P" deb --fresh -- true | pct)"
"$playnet" ssh "$P" deb -- true >/dev/null 2>&1 # the shared connection, made once
echo "ssh -- true, the shared connection (ControlMaster): $(ms "$ROUNDS" "$playnet" ssh "$P" deb -- true | pct)"
"$playnet" ssh-config "$P" >"$work/ssh_config"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$work/100mib"
t0=$EPOCHREALTIME
scp -F "$work/ssh_config" "$work/100mib" "deb.$P:/root/100mib"
secs=$(awk -v a="${t0/./}" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
echo "scp of 100 MiB into the VM: $secs s, $(awk -v s="$secs" 'BEGIN { printf "%.1f", 100 / s }') MiB/s"
t0=$EPOCHREALTIME
"$playnet" cp "$P" "$work/100mib" deb:/root/100mib.cp
secs=$(awk -v a="${t0/./}" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')
echo "playnet cp of 100 MiB into the VM (exec, no sshd): $secs s, $(awk -v s="$secs" 'BEGIN { printf "%.1f", 100 / s }') MiB/s"
