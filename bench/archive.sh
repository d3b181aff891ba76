#!/bin/sh
# archive.sh - `vigil scan` of a zip of the benchmark photos (stored members, as phones and
# browsers write photo zips) against `vigil scan` of the same photos as files, 1 and 2 threads.
# The target (issue 20): the zip costs at most 1.05x the files.
#
# The photos are the 112 of datasets/fetch-photos.sh, each COPIES times (default 2) with a
# distinct tail so that every one is decoded; the index holds 2 of them plus 100,000 random
# hashes. ROUNDS (default 7) interleaved pairs at 1 and 2 threads; the result is the median pair ratio.
# The zip's scan does everything the files' does plus what an archive costs: the sniff of each
# file, libarchive's read of the zip's headers, the members' CRC-32 check (vigil's, with
# libdeflate), and the zip's own record (its MD5, SHA-1 and XXH3-128 over the whole zip, taken on
# a thread of their own, which digests each stored member in the same pass: docs/archives.md).
set -eu
B=${1:-build}
ROUNDS=${ROUNDS:-7}
COPIES=${COPIES:-2}
PHOTOS=${PHOTOS:-$B/photos}
OUTD="$B/bench/archive"
V="$B/vigil"
rm -rf "$OUTD"
mkdir -p "$OUTD/photos" "$OUTD/zip"
[ -f "$PHOTOS/mate-backgrounds__Storm.jpg" ] || sh datasets/fetch-photos.sh "$PHOTOS"
sh bench/copies.sh "$PHOTOS" "$OUTD/photos" "$COPIES"
(cd "$OUTD" && zip -q -0 -r zip/photos.zip photos)
python3 - "$OUTD/refs.txt" <<'PY'
import random, sys
r = random.Random(7)
with open(sys.argv[1], "w") as f:
    for i in range(100000):
        f.write("%064x ref-%d\n" % (r.getrandbits(256), i))
PY
"$V" hash -q --no-digests "$PHOTOS" | awk -F'\t' 'NR > 1 && NR <= 3 { print $2 " photo-" NR }' >>"$OUTD/refs.txt"
"$V" index build -o "$OUTD/refs.vgi" --set bench "$OUTD/refs.txt" 2>/dev/null
n=$(ls "$OUTD/photos" | wc -l)
mb=$(du -sm "$OUTD/photos" | cut -f1)
echo "# $n photos ($mb MB) as files and as one stored zip ($(du -sm "$OUTD/zip/photos.zip" | cut -f1) MB)"

now() { date +%s.%N; }
# CPU seconds (user + system) of one run, beside its wall clock: on a shared machine the CPU a scan
# takes moves less than its wall clock, which also counts the time other work held the cores
TIMEF=/usr/bin/time; [ -x "$TIMEF" ] || TIMEF=""
run() { if [ -n "$TIMEF" ]; then "$TIMEF" -f '%U %S' -o "$OUTD/cpu" "$@"; else echo "0 0" >"$OUTD/cpu"; "$@"; fi; }
# one scan: "wall cpu"
scan() {
    rm -rf "$OUTD/$1"
    t0=$(now); run "$V" scan -q -j "$2" --index "$OUTD/refs.vgi" -o "$OUTD/$1" "$OUTD/$3" >/dev/null; t=$(echo "$(now) - $t0" | bc)
    echo "$t $(awk '{ print $1 + $2 }' "$OUTD/cpu")"
}
# the median of a file of numbers, and its range
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f (%.3f-%.3f)", m, a[1], a[NR] }'; }
# Pairs: each round scans the files and the zip back to back at each thread count, the order
# alternated from round to round, so both see the same machine; a pair's ratio is zip / files.
# The medians of those ratios are the result: a burst of other work on a shared machine spoils one
# pair, not the comparison.
for j in 1 2; do : >"$OUTD/ratio$j"; : >"$OUTD/cpuratio$j"; : >"$OUTD/files$j"; : >"$OUTD/zip$j"; done
for r in $(seq "$ROUNDS"); do
    for j in 1 2; do
        if [ $((r % 2)) -eq 1 ]; then f=$(scan of $j photos); z=$(scan oz $j zip); else z=$(scan oz $j zip); f=$(scan of $j photos); fi
        fw=${f% *}; fc=${f#* }; zw=${z% *}; zc=${z#* }
        echo "$fw" >>"$OUTD/files$j"; echo "$zw" >>"$OUTD/zip$j"
        echo "scale=4; $zw / $fw" | bc >>"$OUTD/ratio$j"
        if [ -n "$TIMEF" ]; then echo "scale=4; $zc / $fc" | bc >>"$OUTD/cpuratio$j"; fi
        echo "round $r, $j thread(s): files $fw s ($fc s CPU), zip $zw s ($zc s CPU)"
    done
done
# the same results either way: every photo, the same hashes and matches, under its member path
python3 - "$OUTD/of/results.jsonl" "$OUTD/oz/results.jsonl" "$OUTD" <<'PY'
import json, sys
def load(p, strip):
    out = {}
    for l in open(p):
        r = json.loads(l)
        if "archive" in r: continue
        path = r["path"].replace(strip, "")
        out[path] = (r.get("pdq"), r.get("md5"), [m["ref_id"] for m in r["matches"]])
    return out
files = load(sys.argv[1], sys.argv[3] + "/")
zipped = load(sys.argv[2], sys.argv[3] + "/zip/photos.zip!/")
assert files == zipped, "the zip's members and the files differ"
print("results: identical for all %d photos (%d matched)" % (len(files), sum(1 for v in files.values() if v[2])))
PY
verdict() { if [ "$(echo "$1" | bc)" -eq 1 ]; then echo met; else echo MISSED; fi; }
for j in 1 2; do
    fm=$(median "$OUTD/files$j"); zm=$(median "$OUTD/zip$j")
    echo "bench=scan_files threads=$j photos=$n seconds=${fm%% *} photos_per_s=$(echo "scale=1; $n / ${fm%% *}" | bc)"
    echo "bench=scan_zip threads=$j photos=$n seconds=${zm%% *} photos_per_s=$(echo "scale=1; $n / ${zm%% *}" | bc)"
done
for j in 1 2; do
    m=$(median "$OUTD/ratio$j")
    echo "zip / files, $j thread(s), median of $ROUNDS pairs: $m (target <= 1.05: $(verdict "${m%% *} <= 1.05"))"
    if [ -n "$TIMEF" ]; then echo "  the same in CPU seconds: $(median "$OUTD/cpuratio$j")"; fi
done

# the same comparison in instructions (callgrind, one thread, 16 of the photos), which repeat on a
# noisy machine where times do not; and where the zip's extra goes, by function (CALLGRIND=0: not)
if [ "${CALLGRIND:-1}" = 1 ] && command -v valgrind >/dev/null 2>&1; then
    mkdir -p "$OUTD/cg/photos" "$OUTD/cg/zip"
    ls "$OUTD/photos" | head -16 | while read -r f; do cp "$OUTD/photos/$f" "$OUTD/cg/photos/"; done
    (cd "$OUTD/cg" && zip -q -0 -r zip/photos.zip photos)
    export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
    for what in photos zip; do
        rm -rf "$OUTD/cg/out"
        valgrind --tool=callgrind --callgrind-out-file="$OUTD/cg/$what.out" "$V" scan -q -j 1 --index "$OUTD/refs.vgi" \
            -o "$OUTD/cg/out" "$OUTD/cg/$what" >/dev/null 2>&1 || true
    done
    fi_=$(sed -n 's/^summary: *//p' "$OUTD/cg/photos.out")
    zi_=$(sed -n 's/^summary: *//p' "$OUTD/cg/zip.out")
    echo "callgrind scan files=$fi_ zip=$zi_ zip/files=$(echo "scale=4; $zi_ / $fi_" | bc)"
    if command -v callgrind_annotate >/dev/null 2>&1; then
        echo "# the zip's run, top functions by instructions:"
        callgrind_annotate "$OUTD/cg/zip.out" 2>/dev/null | sed -n '/^Ir/,$p' | sed -n 3,14p
    fi
fi
