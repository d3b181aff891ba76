#!/bin/sh
# mpi.sh - `vigil scan --mpi` on this machine with 2-16 ranks (--oversubscribe, one thread each):
# the coordinator's cost per file (messages, bytes, CPU of rank 0's coordinating thread), the
# walk's files listed per second (rank 0's own share), and the merge's cost per record, split into
# the part every rank does for its range and the join that rank 0 does alone.
#   bench/mpi.sh BUILD
#   RUNS="small10k:2,4,8,16 small100k:16 photos:2,16" (default): tree:rank counts
#   V=PATH: another vigil (e.g. the commit before) on the same trees, for a before/after in one run
#   LOCK=FILE: take flock FILE around the whole run (one benchmark at a time on a shared machine)
# Prints one "mpi-stats:" line per run (see cli/scan_dist.c) prefixed by the tree and rank count.
set -eu
B=${1:-build}
V=${V:-$B/vigil} # V=: another build of vigil on the same trees (a before/after in one run)
OUTD=${OUTD:-$B/bench-mpi}
RUNS=${RUNS:-small10k:2,4,8,16 small100k:16 photos:2,16}
LOCK=${LOCK:-}
mkdir -p "$OUTD"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
[ -d "$OUTD/small100k/d99" ] || python3 bench/mpi_tree.py "$OUTD/small100k" 100000 100
[ -f "$OUTD/small.vgi" ] || "$V" index build -o "$OUTD/small.vgi" "$OUTD/small100k/d00" >/dev/null 2>&1
# real photos: the 112 of datasets/fetch-photos.sh, 4 distinct copies each (448 files, as bench/scan.sh)
PHOTOS=${PHOTOS:-$B/photos}
if echo "$RUNS" | grep -q photos; then
    [ -f "$PHOTOS/mate-backgrounds__Storm.jpg" ] || sh datasets/fetch-photos.sh "$PHOTOS" >/dev/null
    if [ ! -d "$OUTD/photos" ]; then
        sh bench/copies.sh "$PHOTOS" "$OUTD/photos" 4
    fi
fi
# everything timed runs under one hold of the lock (at most ~3 minutes)
if [ -n "$LOCK" ] && [ -z "${MPI_BENCH_LOCKED:-}" ]; then
    exec flock "$LOCK" env MPI_BENCH_LOCKED=1 RUNS="$RUNS" sh "$0" "$B"
fi
echo "# $(date -u '+%Y-%m-%d %H:%M') $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); vigil scan --mpi -j 1 --thumbs 0"
for spec in $RUNS; do
    w=${spec%%:*}
    case $w in
        small10k) tree="$OUTD/small100k/d0[0-9]" ;;  # 10 folders of 1,000
        small100k) tree="$OUTD/small100k" ;;
        photos) tree="$OUTD/photos" ;;
        *) echo "unknown: $w" >&2; exit 2 ;;
    esac
    for np in $(echo "${spec#*:}" | tr , ' '); do
        rm -rf "$OUTD/out"
        # shellcheck disable=SC2086
        line=$(env VIGIL_MPI_STATS=1 mpirun --oversubscribe -x VIGIL_MPI_STATS -np "$np" \
            "$V" scan --mpi -q -j 1 --thumbs 0 --index "$OUTD/small.vgi" -o "$OUTD/out" $tree 2>&1 >/dev/null | grep '^mpi-stats:' || true)
        echo "tree=$w np=$np $line"
    done
done
rm -rf "$OUTD/out"
