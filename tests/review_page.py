"""review_page.py VIGIL OUTDIR SCRATCH - drives a scan's report.html in headless Chromium through
chromedriver (tests/webdriver.py) as an analyst would, by mouse and keyboard, and prints one
"ok - NAME" or "FAIL - NAME" line per check (tests/review.sh counts them)."""
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webdriver import WebDriverError, browser  # noqa: E402

V, OUT, TMP = sys.argv[1:4]
PAGE = 'file://' + os.path.abspath(os.path.join(OUT, 'report.html'))
fails = 0


def check(name, cond, detail=''):
    global fails
    if cond:
        print('ok - ' + name)
    else:
        fails += 1
        print('FAIL - ' + name + ('\n    ' + str(detail) if detail else ''))


def cards(b):
    return b.js("return [].map.call(document.querySelectorAll('#matches [data-match-id]'), function (c) {"
                " var i = c.querySelector('img.th'), s = c.querySelector('[data-action=category]');"
                " return {id: c.getAttribute('data-match-id'), cls: c.className, text: c.textContent,"
                " img: i ? getComputedStyle(i).filter : null, cat: s ? s.value : null}; })")


def unblurred(cs):
    return [c['id'] for c in cs if c['img'] is not None and 'blur' not in c['img']]


def ready(b, url=PAGE):
    b.go(url)
    return int(b.wait("return document.body.getAttribute('data-ready')"))


def pick(b, select_css, value):
    """Chooses an option with the mouse, as a person does."""
    b.click(b.find(select_css))
    b.click(b.find('%s option[value="%s"]' % (select_css, value)))


def card_el(b, i, css):
    return b.find('#matches [data-match-id]:nth-child(%d) %s' % (i + 1, css))


rows = [json.loads(l) for l in open(os.path.join(OUT, 'results.jsonl'))]
nmatch = sum(len(r['matches']) for r in rows)
sid = open(os.path.join(OUT, 'scan-id')).read().strip()

# a server on this machine that counts what reaches it: nothing the page does may get there
hits = []


class Count(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(('127.0.0.1', 0), Count)
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_address[1]

try:
    with browser() as b:
        n = ready(b)
        cs = cards(b)
        check('the page opens from file:// and lists every match (%d)' % nmatch, n == nmatch and len(cs) == min(nmatch, 100), (n, len(cs)))
        check('every match element carries data-match-id LINE:INDEX',
              all(re.fullmatch(r'\d+:\d+', c['id']) for c in cs) and len(set(c['id'] for c in cs)) == len(cs))
        per = b.js("return [].map.call(document.querySelectorAll('#matches [data-match-id]'), function (c) { return "
                   "['confirm','reject','review','reveal'].every(function (a) { return c.querySelector('button[data-action=' + a + ']'); })"
                   " && !!c.querySelector('select[data-action=category]'); })")
        check('each match has confirm/reject/review/reveal buttons and a category control', all(per) and per, per)
        names = b.js("return [].map.call(document.querySelectorAll('#matches [data-action=category]')[0].options, function (o) { return o.textContent; })")
        check('the category control offers the Project VIC (US) categories 0-4 by their names, and none (uncategorized)',
              names == ['category\u2026', '0 Non-pertinent', '1 CAM (child abuse material)', '2 Child exploitive (non-CAM) / age difficult',
                        '3 CGI / animation (child exploitive)', '4 Comparison images'], names)
        check('export buttons carry data-action="export"', len(b.finds('button[data-action="export"]')) == 2)
        check('every thumbnail starts greyscale and blurred',
              cs and all(c['img'] and 'blur' in c['img'] and 'grayscale' in c['img'] for c in cs), [c['img'] for c in cs])

        # --- reveal one at a time, by mouse and by keyboard; Escape hides
        b.click(card_el(b, 0, '[data-action="reveal"]'))
        u1 = unblurred(cards(b))
        b.click(card_el(b, 1, '[data-action="reveal"]'))
        u2 = unblurred(cards(b))
        b.keys('Escape')
        u3 = unblurred(cards(b))
        check('reveal by mouse: one at a time (revealing the second hides the first), Escape hides',
              u1 == [cs[0]['id']] and u2 == [cs[1]['id']] and u3 == [], (u1, u2, u3))
        still_grey = b.js("var i = document.querySelectorAll('img.th'); return i.length ? getComputedStyle(i[0]).filter : ''")
        b.keys('Home', ' ')
        k1 = unblurred(cards(b))
        grey = [c['img'] for c in cards(b) if c['id'] == cs[0]['id']][0]
        b.keys('j', ' ')
        k2 = unblurred(cards(b))
        b.keys('o')
        col = [c['img'] for c in cards(b) if c['id'] == cs[1]['id']][0]
        b.keys('Escape')
        check('reveal by keyboard: Space shows the selected one, still greyscale; j + Space moves it; o colours; Escape hides',
              k1 == [cs[0]['id']] and 'grayscale' in grey and k2 == [cs[1]['id']] and col == 'none' and unblurred(cards(b)) == [],
              (k1, grey, k2, col))

        # --- decisions and categories, by keyboard and by mouse
        b.keys('Home', 'c', '2', 'j', 'x', 'j', 'r')
        c2 = {c['id']: c for c in cards(b)}
        i0, i1, i2, i3 = (cs[k]['id'] for k in range(4))
        check('keyboard: c confirms, 2 sets category 2, j moves on, x rejects, r marks needs review',
              'd-confirmed' in c2[i0]['cls'] and c2[i0]['cat'] == '2' and 'd-rejected' in c2[i1]['cls']
              and 'd-needs-review' in c2[i2]['cls'], [(c2[i]['cls'], c2[i]['cat']) for i in (i0, i1, i2)])
        b.click(card_el(b, 3, '[data-action="confirm"]'))
        pick(b, '#matches [data-match-id]:nth-child(4) [data-action="category"]', '1')
        c3 = {c['id']: c for c in cards(b)}
        check('mouse: the confirm button and the category control', 'd-confirmed' in c3[i3]['cls'] and c3[i3]['cat'] == '1',
              (c3[i3]['cls'], c3[i3]['cat']))
        pressed = b.js("return document.querySelector('[data-match-id=\"%s\"] [data-action=confirm]').getAttribute('aria-pressed')" % i3)
        check('a decided match shows its decision pressed', pressed == 'true', pressed)

        # --- filters and counts
        pick(b, '#f-dec', 'confirmed')
        cf = cards(b)
        opt = b.js("return document.querySelector('#f-dec option[value=confirmed]').textContent")
        check('filter by decision: only the 2 confirmed, and the option counts them', len(cf) == 2 and all('d-confirmed' in c['cls'] for c in cf)
              and opt.endswith('(2)'), (len(cf), opt))
        pick(b, '#f-dec', '')
        pick(b, '#f-set', 'hotels')
        ch = cards(b)
        nh = sum(1 for r in rows for m in r['matches'] if m['set'] == 'hotels')
        check('filter by set: only the hotels matches (%d)' % nh, len(ch) == nh and all('set hotels' in c['text'] for c in ch), len(ch))
        kinds = b.js("return [].map.call(document.querySelectorAll('#f-kind option'), function (o) { return o.textContent; })")
        check('kind counts follow the other filters (pdq: %d hotels matches)' % nh, any(k == 'pdq (%d)' % nh for k in kinds), kinds)
        pick(b, '#f-set', '')
        b.send_keys(b.find('#f-q'), 'flip')
        cq = cards(b)
        check('free-text search on the path', cq and all('flip' in c['text'] for c in cq) and len(cq) < nmatch, len(cq))
        b.js("var q = document.getElementById('f-q'); q.value = ''; q.dispatchEvent(new Event('input'))")
        b.send_keys(b.find('#f-q'), 'series=s5')
        cl = cards(b)
        check('free-text search on the labels', cl and all('series=s5' in c['text'] for c in cl), len(cl))
        b.js("var q = document.getElementById('f-q'); q.value = ''; q.dispatchEvent(new Event('input'))")
        b.send_keys(b.find('#f-dist'), '0')
        cd = cards(b)
        check('filter by distance: distance <= 0 leaves the exact copies', cd and all('distance 0' in c['text'] for c in cd) and len(cd) < nmatch, len(cd))
        b.js("var q = document.getElementById('f-dist'); q.value = ''; q.dispatchEvent(new Event('input'))")
        pick(b, '#f-cat', '2')
        cc = cards(b)
        check('filter by category: the one set to 2', [c['id'] for c in cc] == [i0], [c['id'] for c in cc])
        pick(b, '#f-cat', '')
        pick(b, '#f-sort', 'distdesc')
        dists = [int(re.search(r'distance (\d+)', c['text']).group(1)) for c in cards(b) if 'distance' in c['text']]
        check('sort farthest first', dists == sorted(dists, reverse=True) and len(set(dists)) > 1, dists)
        pick(b, '#f-sort', 'cat')
        cats = [re.search(r'category (none|\d+)', c['text']).group(1) for c in cards(b)]
        nums = [int(c) for c in cats if c != 'none']
        check('sort by category: by number, the uncategorized last', nums == sorted(nums) and len(set(nums)) > 1 and
              cats == [str(n) for n in nums] + ['none'] * (len(cats) - len(nums)), cats)
        pick(b, '#f-sort', 'scan')

        # --- settings: text only, list view, blur strength
        b.click(b.find('#nothing'))
        imgs_off = b.js("return document.querySelectorAll('img').length")
        b.click(b.find('#nothing'))
        imgs_on = b.js("return document.querySelectorAll('img').length")
        check('"text only" shows no picture at all, and back', imgs_off == 0 and imgs_on > 0, (imgs_off, imgs_on))
        b.keys('g')
        lv = b.js("return document.getElementById('matches').className")
        b.keys('g')
        check('g switches to the list view and back', lv == 'list' and b.js("return document.getElementById('matches').className") == 'grid', lv)
        b.js("var r = document.getElementById('blur'); r.value = 30; r.dispatchEvent(new Event('input'))")
        bl = b.js("return getComputedStyle(document.querySelector('img.th')).filter")
        check('the blur strength setting applies', 'blur(30px)' in bl, bl)

        # --- export: decisions and VICS, through the buttons
        b.js("window.__blobs = []; var o = URL.createObjectURL; URL.createObjectURL = function (x) { window.__blobs.push(x); return o.call(URL, x); };")
        b.click(b.find('button[data-action="export"][data-format="decisions"]'))
        b.click(b.find('button[data-action="export"][data-format="vics"]'))
        texts = b.js_async("var done = arguments[arguments.length - 1]; Promise.all(window.__blobs.map(function (x) { return x.text(); })).then(done);")
        dec = json.loads(texts[0])
        vics = json.loads(texts[1])
        dpath = os.path.join(TMP, 'decisions.json')
        open(dpath, 'w').write(texts[0])
        got = {e['match']: (e.get('decision'), e.get('category')) for e in dec['decisions']}
        check('export decisions: the scan id and the five decisions made',
              dec['scan_id'] == sid and got == {i0: ('confirmed', 2), i1: ('rejected', None), i2: ('needs-review', None), i3: ('confirmed', 1)},
              (dec['scan_id'], got))
        check('export VICS 2.0: the confirmed files with their categories',
              sorted(m['Category'] for m in vics['value']) == [1, 2] and all(m['MD5'] and m['MediaFiles'] for m in vics['value']), vics['value'])

        # --- the decisions survive a reload (local storage by scan id)
        ready(b)
        cr = {c['id']: c for c in cards(b)}
        check('decisions persist across a reload', 'd-confirmed' in cr[i0]['cls'] and cr[i0]['cat'] == '2' and 'd-rejected' in cr[i1]['cls'])

        # --- vigil review apply, then results.jsonl and vics.json carry them
        p = subprocess.run([V, 'review', 'apply', OUT, dpath], capture_output=True, text=True)
        rows2 = [json.loads(l) for l in open(os.path.join(OUT, 'results.jsonl'))]

        def m_of(i):
            L, k = map(int, i.split(':'))
            return rows2[L]['matches'][k]
        ok = p.returncode == 0 and m_of(i0).get('decision') == 'confirmed' and m_of(i0).get('category') == 2 and \
            m_of(i1).get('decision') == 'rejected' and 'category' not in m_of(i1) and m_of(i2).get('decision') == 'needs-review'
        undecided = [m for r in rows2 for m in r['matches'] if 'decision' in m]
        check('review apply: results.jsonl carries each decision and category, nothing else changed',
              ok and len(undecided) == 4 and len(rows2) == len(rows), (p.returncode, p.stderr, len(undecided)))
        vj = json.load(open(os.path.join(OUT, 'vics.json')))
        L0 = int(i0.split(':')[0])
        md5 = rows2[L0]['md5'].upper()
        check('review apply: vics.json gives the confirmed file category 2',
              [m.get('Category') for m in vj['value'] if m['MD5'] == md5] == [2], [m.get('Category') for m in vj['value'] if m['MD5'] == md5])

        # --- import restores the state (a second analyst, another browser profile's storage cleared)
        b.js("localStorage.clear()")
        ready(b)
        before = [c for c in cards(b) if 'd-' in c['cls']]
        other = os.path.join(TMP, 'other-scan.json')
        json.dump(dict(dec, scan_id='0' * 32), open(other, 'w'))
        b.send_keys(b.find('#import'), other)
        err = b.wait("var s = document.getElementById('status'); return s.textContent && s.className === 'err' ? s.textContent : ''")
        check("import refuses another scan's decisions, and says so", 'another scan' in err and not [c for c in cards(b) if 'd-' in c['cls']], err)
        b.send_keys(b.find('#import'), dpath)
        msg = b.wait("var s = document.getElementById('status'); return /\\d+ decisions imported/.test(s.textContent) ? s.textContent : ''")
        ci = {c['id']: c for c in cards(b)}
        check('import restores the decisions and categories', not before and '4 decisions imported' in msg and 'd-confirmed' in ci[i0]['cls']
              and ci[i0]['cat'] == '2' and 'd-needs-review' in ci[i2]['cls'] and ci[i3]['cat'] == '1', msg)

        # --- hostile labels stay text
        h = b.js("var o = []; document.querySelectorAll('#matches [data-match-id]').forEach(function (c) {"
                 " if (c.textContent.indexOf('hotel-1') >= 0) o.push([c.querySelector('.lab').textContent, c.querySelectorAll('b,script').length,"
                 " [].map.call(c.querySelectorAll('.esc'), function (e) { return e.textContent; })]); }); return o;")
        check('hostile labels stay text: </script><b> shown as written, no element made, the bidi override shown as <U+202E>',
              h and all('</script><b>x</b>' in l and nel == 0 and '<U+202E>' in esc for l, nel, esc in h), h)
        check('the hostile label did not run: no alert, the page still works', b.js("return document.body.getAttribute('data-ready')") == str(nmatch))

        # --- no request leaves the page, even when one is tried from inside it
        b.network_log()
        b.js("window.__csp = 0; document.addEventListener('securitypolicyviolation', function () { window.__csp++; });"
             "var i = document.createElement('img'); i.src = 'http://127.0.0.1:%d/img'; document.body.appendChild(i);"
             "fetch('http://127.0.0.1:%d/fetch').catch(function () {});"
             "var l = document.createElement('link'); l.rel = 'stylesheet'; l.href = 'http://127.0.0.1:%d/css'; document.head.appendChild(l);" % (port, port, port))
        time.sleep(1.5)
        urls = [u for u in b.network_log() if not u.startswith(('data:', 'blob:', 'file:'))]
        csp = b.js("return window.__csp")
        check('no request leaves the page: the CSP blocks an image, a fetch and a stylesheet (the server saw none)',
              not hits and csp >= 3, (hits, csp, urls))
        b.js("document.querySelectorAll('img[src^=http], link[href^=http]').forEach(function (e) { e.remove(); })")

        # --- the data contract of other match kinds: a feature match's box, a video frame's second
        html = open(os.path.join(OUT, 'report.html')).read()
        m = re.search(r'(<script type="application/json" id="vigil-data">)(.*?)(</script>)', html, re.S)
        d = json.loads(m.group(2))
        rec0 = d['records'][0]
        feat = dict(rec0[2], matches=[{'set': 'victims', 'kind': 'features', 'ref_id': 'room-7', 'labels': None, 'inliers': 42,
                                       'box': [0.25, 0.1, 0.75, 0.6], 'crop': [10, 10, 100, 80], 'scale': 1.1, 'rotation': 3.0, 'mirrored': False}])
        vid = dict(rec0[2], path='/seized/clip.mp4', matches=[{'set': 'victims', 'kind': 'video', 'ref_id': 'v1', 'labels': None, 'distance': 12,
                                                              'timestamp': 12.5, 'query_match_pct': 80.0, 'target_match_pct': 75.0}])
        many = [[k + 2, None, dict(rec0[2], path='/seized/many/%03d.jpg' % k)] for k in range(250)]
        d['records'] = [[0, rec0[1], feat], [1, None, vid]] + many
        syn = os.path.join(TMP, 'synthetic.html')
        data = json.dumps(d).replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026')
        # the first card's thumbnail block moved after the page's script: not parsed yet when the
        # script draws the first page, so that card must be drawn again once it is
        rest = html[m.end(2):]
        blk = re.search(r'<script type="text/plain" id="vigil-t%d">[^<]*</script>\n' % rec0[1], rest).group(0)
        rest = rest.replace(blk, '')
        js = re.search(r'<script>.*?</script>\n', rest, re.S).group(0)
        rest = rest.replace(js, js + blk)
        open(syn, 'w').write(html[:m.start(2)] + data + rest)
        b.js("localStorage.clear()")
        ns = ready(b, 'file://' + syn)
        b.wait("return document.body.getAttribute('data-thumbs-ms')")
        late = b.js("var i = document.querySelector('[data-match-id=\"0:0\"] img.th'); return i ? i.src.slice(0, 30) : null")
        check('a thumbnail whose data block comes after the page script is drawn once the browser has parsed it',
              late is not None and late.startswith('data:image/jpeg;base64,'), late)
        box = b.js("var x = document.querySelector('[data-match-id=\"0:0\"] .box'); return x ? [x.style.left, x.style.top, x.style.width, x.style.height] : null")
        check('a feature match: kind features, inliers, and its box drawn on the thumbnail', box == ['25%', '10%', '50%', '50%'] and
              'features' in cards(b)[0]['text'] and 'inliers 42' in cards(b)[0]['text'], box)
        check("a feature match: the reference's crop box, scale and rotation as text",
              'reference crop 10,10 100\u00d780 px, scale 1.10, rotated 3.0\u00b0' in cards(b)[0]['text'], cards(b)[0]['text'])
        vt = cards(b)[1]['text']
        check("a video match: its frame's second (timestamp)", 'video' in vt and 'at 12.500 s' in vt, vt)
        pages1 = b.js("return document.getElementById('pageinfo').textContent")
        b.keys('n')
        pages2 = b.js("return document.getElementById('pageinfo').textContent")
        b.keys('End')
        pages3 = b.js("return document.getElementById('pageinfo').textContent")
        check('paged: %d matches in pages of 100, n and End move through them' % ns, ns >= 252 and pages1 == 'page 1 of %d' % ((ns + 99) // 100)
              and pages2.startswith('page 2 ') and pages3 == 'page %d of %d' % ((ns + 99) // 100, (ns + 99) // 100), (pages1, pages2, pages3))
        b.keys('c')
        last = b.js("return document.querySelector('.card.sel').getAttribute('data-match-id')")
        check('keyboard decisions on a later page', last == '%d:0' % (ns - 1 + 0) or 'd-confirmed' in
              b.js("return document.querySelector('.card.sel').className"), last)
        if len(sys.argv) > 4:
            b.js("localStorage.clear()")
            ready(b)
            b.screenshot(sys.argv[4])
except (WebDriverError, OSError, KeyError, ValueError, IndexError, TypeError) as e:
    check('the browser session ran to its end', False, '%s: %s' % (type(e).__name__, e))
finally:
    srv.shutdown()
sys.exit(1 if fails else 0)
