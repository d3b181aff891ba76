#!/bin/sh
# run.sh - `make bench`: hashing throughput on real photos against the JPEG decode floor.
# Fetches the photos from Debian packages on first use (datasets/fetch-photos.sh), then:
#   (a) the 30 largest JPEGs, (b) every photo of at most 640 px on both sides.
# Prints one parseable line per result and writes a markdown table to build/bench/hash.md.
set -eu
B=${1:-build}
ROUNDS=${ROUNDS:-3}
PHOTOS=${PHOTOS:-$B/photos}
OUTD="$B/bench"
mkdir -p "$OUTD"
[ -f "$PHOTOS/mate-backgrounds__Storm.jpg" ] || sh datasets/fetch-photos.sh "$PHOTOS"

# (a) the 30 largest JPEGs by file size; (b) small images, found by the sizes vigil reports
ls -S "$PHOTOS"/*.jpg | head -30 >"$OUTD/big.txt"
"$B/vigil" hash -q --no-digests "$PHOTOS" 2>/dev/null |
    awk -F'\t' 'NR > 1 && $4 != "" && $4 <= 640 && $5 <= 640 { print $1 }' >"$OUTD/small.txt"
nbig=$(wc -l <"$OUTD/big.txt")
nsmall=$(wc -l <"$OUTD/small.txt")
mpix=$("$B/vigil" hash -q --no-digests $(cat "$OUTD/big.txt") | awk -F'\t' 'NR > 1 { s += $4 * $5 } END { printf "%.1f", s / NR / 1e6 }')
echo "# inputs: $nbig large JPEGs (mean $mpix megapixels), $nsmall small images (<= 640 px)"

# The decode floor: libjpeg-turbo's own djpeg at 1/8 scale over the same JPEGs, best of ROUNDS.
now() { date +%s.%N; }
best=""
for r in $(seq "$ROUNDS"); do
    t0=$(now)
    while read -r f; do djpeg -scale 1/8 "$f" >/dev/null; done <"$OUTD/big.txt"
    t=$(echo "$(now) - $t0" | bc)
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" -eq 1 ]; then best=$t; fi
done
floor_ips=$(echo "scale=2; $nbig / $best" | bc)
echo "bench=djpeg_scale_1_8 set=big threads=1 images=$nbig seconds=$best images_per_s=$floor_ips"

"$B/bench-hash" --rounds "$ROUNDS" --label big $(cat "$OUTD/big.txt") | tee "$OUTD/big.out"
"$B/bench-hash" --rounds "$ROUNDS" --label small $(cat "$OUTD/small.txt") | grep -v pdq_step | tee "$OUTD/small.out"

get() { awk -v b="$1" -v t="$2" '$1 == "bench=" b && $3 == "threads=" t { sub("images_per_s=", "", $6); print $6 }' "$3"; }
{
    echo "| set | mode | 1 thread img/s | 2 threads img/s | 1 thread MB/s | 2 threads MB/s | 2T / 1T |"
    echo "|---|---|---|---|---|---|---|"
    for set in big small; do
        for m in fast fast+digests exact; do
            a=$(get "hash_$m" 1 "$OUTD/$set.out"); b2=$(get "hash_$m" 2 "$OUTD/$set.out")
            ma=$(awk -v b="hash_$m" '$1 == "bench=" b && $3 == "threads=1" { sub("mb_per_s=", "", $7); print $7 }' "$OUTD/$set.out")
            mb=$(awk -v b="hash_$m" '$1 == "bench=" b && $3 == "threads=2" { sub("mb_per_s=", "", $7); print $7 }' "$OUTD/$set.out")
            echo "| $set | $m | $a | ${b2:--} | $ma | ${mb:--} | $( [ -n "$b2" ] && echo "scale=2; $b2 / $a" | bc || echo -) |"
        done
    done
    echo "| big | djpeg -scale 1/8 (floor) | $floor_ips | | | | |"
} >"$OUTD/hash.md"
fast1=$(get hash_fast 1 "$OUTD/big.out")
fast2=$(get hash_fast 2 "$OUTD/big.out")
step=$(awk '$1 == "bench=pdq_step" { sub("ms_per_hash=", "", $3); print $3 }' "$OUTD/big.out")
echo
cat "$OUTD/hash.md"
echo
ratio=$(echo "scale=3; $fast1 / $floor_ips" | bc)
scal=$( [ -n "$fast2" ] && echo "scale=3; $fast2 / $fast1" | bc || echo 0)
verdict() { if [ "$(echo "$1" | bc)" -eq 1 ]; then echo met; else echo MISSED; fi; }
echo "target fast_1t_vs_decode_floor=$ratio (>= 0.90: $(verdict "$ratio >= 0.90"))"
echo "target fast_2t_vs_1t=$scal (>= 1.80: $(verdict "$scal >= 1.80"))"
echo "target pdq_step_ms=$step (<= 0.50: $(verdict "$step <= 0.50"))"
