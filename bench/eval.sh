#!/bin/sh
# eval.sh - `make eval`: rebuilds the 270 evaluation photos from Debian packages on first use
# (datasets/eval-photos.tsv; the packages are shared with `make bench`'s photos), then runs
# build/bench-eval: tables in build/eval/eval.md and eval.tsv, plots in build/eval/*.png.
set -eu
B=${1:-build}
[ $# -gt 0 ] && shift
PHOTOS=${EVAL_PHOTOS:-$B/eval-photos}
n=$(awk 'NR > 1' datasets/eval-photos.tsv | wc -l)
have=$(ls "$PHOTOS" 2>/dev/null | wc -l)
if [ "$have" -lt "$n" ]; then
    LIST=datasets/eval-photos.tsv DEBS="${DEBS:-$B/photos.debs}" sh datasets/fetch-photos.sh "$PHOTOS"
fi
"$B/bench-eval" --photos "$PHOTOS" --manifest datasets/eval-photos.tsv --out "$B/eval" "$@"
echo
cat "$B/eval/eval.md"
