#!/bin/sh
# review_page.sh - report.html at scale: a scan with about MATCHES matches (default 100 000:
# FILES photos, each matching every one of MATCHES/FILES random references at radius 256, --top 0),
# and the time the page takes in headless Chromium from the start of navigation until it is
# usable (data parsed, facets counted, first page drawn: the page's own data-ready-ms), best of
# ROUNDS, and again after typing a search and changing a filter. Uses tests/webdriver.py
# (chromium + chromium-driver; VIGIL_BROWSER=firefox for Firefox ESR). Prints the page's size. Then the same with thumbnails filling the
# budgets THUMB_MB (default "50 100 200"), synthetic, to see what the --thumbs budget costs the page.
set -eu
B=${1:-build}
MATCHES=${MATCHES:-100000}
FILES=${FILES:-10}
ROUNDS=${ROUNDS:-3}
PHOTOS=${PHOTOS:-$B/photos}
OUTD="$B/bench/review_page"
V="$B/vigil"
rm -rf "$OUTD"
mkdir -p "$OUTD/files"
[ -n "$(ls "$PHOTOS" 2>/dev/null)" ] || sh datasets/fetch-photos.sh "$PHOTOS"
ls "$PHOTOS" | head -n "$FILES" | while read -r f; do cp "$PHOTOS/$f" "$OUTD/files/"; done
per=$((MATCHES / FILES))
python3 - "$OUTD/refs.csv" "$per" <<'PY'
import random, sys
r = random.Random(11)
with open(sys.argv[1], "w") as f:
    f.write("pdq,id,category,labels\n")
    for i in range(int(sys.argv[2])):
        f.write("%064x,ref-%d,%d,series=s%d\n" % (r.getrandbits(256), i, i % 5, i % 50))
PY
"$V" index build -o "$OUTD/refs.vgi" --set series "$OUTD/refs.csv" 2>/dev/null
"$V" scan -q --top 0 --radius 256 --no-dihedral --index "$OUTD/refs.vgi" -o "$OUTD/out" "$OUTD/files" >/dev/null
python3 - "$OUTD/out" "$ROUNDS" <<'PY'
import json, os, sys, time
sys.path.insert(0, 'tests')
from webdriver import browser
out, rounds = sys.argv[1], int(sys.argv[2])
page = os.path.abspath(os.path.join(out, 'report.html'))
n = sum(len(json.loads(l)['matches']) for l in open(os.path.join(out, 'results.jsonl')))
best = None
with browser() as b:
    for r in range(rounds):
        b.go('about:blank')
        b.go('file://' + page)
        ms = int(b.wait("return document.body.getAttribute('data-ready-ms')", 60))
        best = ms if best is None else min(best, ms)
    t = time.time()
    b.js("var q = document.getElementById('f-q'); q.value = 'ref-99'; q.dispatchEvent(new Event('input'));")
    search = (time.time() - t) * 1000
    t = time.time()
    b.js("var s = document.getElementById('f-cat'); s.value = '3'; s.dispatchEvent(new Event('change'));")
    filt = (time.time() - t) * 1000
    shown = b.js("return document.getElementById('shown').textContent")
print("bench=review_page matches=%d page_bytes=%d open_ms=%d (best of %d; target < 3000) search_ms=%.0f filter_ms=%.0f (%s)" % (
    n, os.path.getsize(page), best, rounds, search, filt, shown))
PY
# The thumbnails' share: the same page with THUMB_FILES files of one match each, every one with a
# distinct thumbnail of THUMB_KB (base64 of random bytes: only the pictures drawn are decoded, so
# their content does not change the opening time), for the budgets a scan may embed, laid out as
# report_page.c writes them: one data block per thumbnail, the page's script after the first 500.
# open_ms: usable, the first page drawn with its pictures (data-ready-ms); all_ms: every block
# parsed (data-thumbs-ms, DOMContentLoaded); filter_ms: a filter change made right after the page
# became usable, while the browser still parses the rest (is the page responsive meanwhile).
# THUMB_INLINE=1 (the default) also times the layout before, base64 inside the JSON records.
python3 - "$OUTD/out" "$ROUNDS" "${THUMB_MB:-50 100 200}" "${THUMB_KB:-4.5}" <<'PY'
import base64, json, os, random, re, sys, time
sys.path.insert(0, 'tests')
from webdriver import browser
out, rounds, budgets, kb = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3].split()], float(sys.argv[4])
html = open(os.path.join(out, 'report.html')).read()
m = re.search(r'(<script type="application/json" id="vigil-data">)(.*?)(</script>\n)', html, re.S)
script = re.search(r'<script>.*?</script>\n', html, re.S).group(0)
d = json.loads(m.group(2))
rec = d['records'][0][2]
one = dict(rec, matches=rec['matches'][:1])
r = random.Random(5)
with browser() as b:
    for mb in budgets:
        nthumb = int(mb * 1024 / kb)
        blob = base64.b64encode(bytes(r.getrandbits(8) for _ in range(int(kb * 1024) + 64))).decode()
        recs = ['[%d,%d,%s]' % (i, i, json.dumps(dict(one, path='/seized/%07d.jpg' % i))) for i in range(nthumb)]
        data = json.dumps(dict(d, records=[])).replace('"records": []', '"records":[' + ','.join(recs) + ']')
        data = data.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026')
        # distinct strings without building a gigabyte in Python: a prefix per file, shared tail
        blocks = ['<script type="text/plain" id="vigil-t%d">%08d%s</script>\n' % (i, i, blob[8:]) for i in range(nthumb)]
        path = os.path.abspath(os.path.join(out, 'thumbs-%d.html' % mb))
        with open(path, 'w') as f:
            f.write(html[:m.start(2)] + data + m.group(3) + ''.join(blocks[:500]) + script + ''.join(blocks[500:]) + '</body></html>\n')
        del blocks
        if os.environ.get('THUMB_INLINE', '1') == '1':
            # the layout before (c7e2b39): the same thumbnails as base64 strings inside the JSON
            # records, the script after it; the same page script reads both, so the ratio is the layout's
            recs = ['[%d,"%08d%s",%s]' % (i, i, blob[8:], json.dumps(dict(one, path='/seized/%07d.jpg' % i))) for i in range(nthumb)]
            idata = json.dumps(dict(d, records=[])).replace('"records": []', '"records":[' + ','.join(recs) + ']')
            idata = idata.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026')
            del recs
            ipath = path + '.inline.html'
            with open(ipath, 'w') as f:
                f.write(html[:m.start(2)] + idata + m.group(3) + script + '</body></html>\n')
            del idata
            ibest = None
            for k in range(rounds):
                b.go('about:blank')
                b.go('file://' + ipath)
                ms = int(b.wait("return document.body.getAttribute('data-ready-ms')", 120))
                ibest = ms if ibest is None else min(ibest, ms)
            print("bench=review_page_thumbs_inline budget_mb=%d thumbnails=%d page_bytes=%d open_ms=%d (best of %d; the layout before)" % (
                mb, nthumb, os.path.getsize(ipath), ibest, rounds), flush=True)
            os.unlink(ipath)
        best = best_all = best_filter = None
        drawn = 0
        for k in range(rounds):
            b.go('about:blank')
            b.go('file://' + path)
            ms = int(b.wait("return document.body.getAttribute('data-ready-ms')", 120))
            drawn = b.js("return document.querySelectorAll('#matches img.th').length")
            t = time.time()
            b.js("var s = document.getElementById('f-sort'); s.value = 'path'; s.dispatchEvent(new Event('change'));")
            fm = (time.time() - t) * 1000
            all_ms = int(b.wait("return document.body.getAttribute('data-thumbs-ms')", 120))
            best = ms if best is None else min(best, ms)
            best_all = all_ms if best_all is None else min(best_all, all_ms)
            best_filter = fm if best_filter is None else min(best_filter, fm)
        print("bench=review_page_thumbs budget_mb=%d thumbnails=%d page_bytes=%d open_ms=%d (best of %d; target < 3000; %d pictures drawn)"
              " all_ms=%d filter_during_parse_ms=%.0f" % (mb, nthumb, os.path.getsize(path), best, rounds, drawn, best_all, best_filter), flush=True)
        os.unlink(path)
PY
