#!/bin/sh
# mpi.sh - a scan spread over processes gives what one process gives: --shard K/N + `scan merge`,
# and `scan --mpi` under Open MPI's mpirun with 1, 2 and 3 ranks; kill -9 of the job and of one
# rank, then --resume with another rank count or without MPI; refusals (incomplete, missing,
# mismatched or overlapping shards; a second job on one OUTDIR; --mpi in a build without MPI).
# Usage: tests/mpi.sh BUILD_DIR   (prints "ok - NAME" / "FAIL - NAME" and "mpi: N passed, N failed")
NAME=mpi
. tests/lib.sh
NOMPI="$B/vigil-nompi"

# --- a tree: distinct copies, exact duplicates in other folders, junk, and names whose walk order
# is not strcmp order of the whole path ("a/..." is walked before "a.jpg") -------------------------
mkdir -p "$T/tree/a/deep" "$T/tree/b" "$T/tree/c d"
i=0
for f in $D/*; do
    b=$(basename "$f")
    for n in 1 2 3 4 5; do
        cp "$f" "$T/tree/a/$n-$b"; printf 'copy %d' "$n" >>"$T/tree/a/$n-$b"
    done
    cp "$f" "$T/tree/b/$b"; cp "$f" "$T/tree/c d/$b"; cp "$f" "$T/tree/a/deep/$b"
    i=$((i + 1))
done
cp "$D/opencv-doc__box.png" "$T/tree/a.jpg"
printf 'not an image' >"$T/tree/b/junk.jpg"
: >"$T/tree/b/empty.jpg"
nfiles=$(find "$T/tree" -type f | wc -l)
"$V" index build -o "$T/refs.vgi" --set refs $D/* >/dev/null 2>&1
S="-q -j 1 --index $T/refs.vgi"
# the one process everything is compared with (one thread: which of identical files is decoded
# is then the first in walk order, as the merge makes it)
"$V" scan $S -o "$T/one" "$T/tree" >/dev/null 2>&1
check "the reference scan lists every file ($nfiles)" test "$(wc -l <"$T/one/results.jsonl")" -eq "$nfiles"

# pagesame A B: the two report.html byte for byte but for the scan_id and the page's creation time
pagesame() {
    [ "$(sed 's/"scan_id":"[0-9a-f]*"/"scan_id":""/; s/"created":"[^"]*"/"created":""/' "$1/report.html" | cksum)" = \
      "$(sed 's/"scan_id":"[0-9a-f]*"/"scan_id":""/; s/"created":"[^"]*"/"created":""/' "$2/report.html" | cksum)" ]
}
# same DIR: DIR's reports are those of $T/one, but for the time fields
# (each scan has its own scan_id, and the page its creation time; the page's data must agree in
# everything else, thumbnails included)
same() {
    cmp -s "$T/one/results.jsonl" "$1/results.jsonl" && cmp -s "$T/one/vics.json" "$1/vics.json" &&
        [ "$(grep -v 'seconds_this_run\|"scan_id"' "$T/one/summary.json")" = "$(grep -v 'seconds_this_run\|"scan_id"' "$1/summary.json")" ] &&
        python3 -c "
import json,re,sys
def page(p):
    h=open(p).read()
    d=json.loads(re.search(r'<script type=\"application/json\" id=\"vigil-data\">(.*?)</script>', h, re.S).group(1))
    for k in ('scan_id','created'): d.pop(k, None)
    d['thumbnail blocks']=re.findall(r'<script type=\"text/plain\" id=\"vigil-t\\d+\">[^<]*</script>', h)
    return d
sys.exit(page(sys.argv[1]) != page(sys.argv[2]))" "$T/one/report.html" "$1/report.html" && pagesame "$T/one" "$1"
}

# --- --shard K/N and scan merge ------------------------------------------------------------------------
for k in 1 2 3; do "$V" scan $S --shard $k/3 -o "$T/s$k" "$T/tree" >/dev/null 2>&1; done
n1=$(wc -l <"$T/s1/results.jsonl"); n2=$(wc -l <"$T/s2/results.jsonl"); n3=$(wc -l <"$T/s3/results.jsonl")
check "three shards split the tree: every file in one of them, none empty" \
    sh -c "test $((n1 + n2 + n3)) -eq $nfiles && test $n1 -gt 0 && test $n2 -gt 0 && test $n3 -gt 0 && test -f '$T/s1/shard.done'"
sort "$T/s1/results.jsonl" "$T/s2/results.jsonl" "$T/s3/results.jsonl" | python3 -c "
import json,sys
p=[json.loads(l)['path'] for l in sys.stdin]
assert len(p)==len(set(p)), 'a file in two shards'" 2>/dev/null
check "no file is in two shards" test $? -eq 0
"$V" scan $S --shard 2/3 -o "$T/s2again" "$T/tree" >/dev/null 2>&1
check "a shard is the same share on every run" cmp -s "$T/s2/results.jsonl" "$T/s2again/results.jsonl"
"$V" scan merge -q -o "$T/merged" "$T/s3" "$T/s1" "$T/s2" >/dev/null 2>"$T/err"; rc=$?
check "scan merge of the 3 shards, given in any order: exit 1 (the junk and empty files)" test $rc -eq 1
same "$T/merged"; check "... results.jsonl, vics.json byte for byte, summary.json and report.html but for the time" test $? -eq 0
check "... and its journal resumes as a plain scan: nothing left to do" \
    sh -c "'$V' scan $S --resume -o '$T/merged' '$T/tree' 2>&1 >/dev/null; cmp -s '$T/one/results.jsonl' '$T/merged/results.jsonl'"
python3 -c "
import json
r=[json.loads(l) for l in open('$T/merged/results.jsonl')]
d={}
for x in r:
    if 'xxh128' in x: d.setdefault(x['xxh128'],[]).append(bool(x.get('duplicate')))
assert all(v.count(False)==1 for v in d.values()), 'one decoded file per content'
assert sum(v.count(True) for v in d.values())==json.load(open('$T/merged/summary.json'))['duplicates']
" 2>/dev/null
check "duplicates across shards: one decoded file per content, every other copy 'duplicate', as counted in summary.json" test $? -eq 0

"$V" scan merge -o "$T/m2" "$T/s1" "$T/s3" >/dev/null 2>"$T/err"; rc=$?
check "a merge with a shard missing is refused: exit 2, names it" sh -c "test $rc -eq 2 && grep -q 'shard 2/3 is missing' '$T/err' && test ! -f '$T/m2/journal.vgj'"
VIGIL_TEST_CRASH_AFTER=5 "$V" scan $S --shard 2/3 -o "$T/s2torn" "$T/tree" >/dev/null 2>&1
"$V" scan merge -o "$T/m3" "$T/s1" "$T/s2torn" "$T/s3" >/dev/null 2>"$T/err"; rc=$?
check "a merge with an interrupted shard is refused: exit 2, says it is not finished" \
    sh -c "test $rc -eq 2 && grep -q 's2torn: not a finished shard' '$T/err' && test ! -f '$T/m3/journal.vgj'"
"$V" scan $S --resume --shard 2/3 -o "$T/s2torn" "$T/tree" >/dev/null 2>&1
"$V" scan merge -q -o "$T/m4" "$T/s1" "$T/s2torn" "$T/s3" >/dev/null 2>&1
same "$T/m4"; check "... finished with --resume, the merge equals one process" test $? -eq 0
"$V" scan -q -j 1 --index "$T/refs.vgi" --radius 20 --shard 2/3 -o "$T/s2r" "$T/tree" >/dev/null 2>&1
"$V" scan merge -o "$T/m5" "$T/s1" "$T/s2r" "$T/s3" >/dev/null 2>"$T/err"; rc=$?
check "shards scanned with other settings are refused: exit 2, names them" sh -c "test $rc -eq 2 && grep -q 's2r was scanned with other settings' '$T/err'"
"$V" scan $S --shard 1/2 -o "$T/h1" "$T/tree" >/dev/null 2>&1
"$V" scan merge -o "$T/m6" "$T/h1" "$T/s2" "$T/s3" >/dev/null 2>"$T/err"; rc=$?
check "shards of another split (1/2 with 2/3, 3/3) are refused: exit 2" sh -c "test $rc -eq 2 && grep -q 'same N' '$T/err'"
"$V" scan merge -o "$T/m7" "$T/s1" "$T/s2" "$T/s2again" "$T/s3" >/dev/null 2>"$T/err"; rc=$?
check "the same shard twice is refused: exit 2" sh -c "test $rc -eq 2 && grep -q 'shard 2/3 given twice' '$T/err'"
"$V" scan $S --shard 1/3 -o "$T/other" "$T/tree/a" >/dev/null 2>&1
"$V" scan merge -o "$T/m8" "$T/other" "$T/s2" "$T/s3" >/dev/null 2>"$T/err"; rc=$?
check "shards of another tree are refused: exit 2" sh -c "test $rc -eq 2 && grep -q 'other paths' '$T/err'"
for bad in 0/3 4/3 3 x/2 1/0; do
    "$V" scan $S --shard $bad -o "$T/bad" "$T/tree" >/dev/null 2>"$T/err"; rc=$?
    [ $rc -eq 2 ] && grep -q -- "--shard $bad" "$T/err" || break
done
check "--shard 0/3, 4/3, 3, x/2, 1/0: exit 2 naming the value" sh -c "test $rc -eq 2 && test ! -e '$T/bad'"
"$NOMPI" scan $S --mpi -o "$T/nompi" "$T/tree" >/dev/null 2>"$T/err"; rc=$?
check "--mpi in a vigil built without MPI: exit 2, says so and what to do" \
    sh -c "test $rc -eq 2 && grep -q 'built without MPI' '$T/err' && grep -q 'shard' '$T/err' && test ! -e '$T/nompi'"

# --- --mpi under mpirun ----------------------------------------------------------------------------
if ! command -v mpirun >/dev/null 2>&1 || ! ldd "$V" 2>/dev/null | grep -q libmpi; then
    echo "SKIPPED --mpi: NOT TESTED HERE ($(command -v mpirun >/dev/null 2>&1 && echo "$V is built without MPI" || echo "no mpirun: install openmpi-bin libopenmpi-dev"))"
    finish
    exit 0
fi
# root may run it here (a test machine); ranks may outnumber the cores; shared memory only
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
run() { np=$1; shift; timeout 60 mpirun --oversubscribe -np "$np" "$@"; }
M="$S --batch 8"
for np in 1 2 3; do
    run $np "$V" scan $M --mpi -o "$T/mpi$np" "$T/tree" >/dev/null 2>"$T/err$np"
    same "$T/mpi$np"; check "mpirun -np $np scan --mpi: reports identical to one process" test $? -eq 0
done
python3 -c "
import json
r=[json.loads(l) for l in open('$T/mpi3/results.jsonl')]
d={}
for x in r:
    if 'xxh128' in x: d.setdefault(x['xxh128'],[]).append(bool(x.get('duplicate')))
assert all(v.count(False)==1 for v in d.values()), 'one decoded file per content'
assert sum(v.count(True) for v in d.values())==json.load(open('$T/mpi3/summary.json'))['duplicates']
assert any(len(v)>1 for v in d.values())
" 2>/dev/null
check "duplicates across 3 ranks: one decoded file per content in walk order, every other copy 'duplicate', counted in summary.json" test $? -eq 0
check "... with 3 ranks every rank had a share and its own journal" \
    sh -c "for r in 0 1 2; do test -s '$T/mpi3/ranks/'\$r/journal.vgj || exit 1; done; \
           test \$(ls '$T/mpi3/ranks' | wc -l) -eq 3"

# report.html made per part (each rank writes its range's entries and thumbnail blocks, rank 0
# joins them): byte for byte one process's but for scan_id and the time, with the page's script
# after the 7th thumbnail block (test hook) and a thumbnail budget that binds (100,000 bytes of
# about 200,000), decided by the merge in walk order from part to part; OUTDIR/thumbs.vgt too
P="VIGIL_TEST_PRE_THUMBS=7"
env $P VIGIL_TEST_THUMB_BYTES=100000 "$V" scan $S -o "$T/pone" "$T/tree" >/dev/null 2>&1
nb=$(grep -c 'id="vigil-t' "$T/pone/report.html")
for np in 1 2 3; do
    env $P VIGIL_TEST_MERGE_THUMB_BYTES=100000 timeout 60 mpirun --oversubscribe -np $np -x VIGIL_TEST_PRE_THUMBS -x VIGIL_TEST_MERGE_THUMB_BYTES \
        "$V" scan $M --mpi -o "$T/pm$np" "$T/tree" >/dev/null 2>&1
    pagesame "$T/pone" "$T/pm$np" && cmp -s "$T/pone/thumbs.vgt" "$T/pm$np/thumbs.vgt"; r=$?
    check "mpirun -np $np: report.html and thumbs.vgt from the parts, as one process's ($nb thumbnails kept of 42, the script after the 7th)" \
        sh -c "test $nb -gt 7 && test $nb -lt 42 && test $r -eq 0"
done
VIGIL_TEST_CRASH_AFTER=9 run 3 -x VIGIL_TEST_CRASH_AFTER "$V" scan $M --mpi -o "$T/pk" "$T/tree" >/dev/null 2>&1
env $P VIGIL_TEST_MERGE_THUMB_BYTES=100000 "$NOMPI" scan $M --resume -o "$T/pk" "$T/tree" >/dev/null 2>&1
pagesame "$T/pone" "$T/pk" && cmp -s "$T/pone/thumbs.vgt" "$T/pk/thumbs.vgt"
check "killed -9 with 3 ranks, resumed without MPI: the same report.html and thumbs.vgt" test $? -eq 0
for k in 1 2 3; do env VIGIL_TEST_THUMB_BYTES=100000 "$V" scan $S --shard $k/3 -o "$T/ps$k" "$T/tree" >/dev/null 2>&1; done
env $P VIGIL_TEST_MERGE_THUMB_BYTES=100000 "$V" scan merge -q -o "$T/psm" "$T/ps2" "$T/ps1" "$T/ps3" >/dev/null 2>&1
pagesame "$T/pone" "$T/psm"; check "scan merge of 3 shards: the same report.html and thumbs.vgt" sh -c "test $? -eq 0 && cmp -s '$T/pone/thumbs.vgt' '$T/psm/thumbs.vgt'"

# kill -9 of the whole job: every rank dies mid-record (test hook), then --resume with 2 ranks
VIGIL_TEST_CRASH_AFTER=6 run 3 -x VIGIL_TEST_CRASH_AFTER "$V" scan $M --mpi -o "$T/k" "$T/tree" >/dev/null 2>&1; rc=$?
check "every rank killed -9 mid-record: the job fails, no reports" sh -c "test $rc -ne 0 && test ! -f '$T/k/summary.json'"
run 2 "$V" scan $M --mpi --resume -o "$T/k" "$T/tree" >/dev/null 2>"$T/err"
same "$T/k"; check "... resumed with 2 ranks: identical to one process, every file once" test $? -eq 0

# kill -9 of one rank while the others run: Open MPI ends the job; resumed without MPI at all
VIGIL_TEST_PAUSE="batch:2:$T/p" run 3 -x VIGIL_TEST_PAUSE "$V" scan $M --mpi -o "$T/k1" "$T/tree" >/dev/null 2>&1 &
mp=$!
w=0; while [ ! -f "$T/p.ready" ] && [ $w -lt 400 ]; do sleep 0.05; w=$((w + 1)); done
pid1=$(sed -n 's/^pid \([0-9]*\) .*/\1/p' "$T/k1/ranks/1/scan.lock" 2>/dev/null)
[ -n "$pid1" ] && kill -9 "$pid1"
w=0; while kill -0 $mp 2>/dev/null && [ $w -lt 400 ]; do sleep 0.05; w=$((w + 1)); done
kill -0 $mp 2>/dev/null && { touch "$T/p.go"; sleep 1; }
wait $mp; rc=$?
check "rank 1 killed -9 while the others run: the whole job ends (exit $rc), no reports" \
    sh -c "test -n '$pid1' && test $rc -ne 0 && test ! -f '$T/k1/summary.json'"
"$NOMPI" scan $M --resume -o "$T/k1" "$T/tree" >/dev/null 2>"$T/err"; rc=$?
same "$T/k1"; sm=$?
check "... resumed by a vigil without MPI: exit 1 (the junk), identical to one process" sh -c "test $rc -eq 1 && test $sm -eq 0"

# a second job on the same OUTDIR is refused, also a plain scan of it; the first one is unharmed
rm -f "$T/p.ready" "$T/p.go"
VIGIL_TEST_PAUSE="batch:1:$T/p" run 2 -x VIGIL_TEST_PAUSE "$V" scan $M --mpi -o "$T/two" "$T/tree" >/dev/null 2>&1 &
mp=$!
w=0; while [ ! -f "$T/p.ready" ] && [ $w -lt 400 ]; do sleep 0.05; w=$((w + 1)); done
run 2 "$V" scan $M --mpi --resume -o "$T/two" "$T/tree" >/dev/null 2>"$T/err"; rc=$?
"$V" scan $M --resume -o "$T/two" "$T/tree" >/dev/null 2>"$T/err2"; rc2=$?
touch "$T/p.go"
wait $mp
check "a second job on a running job's OUTDIR is refused: exit 2, names the holder" \
    sh -c "test $rc -ne 0 && grep -q 'in use by another scan' '$T/err' && test $rc2 -eq 2 && grep -q 'in use by another scan' '$T/err2'"
same "$T/two"; check "... and the running job ends as one process would" test $? -eq 0

# --- the parallel walk and the merge by ranges, on a tree of every shape -----------------------------
# wide (one folder of 300 files, split between the ranks as they go), deep (12 levels), an empty
# folder, an archive with a nested one (members before the archive's own line), a video, a link to
# a folder inside the tree (followed) and one to an ancestor (a loop, reported)
W="$T/shape"
python3 bench/mpi_tree.py "$W/wide" 300 1 >/dev/null
mkdir -p "$W/empty" "$W/z"
p="$W/deep"; for l in 1 2 3 4 5 6 7 8 9 10 11 12; do p="$p/l$l"; mkdir -p "$p"; cp "$D/opencv-doc__box.png" "$p/f$l.png"; printf '%d' $l >>"$p/f$l.png"; done
ln -s ../../.. "$W/deep/l1/l2/l3/up"
ln -s ../deep/l1/l2 "$W/z/link"
(cd "$T/tree/a" && zip -q "$T/inner.zip" 1-* && cp "$T/inner.zip" "$W/z/" && zip -q "$W/z/outer.zip" 2-* deep/* "$T/inner.zip" -j)
cp "$W/z/outer.zip" "$W/z/outer-copy.zip"
command -v ffmpeg >/dev/null 2>&1 && ffmpeg -v error -nostdin -y -f lavfi -i "testsrc=size=64x64:rate=5" -t 2 -pix_fmt yuv420p "$W/z/clip.mp4" && cp "$W/z/clip.mp4" "$W/z/clip2.mp4"
"$V" scan $S -o "$T/wone" "$W" >/dev/null 2>&1
wsame() {
    cmp -s "$T/wone/results.jsonl" "$1/results.jsonl" && cmp -s "$T/wone/vics.json" "$1/vics.json" &&
        [ "$(grep -v 'seconds_this_run\|"scan_id"' "$T/wone/summary.json")" = "$(grep -v 'seconds_this_run\|"scan_id"' "$1/summary.json")" ] &&
        pagesame "$T/wone" "$1"
}
wn=$(wc -l <"$T/wone/results.jsonl")
check "the tree of every shape: one process lists its $wn files, archive members, the loop and the video" \
    sh -c "test $wn -gt 340 && grep -q 'outer.zip!/inner.zip!/' '$T/wone/results.jsonl' && grep -q 'symlink loop' '$T/wone/results.jsonl' && \
           grep -q '\"link\":true\|via_link\|\"link\"' '$T/wone/results.jsonl'"
for np in 1 2 3; do
    VIGIL_MPI_STATS=1 run $np -x VIGIL_MPI_STATS "$V" scan $S --batch 4 --mpi -o "$T/w$np" "$W" >/dev/null 2>"$T/werr$np"
    wsame "$T/w$np"; check "mpirun -np $np on the tree of every shape: results.jsonl, vics.json, summary.json, report.html as one process" test $? -eq 0
done
sp=$(sed -n 's/.*splits \([0-9]*\) .*/\1/p' "$T/werr3")
shares=0; for r in 0 1 2; do [ "$(strings "$T/w3/ranks/$r/journal.vgj" | grep -c '/wide/d00/img')" -gt 0 ] && shares=$((shares + 1)); done
check "... with 3 ranks the one wide folder was split up ($sp parts handed back) and more than one rank hashed part of it" \
    sh -c "test ${sp:-0} -gt 0 && test $shares -ge 2"
check "... no merge leftovers, and the merged journal resumes: nothing left to do" \
    sh -c "test ! -e '$T/w3/merge.tmp' && '$V' scan -j 1 --index '$T/refs.vgi' --resume -o '$T/w3' '$W' 2>&1 >/dev/null | grep -q 'this run: 0 scanned' && cmp -s '$T/wone/results.jsonl' '$T/w3/results.jsonl'"
# kill -9 of a 2-rank job mid-record, resumed by 3 ranks; then killed again and resumed by 1
VIGIL_TEST_CRASH_AFTER=40 run 2 -x VIGIL_TEST_CRASH_AFTER "$V" scan $S --batch 4 --mpi -o "$T/wk" "$W" >/dev/null 2>&1; rc=$?
VIGIL_TEST_CRASH_AFTER=60 run 3 -x VIGIL_TEST_CRASH_AFTER "$V" scan $S --batch 4 --mpi --resume -o "$T/wk" "$W" >/dev/null 2>&1; rc2=$?
run 1 "$V" scan $S --batch 4 --mpi --resume -o "$T/wk" "$W" >/dev/null 2>"$T/err"
wsame "$T/wk"; sm=$?
check "killed -9 with 2 ranks, again with 3 on resume, finished by 1: every file once, as one process (archives, video included)" \
    sh -c "test $rc -ne 0 && test $rc2 -ne 0 && test $sm -eq 0 && test \$(wc -l <'$T/wk/results.jsonl') -eq $wn"
# shards of this tree merged, against the same one process
for k in 1 2; do "$V" scan $S --shard $k/2 -o "$T/ws$k" "$W" >/dev/null 2>&1; done
"$V" scan merge -q -o "$T/wsm" "$T/ws2" "$T/ws1" >/dev/null 2>&1
wsame "$T/wsm"; check "--shard 1/2, 2/2 of the tree of every shape + scan merge: as one process" test $? -eq 0
# an empty tree
mkdir -p "$T/nothing/sub"
"$V" scan $S -o "$T/eone" "$T/nothing" >/dev/null 2>&1
run 3 "$V" scan $S --mpi -o "$T/e3" "$T/nothing" >/dev/null 2>&1; rc=$?
check "an empty tree with 3 ranks: exit 0, empty results, the same vics.json as one process" \
    sh -c "test $rc -eq 0 && test ! -s '$T/e3/results.jsonl' && cmp -s '$T/eone/vics.json' '$T/e3/vics.json'"

# the progress line: rank 0 shows it on a terminal (script(1) gives the job one), never when piped
run 2 "$V" scan -j 1 --index "$T/refs.vgi" --batch 4 --mpi -o "$T/pp" "$W" >/dev/null 2>"$T/perr"
rm -rf "$T/pt"
script -qec "timeout 60 mpirun --oversubscribe -np 2 '$V' scan -j 1 --index '$T/refs.vgi' --batch 4 --mpi -o '$T/pt' '$W'" /dev/null >"$T/ptty" 2>&1
check "--mpi on a terminal: rank 0's progress line (files scanned / listed, rate); none when piped" \
    sh -c "grep -q 'scan --mpi $wn/$wn files (listed so far) .* files/s  2 ranks' '$T/ptty' && ! grep -q 'files/s' '$T/perr' && grep -q '^$wn files:' '$T/perr'"

finish
