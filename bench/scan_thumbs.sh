#!/bin/sh
# scan_thumbs.sh - what the review thumbnails cost a scan when nearly every file matches: `vigil
# scan` with thumbnails (the default budget), `vigil scan --thumbs 0` and `vigil hash` on the same
# files, interleaved, best of ROUNDS, each ratio from one run. The scan's thumbnails come from the
# decode hashing did (core/thumb.c, cli/thumbs.c); OLD_VIGIL=path/to/vigil adds a build from before
# that, which decoded every matched file a second time for its thumbnail. Also the page's size.
#
# Files: the public photos (datasets/fetch-photos.sh, or PHOTOS=folder) each COPIES times with a
# distinct tail; the reference set holds every photo's PDQ, so every file matches (the high match
# rate of a seizure with a known series). Threads: -j THREADS (default 2).
set -eu
B=${1:-build}
ROUNDS=${ROUNDS:-3}
COPIES=${COPIES:-2}
J=${THREADS:-2}
PHOTOS=${PHOTOS:-$B/photos}
OUTD="$B/bench/scan_thumbs"
V="$B/vigil"
rm -rf "$OUTD"
mkdir -p "$OUTD/photos"
[ -n "$(ls "$PHOTOS" 2>/dev/null)" ] || sh datasets/fetch-photos.sh "$PHOTOS"
sh bench/copies.sh "$PHOTOS" "$OUTD/photos" "$COPIES"
"$V" hash -q --no-digests "$PHOTOS" | awk -F'\t' 'NR > 1 && $2 != "" { print $2 " photo-" NR }' >"$OUTD/refs.txt"
"$V" index build -o "$OUTD/refs.vgi" --set series "$OUTD/refs.txt" 2>/dev/null
n=$(ls "$OUTD/photos" | wc -l)
now() { date +%s.%N; }
best() { if [ -z "$1" ] || [ "$(echo "$2 < $1" | bc)" -eq 1 ]; then echo "$2"; else echo "$1"; fi; }
th=""; t0s=""; tt=""; to=""
for r in $(seq "$ROUNDS"); do
    a=$(now); "$V" hash -q -j "$J" "$OUTD/photos" >/dev/null; th=$(best "$th" "$(echo "$(now) - $a" | bc)")
    rm -rf "$OUTD/o0"; a=$(now); "$V" scan -q -j "$J" --thumbs 0 --index "$OUTD/refs.vgi" -o "$OUTD/o0" "$OUTD/photos" >/dev/null
    t0s=$(best "$t0s" "$(echo "$(now) - $a" | bc)")
    rm -rf "$OUTD/o1"; a=$(now); "$V" scan -q -j "$J" --index "$OUTD/refs.vgi" -o "$OUTD/o1" "$OUTD/photos" >/dev/null
    tt=$(best "$tt" "$(echo "$(now) - $a" | bc)")
    if [ -n "${OLD_VIGIL:-}" ]; then
        rm -rf "$OUTD/o2"; a=$(now); "$OLD_VIGIL" scan -q -j "$J" --index "$OUTD/refs.vgi" -o "$OUTD/o2" "$OUTD/photos" >/dev/null
        to=$(best "$to" "$(echo "$(now) - $a" | bc)")
    fi
done
matched=$(python3 -c "import json; print(json.load(open('$OUTD/o1/summary.json'))['matched_files'])")
echo "# $n files, $matched matched, -j $J, best of $ROUNDS"
echo "bench=hash seconds=$th"
echo "bench=scan_thumbs0 seconds=$t0s ratio_to_hash=$(echo "scale=3; $t0s / $th" | bc)"
echo "bench=scan seconds=$tt ratio_to_hash=$(echo "scale=3; $tt / $th" | bc) ratio_to_thumbs0=$(echo "scale=3; $tt / $t0s" | bc) (target <= 1.05)"
[ -z "$to" ] || echo "bench=scan_second_decode seconds=$to ratio_to_hash=$(echo "scale=3; $to / $th" | bc) ratio_to_thumbs0=$(echo "scale=3; $to / $t0s" | bc) ($OLD_VIGIL)"
echo "page: report.html $(wc -c <"$OUTD/o1/report.html") bytes, thumbs.vgt $(wc -c <"$OUTD/o1/thumbs.vgt") bytes for $matched thumbnails"
