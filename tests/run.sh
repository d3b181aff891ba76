#!/bin/sh
# run.sh - runs the unit tests and the CLI tests and prints one closing line "N passed, N failed".
B=${1:-build}
cd "$(dirname "$0")/.." || exit 2
log=$(mktemp)
"$B/vigil-tests" | tee "$log"
# the matching engine once more per kernel level, as the CPU would run it without each feature
for level in avx512 avx2 popcnt all; do
    echo "# kernel level: VIGIL_DISABLE_CPU_FEATURES=$level"
    VIGIL_DISABLE_CPU_FEATURES=$level VIGIL_TEST_LABEL="without-$level" "$B/vigil-tests" dispatch,index_recall,fast9_row | tee -a "$log"
done
# the fuzz corpora: every input that ever crashed a parser, replayed
for t in list index image rooms journal roomlist args shard; do
    "$B/fuzz-$t" "$t" "tests/fuzz/corpus/$t" | tee -a "$log"
done
sh tests/cli.sh "$B" | tee -a "$log"
sh tests/scan.sh "$B" | tee -a "$log"
sh tests/journal.sh "$B" | tee -a "$log"
sh tests/eval.sh "$B" | tee -a "$log"
sh tests/rooms.sh "$B" | tee -a "$log"
sh tests/text.sh "$B" | tee -a "$log"
sh tests/hostile.sh "$B" | tee -a "$log"
sh tests/conc.sh "$B" | tee -a "$log"
sh tests/mpi.sh "$B" | tee -a "$log"
sh tests/man.sh "$B" | tee -a "$log"
sh tests/docs.sh "$B" | tee -a "$log"
sh tests/install.sh "$B" | tee -a "$log"
p=$(sed -n 's/^\([a-z0-9-]*\): \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log" | awk '{s += $1} END {print s + 0}')
f=$(sed -n 's/^\([a-z0-9-]*\): \([0-9]*\) passed, \([0-9]*\) failed$/\3/p' "$log" | awk '{s += $1} END {print s + 0}')
runs=$(grep -c '^[a-z0-9-]*: [0-9]* passed, [0-9]* failed$' "$log")
rm -f "$log"
# a suite that died before its summary line counts as a failure
[ "$runs" -lt 25 ] && f=$((f + 1))
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
