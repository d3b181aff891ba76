#!/bin/sh
# run.sh - runs the unit tests and the CLI tests and prints one closing line "N passed, N failed".
B=${1:-build}
cd "$(dirname "$0")/.." || exit 2
log=$(mktemp)
: >"$log"
# each suite ends with one "NAME: N passed, N failed" line; suites counts how many must
suites=0
suite() { suites=$((suites + 1)); "$@" | tee -a "$log"; }
suite "$B/vigil-tests"
# the matching engine once more per kernel level, as the CPU would run it without each feature
for level in avx512 avx2 popcnt all; do
    echo "# kernel level: VIGIL_DISABLE_CPU_FEATURES=$level"
    suite env VIGIL_DISABLE_CPU_FEATURES=$level VIGIL_TEST_LABEL="without-$level" "$B/vigil-tests" dispatch,index_recall,fast9_row,orient_moments,md5x2
done
# the fuzz corpora: every input that ever crashed a parser, replayed
for t in list index image rooms journal roomlist args archive serve video kfeat decisions shard; do
    suite "$B/fuzz-$t" "$t" "tests/fuzz/corpus/$t"
done
suite sh tests/cli.sh "$B"
suite sh tests/scan.sh "$B"
suite sh tests/review.sh "$B"
suite sh tests/journal.sh "$B"
suite sh tests/eval.sh "$B"
suite sh tests/rooms.sh "$B"
suite sh tests/kfeat.sh "$B"
suite sh tests/text.sh "$B"
suite sh tests/hostile.sh "$B"
suite sh tests/archive.sh "$B"
suite sh tests/conc.sh "$B"
suite sh tests/mpi.sh "$B"
suite sh tests/man.sh "$B"
suite sh tests/docs.sh "$B"
suite sh tests/install.sh "$B"
suite sh tests/serve.sh "$B"
suite sh tests/video.sh "$B"
p=$(sed -n 's/^\([a-z0-9-]*\): \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$log" | awk '{s += $1} END {print s + 0}')
f=$(sed -n 's/^\([a-z0-9-]*\): \([0-9]*\) passed, \([0-9]*\) failed$/\3/p' "$log" | awk '{s += $1} END {print s + 0}')
runs=$(grep -c '^[a-z0-9-]*: [0-9]* passed, [0-9]* failed$' "$log")
rm -f "$log"
# a suite that died before its summary line counts as a failure
[ "$runs" -lt "$suites" ] && f=$((f + 1))
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
