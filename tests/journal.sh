#!/bin/sh
# journal.sh - the scan journal under damage and the limits of a record: a damaged record in the
# middle costs only itself on --resume, a torn tail is cut, special files are refused as OUTDIR or
# journal, digest matches follow --top, and a file with more matches than a record keeps is
# marked truncated with its total (never a journal that cannot be read back).
# Usage: tests/journal.sh BUILD_DIR   (prints "ok - NAME" / "FAIL - NAME" and "journal: N passed, N failed")
NAME=journal
. tests/lib.sh
py() { python3 -c "$@"; }

# frames.py JOURNAL: the journal's frames, one "offset magic length" line each (see cli/journal.c)
cat >"$T/frames.py" <<'EOF'
import struct, sys
def frames(path):
    d = open(path, 'rb').read()
    off = 24 + struct.unpack_from('<I', d, 12)[0]
    out = []
    while off + 16 <= len(d):
        magic, n, _ = struct.unpack_from('<IIQ', d, off)
        out.append((off, magic, n))
        off += 16 + n
    return out, d
REC, HOLE = 0x52474956, 0x48474956
EOF
# damage.py JOURNAL OUT HOW K...: a copy of the journal with records K... damaged; prints the
# copy's frame count, holes, size and the length of record K (frame included)
cat >"$T/damage.py" <<'EOF'
import struct, sys
sys.path.insert(0, sys.argv[0].rsplit('/', 1)[0])
from frames import *
f, d = frames(sys.argv[1])
d = bytearray(d)
how = sys.argv[3]
for k in map(int, sys.argv[4:]):
    off, _, n = f[k]
    if how == 'byte': d[off + 16 + n // 2] ^= 0x20                      # payload: bad checksum
    elif how == 'length': struct.pack_into('<I', d, off + 4, 0xfffffff0)  # bad length
    elif how == 'marker': d[off] ^= 0xff                                   # no record marker
    elif how == 'zero': d[off:off + 16 + n] = bytes(16 + n)               # wiped out
open(sys.argv[2], 'wb').write(d)
print(len(f), sum(m == HOLE for o, m, n in f), len(d), 16 + f[int(sys.argv[4])][2])
EOF
# after.py JOURNAL RESULTS REF NFILES: the journal's frame count, holes and size, then "once" when
# results.jsonl lists every file exactly once, as REF (sorted) does
cat >"$T/after.py" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[0].rsplit('/', 1)[0])
from frames import *
f, d = frames(sys.argv[1])
try:
    lines = open(sys.argv[2]).readlines()
    paths = [json.loads(l)['path'] for l in lines]
    once = len(paths) == len(set(paths)) == int(sys.argv[4]) and sorted(lines) == open(sys.argv[3]).readlines()
except Exception:
    once = False
print(len(f), sum(m == HOLE for o, m, n in f), len(d), 'once' if once else 'not-once')
EOF

# --- a finished scan: 21 distinct files --------------------------------------------------------
mkdir -p "$T/files"
for n in 1 2 3; do
    for f in $D/*; do b=$(basename "$f"); cp "$f" "$T/files/$n-$b"; printf 'distinct %d' "$n" >>"$T/files/$n-$b"; done
done
nfiles=$(ls "$T/files" | wc -l)
"$V" hash --format csv "$D" >"$T/refs.csv" 2>/dev/null
"$V" index build -o "$T/refs.vgi" --set refs "$T/refs.csv" 2>/dev/null
"$V" scan -q --thumbs 0 --index "$T/refs.vgi" -o "$T/ref" "$T/files" >/dev/null 2>&1
sort "$T/ref/results.jsonl" >"$T/ref.sorted"
set -- $(python3 "$T/after.py" "$T/ref/journal.vgj" "$T/ref/results.jsonl" "$T/ref.sorted" $nfiles)
check "a scan's journal holds one record per file ($1 of $nfiles)" test "$1" -eq "$nfiles"

# resume HOW K...: damages records K... of a copy of the finished journal, resumes it; sets
# fb hb sb rlen (frames, holes and size before, the first damaged record's length), rc, and
# fa ha sa once (after; once: every file listed once, as the undamaged scan did)
resume() {
    how=$1; shift
    rm -rf "$T/r"; mkdir -p "$T/r"
    set -- $(python3 "$T/damage.py" "$T/ref/journal.vgj" "$T/r/journal.vgj" "$how" "$@")
    fb=$1 hb=$2 sb=$3 rlen=$4
    "$V" scan --resume --thumbs 0 --index "$T/refs.vgi" -o "$T/r" "$T/files" >"$T/r.out" 2>"$T/r.err"
    rc=$?
    after
}
after() {
    set -- $(python3 "$T/after.py" "$T/r/journal.vgj" "$T/r/results.jsonl" "$T/ref.sorted" $nfiles)
    fa=$1 ha=$2 sa=$3 once=$4
}

resume byte 10
check "one bad byte in a middle record: --resume exits 0 as usual" test $rc -eq 0
check "the message names the journal, the count, the bytes and the reason" \
    grep -q "r/journal.vgj: 1 damaged record ($rlen bytes, bad checksum) dropped" "$T/r.err"
check "results.jsonl lists every file exactly once, as the undamaged scan did" test $once = once
check "only the damaged record's file is scanned again (1 scanned, $((nfiles - 1)) already done)" \
    grep -q "this run: 1 scanned, 0 identical to an earlier file, $((nfiles - 1)) already done" "$T/r.err"
check "the journal grows by that one record; the damaged one is kept, marked as a hole" \
    sh -c "test $fa -eq $((fb + 1)) && test $ha -eq 1 && test $sa -eq $((sb + rlen))"
"$V" scan --resume --thumbs 0 --index "$T/refs.vgi" -o "$T/r" "$T/files" >/dev/null 2>"$T/r2.err"; rc=$?
after
check "resumed again: exit 0, no damage reported, nothing scanned, the hole skipped" \
    sh -c "test $rc -eq 0 && ! grep -q damaged '$T/r2.err' && grep -q 'this run: 0 scanned' '$T/r2.err' && test $once = once"

resume length 5
check "a bad length in a middle record: only it is dropped, named as such" \
    sh -c "test $rc -eq 0 && grep -q '1 damaged record (.*bad length) dropped' '$T/r.err' && grep -q 'this run: 1 scanned' '$T/r.err'"
check "  ... and every file is listed once" test $once = once

resume marker 3 14
check "two records without their marker: 2 dropped, both files scanned again" \
    sh -c "test $rc -eq 0 && grep -q '2 damaged records (.*2 no record marker) dropped' '$T/r.err' && grep -q 'this run: 2 scanned' '$T/r.err'"
check "  ... and every file is listed once" test $once = once

resume zero 7 8
check "two neighbouring records wiped out: their bytes dropped, both files scanned again" \
    sh -c "test $rc -eq 0 && grep -q 'damaged record.*dropped' '$T/r.err' && grep -q 'this run: 2 scanned' '$T/r.err'"
check "  ... and every file is listed once" test $once = once

# a torn tail is still cut off (and said so), not marked
rm -rf "$T/r"; mkdir -p "$T/r"
head -c $(($(wc -c <"$T/ref/journal.vgj") - 40)) "$T/ref/journal.vgj" >"$T/r/journal.vgj"
"$V" scan --resume --thumbs 0 --index "$T/refs.vgi" -o "$T/r" "$T/files" >/dev/null 2>"$T/r.err"; rc=$?
after
check "a torn last record: cut off, its file scanned again, no hole" \
    sh -c "test $rc -eq 0 && grep -q 'torn last record' '$T/r.err' && grep -q 'this run: 1 scanned' '$T/r.err' && test $ha -eq 0 && test $fa -eq $nfiles"
check "  ... and every file is listed once" test $once = once

# --- OUTDIR and journal.vgj must be a folder and a regular file -------------------------------
mkdir -p "$T/realdir"
ln -s realdir "$T/linkdir"
timeout 20 "$V" scan -q --index "$T/refs.vgi" -o "$T/linkdir" "$T/files" >/dev/null 2>"$T/e"; rc=$?
check "OUTDIR a symbolic link: exit 2, named, nothing written through it" \
    sh -c "test $rc -eq 2 && grep -q 'linkdir: is a symbolic link' '$T/e' && test -z \"\$(ls '$T/realdir')\""
: >"$T/plainfile"
timeout 20 "$V" scan -q --index "$T/refs.vgi" -o "$T/plainfile" "$T/files" >/dev/null 2>"$T/e"; rc=$?
check "OUTDIR a regular file: exit 2, named" sh -c "test $rc -eq 2 && grep -q 'plainfile' '$T/e'"
for kind in fifo link dir; do
    rm -rf "$T/sp"; mkdir -p "$T/sp"
    case $kind in
    fifo) mkfifo "$T/sp/journal.vgj"; want='is a FIFO' ;;
    link) cp "$T/ref/journal.vgj" "$T/elsewhere.vgj"; ln -s ../elsewhere.vgj "$T/sp/journal.vgj"; want='is a symbolic link' ;;
    dir) mkdir "$T/sp/journal.vgj"; want='is a folder' ;;
    esac
    timeout 20 "$V" scan -q --resume --index "$T/refs.vgi" -o "$T/sp" "$T/files" >/dev/null 2>"$T/e"; rc=$?
    check "journal.vgj a $kind (--resume): exit 2 at once, path and reason" \
        sh -c "test $rc -eq 2 && grep -q 'sp/journal.vgj: $want' '$T/e'"
done
check "  ... the file behind the symbolic link is untouched" cmp -s "$T/ref/journal.vgj" "$T/elsewhere.vgj"

# --- limits: digest matches follow --top -------------------------------------------------------
f1=$(ls "$T/files"/* | head -1)
m=$(md5sum <"$f1" | cut -d' ' -f1)
py "
import sys
print('md5,id')
for i in range(40): print('$m,copy-%d' % i)" >"$T/md5s.csv"
"$V" index build -o "$T/md5s.vgi" --set md5s "$T/md5s.csv" 2>/dev/null
for top in 0 25 3; do
    rm -rf "$T/d$top"
    "$V" scan -q --thumbs 0 --top $top --index "$T/md5s.vgi" -o "$T/d$top" "$f1" >/dev/null 2>&1
done
set -- $(py "
import json
for top in (0, 25, 3):
    r=[json.loads(l) for l in open('$T/d%d/results.jsonl' % top)][0]
    print(len([m for m in r['matches'] if m['kind']=='md5']), 'truncated' if r.get('truncated') else 'whole')")
check "40 references with one MD5: --top 0 lists all 40 (not 16)" test "$1 $2" = "40 whole"
check "  ... --top 25 lists 25" test "$3 $4" = "25 whole"
check "  ... --top 3 lists 3" test "$5 $6" = "3 whole"

# --- limits: 64 --index and a room index are 65 sets, every one counted (the report's per-set
# table had 64 slots: under ASan this was a stack overflow)
"$V" rooms build -o "$T/box.vgr" "$D/opencv-doc__box.png" >/dev/null 2>&1
set --
for i in $(seq 64); do set -- "$@" --index "$T/refs.vgi"; done
"$V" scan -q --thumbs 0 "$@" --rooms "$T/box.vgr" -o "$T/s65" "$D/opencv-doc__box.png" >/dev/null 2>&1; rc=$?
check "64 --index and --rooms: exit 0, all 65 sets in summary.json, the room set's match counted" py "
import json
s=json.load(open('$T/s65/summary.json'))
assert $rc==0 and len(s['sets'])==65
assert s['sets'][64]['set']=='box.vgr' and s['sets'][64]['matched_files']==1, s['sets'][64]
assert all(x['matched_files']==1 for x in s['sets'][:64])
"
"$V" scan -q --thumbs 0 "$@" --index "$T/refs.vgi" -o "$T/s66" "$D/opencv-doc__box.png" >/dev/null 2>"$T/e"; rc=$?
check "a 65th --index: exit 2, the limit named" sh -c "test $rc -eq 2 && grep -q 'at most 64 --index' '$T/e'"

# --- limits: more matches than a record keeps --------------------------------------------------
# 1.1 million entries of one hash, all within --radius 256: more than a record held before
# (2^20 matches) and far more than it keeps now (10,000 per file and set); a second set with 30
# references of the file's MD5 keeps all of its own
f2=$(ls "$T/files"/*box* | head -1)
h=$("$V" hash --format csv "$f2" | sed -n 2p | cut -d, -f2)
py "
import sys
sys.stdout.write('$h\n' * 1100000)" >"$T/big.txt"
"$V" index build -o "$T/big.vgi" --set big "$T/big.txt" >/dev/null 2>&1
rm -f "$T/big.txt"
m2=$(md5sum <"$f2" | cut -d' ' -f1)
py "
print('md5,id')
for i in range(30): print('$m2,box-%d' % i)" >"$T/box.csv"
"$V" index build -o "$T/box.vgi" --set box "$T/box.csv" 2>/dev/null
bigscan() { "$V" scan --thumbs 1 --no-dihedral --radius 256 --top 0 --index "$T/big.vgi" --index "$T/box.vgi" -o "$T/big" "$@"; }
bigscan -q "$f2" >/dev/null 2>"$T/e"; rc=$?
check "--radius 256 --top 0 against 1.1 million entries: exit 0" test $rc -eq 0
check "results.jsonl: the file is truncated, 10,000 matches listed, its total counted; the other set keeps its 30" py "
import json
b=[json.loads(l) for l in open('$T/big/results.jsonl')][0]
assert b['truncated'] is True and b['matches_total']==1100030, (b.get('truncated'), b.get('matches_total'))
big=[m for m in b['matches'] if m['set']=='big']; box=[m for m in b['matches'] if m['set']=='box']
assert len(big)==10000 and all(m['kind']=='pdq' and m['distance']==0 for m in big), len(big)
assert len(box)==30 and all(m['kind']=='md5' for m in box), len(box)
"
check "summary.json counts the truncated file" grep -q '"truncated_files": 1,' "$T/big/summary.json"
check "report.html's data says how many matches there were (the page shows 'N matches, the nearest K kept')" grep -q '"truncated":true,"matches_total":1100030' "$T/big/report.html"
cp "$f2" "$T/same-as-box"
bigscan --resume "$f2" "$T/same-as-box" >/dev/null 2>"$T/e"; rc=$?
check "the journal reads back: --resume finds the file done, no damage" \
    sh -c "test $rc -eq 0 && grep -q 'this run: 1 scanned, 1 identical to an earlier file, 1 already done' '$T/e' && ! grep -q damaged '$T/e'"
check "an identical file, taken from the journal, is truncated the same way" py "
import json
r={x['path']:x for x in map(json.loads,open('$T/big/results.jsonl'))}
a=r['$f2']; b=r['$T/same-as-box']
assert b['duplicate'] and b['truncated'] and b['matches_total']==1100030 and b['matches']==a['matches']
"

finish
