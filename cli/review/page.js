// The review page of a vigil scan (report.html): every match from the data block, in pages, with
// filters, decisions and categories kept in local storage under the scan's id. Everything shown
// is put in as text (textContent), never as markup; no request ever leaves the page (see its CSP).
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('vigil-data').textContent);
  var STORE = 'vigil-review:' + D.scan_id, PREFS = 'vigil-review-prefs';
  var DEC = ['confirmed', 'rejected', 'needs-review'];
  var ACT = {confirm: 'confirmed', reject: 'rejected', review: 'needs-review'};
  // Project VIC (VICS) categories as the US program numbers them (docs/review.md gives the sources);
  // a match without one is uncategorized, which VICS writes as no Category at all
  var CATS = {0: 'Non-pertinent', 1: 'CAM (child abuse material)', 2: 'Child exploitive (non-CAM) / age difficult',
              3: 'CGI / animation (child exploitive)', 4: 'Comparison images'};
  var $ = function (id) { return document.getElementById(id); };

  // ---- the matches, flattened: one entry per match of every matched file
  var M = [], byId = {};
  D.records.forEach(function (e, ri) {
    var line = e[0], r = e[2];
    (r.matches || []).forEach(function (m, k) {
      var lab = typeof m.labels === 'string' ? m.labels : '';
      var cm = /(?:^|\s)category=(\d+)(?=\s|$)/.exec(lab);
      var x = {id: line + ':' + k, k: k, ri: ri, path: r.path, r: r, m: m, set: String(m.set), kind: String(m.kind),
               inl: typeof m.inliers === 'number', refcat: cm ? +cm[1] : null, n: M.length};
      x.val = x.inl ? m.inliers : (typeof m.distance === 'number' ? m.distance : 0);
      x.hay = (r.path + '\n' + lab + '\n' + (m.ref_id || '') + '\n' + x.set).toLowerCase();
      M.push(x);
      byId[x.id] = x;
    });
  });
  // A record's thumbnail: the number of the entry whose data block (script#vigil-tN, around this
  // script in the page) holds it, or base64 in the record itself, or null. A block
  // the browser has not parsed yet reads as pending: its card is drawn again once it is.
  var pending = false, parsed = document.readyState !== 'loading';
  function thumbOf(ri) {
    var t = D.records[ri][1], b64 = null;
    if (typeof t === 'number') {
      var el = document.getElementById('vigil-t' + t);
      if (el && (parsed || el.nextSibling)) b64 = el.textContent; // a block is whole once one follows it
      else if (!parsed) { pending = true; return null; }
    } else if (typeof t === 'string') b64 = t;
    if (typeof b64 !== 'string' || !b64) return null;
    return (b64.slice(0, 5) === 'iVBOR' ? 'data:image/png;base64,' : 'data:image/jpeg;base64,') + b64; // a video's frame is PNG
  }

  // ---- state: decisions (per scan) and preferences (per browser)
  var dec = {}, stored = true;
  try { dec = JSON.parse(localStorage.getItem(STORE) || '{}') || {}; } catch (e) { stored = false; }
  var prefs = {view: 'grid', blur: 12, nothing: false, size: 100};
  try { var p = JSON.parse(localStorage.getItem(PREFS) || '{}'); for (var k in p) if (k in prefs) prefs[k] = p[k]; } catch (e) {}
  function save() {
    try { localStorage.setItem(STORE, JSON.stringify(dec)); } catch (e) { status('decisions cannot be kept in this browser: export them', 1); }
  }
  function savePrefs() { try { localStorage.setItem(PREFS, JSON.stringify(prefs)); } catch (e) {} }
  function decOf(x) { return dec[x.id] || {}; }
  function catOf(x) { var d = decOf(x); return typeof d.c === 'number' ? d.c : x.refcat; }
  function status(s, err) { var el = $('status'); el.textContent = s; el.className = err ? 'err' : ''; }

  // ---- text with control and bidirectional characters made visible
  var HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;
  function txt(el, s) {
    s = String(s);
    var i;
    while ((i = s.search(HIDDEN)) >= 0) {
      if (i) el.appendChild(document.createTextNode(s.slice(0, i)));
      var c = s.charCodeAt(i), sp = document.createElement('span');
      sp.className = 'esc';
      sp.title = 'invisible or reordering character';
      sp.textContent = '<U+' + ('000' + c.toString(16).toUpperCase()).slice(-4) + '>';
      el.appendChild(sp);
      s = s.slice(i + 1);
    }
    if (s) el.appendChild(document.createTextNode(s));
    return el;
  }
  function node(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) txt(e, text);
    return e;
  }

  // ---- filters, facets and sorting
  var F = [], page = 0, sel = 0, revealed = null, colour = false;
  function facetVal(x, f) {
    if (f === 'set') return x.set;
    if (f === 'kind') return x.kind;
    if (f === 'cat') { var c = catOf(x); return c == null ? 'none' : String(c); }
    return decOf(x).d || 'undecided';
  }
  var FACETS = ['set', 'kind', 'cat', 'dec'];
  function labelOf(f, v) {
    if (f === 'cat') return v === 'none' ? 'no category' : v + ' ' + (CATS[v] || '');
    return v;
  }
  function fill(f, values) {
    var s = $('f-' + f), cur = s.value;
    s.textContent = '';
    var all = node('option', null, 'any ' + (f === 'cat' ? 'category' : f === 'dec' ? 'decision' : f));
    all.value = '';
    s.appendChild(all);
    values.forEach(function (v) { var o = node('option', null, labelOf(f, v)); o.value = v; s.appendChild(o); });
    s.value = cur;
  }
  function facetValues() {
    var seen = {set: {}, kind: {}};
    M.forEach(function (x) { seen.set[x.set] = 1; seen.kind[x.kind] = 1; });
    fill('set', D.sets.map(function (s) { return String(s.name); }).filter(function (n) { return seen.set[n]; }));
    fill('kind', ['pdq', 'md5', 'sha1', 'room', 'features', 'video'].concat(Object.keys(seen.kind)).filter(function (v, i, a) {
      return seen.kind[v] && a.indexOf(v) === i; }));
    fill('cat', ['none', '0', '1', '2', '3', '4']);
    fill('dec', ['undecided'].concat(DEC));
  }
  function apply(keepSel) {
    var want = {}, q = $('f-q').value.trim().toLowerCase();
    FACETS.forEach(function (f) { want[f] = $('f-' + f).value; });
    var dmax = $('f-dist').value === '' ? null : +$('f-dist').value;
    var imin = $('f-inl').value === '' ? null : +$('f-inl').value;
    var counts = {set: {}, kind: {}, cat: {}, dec: {}}, out = [];
    for (var i = 0; i < M.length; i++) {
      var x = M[i];
      if (q && x.hay.indexOf(q) < 0) continue;
      if (dmax != null && !x.inl && x.val > dmax) continue;
      if (imin != null && x.inl && x.val < imin) continue;
      var v = {}, miss = null, nmiss = 0;
      for (var j = 0; j < 4; j++) {
        var f = FACETS[j];
        v[f] = facetVal(x, f);
        if (want[f] && v[f] !== want[f]) { miss = f; nmiss++; }
      }
      // a facet's counts: the matches that pass every other filter
      if (!nmiss) { out.push(i); for (j = 0; j < 4; j++) counts[FACETS[j]][v[FACETS[j]]] = (counts[FACETS[j]][v[FACETS[j]]] || 0) + 1; }
      else if (nmiss === 1) counts[miss][v[miss]] = (counts[miss][v[miss]] || 0) + 1;
    }
    FACETS.forEach(function (f) {
      var s = $('f-' + f), tot = 0;
      for (var k = 0; k < s.options.length; k++) {
        var o = s.options[k];
        if (!o.value) continue;
        var n = counts[f][o.value] || 0;
        tot += n;
        o.textContent = '';
        txt(o, labelOf(f, o.value) + ' (' + n + ')');
      }
      s.options[0].textContent = 'any ' + (f === 'cat' ? 'category' : f === 'dec' ? 'decision' : f) + ' (' + tot + ')';
    });
    var key = $('f-sort').value;
    var cmp = {
      scan: function (a, b) { return a - b; },
      dist: function (a, b) { var x = M[a], y = M[b]; if (x.inl !== y.inl) return x.inl ? 1 : -1;
        return (x.inl ? y.val - x.val : x.val - y.val) || a - b; },
      distdesc: function (a, b) { var x = M[a], y = M[b]; if (x.inl !== y.inl) return x.inl ? 1 : -1;
        return (x.inl ? x.val - y.val : y.val - x.val) || a - b; },
      path: function (a, b) { return M[a].path < M[b].path ? -1 : M[a].path > M[b].path ? 1 : a - b; },
      set: function (a, b) { return M[a].set < M[b].set ? -1 : M[a].set > M[b].set ? 1 : a - b; },
      kind: function (a, b) { return M[a].kind < M[b].kind ? -1 : M[a].kind > M[b].kind ? 1 : a - b; },
      dec: function (a, b) { var x = facetVal(M[a], 'dec'), y = facetVal(M[b], 'dec'); return x < y ? -1 : x > y ? 1 : a - b; },
      cat: function (a, b) { var x = catOf(M[a]), y = catOf(M[b]); // by number, the uncategorized last
        return x === y ? a - b : x == null ? 1 : y == null ? -1 : x - y; }
    }[key] || function (a, b) { return a - b; };
    if (key !== 'scan') out.sort(cmp);
    var selId = keepSel && F[sel] != null ? M[F[sel]].id : null;
    F = out;
    if (selId) { var at = -1; for (var z = 0; z < F.length; z++) if (M[F[z]].id === selId) { at = z; break; } sel = at >= 0 ? at : Math.min(sel, F.length - 1); }
    else { sel = 0; }
    if (sel < 0) sel = 0;
    page = Math.floor(sel / prefs.size);
    $('shown').textContent = F.length + ' of ' + M.length + ' matches shown (' + D.matched + ' matched files of ' + D.files + ')';
    render();
  }

  // ---- one page of cards
  function pages() { return Math.max(1, Math.ceil(F.length / prefs.size)); }
  function cardFor(x) {
    var c = node('div', 'card'), d = decOf(x);
    c.setAttribute('data-match-id', x.id);
    c.tabIndex = -1;
    if (d.d) c.className += ' d-' + d.d;
    var tw = node('div', 'tw');
    var src = prefs.nothing ? null : thumbOf(x.ri);
    if (src) {
      var im = node('img', 'th' + (revealed === x.id ? ' shown' + (colour ? ' colour' : '') : ''));
      im.alt = 'match thumbnail (blurred)';
      im.src = src;
      tw.appendChild(im);
      var b = x.m.box;
      if (Array.isArray(b) && b.length === 4 && b.every(function (v) { return typeof v === 'number'; })) {
        var bx = node('div', 'box');
        bx.title = 'the matched region';
        bx.style.left = (100 * Math.max(0, Math.min(1, b[0]))) + '%';
        bx.style.top = (100 * Math.max(0, Math.min(1, b[1]))) + '%';
        bx.style.width = (100 * Math.max(0, Math.min(1, b[2]) - Math.max(0, b[0]))) + '%';
        bx.style.height = (100 * Math.max(0, Math.min(1, b[3]) - Math.max(0, b[1]))) + '%';
        tw.appendChild(bx);
      }
    } else {
      tw = node('div', 'nothumb', prefs.nothing ? 'text only' : D.records[x.ri][1] === null && D.thumbs ? 'no thumbnail (budget reached or not decoded)' :
        typeof D.records[x.ri][1] === 'number' && !parsed ? 'thumbnail loading\u2026' : 'no thumbnail');
    }
    c.appendChild(tw);
    var info = node('div', 'meta');
    info.appendChild(node('div', 'path', x.path));
    var m = x.m, line = node('div');
    txt(line, 'set ' + x.set + ' \u00b7 ' + x.kind + ' \u00b7 ' + (x.inl ? 'inliers ' + m.inliers : 'distance ' + x.val));
    if (m.transform && m.transform !== 'orig') txt(line, ' \u00b7 ' + m.transform);
    if (typeof m.timestamp === 'number') txt(line, ' \u00b7 at ' + m.timestamp.toFixed(3) + ' s');
    if (Array.isArray(m.crop) && m.crop.length === 4 && m.crop.every(function (v) { return typeof v === 'number'; }))
      txt(line, ' \u00b7 reference crop ' + m.crop[0] + ',' + m.crop[1] + ' ' + m.crop[2] + '\u00d7' + m.crop[3] + ' px' +
        (typeof m.scale === 'number' ? ', scale ' + m.scale.toFixed(2) : '') +
        (typeof m.rotation === 'number' ? ', rotated ' + m.rotation.toFixed(1) + '\u00b0' : '') + (m.mirrored === true ? ', mirrored' : ''));
    if (typeof m.query_match_pct === 'number') txt(line, ' \u00b7 ' + m.query_match_pct + '% of frames');
    info.appendChild(line);
    if (x.r.truncated && x.k === 0) info.appendChild(node('div', 'lab', x.r.matches_total + ' matches, the nearest ' + x.r.matches.length + ' kept'));
    info.appendChild(node('div', null, 'reference ' + (m.ref_id == null ? '(no id)' : m.ref_id)));
    if (m.labels) info.appendChild(node('div', 'lab', m.labels));
    var cat = catOf(x);
    info.appendChild(node('div', null, 'category ' + (cat == null ? 'none' : cat + ' ' + (CATS[cat] || '')) +
      (typeof d.c !== 'number' && cat != null ? ' (from the reference)' : '') + (d.d ? ' \u00b7 ' + d.d : '')));
    var acts = node('div', 'acts');
    [['confirm', 'Confirm'], ['reject', 'Reject'], ['review', 'Needs review']].forEach(function (a) {
      var bt = node('button', null, a[1]);
      bt.type = 'button';
      bt.setAttribute('data-action', a[0]);
      bt.setAttribute('aria-pressed', d.d === ACT[a[0]] ? 'true' : 'false');
      acts.appendChild(bt);
    });
    if (src) {
      var rv = node('button', null, revealed === x.id ? 'Hide' : 'Reveal');
      rv.type = 'button';
      rv.setAttribute('data-action', 'reveal');
      acts.appendChild(rv);
      if (revealed === x.id) {
        var co = node('button', null, colour ? 'Greyscale' : 'Colour');
        co.type = 'button';
        co.setAttribute('data-action', 'colour');
        acts.appendChild(co);
      }
    }
    var cs = node('select');
    cs.setAttribute('data-action', 'category');
    cs.title = 'Project VIC category';
    var o0 = node('option', null, 'category\u2026');
    o0.value = '';
    cs.appendChild(o0);
    for (var k = 0; k <= 4; k++) { var o = node('option', null, k + ' ' + CATS[k]); o.value = String(k); cs.appendChild(o); }
    cs.value = typeof d.c === 'number' ? String(d.c) : '';
    acts.appendChild(cs);
    info.appendChild(acts);
    c.appendChild(info);
    return c;
  }
  function render() {
    var box = $('matches');
    box.className = prefs.view;
    box.textContent = '';
    var np = pages();
    if (page >= np) page = np - 1;
    var from = page * prefs.size, to = Math.min(F.length, from + prefs.size);
    for (var i = from; i < to; i++) {
      var c = cardFor(M[F[i]]);
      if (i === sel) c.className += ' sel';
      box.appendChild(c);
    }
    if (!F.length) box.appendChild(node('p', null, 'No match passes these filters.'));
    ['pageinfo', 'pageinfo2'].forEach(function (id) { $(id).textContent = 'page ' + (page + 1) + ' of ' + np; });
  }
  function rerenderCard(x) {
    var old = document.querySelector('[data-match-id="' + x.id + '"]');
    if (!old) return;
    var c = cardFor(x);
    if (old.className.indexOf(' sel') >= 0) c.className += ' sel';
    old.parentNode.replaceChild(c, old);
  }
  function select(i, scroll) {
    if (!F.length) return;
    sel = Math.max(0, Math.min(F.length - 1, i));
    var p = Math.floor(sel / prefs.size);
    if (p !== page) { page = p; render(); }
    document.querySelectorAll('.card.sel').forEach(function (c) { c.className = c.className.replace(' sel', ''); });
    var c = document.querySelector('[data-match-id="' + M[F[sel]].id + '"]');
    if (c) { c.className += ' sel'; if (scroll) c.scrollIntoView({block: 'nearest'}); }
  }

  // ---- actions
  function setDecision(x, d) {
    var cur = dec[x.id] || {};
    if (cur.d === d) delete cur.d; else if (d) cur.d = d; else delete cur.d;
    if (cur.d == null && cur.c == null) delete dec[x.id]; else { cur.t = new Date().toISOString(); dec[x.id] = cur; }
    save();
    rerenderCard(x);
  }
  function setCategory(x, c) {
    var cur = dec[x.id] || {};
    if (c == null || c === '') delete cur.c; else cur.c = +c;
    if (cur.d == null && cur.c == null) delete dec[x.id]; else { cur.t = new Date().toISOString(); dec[x.id] = cur; }
    save();
    rerenderCard(x);
  }
  function reveal(x) {
    var before = revealed ? byId[revealed] : null;
    revealed = revealed === x.id ? null : x.id; // one at a time: revealing one hides the one before
    colour = false;
    if (before) rerenderCard(before);
    if (before !== x) rerenderCard(x);
  }
  function hide() { if (revealed) { var x = byId[revealed]; revealed = null; colour = false; rerenderCard(x); } }

  document.getElementById('matches').addEventListener('click', function (e) {
    var c = e.target.closest('[data-match-id]');
    if (!c) return;
    var x = byId[c.getAttribute('data-match-id')];
    for (var i = 0; i < F.length; i++) if (M[F[i]] === x) { if (i !== sel) select(i); break; }
    var a = e.target.closest('[data-action]');
    if (!a) return;
    var act = a.getAttribute('data-action');
    if (ACT[act]) setDecision(x, ACT[act]);
    else if (act === 'reveal') reveal(x);
    else if (act === 'colour') { colour = !colour; rerenderCard(x); }
  });
  document.getElementById('matches').addEventListener('change', function (e) {
    var a = e.target.closest('[data-action="category"]');
    if (!a) return;
    setCategory(byId[a.closest('[data-match-id]').getAttribute('data-match-id')], a.value);
  });

  document.addEventListener('keydown', function (e) {
    var t = e.target, typing = t && (t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' ||
      (t.tagName === 'INPUT' && /^(text|search|number|)$/.test(t.type)));
    if (e.key === 'Escape') { hide(); if (typing) t.blur(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    var x = F.length ? M[F[sel]] : null, k = e.key, done = true;
    if (k === 'j' || k === 'ArrowDown' || k === 'ArrowRight') select(sel + 1, true);
    else if (k === 'k' || k === 'ArrowUp' || k === 'ArrowLeft') select(sel - 1, true);
    else if (k === 'n' || k === 'PageDown') select((page + 1) * prefs.size, true);
    else if (k === 'p' || k === 'PageUp') select((page - 1) * prefs.size, true);
    else if (k === 'Home') select(0, true);
    else if (k === 'End') select(F.length - 1, true);
    else if (x && (k === ' ' || k === 'v')) { if (!prefs.nothing && thumbOf(x.ri)) reveal(x); }
    else if (x && k === 'o' && revealed === x.id) { colour = !colour; rerenderCard(x); }
    else if (x && k === 'c') setDecision(x, 'confirmed');
    else if (x && k === 'x') setDecision(x, 'rejected');
    else if (x && k === 'r') setDecision(x, 'needs-review');
    else if (x && k === 'u') { delete dec[x.id]; save(); rerenderCard(x); }
    else if (x && k >= '0' && k <= '4') setCategory(x, k);
    else if (x && k === '-') setCategory(x, null);
    else if (k === 'g') { prefs.view = prefs.view === 'grid' ? 'list' : 'grid'; savePrefs(); syncPrefs(); render(); }
    else if (k === 't') { prefs.nothing = !prefs.nothing; hide(); savePrefs(); syncPrefs(); render(); }
    else if (k === '/') $('f-q').focus();
    else if (k === '?') $('keys').open = !$('keys').open;
    else done = false;
    if (done) e.preventDefault();
  });

  // ---- export and import
  function download(name, text) {
    var b = new Blob([text], {type: 'application/json'}), u = URL.createObjectURL(b), a = document.createElement('a');
    a.href = u;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(u); a.remove(); }, 2000);
  }
  function decisionsDoc() {
    var out = [];
    M.forEach(function (x) {
      var d = dec[x.id];
      if (!d) return;
      var e = {match: x.id, path: x.path, set: x.set, ref_id: x.m.ref_id == null ? null : x.m.ref_id, kind: x.kind};
      if (d.d) e.decision = d.d;
      if (typeof d.c === 'number') e.category = d.c;
      if (d.t) e.at = d.t;
      out.push(e);
    });
    return {vigil_review: 1, scan_id: D.scan_id, vigil: D.vigil, exported: new Date().toISOString(), decisions: out};
  }
  function vicsDoc() {
    // one Media per file: the category of its first confirmed match (the analyst's, else the
    // reference's), else one an analyst set on a match not rejected; files without one are left out
    var media = [], seen = {};
    M.forEach(function (x) {
      var d = dec[x.id];
      if (!d || seen[x.ri] || d.d === 'rejected') return;
      var c = typeof d.c === 'number' ? d.c : d.d === 'confirmed' ? x.refcat : null;
      if (c == null) return;
      seen[x.ri] = 1;
      var r = x.r, name = r.path.slice(r.path.lastIndexOf('/') + 1);
      var o = {MediaID: media.length + 1, Category: c};
      if (r.md5) o.MD5 = r.md5.toUpperCase();
      if (r.sha1) o.SHA1 = r.sha1.toUpperCase();
      if (typeof r.size === 'number') o.MediaSize = r.size;
      if (r.pdq) o.AlternativeHashes = [{HashName: 'PDQ', HashValue: r.pdq}];
      o.Comments = 'vigil review: ' + (d.d || 'category set') + ' against set ' + x.set + ', reference ' + x.m.ref_id;
      o.MediaFiles = [{FileName: name, FilePath: r.path}];
      media.push(o);
    });
    return {'@odata.context': 'http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media', value: media};
  }
  document.querySelectorAll('[data-action="export"]').forEach(function (b) {
    b.addEventListener('click', function () {
      var v = b.getAttribute('data-format') === 'vics';
      var doc = v ? vicsDoc() : decisionsDoc();
      download((v ? 'vics-reviewed-' : 'decisions-') + D.scan_id.slice(0, 8) + '.json', JSON.stringify(doc, null, 1));
      status(v ? 'VICS file with ' + doc.value.length + ' categorised media exported' : doc.decisions.length + ' decisions exported');
    });
  });
  $('import').addEventListener('change', function () {
    var f = this.files && this.files[0], input = this;
    if (!f) return;
    var rd = new FileReader();
    rd.onload = function () {
      var doc;
      try { doc = JSON.parse(rd.result); } catch (e) { status(f.name + ': not JSON: ' + e.message, 1); return; }
      if (!doc || doc.vigil_review !== 1 || !Array.isArray(doc.decisions)) { status(f.name + ': not a vigil decisions file', 1); return; }
      if (doc.scan_id !== D.scan_id) { status(f.name + ': decisions of another scan (' + doc.scan_id + '), this page is scan ' + D.scan_id + '; nothing imported', 1); return; }
      var next = {}, unknown = 0, bad = 0;
      doc.decisions.forEach(function (e) {
        var x = e && byId[e.match];
        if (!x) { unknown++; return; }
        var v = {};
        if (DEC.indexOf(e.decision) >= 0) v.d = e.decision; else if (e.decision != null) { bad++; return; }
        if (typeof e.category === 'number' && e.category >= 0 && e.category <= 99 && e.category % 1 === 0) v.c = e.category;
        else if (e.category != null) { bad++; return; }
        if (typeof e.at === 'string') v.t = e.at;
        if (v.d != null || v.c != null) next[x.id] = v;
      });
      dec = next;
      save();
      input.value = '';
      apply(true);
      status(f.name + ': ' + Object.keys(next).length + ' decisions imported' + (unknown ? ', ' + unknown + ' unknown match ids left out' : '') +
        (bad ? ', ' + bad + ' invalid entries left out' : ''), unknown || bad);
    };
    rd.readAsText(f);
  });

  // ---- settings and filters
  function syncPrefs() {
    document.documentElement.style.setProperty('--blur', prefs.blur + 'px');
    $('blur').value = prefs.blur;
    $('nothing').checked = !!prefs.nothing;
    $('view').textContent = prefs.view === 'grid' ? 'List view' : 'Grid view';
    $('psize').value = String(prefs.size);
  }
  $('blur').addEventListener('input', function () { prefs.blur = +this.value; savePrefs(); syncPrefs(); });
  $('nothing').addEventListener('change', function () { prefs.nothing = this.checked; hide(); savePrefs(); render(); });
  $('view').addEventListener('click', function () { prefs.view = prefs.view === 'grid' ? 'list' : 'grid'; savePrefs(); syncPrefs(); render(); });
  $('psize').addEventListener('change', function () { prefs.size = +this.value || 100; savePrefs(); apply(true); });
  ['prev', 'prev2'].forEach(function (id) { $(id).addEventListener('click', function () { select((page - 1) * prefs.size); }); });
  ['next', 'next2'].forEach(function (id) { $(id).addEventListener('click', function () { select((page + 1) * prefs.size); }); });
  FACETS.concat(['sort']).forEach(function (f) { $('f-' + f).addEventListener('change', function () { apply(false); }); });
  ['q', 'dist', 'inl'].forEach(function (f) { $('f-' + f).addEventListener('input', function () { apply(false); }); });

  if (![10, 50, 100, 200, 500].some(function (n) { return n === prefs.size; })) prefs.size = 100;
  txt($('scaninfo'), 'scan ' + D.scan_id + ' \u00b7 ' + D.created + ' \u00b7 vigil ' + D.vigil + ' \u00b7 ' + D.files + ' files, ' +
    D.matched + ' with a match, ' + D.failed + ' could not be read or decoded \u00b7 sets: ' +
    D.sets.map(function (s) { return s.name + (s.rooms ? ' (rooms, ' + s.min_inliers + ' inliers)' : ' (radius ' + s.radius + ')'); }).join(', '));
  syncPrefs();
  facetValues();
  apply(false);
  if (!stored) status('this browser keeps no local storage here: export the decisions before closing the page', 1);
  // when the page became usable, in ms from the start of navigation (bench/review_page.sh reads it)
  document.body.setAttribute('data-ready-ms', String(Math.round(performance.now())));
  document.body.setAttribute('data-ready', String(M.length));
  // the rest of the thumbnails parsed: the cards drawn without theirs are drawn again
  function allParsed() {
    parsed = true;
    if (pending) { pending = false; var keep = sel; render(); select(keep); }
    document.body.setAttribute('data-thumbs-ms', String(Math.round(performance.now())));
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', allParsed); else allParsed();
})();
