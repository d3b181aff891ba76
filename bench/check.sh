#!/bin/sh
# check.sh - `make bench-check`, the benchmark guard CI runs (under two minutes on 2 cores).
# 1. bench-match --check on 1 M generated near-duplicate hashes: ratios measured in the same run
#    (dispatched kernel vs portable, index vs scan, batched vs single) against floors, and the
#    index's recall against the scan (must be 100 %).
# 2. Instructions per comparison of the dispatched kernel, counted by callgrind: the difference
#    between two runs of 1 and 5 passes of 256 x 256 compares, so set-up cost cancels. Repeatable
#    on a noisy machine, unlike a time; the ceiling per level catches a kernel that got slower.
# 3. bench-rooms-guard on the checked-in panoramas: room queries through the index against brute
#    force, and the FAST-9 row test's SIMD variant against the portable one.
set -u
B=${1:-build}
fail=0
"$B/bench-match" --n 1000000 --queries 300 --check >"$B/bench-check.out" || fail=1
cat "$B/bench-check.out"
"$B/bench-rooms-guard" tests/data || fail=1
if command -v valgrind >/dev/null; then
    ir() {
        valgrind --tool=callgrind --callgrind-out-file="$B/cg.out" "$B/bench-match" --kernel-only "$1" >"$B/cg.txt" 2>/dev/null
        sed -n 's/^summary: *//p' "$B/cg.out"
    }
    a=$(ir 1); b=$(ir 5)
    level=$(sed -n 's/^kernel=\([a-z0-9]*\) .*/\1/p' "$B/cg.txt")
    per=$(echo "scale=2; ($b - $a) / (4 * 65536)" | bc)
    case $level in avx512) ceil=12 ;; avx2) ceil=16 ;; popcnt) ceil=24 ;; *) ceil=100 ;; esac
    ok=$(echo "$per <= $ceil" | bc)
    echo "guard instructions_per_compare($level) $per (ceiling $ceil, callgrind) $([ "$ok" -eq 1 ] && echo ok || echo FAILED)"
    [ "$ok" -eq 1 ] || fail=1
    rm -f "$B/cg.out" "$B/cg.txt"
else
    echo "guard instructions_per_compare skipped: valgrind is not installed"
fi
[ $fail -eq 0 ] && echo "bench-check: all guards hold" || echo "bench-check: FAILED"
exit $fail
