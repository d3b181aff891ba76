#!/bin/sh
# copies.sh SRC DST N: N copies of every file of SRC in DST, copy K of NAME as K-NAME with the
# text "copy K" appended, so each is a file of its own content (read, digested and decoded anew)
# with the same pixels. The benchmarks' trees of photos (scan, archive, kfeat, mpi, thumbs).
set -eu
src=$1 dst=$2 n=$3
mkdir -p "$dst"
for k in $(seq "$n"); do
    for f in "$src"/*; do
        b=$(basename "$f")
        cp "$f" "$dst/$k-$b"
        printf 'copy %d' "$k" >>"$dst/$k-$b"
    done
done
