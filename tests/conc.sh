#!/bin/sh
# conc.sh - vigil among other processes: a scan's lock on OUTDIR, writers of one index or room
# index taking turns, an index written in place or replaced while a scan reads it, --resume that
# compares indexes by content, settings longer than 8 KiB. Moments are set with the test hook
# VIGIL_TEST_PAUSE=POINT:N:FILE (cli/lock.c), never with sleeps.
# Usage: tests/conc.sh BUILD_DIR   (prints "ok - NAME" / "FAIL - NAME" and "conc: N passed, N failed")
NAME=conc
. tests/lib.sh
py() { python3 -c "$@"; }
# wait_for FILE: until it exists (20 s at most)
wait_for() { i=0; while [ ! -e "$1" ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i + 1)); done; }
# wait_grep PATTERN FILE: until FILE holds PATTERN (20 s at most)
wait_grep() { i=0; while ! grep -q "$1" "$2" 2>/dev/null && [ $i -lt 1000 ]; do sleep 0.02; i=$((i + 1)); done; }
md5() { md5sum <"$1" | cut -d' ' -f1; }
# results FILE.jsonl: "rows distinct_paths files_with_matches"
results() { py "
import json
rows=[json.loads(l) for l in open('$1')]
print(len(rows), len(set(r['path'] for r in rows)), sum(1 for r in rows if r['matches']))"; }

# 150 small files (3 batches of 64 with -j 1); two indexes of the same size that differ in content:
# the same 5 MD5 references under other ids
mkdir -p "$T/files"
i=1
while [ $i -le 150 ]; do echo "file $i" >"$T/files/f$i.txt"; i=$((i + 1)); done
{ echo md5,id; for i in 1 2 3 100 140; do echo "$(md5 "$T/files/f$i.txt"),ref$i"; done; } >"$T/d1.csv"
sed 's/ref/REF/' "$T/d1.csv" >"$T/d2.csv"
{ echo md5,id; for i in 1 2; do echo "$(md5 "$T/files/f$i.txt"),r$i"; done; } >"$T/d3.csv"
"$V" index build -o "$T/d1.vgi" "$T/d1.csv" 2>/dev/null
"$V" index build -o "$T/d2.vgi" "$T/d2.csv" 2>/dev/null
"$V" index build -o "$T/d3.vgi" "$T/d3.csv" 2>/dev/null
check "fixture: d1.vgi and d2.vgi have the same size, other bytes" \
    sh -c "[ $(wc -c <"$T/d1.vgi") -eq $(wc -c <"$T/d2.vgi") ] && ! cmp -s '$T/d1.vgi' '$T/d2.vgi'"
S="scan -j 1 --quiet"

# --- a second scan or --resume on an OUTDIR in use is refused at once, naming the holder ----------
cp "$T/d1.vgi" "$T/live.vgi"
VIGIL_TEST_PAUSE="batch:2:$T/p1" "$V" $S --index "$T/live.vgi" -o "$T/out1" "$T/files" >/dev/null 2>"$T/s1.err" &
p1=$!
wait_for "$T/p1.ready"
"$V" $S --index "$T/live.vgi" -o "$T/out1" "$T/files" >/dev/null 2>"$T/s2.err"; rc=$?
check "a second scan on a busy OUTDIR exits 2" test $rc -eq 2
check "... naming the other scan's PID and command" \
    sh -c "grep -q 'in use by another scan (PID $p1 on ' '$T/s2.err' && grep -q 'scan -j 1 --quiet --index' '$T/s2.err'"
"$V" $S --index "$T/live.vgi" -o "$T/out1" --resume "$T/files" >/dev/null 2>"$T/s3.err"; rc=$?
check "--resume on a busy OUTDIR is refused too (exit 2, PID named)" sh -c "[ $rc -eq 2 ] && grep -q 'PID $p1 ' '$T/s3.err'"

# --- a file written in place while the scan reads it: a clear stop, nothing of that batch kept ----
cp "$T/d2.vgi" "$T/live.vgi" # same size, other content
touch "$T/p1.go"
wait $p1; rc=$?
check "index written in place during the scan: exit 2, no crash (SIGBUS was 135)" test $rc -eq 2
check "... the message names the index and says what to do" \
    sh -c "grep -q 'live.vgi: this index changed while the scan was reading it' '$T/s1.err' && grep -q 'the last 64 files were not recorded' '$T/s1.err' && grep -q -- '--resume' '$T/s1.err'"
"$V" $S --index "$T/live.vgi" -o "$T/out1" --resume "$T/files" >/dev/null 2>"$T/r1.err"; rc=$?
check "--resume with a different index of the same size is refused (exit 2)" test $rc -eq 2
check "... naming the index whose content differs" \
    sh -c "grep -q 'live.vgi is not the index it was started with, its content differs' '$T/r1.err'"
cp "$T/d1.vgi" "$T/live.vgi"
"$V" scan -j 1 --index "$T/live.vgi" -o "$T/out1" --resume "$T/files" >/dev/null 2>"$T/r2.err"; rc=$?
check "with the original index back, --resume finishes (exit 1: text files do not decode)" test $rc -eq 1
check "... from the first batch, which was recorded before the change" grep -q 'resuming: 64 files already' "$T/r2.err"
check "... every file exactly once, the 5 matches found" test "$(results "$T/out1/results.jsonl")" = "150 150 5"

# a smaller file over it: past its new end a mapping read was SIGBUS
VIGIL_TEST_PAUSE="batch:1:$T/p2" "$V" $S --index "$T/live.vgi" -o "$T/out2" "$T/files" >/dev/null 2>"$T/s4.err" &
p2=$!
wait_for "$T/p2.ready"
cp "$T/d3.vgi" "$T/live.vgi"
touch "$T/p2.go"
wait $p2; rc=$?
check "a smaller index written over it during the scan: exit 2, no SIGBUS" \
    sh -c "[ $rc -eq 2 ] && grep -q 'bytes then' '$T/s4.err'"
cp "$T/d1.vgi" "$T/live.vgi"
# the same with images, whose PDQ search reads the index's tables, past the small file's end
py "
import random
random.seed(7)
print('pdq,id')
for i in range(40000): print('%064x,big%d' % (random.getrandbits(256), i))" >"$T/big.csv"
"$V" index build -o "$T/big.vgi" "$T/big.csv" 2>/dev/null
VIGIL_TEST_PAUSE="batch:1:$T/p6" "$V" $S --index "$T/big.vgi" -o "$T/out6" $D >/dev/null 2>"$T/s6.err" &
p6=$!
wait_for "$T/p6.ready"
cp "$T/d3.vgi" "$T/big.vgi"
touch "$T/p6.go"
wait $p6; rc=$?
check "a 10 MB index cut to 1 KB in place while a scan searches it: exit 2, no SIGBUS" \
    sh -c "[ $rc -eq 2 ] && grep -q 'big.vgi: this index changed' '$T/s6.err'"

# --- the lock goes with its holder, kill -9 included ----------------------------------------------
VIGIL_TEST_PAUSE="batch:2:$T/p3" "$V" $S --index "$T/live.vgi" -o "$T/out3" "$T/files" >/dev/null 2>&1 &
p3=$!
wait_for "$T/p3.ready"
kill -9 $p3
wait $p3 2>/dev/null
"$V" $S --index "$T/live.vgi" -o "$T/out3" --resume "$T/files" >/dev/null 2>"$T/k.err"; rc=$?
check "after kill -9 of the holder, --resume takes OUTDIR (exit 1)" test $rc -eq 1
check "... and lists every file once" test "$(results "$T/out3/results.jsonl")" = "150 150 5"

# --- replaced by rename (vigil index add) during a scan: the scan keeps its version -----------------
cp "$T/d1.vgi" "$T/live2.vgi"
VIGIL_TEST_PAUSE="batch:2:$T/p4" "$V" $S --index "$T/live2.vgi" -o "$T/out4" "$T/files" >/dev/null 2>"$T/s5.err" &
p4=$!
wait_for "$T/p4.ready"
{ echo md5,id; echo "$(md5 "$T/files/f7.txt"),late"; } >"$T/late.csv"
"$V" index add "$T/live2.vgi" "$T/late.csv" 2>/dev/null
touch "$T/p4.go"
wait $p4; rc=$?
check "an index replaced by rename during a scan: the scan goes on (exit 1)" test $rc -eq 1
check "... says so" grep -q 'live2.vgi was replaced while the scan ran' "$T/s5.err"
check "... and its results are against the version it opened" test "$(results "$T/out4/results.jsonl")" = "150 150 5"

# --- two writers of one index at once: the second waits, then adds to the first one's result -------
cp "$T/d1.vgi" "$T/w.vgi"
{ echo md5,id; echo "$(md5 "$T/files/f10.txt"),alpha"; } >"$T/a.csv"
{ echo md5,id; echo "$(md5 "$T/files/f11.txt"),beta"; } >"$T/b.csv"
VIGIL_TEST_PAUSE="locked:1:$T/w1" "$V" index add "$T/w.vgi" "$T/a.csv" 2>"$T/wa.err" &
wa=$!
wait_for "$T/w1.ready"
"$V" index add "$T/w.vgi" "$T/b.csv" 2>"$T/wb.err" &
wb=$!
wait_grep waiting "$T/wb.err"
touch "$T/w1.go"
wait $wa; ra=$?
wait $wb; rb=$?
check "two index add at once: both exit 0" sh -c "[ $ra -eq 0 ] && [ $rb -eq 0 ]"
check "... the second said it waited" grep -q 'w.vgi: waiting for another vigil that is writing it' "$T/wb.err"
"$V" index export "$T/w.vgi" >"$T/w.tsv"
check "... both entries are in the index" sh -c "grep -q alpha '$T/w.tsv' && grep -q beta '$T/w.tsv' && grep -q ref140 '$T/w.tsv'"
check "... which verifies" "$V" index verify "$T/w.vgi"

# remove and build -o onto the same file wait their turn as well
VIGIL_TEST_PAUSE="locked:1:$T/w2" "$V" index remove "$T/w.vgi" alpha 2>/dev/null &
wa=$!
wait_for "$T/w2.ready"
"$V" index add "$T/w.vgi" "$T/a.csv" 2>"$T/wc.err" &
wb=$!
wait_grep waiting "$T/wc.err"
touch "$T/w2.go"
wait $wa; ra=$?
wait $wb; rb=$?
"$V" index export "$T/w.vgi" >"$T/w.tsv"
check "remove, then an add that waited for it: alpha is back, beta kept" \
    sh -c "[ $ra -eq 0 ] && [ $rb -eq 0 ] && grep -q alpha '$T/w.tsv' && grep -q beta '$T/w.tsv'"
VIGIL_TEST_PAUSE="locked:1:$T/w3" "$V" index add "$T/w.vgi" "$T/b.csv" 2>/dev/null &
wa=$!
wait_for "$T/w3.ready"
"$V" index build -o "$T/w.vgi" "$T/d3.csv" 2>"$T/wd.err" &
wb=$!
wait_grep waiting "$T/wd.err"
touch "$T/w3.go"
wait $wa; ra=$?
wait $wb; rb=$?
"$V" index export "$T/w.vgi" >"$T/w.tsv"
check "build -o onto a file an add is writing waits, and its result is what remains" \
    sh -c "[ $ra -eq 0 ] && [ $rb -eq 0 ] && grep -q waiting '$T/wd.err' && grep -q r2 '$T/w.tsv' && ! grep -q alpha '$T/w.tsv'"

# room indexes: rooms add holds the lock from before its read
img=$(ls $D/* | head -1)
img2=$(ls $D/* | sed -n 2p)
"$V" rooms build -o "$T/r.vgr" "$img" 2>/dev/null
VIGIL_TEST_PAUSE="locked:1:$T/w4" "$V" rooms add "$T/r.vgr" "$img2" 2>/dev/null &
wa=$!
wait_for "$T/w4.ready"
"$V" rooms add "$T/r.vgr" "$(ls $D/* | sed -n 3p)" 2>"$T/we.err" &
wb=$!
wait_grep waiting "$T/we.err"
touch "$T/w4.go"
wait $wa; ra=$?
wait $wb; rb=$?
n=$("$V" rooms info "$T/r.vgr" 2>/dev/null | awk -F'\t' 'NR == 2 { print $2 }')
check "two rooms add at once: both land (3 images)" sh -c "[ $ra -eq 0 ] && [ $rb -eq 0 ] && [ '$n' = 3 ]"

# --- settings are not cut at a fixed length: 40 indexes with long paths ---------------------------
long="$T/a-folder-with-a-rather-long-name-as-case-folders-often-have-0123456789-0123456789-0123456789"
long="$long/and-a-second-level-named-after-the-exhibit-and-the-date-of-its-seizure-0123456789-0123456789"
mkdir -p "$long"
args=""
k=1
while [ $k -le 40 ]; do cp "$T/d1.vgi" "$long/set-$k.vgi"; args="$args --index $long/set-$k.vgi"; k=$((k + 1)); done
VIGIL_TEST_PAUSE="batch:2:$T/p5" "$V" $S $args -o "$T/out5" "$T/files" >/dev/null 2>&1 &
p5=$!
wait_for "$T/p5.ready"
kill -9 $p5
wait $p5 2>/dev/null
cp "$T/d2.vgi" "$long/set-40.vgi" # the last one, past 8 KiB of settings
"$V" $S $args -o "$T/out5" --resume "$T/files" >/dev/null 2>"$T/l.err"; rc=$?
check "settings past 8 KiB: a changed 40th index is refused on resume" \
    sh -c "[ $rc -eq 2 ] && grep -q 'set-40.vgi is not the index it was started with' '$T/l.err'"
cp "$T/d1.vgi" "$long/set-40.vgi"
"$V" $S $args -o "$T/out5" --resume "$T/files" >/dev/null 2>"$T/l2.err"; rc=$?
check "... and with it back the scan resumes and finishes" \
    sh -c "[ $rc -eq 1 ] && [ '$(results "$T/out5/results.jsonl")' = '150 150 5' ]"

finish
