"""kfeat_page.py REPORT.html NAME=x0,y0,x1,y1 ... - the review page of a scan against a features
set, in headless Chromium (tests/webdriver.py): for each scanned file whose name contains NAME, its
features match's card must draw the matched region on the file's thumbnail where the edit put the
reference (x0..y1, fractions of the file's size, known from how tests/kfeat.sh made the edit).
Both the page's embedded data ("box") and the drawn rectangle, measured against the thumbnail's
own rectangle, are checked within 0.03. Prints one "ok - " or "FAIL - " line per check."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webdriver import Browser  # noqa: E402

page, want = sys.argv[1], {}
for a in sys.argv[2:]:
    k, v = a.split('=')
    want[k] = [float(x) for x in v.split(',')]
fails = 0


def check(name, cond, detail=''):
    global fails
    print(('ok - ' if cond else 'FAIL - ') + name + ('' if cond or not detail else '\n    ' + str(detail)))
    fails += not cond


def near(a, b):
    return a is not None and len(a) == 4 and all(abs(x - y) <= 0.03 for x, y in zip(a, b))


html = open(page).read()
data = json.loads(re.search(r'<script type="application/json" id="vigil-data">(.*?)</script>', html, re.S).group(1))
for k, b in sorted(want.items()):
    boxes = [m.get('box') for r in data['records'] if k in os.path.basename(r[2]['path'])
             for m in r[2].get('matches', []) if m.get('kind') == 'features']
    check('page data: %s has one features match, box %s' % (k, b), len(boxes) == 1 and near(boxes[0], b), boxes)

with Browser() as br:
    br.go('file://' + os.path.abspath(page))
    br.wait("return document.body.getAttribute('data-ready')")
    drawn = br.js("return [].map.call(document.querySelectorAll('#matches [data-match-id]'), function (c) {"
                  " var i = c.querySelector('img.th'), b = c.querySelector('.box'), p = c.querySelector('.path');"
                  " var ir = i ? i.getBoundingClientRect() : null, r = b ? b.getBoundingClientRect() : null;"
                  " return {path: p ? p.textContent : '', text: c.textContent, w: i ? i.naturalWidth : 0,"
                  " box: ir && r && ir.width > 0 ? [(r.left - ir.left) / ir.width, (r.top - ir.top) / ir.height,"
                  " (r.right - ir.left) / ir.width, (r.bottom - ir.top) / ir.height] : null}; })")
    for k, b in sorted(want.items()):
        cs = [c for c in drawn if k in os.path.basename(c['path']) and 'features' in c['text']]
        check('the thumbnail of %s shows the matched region at %s' % (k, b),
              len(cs) == 1 and cs[0]['w'] > 0 and near(cs[0]['box'], b), cs)
sys.exit(1 if fails else 0)
