#!/bin/sh
# kfeat.sh - known images by local features (core/kfeat.c): speed and memory of a set of
# 100,000 and 300,000 references with features (build/bench-kfeat, bench/kfeat_bench.c says how
# the references are made), and `vigil scan` against the 100,000-reference set with features as a
# ratio to the same scan against the same set without them, at 1 and 2 threads, in the same run
# (the two interleaved, best of ROUNDS), on the files of the PDQ scan (bench/scan.sh): the 112
# public photos 4 times with a distinct tail, 448 files, each read, digested and decoded. Fixed
# costs (opening the index: for features, reading its 3 GB, tables included, into memory) are
# measured on their own with a one-file scan and taken out of the per-file ratio. Tables in
# build/bench/kfeat/kfeat.md.
set -eu
B=${1:-build}
ROUNDS=${ROUNDS:-2}
BIG=${KFEAT_BIG:-300000}   # the second size measured (memory and query time), beside 100,000
QUERIES=${KFEAT_QUERIES:-20}
REFS=${KFEAT_REFS:-100000} # the set the scans run against
PHOTOS=${PHOTOS:-$B/photos}
PART=${KFEAT_PART:-all} # query (the sets and one query), scan (the scans, on the sets a query part saved), or all
# the synthetic references of the saved sets: distinct (other photos: each point at random, so a
# query verifies only its own photo) or flip (each real photo's moved near-copies, which verify:
# every query then matched 6-7 of them, an artefact kept for comparison; bench/kfeat_bench.c)
SYNTH=${KFEAT_SYNTH:-distinct}
OUTD="$B/bench/kfeat"
[ "$PART" = scan ] || rm -rf "$OUTD"
mkdir -p "$OUTD"
[ -f "$PHOTOS/mate-backgrounds__Storm.jpg" ] || sh datasets/fetch-photos.sh "$PHOTOS"
V="$B/vigil"
md="$OUTD/kfeat.md"
[ "$PART" = scan ] || {
    echo "### A features set of N references: build, memory, one query on one core"
    echo
    "$B/bench-kfeat" --photos "$PHOTOS" --refs "$BIG" --queries "$QUERIES" --synth "$SYNTH"
    "$B/bench-kfeat" --photos "$PHOTOS" --refs "$REFS" --queries "$QUERIES" --synth "$SYNTH" --save-pdq "$OUTD/pdq.vgi" --save-feat "$OUTD/feat.vgi" | tail -n +4
} >"$md"
[ "$PART" = scan ] || ls -l "$OUTD"/*.vgi >>"$md"
[ "$PART" = query ] && { cat "$md"; exit 0; }
mkdir -p "$OUTD/one"
cp "$(ls "$PHOTOS"/*.jpg | head -1)" "$OUTD/one/"
rm -rf "$OUTD/photos"
sh bench/copies.sh "$PHOTOS" "$OUTD/photos" 4 # the files of bench/scan.sh
t() { # t LABEL CMD...: seconds of the best of ROUNDS into $OUTD/LABEL
    label=$1
    shift # (without it the label ran as the command, so every scan "took" 0.00 s)
    best=""
    for r in $(seq "$ROUNDS"); do
        rm -rf "$OUTD/o"
        s=$(date +%s.%N)
        "$@" >/dev/null 2>"$OUTD/err" || { echo "kfeat.sh: $label failed: $(tail -1 "$OUTD/err")" >&2; exit 1; }
        e=$(date +%s.%N)
        d=$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.2f", b - a }')
        if [ -z "$best" ] || awk -v d="$d" -v b="$best" 'BEGIN { exit !(d < b) }'; then best=$d; fi
    done
    echo "$best" >"$OUTD/$label"
}
for j in 1 2; do
    for set in pdq feat; do
        t "$set-$j-all" "$V" scan --index "$OUTD/$set.vgi" -o "$OUTD/o" -j "$j" -q "$OUTD/photos"
        t "$set-$j-one" "$V" scan --index "$OUTD/$set.vgi" -o "$OUTD/o" -j "$j" -q "$OUTD/one"
    done
done
n=$(ls "$OUTD/photos" | wc -l)
{
    echo
    echo "### vigil scan of $n photos against 100,000 references ($SYNTH synthetic references), with features and without (PDQ only), same run"
    echo
    echo "| threads | PDQ only s | with features s | ratio | fixed cost PDQ s | fixed cost features s | per-file ratio (fixed costs out) |"
    echo "|---|---|---|---|---|---|---|"
    for j in 1 2; do
        a=$(cat "$OUTD/pdq-$j-all"); b=$(cat "$OUTD/feat-$j-all"); c=$(cat "$OUTD/pdq-$j-one"); d=$(cat "$OUTD/feat-$j-one")
        awk -v j="$j" -v a="$a" -v b="$b" -v c="$c" -v d="$d" 'BEGIN { printf "| %s | %s | %s | %.2f | %s | %s | %.2f |\n", j, a, b, b / a, c, d, (b - d) / (a - c) }'
    done
} >>"$md"
cat "$md"
