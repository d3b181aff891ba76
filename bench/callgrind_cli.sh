#!/bin/sh
# callgrind_cli.sh - instructions executed by `vigil hash` and `vigil scan` on 16 photos (the 7 test
# images and the 13 demo samples, the first 16 by name), one thread. Instruction counts repeat on a
# noisy machine where times do not: a refactor that should change nothing is held to within 1 %.
# `scan --rooms` adds a room index of the 13 demo samples (rooms build; 6 of the 16 photos are in it),
# which is where one decode for PDQ and the features shows (bench/results/scan-rooms-decode.md).
# Usage: bench/callgrind_cli.sh BUILD_DIR [rooms]   (prints "callgrind hash IR" and "callgrind scan
# IR"; with rooms also "callgrind scan-rooms IR")
set -eu
B=${1:-build}
W=$(mktemp -d /tmp/vigil-cg.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir "$W/photos"
ls tests/data/images/* datasets/samples/* | sort | head -16 | while read -r f; do cp "$f" "$W/photos/"; done
"$B/vigil" hash -q --no-digests "$W/photos" | awk -F'\t' 'NR > 1 && $2 != "" { print $2 ",ref-" NR }' >"$W/list.csv"
"$B/vigil" index build -o "$W/refs.vgi" "$W/list.csv" >/dev/null 2>&1
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
ir() { sed -n 's/^summary: *//p' "$W/cg.out"; }
valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" "$B/vigil" hash -q -j 1 "$W/photos" >/dev/null 2>&1
echo "callgrind hash $(ir)"
valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" "$B/vigil" scan -q -j 1 --index "$W/refs.vgi" -o "$W/out" "$W/photos" >/dev/null 2>&1 || true
echo "callgrind scan $(ir)"
if [ "${2:-}" = rooms ]; then
    "$B/vigil" rooms build -o "$W/rooms.vgr" datasets/samples >/dev/null 2>&1
    valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" "$B/vigil" scan -q -j 1 --index "$W/refs.vgi" \
        --rooms "$W/rooms.vgr" -o "$W/out-rooms" "$W/photos" >/dev/null 2>&1 || true
    echo "callgrind scan-rooms $(ir)"
fi
