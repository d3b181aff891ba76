#!/bin/sh
# scan.sh - end-to-end tests of `vigil scan`: matching of edited copies, bad files, duplicates,
# kill -9 and resume, VICS export and import, the review page in headless Chromium, progress.
# Usage: tests/scan.sh BUILD_DIR   (prints "ok - NAME" / "FAIL - NAME" and "scan: N passed, N failed")
NAME=scan
. tests/lib.sh
py() { python3 -c "$@"; }

# --- a seized folder: edited copies of the references among unrelated photos and junk -------------
# references: 4 of the 7 test photos ("victims", with a category) ; the other 3 are unrelated
mkdir -p "$T/refs" "$T/seized/deep/er" "$T/seized/other"
# (the thresholded line drawing is not a reference: PDQ does not survive resampling it; and the
# stereo pair left/right must stay together, as unrelated photos)
for f in $D/*; do
    case "$f" in
    *bulb* | *flower* | *box* | *hfs_001*) cp "$f" "$T/refs/" ;;
    *) cp "$f" "$T/seized/other/" ;;
    esac
done
printf 'pdq,id,category,labels\n' >"$T/victims.csv"
"$V" hash --format csv "$T/refs" | py "
import csv,sys
for r in csv.DictReader(sys.stdin):
    n=r['path'].split('/')[-1]
    print('%s,%s,1,series=s%d' % (r['pdq'], n, len(n)))" >>"$T/victims.csv"
"$V" index build -o "$T/victims.vgi" --set victims "$T/victims.csv" 2>/dev/null
# hotel-style second set with a hostile label, to test escaping in the page
printf 'pdq,id,labels\n%s,hotel-1,<script>alert(1)</script>\n' "$(sed -n 2p "$T/victims.csv" | cut -d, -f1)" >"$T/hotels.csv"
"$V" index build -o "$T/hotels.vgi" --set hotels "$T/hotels.csv" 2>/dev/null
# edits: flipped, rotated, resized, recompressed, a little cropped; plus exact and renamed copies
for f in "$T"/refs/*; do
    b=$(basename "$f"); b=${b%.*}
    vips flip "$f" "$T/seized/deep/er/$b-flip.jpg[Q=80]" horizontal
    vips rot "$f" "$T/seized/$b-rot90.png" d90
    vips resize "$f" "$T/seized/deep/$b-small.jpg[Q=60]" 0.5
    w=$(vipsheader -f width "$f"); h=$(vipsheader -f height "$f")
    vips crop "$f" "$T/seized/$b-crop.jpg[Q=90]" $((w / 100)) $((h / 100)) $((w - w / 50)) $((h - h / 50))
done
cp "$T"/refs/* "$T/seized/deep/"                        # exact copies: MD5-identical too
cp "$(ls "$T"/refs/* | head -1)" "$T/seized/noextension" # type by content, not by name
cp "$(ls "$T"/refs/* | head -1)" "$T/seized/other/dup.bin"
printf 'not an image' >"$T/seized/junk.jpg"
: >"$T/seized/empty.jpg"
head -c 3000 "$(ls "$T"/refs/*.jpg | head -1)" >"$T/seized/truncated.jpg"
ln -s nowhere "$T/seized/dangling"
mkfifo "$T/seized/fifo"
ln -s .. "$T/seized/deep/loop"
nfiles=$(find "$T/seized" \( -type f -o -type l -o -type p \) | grep -v '/loop$' | wc -l)

"$V" scan --index "$T/victims.vgi" --index "$T/hotels.vgi" -o "$T/out" "$T/seized" >"$T/stdout" 2>"$T/err"; rc=$?
check "scan with bad files among good ones exits 1" test $rc -eq 1
check "scan prints where summary.json and report.html are" sh -c "grep -q 'out/summary.json' '$T/stdout' && grep -q 'out/report.html' '$T/stdout'"
check "piped: no progress line (no carriage return on stderr)" sh -c "! grep -q \"\$(printf '\r')\" '$T/err'"
check "results.jsonl: every path exactly once, each line valid JSON" py "
import json
rows=[json.loads(l) for l in open('$T/out/results.jsonl')]
paths=[r['path'] for r in rows]
assert len(paths)==len(set(paths)), 'doubled'
assert len(rows)==$nfiles+1, (len(rows), $nfiles)   # +1: the symlink loop is reported as an entry
"
check "bad files are recorded with a status and the reason" py "
import json
r={x['path'].split('/seized/')[1]:x for x in map(json.loads,open('$T/out/results.jsonl'))}
assert r['junk.jpg']['status']=='format' and 'not a recognised' in r['junk.jpg']['error']
assert r['empty.jpg']['status']=='empty'
assert r['truncated.jpg']['status']=='decode'
assert r['dangling']['status']=='io' and 'dangling' in r['dangling']['error']
assert r['fifo']['status']=='not-a-file'
assert r['deep/loop']['status']=='io' and 'loop' in r['deep/loop']['error']
assert r['junk.jpg']['md5'] and r['truncated.jpg']['sha1']   # digests even when undecodable
"
check "every edited copy matches its reference; unrelated photos match nothing" py "
import json
rows=[json.loads(l) for l in open('$T/out/results.jsonl')]
for r in rows:
    p=r['path'].split('/seized/')[1]
    v=[m for m in r['matches'] if m['set']=='victims']
    if p.startswith('other/') and not p.endswith('dup.bin'):
        assert not r['matches'], p
    for kind in ('-flip','-rot90','-small','-crop'):
        if kind in p:
            base=p.split('/')[-1].rsplit(kind,1)[0]
            assert v and v[0]['ref_id'].startswith(base), (p, v)
            assert v[0]['labels'].startswith('category=1'), v
    if '-rot90' in p: assert v[0]['transform']!='orig', v
"
check "exact copies, a renamed one and one without extension match at distance 0" py "
import json
rows=[json.loads(l) for l in open('$T/out/results.jsonl')]
x=[r for r in rows if r['path'].endswith(('noextension','dup.bin')) or '/deep/' in r['path'] and r['path'].split('/')[-1].count('-')==r['path'].split('/')[-1].count('-') and not any(k in r['path'] for k in ('-flip','-small','loop'))]
assert len(x)>=6 and all(r['matches'] and r['matches'][0]['distance']==0 for r in x), [r['path'] for r in x if not r['matches']]
"
check "identical files are decoded once: duplicates carry the first one's result" py "
import json
rows=[json.loads(l) for l in open('$T/out/results.jsonl')]
d=[r for r in rows if r.get('duplicate')]
assert len(d)>=2
by={}
for r in rows: by.setdefault(r.get('xxh128'),[]).append(r)
for r in d:
    # the copy that was decoded: whichever thread claimed the content first, so not always the
    # first line; there is exactly one per content
    dec=[x for x in by[r['xxh128']] if not x.get('duplicate')]
    assert len(dec)==1, dec
    first=dec[0]
    assert r['pdq']==first['pdq'] and r['matches']==first['matches']
"
check "summary.json counts agree with results.jsonl" py "
import json
rows=[json.loads(l) for l in open('$T/out/results.jsonl')]
s=json.load(open('$T/out/summary.json'))
assert s['files']==len(rows) and s['failed']==sum(r['status']!='ok' for r in rows)
assert s['matched_files']==sum(bool(r['matches']) for r in rows) and s['complete'] is True
assert [x['set'] for x in s['sets']]==['victims','hotels']
"

"$V" scan -q --index "$T/victims.vgi" -o "$T/twice" "$T/seized/other" "$T/seized/other" "$T/seized/other/dup.bin" >/dev/null 2>&1
check "a folder given twice: each file scanned once" sh -c "test \$(wc -l <'$T/twice/results.jsonl') -eq \$(ls '$T/seized/other' | wc -l)"

# --- refusals ---------------------------------------------------------------------------------------
"$V" scan --index "$T/victims.vgi" -o "$T/out" "$T/seized" >/dev/null 2>"$T/err2"; rc=$?
check "a second scan into the same folder without --resume: exit 2, says --resume" sh -c "test $rc -eq 2 && grep -q -- '--resume' '$T/err2'"
"$V" scan --index "$T/victims.vgi" --radius 20 -o "$T/out" --resume "$T/seized" >/dev/null 2>"$T/err2"; rc=$?
check "resume with other settings: exit 2, names them" sh -c "test $rc -eq 2 && grep -q 'other settings' '$T/err2'"
"$V" scan --index "$T/refs/$(ls "$T/refs" | head -1)" -o "$T/o2" "$T/seized" >/dev/null 2>"$T/err2"; rc=$?
check "an image given as --index: exit 2 naming the file" sh -c "test $rc -eq 2 && grep -q 'refs/' '$T/err2'"
"$V" scan --index "$T/victims.vgi" --radius nosuch=3 -o "$T/o3" "$T/seized" >/dev/null 2>"$T/err2"; rc=$?
check "--radius for an unknown set: exit 2" sh -c "test $rc -eq 2 && grep -q 'nosuch' '$T/err2'"

# --- crash safety: kill -9 part-way, several times; resume; every file exactly once ---------------
mkdir -p "$T/many"
for n in $(seq 1 40); do
    for f in $D/*; do b=$(basename "$f"); cp "$f" "$T/many/$n-$b"; printf 'distinct %d' "$n" >>"$T/many/$n-$b"; done
done
cp "$T/seized/junk.jpg" "$T/many/"
"$V" scan -q --index "$T/victims.vgi" -o "$T/ref" "$T/many" >/dev/null 2>&1
sort "$T/ref/results.jsonl" >"$T/ref.sorted"
# a torn record: the journal's last record half written, then death (test hook)
VIGIL_TEST_CRASH_AFTER=37 "$V" scan -q -j 1 --index "$T/victims.vgi" -o "$T/torn" "$T/many" >/dev/null 2>&1; rc=$?
check "test hook: the scan dies by SIGKILL mid-record" test $rc -eq 137
"$V" scan --resume --index "$T/victims.vgi" -o "$T/torn" "$T/many" >/dev/null 2>"$T/err3"
sort "$T/torn/results.jsonl" >"$T/torn.sorted"
check "resume after a torn record: the tail is cut, every file once, same results" sh -c "grep -q 'torn' '$T/err3' && cmp -s '$T/ref.sorted' '$T/torn.sorted'"
kills=0
rm -rf "$T/killed"
for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
    "$V" scan -q -j 2 --index "$T/victims.vgi" -o "$T/killed" --resume "$T/many" >/dev/null 2>&1 &
    pid=$!
    sleep 0.$((attempt % 4 + 1))
    if kill -9 $pid 2>/dev/null; then kills=$((kills + 1)); fi
    wait $pid 2>/dev/null
    [ -f "$T/killed/summary.json" ] && break
done
"$V" scan -q --index "$T/victims.vgi" -o "$T/killed" --resume "$T/many" >/dev/null 2>&1
sort "$T/killed/results.jsonl" >"$T/killed.sorted"
check "killed -9 part-way ($kills times), resumed: results identical to an uninterrupted scan" sh -c "test $kills -ge 2 && cmp -s '$T/ref.sorted' '$T/killed.sorted'"
"$V" scan -q -j 1 --index "$T/victims.vgi" -o "$T/int" "$T/many" >/dev/null 2>&1 &
pid=$!
# a background job of sh starts with SIGINT ignored until scan sets its handler, just after it
# creates the journal: wait for that (up to 10 s, for slow sanitizer builds) before the Ctrl-C
i=0; while [ ! -s "$T/int/journal.vgj" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.2
kill -INT $pid
wait $pid; rc=$?
"$V" scan -q --index "$T/victims.vgi" -o "$T/int" --resume "$T/many" >/dev/null 2>&1
sort "$T/int/results.jsonl" >"$T/int.sorted"
check "Ctrl-C: exit 130, then --resume completes the same results" sh -c "test $rc -eq 130 && cmp -s '$T/ref.sorted' '$T/int.sorted'"

# --- VICS -----------------------------------------------------------------------------------------
check "vics.json: VICS 2.0 OData, one Media per readable file, MD5/SHA1 upper-case, PDQ alternative hash" py "
import json,hashlib
v=json.load(open('$T/out/vics.json'))
assert v['@odata.context'].endswith('2.0.xml/Default/\$metadata#Media')
rows={r['path']:r for r in map(json.loads,open('$T/out/results.jsonl'))}
media=v['value']
assert len(media)==sum('md5' in r for r in rows.values())
for m in media:
    p=m['MediaFiles'][0]['FilePath']; r=rows[p]
    data=open(p,'rb').read()
    assert m['MD5']==hashlib.md5(data).hexdigest().upper() and m['SHA1']==hashlib.sha1(data).hexdigest().upper()
    assert m['MediaSize']==len(data)
    alt={a['HashName']:a['HashValue'] for a in m.get('AlternativeHashes',[])}
    assert alt.get('PDQ')==r.get('pdq'), p
    if any(x['set']=='victims' for x in r['matches']): assert m['Category']==1, p
    else: assert 'Category' not in m
"
"$V" index build -o "$T/fromvics.vgi" --set imported "$T/out/vics.json" 2>/dev/null
"$V" index export --format jsonl "$T/fromvics.vgi" >"$T/fromvics.jsonl"
check "VICS round trip: export -> index build -> index export gives the same PDQ/MD5/SHA1/Category entries" py "
import json
v=json.load(open('$T/out/vics.json'))['value']
want=set()
for m in v:
    alt={a['HashName']:a['HashValue'] for a in m.get('AlternativeHashes',[])}
    want.add((alt.get('PDQ'), m['MD5'].lower(), m['SHA1'].lower(), m.get('Category')))
got=set()
for e in map(json.loads,open('$T/fromvics.jsonl')):
    lab=dict(kv.split('=',1) for kv in (e['labels'] or '').split())
    cat=int(lab['category']) if 'category' in lab else None
    if e['pdq']: got.add((e['pdq'], lab['md5'], lab['sha1'], cat))
    else: got.add((None, e['md5'], e['sha1'], cat))
assert want==got, (len(want), len(got), want^got)
"
# a digest-only VICS set (no PDQ): matches the identical file by MD5
m=$(md5sum <"$T/seized/junk.jpg" | cut -d' ' -f1 | tr a-f A-F)
printf '{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",\n"value":[{"MediaID":7,"Category":2,"MD5":"%s","MediaSize":12},\n{"MediaID":8,"MD5":"zz"}]}\n' "$m" >"$T/md5set.json"
"$V" index build -o "$T/md5set.vgi" --set md5set "$T/md5set.json" 2>"$T/err4"; rc=$?
check "VICS import: a bad MD5 is reported with its line, the good entry kept (exit 1)" sh -c "test $rc -eq 1 && grep -q 'md5set.json:3: VICS media #2: MD5' '$T/err4'"
"$V" scan -q --index "$T/md5set.vgi" -o "$T/md5out" "$T/seized" >/dev/null 2>&1
check "a digest-only reference matches the identical file, even an undecodable one (kind md5)" py "
import json
r=[x for x in map(json.loads,open('$T/md5out/results.jsonl')) if x['path'].endswith('junk.jpg')][0]
assert r['matches'][0]['kind']=='md5' and r['matches'][0]['labels'].startswith('category=2')
"

# --- report.html (the page in a browser: tests/review.sh) -----------------------------------------
H="$T/out/report.html"
check "report.html is self-contained: no link, no external resource, a CSP that forbids requests" sh -c "
! grep -Eiq '<link|<iframe|(src|href|action)=\"?[a-z]+:|@import' '$H' && ! grep -q 'url(' '$H' && grep -q \"default-src 'none'\" '$H'"
check "hostile labels stay inside the JSON data, escaped, never markup" sh -c "grep -q 'u003cscript\\\\u003ealert(1)\\\\u003c/script\\\\u003e' '$H' && ! grep -q '<script>alert' '$H'"
check "report.html: every matched file is in the page with a thumbnail from the scan's own decode" py "
import json,re
h=open('$H').read()
d=json.loads(re.search(r'<script type=\"application/json\" id=\"vigil-data\">(.*?)</script>', h, re.S).group(1))
rows=[json.loads(l) for l in open('$T/out/results.jsonl')]
matched=[i for i,r in enumerate(rows) if r['matches']]
assert [e[0] for e in d['records']]==matched, 'lines'
th=dict(re.findall(r'<script type=\"text/plain\" id=\"vigil-t(\\d+)\">([^<]*)</script>', h))
assert all(isinstance(e[1],int) and th[str(e[1])].startswith('/9j/') for e in d['records']), [e[1] for e in d['records'] if str(e[1]) not in th]
assert len(matched) >= 20
"

# --- an empty folder: nothing to do is not an error (and, under UBSan, no qsort of a null array) -
mkdir -p "$T/emptydir"
"$V" scan -q --index "$T/victims.vgi" -o "$T/empty-out" "$T/emptydir" >/dev/null 2>"$T/empty.err"
rc=$?
check "an empty folder: exit 0, a complete summary of 0 files" sh -c "test $rc -eq 0 && grep -q '\"files\": 0' '$T/empty-out/summary.json' && grep -q '\"complete\": true' '$T/empty-out/summary.json'"

# --- truncated images, JPEG XL, a file that changes while read, streamed reads -----------------
mkdir -p "$T/cut"
head -c 12000 $D/opencv-doc__left.jpg >"$T/cut/left.jpg"
head -c 25000 $D/opencv-doc__box.png >"$T/cut/box.png"
cp tests/data/jxl/flower-64.jxl "$T/cut/"
cp $D/opencv-doc__hfs_001.jpg "$T/cut/good.jpg"
"$V" scan -q --index "$T/victims.vgi" -o "$T/cut-out" "$T/cut" /proc/self/status >/dev/null 2>"$T/cut.err"; rc=$?
check "scan: truncated JPEG and PNG refused as 'truncated image', JPEG XL as an unsupported format, exit 1" py "
import json
r={x['path'].split('/')[-1]:x for x in map(json.loads,open('$T/cut-out/results.jsonl'))}
assert $rc == 1
assert r['left.jpg']['status']=='decode' and r['left.jpg']['error'].startswith('truncated image: the JPEG ends'), r['left.jpg']
assert r['box.png']['status']=='decode' and r['box.png']['error'].startswith(\"truncated image: the PNG ends inside its 'IDAT'\"), r['box.png']
assert r['flower-64.jxl']['status']=='format' and r['flower-64.jxl']['error'].startswith('JPEG XL: '), r['flower-64.jxl']
assert r['flower-64.jxl']['format']=='jxl' and r['flower-64.jxl']['md5']
assert r['good.jpg']['status']=='ok' and r['good.jpg']['matches']
"
check "scan: a file that changed while read is marked changed: true, and counted in summary.json" py "
import json
r={x['path'].split('/')[-1]:x for x in map(json.loads,open('$T/cut-out/results.jsonl'))}
assert r['status'].get('changed') is True and r['status']['md5'], r['status']
assert all('changed' not in x for k, x in r.items() if k != 'status')
assert json.load(open('$T/cut-out/summary.json'))['changed_while_read'] == 1
"
VIGIL_TEST_STREAM_ABOVE=1000 "$V" scan -q --index "$T/victims.vgi" -o "$T/cut-out2" "$T/cut" >/dev/null 2>&1
"$V" scan -q --index "$T/victims.vgi" -o "$T/cut-out3" "$T/cut" >/dev/null 2>&1
check "scan: files read whole or streamed give the same results.jsonl" cmp -s "$T/cut-out2/results.jsonl" "$T/cut-out3/results.jsonl"
# many truncated JPEGs and PNGs decoded at once: each reason is its own file's (libvips's error
# buffer is one per process, so its words once crossed between threads)
mkdir -p "$T/cuts"
for i in 1 2 3 4 5 6 7 8; do
    head -c $((9000 + i * 500)) $D/opencv-doc__left.jpg >"$T/cuts/l$i.jpg"
    head -c $((20000 + i * 500)) $D/opencv-doc__box.png >"$T/cuts/b$i.png"
done
"$V" scan -q -j 2 --index "$T/victims.vgi" -o "$T/cuts-out" "$T/cuts" >/dev/null 2>&1
check "scan: 16 truncated files decoded at once: each error names its own format and only that" py "
import json
rows=list(map(json.loads,open('$T/cuts-out/results.jsonl')))
assert len(rows)==16, len(rows)
for r in rows:
    own, other = ('jpeg','png') if r['path'].endswith('.jpg') else ('png','jpeg')
    e=r['error'].lower()
    assert r['status']=='decode' and own in e and other not in e, r
"

# --- progress and quiet ---------------------------------------------------------------------------
if command -v script >/dev/null 2>&1; then
    script -qec "$V scan --index $T/victims.vgi -o $T/tty $T/many" /dev/null >"$T/tty.txt" 2>&1
    check "on a terminal: one updating line with files, files/s, MB/s, matched and ETA" sh -c "grep -q 'files/s' '$T/tty.txt' && grep -q 'MB/s' '$T/tty.txt' && grep -q 'matched' '$T/tty.txt' && grep -q 'ETA' '$T/tty.txt'"
fi
"$V" scan --quiet --index "$T/victims.vgi" -o "$T/q" "$T/many" >/dev/null 2>"$T/qerr"
# (a sanitizer runtime's own warnings, "==PID==WARNING: ...", are not the program's output)
grep -v '^==[0-9]*==WARNING' "$T/qerr" >"$T/qerr2"
if [ ! -s "$T/qerr2" ]; then ok "--quiet prints nothing on stderr"; else bad "--quiet prints nothing on stderr" "$(head -5 "$T/qerr2")"; fi

finish
