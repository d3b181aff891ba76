#!/bin/sh
# scan_rooms.sh - wall time of `vigil scan --rooms` for two builds, interleaved on the same photos
# so that both see the same machine (a noisy shared VM: compare the ratio within one run).
#
#   bench/scan_rooms.sh BEFORE_BUILD AFTER_BUILD [PHOTOS]
#
# PHOTOS (default build/photos, datasets/fetch-photos.sh): every photo once, scanned with -j 2
# against a room index of datasets/samples and a PDQ index of the photos; best of ROUNDS (3).
# Prints one line per build and the ratio. bench/results/scan-rooms-decode.md has the numbers.
set -eu
A=${1:?usage: scan_rooms.sh BEFORE_BUILD AFTER_BUILD [PHOTOS]}
N=${2:?usage: scan_rooms.sh BEFORE_BUILD AFTER_BUILD [PHOTOS]}
PHOTOS=${3:-build/photos}
ROUNDS=${ROUNDS:-3}
[ -d "$PHOTOS" ] || sh datasets/fetch-photos.sh "$PHOTOS"
W=$(mktemp -d /tmp/vigil-sr.XXXXXX)
trap 'rm -rf "$W"' EXIT
"$N/vigil" hash -q --no-digests "$PHOTOS" | awk -F'\t' 'NR > 1 && $2 != "" { print $2 ",ref-" NR }' >"$W/list.csv"
"$N/vigil" index build -o "$W/refs.vgi" "$W/list.csv" >/dev/null 2>&1
for b in A N; do
    eval "d=\$$b"
    "$d/vigil" rooms build -o "$W/rooms-$b.vgr" datasets/samples >/dev/null 2>&1
done
now() { date +%s.%N; }
best_A=999999 best_N=999999
r=0
while [ $r -lt "$ROUNDS" ]; do
    for b in A N; do
        eval "d=\$$b"
        rm -rf "$W/out"
        t0=$(now)
        "$d/vigil" scan -q -j 2 --index "$W/refs.vgi" --rooms "$W/rooms-$b.vgr" -o "$W/out" "$PHOTOS" >/dev/null 2>&1 || true
        t1=$(now)
        t=$(echo "$t1 - $t0" | bc)
        eval "best=\$best_$b"
        if [ "$(echo "$t < $best" | bc)" -eq 1 ]; then eval "best_$b=$t"; fi
    done
    r=$((r + 1))
done
n=$(ls "$PHOTOS" | wc -l)
printf 'scan --rooms %s photos, -j 2, best of %s\n' "$n" "$ROUNDS"
printf 'before %s: %.2f s\n' "$A" "$best_A"
printf 'after  %s: %.2f s\n' "$N" "$best_N"
printf 'after / before: %.3f\n' "$(echo "$best_N / $best_A" | bc -l)"
