#!/bin/sh
# udhcpc's script for the tests: what the lease says, one key a line.
[ "$1" = bound ] || exit 0
echo "ip=$ip"
echo "router=$router"
for d in $dns; do echo "dns=$d"; done
