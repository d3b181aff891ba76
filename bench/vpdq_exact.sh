#!/bin/sh
# vpdq_exact.sh [VPDQ_DIR] - vigil video hash against vpdq-hash-video's hashes for every sample video
# (../shared/vpdq: videos/*.mp4, hashes/NAME.r1.txt and .r0.txt): per video and rate, the lines,
# the frames of quality >= 50 and how many of them are identical (frame number, quality, hash,
# timestamp), and lines that differ at all. Prints a Markdown table; exit 1 on any difference.
set -eu
DIR=${1:-$(dirname "$0")/../../../shared/vpdq}
[ -d "$DIR/videos" ] || DIR=/work/shared/vpdq
V=${VIGIL:-build/vigil}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bad=0; tot=0; totq=0; toteq=0
echo "| video | -r | lines (ref) | lines (vigil) | quality >= 50 | identical | lines differing |"
echo "|---|---|---|---|---|---|---|"
for mp4 in "$DIR"/videos/*.mp4; do
    n=$(basename "$mp4" .mp4)
    for r in 1 0; do
        ref="$DIR/hashes/$n.r$r.txt"
        "$V" video hash -r $r "$mp4" > "$tmp/out"
        a=$(wc -l < "$ref"); b=$(wc -l < "$tmp/out")
        q=$(awk -F, '$2>=50' "$ref" | wc -l)
        eq=$(awk -F, 'NR==FNR{k[$0]=1; next} $2>=50 && ($0 in k)' "$tmp/out" "$ref" | wc -l)
        d=$(diff "$ref" "$tmp/out" | grep -c '^[<>]' || true)
        echo "| $n | $r | $a | $b | $q | $eq | $d |"
        tot=$((tot + a)); totq=$((totq + q)); toteq=$((toteq + eq))
        [ "$q" = "$eq" ] && [ "$d" = 0 ] || bad=1
    done
done
echo
echo "total: $tot reference lines, $totq of quality >= 50, $toteq of them identical"
exit $bad
