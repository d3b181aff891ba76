#!/bin/sh
# match.sh - the matching half of `make bench`: bench-match on 1 M and 10 M generated hashes in
# two distributions, and FAISS's binary indexes on the same data where libfaiss-dev is installed.
# BENCH_100M=1 adds 100 M (needs ~12 GB); BENCH_FAISS_10M=1 runs FAISS at 10 M too (its
# multi-hash index takes ~2 minutes to build there and ~600 bytes per hash).
set -eu
B=${1:-build}
O="$B/bench"
mkdir -p "$O"
sizes="1000000 10000000"
[ "${BENCH_100M:-0}" = 1 ] && sizes="$sizes 100000000"
have_faiss=0
if [ -f /usr/include/faiss/IndexBinaryHash.h ] && make -s "$B/bench-faiss" >/dev/null 2>&1; then have_faiss=1; fi
for n in $sizes; do
    for dist in clustered uniform; do
        "$B/bench-match" --n "$n" --dist "$dist" --queries 1000 --dump "$O" | tee "$O/match-$n-$dist.out"
        if [ $have_faiss = 1 ] && { [ "$n" -le 1000000 ] || [ "${BENCH_FAISS_10M:-0}" = 1 ]; }; then
            "$B/bench-faiss" "$O/base-$dist-$n.bin" "$O/queries-$dist-$n.bin" | tee "$O/faiss-$n-$dist.out"
            v=$(sed -n 's/^bench=index_single .*q_per_s=\([0-9.]*\).*/\1/p' "$O/match-$n-$dist.out")
            f=$(sed -n 's/^bench=faiss_multihash .*nflip=3 .*q_per_s=\([0-9.]*\).*/\1/p' "$O/faiss-$n-$dist.out")
            echo "bench=vs_faiss n=$n dist=$dist vigil_index_q_per_s=$v faiss_multihash_exact_q_per_s=$f ratio=$(echo "scale=1; $v / $f" | bc)"
        fi
        rm -f "$O/base-$dist-$n.bin"
    done
done
[ $have_faiss = 1 ] || echo "# FAISS comparison skipped: apt-get install libfaiss-dev to run it"
