#!/bin/sh
# screenshots.sh [BUILD] - the review page's pictures in docs/ (review-grid.png, review-list.png):
# a scan of the test photos, a few decisions made by keyboard, thumbnails left blurred. Needs
# chromium and chromium-driver (tests/webdriver.py).
set -eu
B=${1:-build}
T=$(mktemp -d /tmp/vigil-shots.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/refs" "$T/seized/case-0417"
for f in tests/data/images/*bulb* tests/data/images/*flower* tests/data/images/*box*; do cp "$f" "$T/refs/"; done
for f in "$T"/refs/*; do
    b=$(basename "$f"); b=${b%.*}
    vips flip "$f" "$T/seized/case-0417/$b-flip.jpg[Q=80]" horizontal
    vips resize "$f" "$T/seized/case-0417/$b-small.jpg[Q=60]" 0.5
    cp "$f" "$T/seized/case-0417/"
done
"$B/vigil" hash --format csv "$T/refs" | python3 -c "
import csv,sys
print('pdq,id,category,labels')
for i, r in enumerate(csv.DictReader(sys.stdin)):
    print('%s,series-A-%03d,1,series=A victim=V%d' % (r['pdq'], i + 1, i + 1))" >"$T/refs.csv"
"$B/vigil" index build -o "$T/known.vgi" --set known-series "$T/refs.csv" 2>/dev/null
"$B/vigil" scan -q --index "$T/known.vgi" -o "$T/out" "$T/seized" >/dev/null
python3 - "$T/out/report.html" <<'PY'
import sys
sys.path.insert(0, 'tests')
from webdriver import Browser
with Browser(1280, 820) as b:
    b.go('file://' + sys.argv[1])
    b.wait("return document.body.getAttribute('data-ready')")
    b.keys('Home', 'c', '1', 'j', 'x', 'j', 'r', 'j')
    b.js('window.scrollTo(0, 0)')
    b.screenshot('docs/review-grid.png')
    b.keys('g')
    b.js('window.scrollTo(0, 0)')
    b.screenshot('docs/review-list.png')
PY
