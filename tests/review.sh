#!/bin/sh
# review.sh - the review page (report.html) driven in headless Chromium through chromedriver and in
# headless Firefox ESR through Marionette (tests/review_page.py, tests/webdriver.py: python3's
# standard library only), and `vigil review apply`
# on its own: a decisions file validated, written into results.jsonl and vics.json atomically.
# Usage: tests/review.sh BUILD_DIR
NAME=review
. tests/lib.sh
py() { python3 -c "$@"; }

# --- a scan: edited copies of 4 references among unrelated photos; a second set whose one label
# is hostile (it closes the script element, opens markup and reverses the text that follows)
mkdir -p "$T/refs" "$T/seized"
for f in $D/*; do
    case "$f" in
    *bulb* | *flower* | *box* | *hfs_001*) cp "$f" "$T/refs/" ;;
    *) cp "$f" "$T/seized/" ;;
    esac
done
printf 'pdq,id,category,labels\n' >"$T/victims.csv"
"$V" hash --format csv "$T/refs" | py "
import csv,sys
for r in csv.DictReader(sys.stdin):
    n=r['path'].split('/')[-1]
    print('%s,%s,1,series=s%d' % (r['pdq'], n, len(n)))" >>"$T/victims.csv"
"$V" index build -o "$T/victims.vgi" --set victims "$T/victims.csv" 2>/dev/null
printf 'pdq,id,labels\n%s,hotel-1,</script><b>x</b> \342\200\256evil\n' "$(sed -n 2p "$T/victims.csv" | cut -d, -f1)" >"$T/hotels.csv"
"$V" index build -o "$T/hotels.vgi" --set hotels "$T/hotels.csv" 2>/dev/null
for f in "$T"/refs/*; do
    b=$(basename "$f"); b=${b%.*}
    vips flip "$f" "$T/seized/$b-flip.jpg[Q=80]" horizontal
    vips resize "$f" "$T/seized/$b-small.jpg[Q=60]" 0.5
done
cp "$T"/refs/* "$T/seized/"
"$V" scan -q --index "$T/victims.vgi" --index "$T/hotels.vgi" -o "$T/out" "$T/seized" >/dev/null 2>"$T/err"; rc=$?
check "the scan for the page ran (exit 0)" test $rc -eq 0
check "summary.json and the page carry the scan id of OUTDIR/scan-id" sh -c "
id=\$(cat '$T/out/scan-id'); grep -q \"\\\"scan_id\\\": \\\"\$id\\\"\" '$T/out/summary.json' && grep -q \"{\\\"scan_id\\\":\\\"\$id\\\"\" '$T/out/report.html'"
check "the page embeds no raw hostile label: </script> only as \\u003c/script\\u003e" sh -c "
! grep -q '</script><b>' '$T/out/report.html' && grep -q 'u003c/script\\\\u003e\\\\u003cb\\\\u003ex' '$T/out/report.html'"
check "the script and the style are allowed by hash, not 'unsafe-inline'" sh -c "
grep -q \"script-src 'sha256-\" '$T/out/report.html' && grep -q \"style-src 'sha256-\" '$T/out/report.html' && ! grep -q unsafe-inline '$T/out/report.html'"

# --- the page in the browser (also writes $T/decisions.json through its Export button): Debian's
# Chromium over chromedriver, then Firefox ESR over Marionette (tests/webdriver.py), each on its
# own copy of the scan, with the same checks
cp -r "$T/out" "$T/out-pristine"
cp -r "$T/out" "$T/out-firefox"
drive() { # BROWSER OUTDIR SCRATCH
    mkdir -p "$3"
    VIGIL_BROWSER=$1 timeout 300 python3 tests/review_page.py "$V" "$2" "$3" >"$3/browser.log" 2>&1
    while IFS= read -r l; do
        case "$l" in
        "ok - "*) ok "$1: ${l#ok - }" ;;
        "FAIL - "*) bad "$1: ${l#FAIL - }" ;;
        "    "*) echo "$l" ;;
        esac
    done <"$3/browser.log"
    grep -q '^ok - \|^FAIL - ' "$3/browser.log" || bad "$1: the driver ran" "$(tail -5 "$3/browser.log")"
}
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    drive chromium "$T/out" "$T"
else
    bad "browser tests" "chromium or chromedriver is not installed (tests/install-deps.sh test installs them)"
fi
if command -v firefox-esr >/dev/null 2>&1; then
    drive firefox "$T/out-firefox" "$T/firefox"
else
    bad "firefox tests" "firefox-esr is not installed (tests/install-deps.sh test installs it)"
fi

# --- thumbnails are shown the way the photo is meant to be seen: copies of one landscape JPEG
# whose EXIF says orientation 3, 6 or 8 (an APP1 segment put in after SOI; the pixels are the same
# bytes) match at distance 0, and their thumbnails on the page are orientation 1's turned by
# 180, 90 and 270 degrees (libvips's rot), not the stored picture
mkdir -p "$T/or/refs" "$T/or/seized"
cp "$D/opencv-doc__hfs_001.jpg" "$T/or/refs/p.jpg"
py "
import struct
src = open('$D/opencv-doc__hfs_001.jpg', 'rb').read()
for o in (1, 3, 6, 8):
    ifd = b'MM\\0*' + struct.pack('>IH', 8, 1) + struct.pack('>HHIHH', 0x0112, 3, 1, o, 0) + struct.pack('>I', 0)
    app1 = b'Exif\\0\\0' + ifd
    open('$T/or/seized/o%d.jpg' % o, 'wb').write(src[:2] + b'\\xff\\xe1' + struct.pack('>H', len(app1) + 2) + app1 + src[2:])
"
"$V" index build -o "$T/or/p.vgi" --set p "$T/or/refs" >/dev/null 2>&1
"$V" scan -q --index "$T/or/p.vgi" -o "$T/or/out" "$T/or/seized" >/dev/null 2>&1; rc=$?
py "
import base64, json, re
h = open('$T/or/out/report.html').read()
d = json.loads(re.search(r'<script type=\"application/json\" id=\"vigil-data\">(.*?)</script>', h, re.S).group(1))
th = dict(re.findall(r'<script type=\"text/plain\" id=\"vigil-t(\\d+)\">([^<]*)</script>', h))
for e in d['records']:
    n = e[2]['path'].rsplit('/', 1)[1]
    assert isinstance(e[1], int) and str(e[1]) in th, (n, e[1])
    assert all(m['distance'] == 0 for m in e[2]['matches']), n
    open('$T/or/th-' + n, 'wb').write(base64.b64decode(th[str(e[1])]))
" 2>"$T/or/err"
or_ok=1
for o in 3 6 8; do
    case $o in 3) a=d180 ;; 6) a=d90 ;; 8) a=d270 ;; esac
    vips rot "$T/or/th-o1.jpg" "$T/or/want$o.v" $a 2>/dev/null &&
        vips subtract "$T/or/th-o$o.jpg" "$T/or/want$o.v" "$T/or/d$o.v" 2>/dev/null && vips abs "$T/or/d$o.v" "$T/or/a$o.v" 2>/dev/null ||
        { or_ok=0; break; }
    m=$(vips avg "$T/or/a$o.v"); echo "    orientation $o: mean difference from orientation 1 turned ($a): $m" >>"$T/or/log"
    py "import sys; sys.exit(0 if $m < 6 else 1)" || or_ok=0
done
vips subtract "$T/or/th-o3.jpg" "$T/or/th-o1.jpg" "$T/or/d.v" 2>/dev/null && vips abs "$T/or/d.v" "$T/or/a.v" 2>/dev/null
m=$(vips avg "$T/or/a.v" 2>/dev/null || echo 0); echo "    orientation 3 against the unturned picture: $m" >>"$T/or/log"
n="EXIF orientations 3, 6 and 8: the page's thumbnails are the photo turned as it is shown (the stored one is not: it differs)"
if test $rc -eq 0 && test $or_ok -eq 1 && ! test -s "$T/or/err" && py "import sys; sys.exit(0 if $m > 20 else 1)"; then ok "$n"
else bad "$n" "scan exit $rc" "$(cat "$T/or/log" "$T/or/err" 2>/dev/null)"; fi

# --- review apply on its own: validation, atomic rewrite, idempotence
O="$T/out-pristine"
sid=$(cat "$O/scan-id")
first=$(py "import json;print(json.loads(open('$O/results.jsonl').readline())['path'])")
cat >"$T/d1.json" <<EOD
{"vigil_review": 1, "scan_id": "$sid", "decisions": [
 {"match": "0:0", "path": $(py "import json;print(json.dumps('$first'))"), "decision": "confirmed", "category": 3, "note": "kept"},
 {"match": "0:5000", "decision": "rejected"}, {"match": "99999:0", "decision": "rejected"}]}
EOD
"$V" review apply "$O" "$T/d1.json" >/dev/null 2>"$T/e1"; rc=$?
check "apply: unknown match ids are named, the rest applied, exit 1" sh -c "test $rc -eq 1 && grep -q 'match 0:5000: no such match' '$T/e1' && grep -q 'match 99999:0' '$T/e1' && grep -q '1 decisions applied' '$T/e1'"
check "apply: the match gains decision and category, its other fields unchanged" py "
import json
a=[json.loads(l) for l in open('$T/out-pristine/results.jsonl')]
m=a[0]['matches'][0]
assert m['decision']=='confirmed' and m['category']==3, m
assert all('decision' not in x for r in a[1:] for x in r['matches'])
assert m['set'] and m['ref_id'] and 'distance' in m
"
check "apply: vics.json gives that file its category" py "
import json
v=json.load(open('$T/out-pristine/vics.json'))['value'][0]
assert v['Category']==3, v
"
cp "$O/results.jsonl" "$T/r1"
"$V" review apply "$O" "$T/d1.json" >/dev/null 2>&1
check "apply twice: the same results.jsonl (idempotent)" cmp -s "$O/results.jsonl" "$T/r1"
sed 's/"confirmed", "category": 3/"rejected", "category": null/' "$T/d1.json" >"$T/d2.json"
"$V" review apply "$O" "$T/d2.json" >/dev/null 2>&1
check "apply again with another decision replaces the first; a rejected-only file loses its category in vics.json" py "
import json
a=[json.loads(l) for l in open('$T/out-pristine/results.jsonl')]
m=a[0]['matches'][0]
assert m['decision']=='rejected' and 'category' not in m, m
v=json.load(open('$T/out-pristine/vics.json'))['value'][0]
assert len(a[0]['matches'])>1 or 'Category' not in v, v
"
sed "s/$sid/0123456789abcdef0123456789abcdef/" "$T/d1.json" >"$T/other.json"
cp "$O/results.jsonl" "$T/r2"
"$V" review apply "$O" "$T/other.json" >/dev/null 2>"$T/e3"; rc=$?
check "apply: another scan's decisions are refused, exit 2, nothing written" sh -c "test $rc -eq 2 && grep -q 'decisions of scan 0123456789abcdef0123456789abcdef' '$T/e3' && cmp -s '$O/results.jsonl' '$T/r2'"
refuse() { # NAME CONTENT EXPECTED-MESSAGE
    printf '%s' "$2" >"$T/bad.json"
    "$V" review apply "$O" "$T/bad.json" >/dev/null 2>"$T/e4"; r=$?
    if [ $r -eq 2 ] && grep -q "bad.json: .*$3" "$T/e4" && cmp -s "$O/results.jsonl" "$T/r2"; then ok "apply refuses $1"
    else bad "apply refuses $1" "exit $r" "$(cat "$T/e4")"; fi
}
refuse "a file that is not JSON (line and column)" '{"vigil_review": 1, "scan_id": ' 'line 1, column'
refuse "an unknown decision" "{\"vigil_review\":1,\"scan_id\":\"$sid\",\"decisions\":[{\"match\":\"0:0\",\"decision\":\"maybe\"}]}" '"decision" must be'
refuse "a category out of range" "{\"vigil_review\":1,\"scan_id\":\"$sid\",\"decisions\":[{\"match\":\"0:0\",\"category\":100}]}" '"category" must be'
refuse "a bad match id" "{\"vigil_review\":1,\"scan_id\":\"$sid\",\"decisions\":[{\"match\":\"0-0\"}]}" 'LINE:INDEX'
refuse "a match decided twice" "{\"vigil_review\":1,\"scan_id\":\"$sid\",\"decisions\":[{\"match\":\"0:0\"},{\"match\":\"0:0\"}]}" 'decided twice'
refuse "another version" "{\"vigil_review\":2,\"scan_id\":\"$sid\",\"decisions\":[]}" '"vigil_review" must be 1'
refuse "a file without its scan id" '{"vigil_review":1,"decisions":[]}' '"scan_id" is missing'
"$V" review apply "$T/refs" "$T/d1.json" >/dev/null 2>"$T/e5"; rc=$?
check "apply on a folder that is no scan's OUTDIR: exit 2, says so" sh -c "test $rc -eq 2 && grep -q 'scan-id: missing' '$T/e5'"
"$V" review >/dev/null 2>&1; rc=$?
check "review without a subcommand is a usage error" test $rc -eq 2
check "apply leaves no temporary file behind" sh -c "! ls -a '$O' | grep -q '\\.tmp\\|~'"
finish
