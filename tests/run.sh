#!/bin/sh
# run.sh - runs the unit tests and the CLI tests and prints one closing line "N passed, N failed".
B=${1:-build}
cd "$(dirname "$0")/.." || exit 2
log=$(mktemp)
"$B/vigil-tests" | tee "$log"
sh tests/cli.sh "$B" | tee -a "$log"
p=$(sed -n 's/^\(unit\|cli\): \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log" | awk '{s += $1} END {print s + 0}')
f=$(sed -n 's/^\(unit\|cli\): \([0-9]*\) passed, \([0-9]*\) failed$/\3/p' "$log" | awk '{s += $1} END {print s + 0}')
runs=$(grep -c '^\(unit\|cli\): ' "$log")
rm -f "$log"
# a suite that died before its summary line counts as a failure
[ "$runs" -lt 2 ] && f=$((f + 1))
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
