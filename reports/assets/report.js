(function () {
  'use strict';
  // Everything from the data block is untrusted text: it is only ever set with textContent, never
  // parsed as HTML. Links are made only for relative evidence files; images only from data:image.
  var D = JSON.parse(document.getElementById('pacheck-data').textContent);
  var specs = D.specs || [], reqs = D.reqs || {};
  var PAGE = 200;
  var state = { outcomes: {}, group: '', req: '', cause: '', text: '', shown: 0 };
  var filtered = [], items = [];
  var list = document.getElementById('spec-list');
  var info = document.getElementById('shown-info');
  var more = document.getElementById('show-more');

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  function safeRel(p) {
    return typeof p === 'string' && p !== '' && p.indexOf(':') < 0 && p.indexOf('\\') < 0 &&
      p.charAt(0) !== '/' && p.split('/').indexOf('..') < 0;
  }
  function link(href, text) {
    if (!safeRel(href)) { return el('span', '', text + ' (' + href + ')'); }
    var a = el('a', '', text);
    a.setAttribute('href', href);
    a.setAttribute('rel', 'noopener noreferrer');
    return a;
  }
  function pre(text, cls) { return el('pre', cls || '', text); }
  function firstLine(s) { s = String(s || ''); var i = s.indexOf('\n'); return i < 0 ? s : s.slice(0, i); }

  function hay(s) {
    if (s._h === undefined) {
      var parts = [s.id, s.o, s.g, s.reason || '', (s.reqs || []).join(' '), (s.prof || []).join(' '), (s.res || []).join(' ')];
      if (s.fail) { parts.push(s.fail.message || ''); }
      if (s.line) { parts.push(s.line); }
      if (s.known) { parts.push(s.known.reason || ''); }
      (s.reqs || []).forEach(function (r) { var q = reqs[r]; if (q) { parts.push(q.statement || ''); } });
      s._h = parts.join('\n').toLowerCase();
    }
    return s._h;
  }
  function anyOutcome() { for (var k in state.outcomes) { if (state.outcomes[k]) { return true; } } return false; }
  function matches(s) {
    if (anyOutcome() && !state.outcomes[s.o]) { return false; }
    if (state.group && s.g !== state.group) { return false; }
    if (state.req && (s.reqs || []).indexOf(state.req) < 0 && (s.broken || []).indexOf(state.req) < 0) { return false; }
    if (state.cause && s.c !== state.cause) { return false; }
    if (state.text && hay(s).indexOf(state.text) < 0) { return false; }
    return true;
  }
  // Specs blocked by one root cause are one item (a row with a count that expands to them), at
  // the place of the first of them.
  function group(list) {
    var out = [], byCause = {};
    list.forEach(function (s) {
      if (!s.blk) { out.push(s); return; }
      var k = (s.blk.cause || '') + '\n' + (s.blk.reason || '');
      var g = byCause[k];
      if (!g) { g = byCause[k] = { rc: s.blk, specs: [] }; out.push(g); }
      g.specs.push(s);
    });
    return out;
  }
  function apply() {
    filtered = specs.filter(matches);
    items = group(filtered);
    state.shown = 0;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    renderMore();
  }
  function renderMore() {
    var end = Math.min(items.length, state.shown + PAGE);
    var frag = document.createDocumentFragment();
    for (var i = state.shown; i < end; i++) { frag.appendChild(items[i].rc ? groupRow(items[i]) : row(items[i])); }
    list.appendChild(frag);
    state.shown = end;
    info.textContent = items.length === filtered.length ?
      'Showing ' + end + ' of ' + filtered.length + ' matching specs (' + specs.length + ' in total).' :
      'Showing ' + end + ' of ' + items.length + ' rows for ' + filtered.length + ' matching specs (' + specs.length + ' in total; the specs blocked by one root cause share a row).';
    more.hidden = end >= items.length;
  }

  function groupRow(g) {
    var d = el('details', 'rcgroup o-error');
    d.setAttribute('data-outcome', 'error');
    var sum = add(d, el('summary'));
    add(sum, el('span', 'badge b-error', 'error'));
    add(sum, el('span', 'sid', 'blocked by ' + g.rc.cause));
    add(sum, el('span', 'count-blocked', g.specs.length + ' specs'));
    if (g.rc.reason) { add(sum, el('span', 'sline', firstLine(g.rc.reason))); }
    g._fill = function () {
      if (d._done) { return; }
      d._done = true;
      var box = add(d, el('div', 'rc-list'));
      g.specs.forEach(function (s) { box.appendChild(row(s)); });
    };
    d.addEventListener('toggle', function () { if (d.open) { g._fill(); } });
    g._el = d;
    return d;
  }

  function row(s) {
    var d = el('details', 'spec o-' + s.o);
    d._spec = s;
    d.setAttribute('data-outcome', s.o);
    d.setAttribute('data-group', s.g);
    var sum = add(d, el('summary'));
    add(sum, el('span', 'badge b-' + s.o, s.o));
    add(sum, el('span', 'sid', s.id));
    if (s.reqs && s.reqs.length) { add(sum, el('span', 'sreq', s.reqs.join(', '))); }
    var plink = add(sum, el('a', 'plink', '#'));
    plink.setAttribute('href', '#spec=' + encodeURIComponent(s.id));
    plink.setAttribute('title', 'link to this spec');
    var line = s.o === 'fail' ? (s.line || (s.fail && s.fail.message)) : (s.o === 'known' && s.known ? 'known issue: ' + s.known.reason + (s.line ? ' — ' + s.line : '') : s.reason);
    if (line) { add(sum, el('span', 'sline', firstLine(line))); }
    s._el = d;
    d.addEventListener('toggle', function () {
      if (d.open && !d._done) { d._done = true; d.appendChild(detail(s)); }
    });
    return d;
  }

  function kv(rows) {
    var t = el('table', 'kv');
    rows.forEach(function (r) {
      if (r[1] === undefined || r[1] === null || r[1] === '') { return; }
      var tr = add(t, el('tr'));
      add(tr, el('th', '', r[0]));
      add(tr, el('td', '', r[1]));
    });
    return t;
  }
  function headers(title, h) {
    var box = el('div');
    if (!h) { return box; }
    add(box, el('h5', '', title));
    var t = add(box, el('table'));
    Object.keys(h).sort().forEach(function (k) {
      (h[k] || []).forEach(function (v) {
        var tr = add(t, el('tr'));
        add(tr, el('th', '', k));
        add(tr, el('td', '', v));
      });
    });
    return box;
  }

  function detail(s) {
    var box = el('div', 'detail');
    add(box, kv([['Spec', s.id], ['Outcome', s.o], ['IG / area', s.g], ['Level', s.lvl], ['Profiles', (s.prof || []).join(', ')],
      ['Resources', (s.res || []).join(', ')], ['Duration', s.dur + ' ms']]));
    var all = (s.reqs || []).slice();
    (s.broken || []).forEach(function (id) { if (all.indexOf(id) < 0) { all.push(id); } });
    if (all.length) {
      add(box, el('h4', '', 'Requirements'));
      all.forEach(function (id) {
        var q = reqs[id] || { unknown: true };
        var p = add(box, el('div', 'req'));
        if (s.o === 'fail' || s.o === 'known') {
          var broke = (s.broken || []).indexOf(id) >= 0;
          add(p, el('span', 'badge ' + (broke ? 'b-' + s.o : 'b-not-judged'), broke ? 'broken' : 'not judged'));
          add(p, el('span', '', ' '));
        }
        add(p, el('span', 'rid', id));
        add(p, el('span', '', ' (' + (q.level || '?') + ') '));
        add(p, el('span', '', q.unknown ? 'not in the requirements catalogue' : q.statement));
        if (q.cfr && q.cfr.length) { add(p, el('div', 'note', 'Regulation: ' + q.cfr.join('; '))); }
        if (q.section) { add(p, el('div', 'note', 'Source: ' + q.section)); }
        if (q.note) { add(p, el('div', 'note', 'Note: ' + q.note)); }
        if (q.official && q.official.length) { add(p, el('div', 'note official', 'Official: ' + q.official.join(', '))); }
      });
    }
    (s.quotes || []).forEach(function (q) { if (!repeatsStatement(q, all)) { add(box, pre(q, 'quote')); } });
    if (s.blk) {
      add(box, el('h4', '', 'Blocked by a root cause'));
      add(box, kv([['Root cause', s.blk.cause], ['Why it failed', s.blk.reason]]));
    }
    if (s.reason && s.o !== 'fail') {
      add(box, el('h4', '', s.o === 'error' ? 'Error (tool or environment)' : 'Reason'));
      add(box, pre(s.reason));
    }
    if (s.known) {
      add(box, el('h4', '', 'Known issue'));
      add(box, kv([['Reason', s.known.reason], ['Expires', s.known.expires], ['Listed at', s.known.source]]));
    }
    if (s.fail) {
      add(box, el('h4', '', 'Failure'));
      if (s.fail.expected || s.fail.actual) {
        var ea = add(box, el('div', 'ea'));
        var e1 = add(ea, el('div')); add(e1, el('strong', '', 'Expected')); add(e1, pre(s.fail.expected || ''));
        var e2 = add(ea, el('div')); add(e2, el('strong', '', 'Actual')); add(e2, pre(s.fail.actual || ''));
      }
      add(box, pre(s.fail.message || ''));
      if (s.fail.panic) { add(box, pre('panic: ' + s.fail.panic)); }
    }
    if (s.ev && s.ev.length) {
      add(box, el('h4', '', 'Evidence (' + s.ev.length + ')'));
      s.ev.forEach(function (e) { add(box, evidence(e)); });
    }
    if (s.out) {
      add(box, el('h4', '', 'Output'));
      add(box, pre(s.out));
    }
    if (s.loc || (s.fail && s.fail.location)) {
      // Go source locations are for pacheck's developers, not for the auditor: collapsed.
      var dbg = add(box, el('details', 'debug'));
      add(dbg, el('summary', '', 'Debug: source locations'));
      add(dbg, kv([['Spec defined at', s.loc], ['Failed at', s.fail && s.fail.location]]));
    }
    return box;
  }

  function norm(t) { return String(t || '').replace(/\s+/g, ' ').trim().toLowerCase(); }
  // A pacheck.requirement quote ("SHALL: statement") that only repeats a requirement listed
  // above is not shown twice.
  function repeatsStatement(q, ids) {
    var t = norm(q).replace(/^(shall|should|may)( not)?:\s*/, '');
    return ids.some(function (id) {
      var st = norm((reqs[id] || {}).statement);
      return st !== '' && (t === st || t.indexOf(st) === 0);
    });
  }

  // body shows an HTTP body: JSON as a collapsible tree (children built when opened), with the
  // pretty-printed text one click away; anything else as text.
  function body(title, text) {
    var wrap = el('div', 'body');
    add(wrap, el('h5', '', title));
    var v;
    try { v = JSON.parse(text); } catch (e) { v = undefined; }
    if (v === undefined || v === null || typeof v !== 'object') { add(wrap, pre(text)); return wrap; }
    var tree = add(wrap, el('div', 'json-tree'));
    add(tree, jsonNode('', v, true));
    var raw = add(wrap, el('details', 'raw'));
    add(raw, el('summary', '', 'as text'));
    raw.addEventListener('toggle', function () {
      if (raw.open && !raw._done) { raw._done = true; add(raw, pre(JSON.stringify(v, null, 2), 'json')); }
    });
    return wrap;
  }
  function jsonLeaf(v) {
    if (typeof v === 'string') { return el('span', 'js', JSON.stringify(v)); }
    if (typeof v === 'number' || typeof v === 'boolean') { return el('span', 'jn', String(v)); }
    return el('span', 'jn', 'null');
  }
  function jsonNode(key, v, open) {
    if (v === null || typeof v !== 'object') {
      var line = el('div', 'jl');
      if (key !== '') { add(line, el('span', 'jk', key)); add(line, el('span', '', ': ')); }
      add(line, jsonLeaf(v));
      return line;
    }
    var arr = Array.isArray(v), keys = arr ? null : Object.keys(v), n = arr ? v.length : keys.length;
    var d = el('details', 'jo');
    var sum = add(d, el('summary'));
    if (key !== '') { add(sum, el('span', 'jk', key)); add(sum, el('span', '', ': ')); }
    var hint = arr ? '[' + n + (n === 1 ? ' item]' : ' items]') : '{' + n + (n === 1 ? ' key}' : ' keys}');
    if (!arr && typeof v.resourceType === 'string') { hint = v.resourceType + (typeof v.id === 'string' ? '/' + v.id : '') + ' ' + hint; }
    add(sum, el('span', 'note', hint));
    function fill() {
      if (d._done) { return; }
      d._done = true;
      for (var i = 0; i < n; i++) { add(d, arr ? jsonNode(String(i), v[i], false) : jsonNode(keys[i], v[keys[i]], false)); }
    }
    d.addEventListener('toggle', function () { if (d.open) { fill(); } });
    if (open) { fill(); d.open = true; }
    return d;
  }

  function evidence(e) {
    var box = el('div', 'ev');
    var h = add(box, el('div'));
    add(h, el('span', 'kind', e.kind));
    add(h, el('strong', '', e.title || ''));
    if (e.resource) { add(h, el('span', 'note', ' ' + e.resource)); }
    var x = e.exchange;
    if (x) {
      add(box, el('div', 'sid', (x.method || '') + ' ' + (x.url || '') + ' → ' + (x.status || '-') + ' (' + (x.durationMs || 0) + ' ms)' + (x.time ? ' at ' + x.time : '')));
      if (x.error) { add(box, el('div', 'missing', 'transport error: ' + x.error)); }
      add(box, headers('Request headers', x.requestHeaders));
      if (x.requestBody) { add(box, body('Request body', x.requestBody)); }
      if (e.reqBodyFile) { add(box, link(e.reqBodyFile, 'full request body (' + e.reqBodySize + ' bytes)')); }
      add(box, headers('Response headers', x.responseHeaders));
      if (x.responseBody) { add(box, body('Response body' + (x.truncated ? ' (cut by the client)' : ''), x.responseBody)); }
      if (e.respBodyFile) { add(box, link(e.respBodyFile, 'full response body (' + e.respBodySize + ' bytes)')); }
    }
    if (e.issues && e.issues.length) {
      var t = add(box, el('table'));
      var hr = add(t, el('tr'));
      ['severity', 'rule', 'path', 'message', 'diagnostics', 'profile'].forEach(function (c) { add(hr, el('th', '', c)); });
      e.issues.forEach(function (i) {
        var tr = add(t, el('tr'));
        [i.severity, i.rule, i.path, i.message, i.diagnostics, i.profile].forEach(function (c) { add(tr, el('td', '', c || '')); });
      });
    }
    if (e.screenshot) {
      if (typeof e.img === 'string' && /^data:image\/(png|jpeg|webp|gif);base64,[A-Za-z0-9+\/=]+$/.test(e.img)) {
        var img = el('img', 'shot');
        img.alt = 'screenshot: ' + (e.title || '') + (e.screenshot.url ? ' of ' + e.screenshot.url : '');
        img.src = e.img;
        add(box, img);
      } else if (e.imgFile) {
        add(box, link(e.imgFile, 'screenshot file ' + e.imgFile));
      }
      add(box, kv([['Page', e.screenshot.url], ['SHA-256', e.screenshot.sha256], ['File', e.screenshot.path], ['Note', e.imgNote]]));
    }
    var m = e.mustSupport;
    if (m) {
      add(box, el('div', 'note', 'Profile ' + (m.profile || '') + (m.searched && m.searched.length ? ' · examined: ' + m.searched.join(', ') : '')));
      var mt = add(box, el('table'));
      var mh = add(mt, el('tr')); add(mh, el('th', '', 'must-support element')); add(mh, el('th', '', 'seen'));
      (m.present || []).forEach(function (p) { var tr = add(mt, el('tr')); add(tr, el('td', '', p)); add(tr, el('td', 'present', 'present')); });
      (m.missing || []).forEach(function (p) { var tr = add(mt, el('tr')); add(tr, el('td', '', p)); add(tr, el('td', 'missing', 'missing')); });
    }
    if (e.text) { add(box, pre(e.text)); }
    return box;
  }

  // ---- filter state and deep links in the URL fragment: #o=fail,error&g=IG&c=cause&r=req&q=text&spec=id ----
  var outcomeButtons = document.querySelectorAll('button.f-outcome');
  var selGroup = document.getElementById('f-group'), selCause = document.getElementById('f-cause');
  var selReq = document.getElementById('f-req'), inText = document.getElementById('f-text');

  function readHash() {
    var out = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
      var i = kv.indexOf('=');
      if (i <= 0) { return; }
      try { out[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); } catch (e) { /* a malformed part is ignored */ }
    });
    return out;
  }
  function writeHash(specID) {
    var parts = [], os = Object.keys(state.outcomes).filter(function (k) { return state.outcomes[k]; }).sort();
    if (os.length) { parts.push('o=' + os.map(encodeURIComponent).join(',')); }
    if (state.group) { parts.push('g=' + encodeURIComponent(state.group)); }
    if (state.cause) { parts.push('c=' + encodeURIComponent(state.cause)); }
    if (state.req) { parts.push('r=' + encodeURIComponent(state.req)); }
    if (inText.value.trim()) { parts.push('q=' + encodeURIComponent(inText.value.trim())); }
    if (specID) { parts.push('spec=' + encodeURIComponent(specID)); }
    try { history.replaceState(null, '', parts.length ? '#' + parts.join('&') : location.href.split('#')[0]); } catch (e) { /* file: URLs in some browsers */ }
  }
  // setSelect selects v when it is one of the options, else "all"; it returns what is selected.
  function setSelect(sel, v) { sel.value = v || ''; if (sel.value !== (v || '')) { sel.value = ''; } return sel.value; }
  function setFilters(h) {
    // Only the outcomes that have a button: an unknown one in a hand-made link would hide all.
    var want = {};
    (h.o ? h.o.split(',') : []).forEach(function (o) { want[o] = true; });
    state.outcomes = {};
    Array.prototype.forEach.call(outcomeButtons, function (b) {
      var o = b.getAttribute('data-outcome');
      state.outcomes[o] = !!want[o];
      b.setAttribute('aria-pressed', state.outcomes[o] ? 'true' : 'false');
    });
    state.group = setSelect(selGroup, h.g);
    state.cause = setSelect(selCause, h.c);
    state.req = setSelect(selReq, h.r);
    inText.value = h.q || '';
    state.text = inText.value.trim().toLowerCase();
  }
  function applyHash(initial) {
    var h = readHash(), onlySpec = Object.keys(h).length === 1 && h.spec !== undefined;
    if (initial || !onlySpec) { setFilters(h); apply(); }
    if (h.spec !== undefined) { openSpec(h.spec); }
  }
  // openSpec shows, opens and scrolls to one spec, clearing the filters when they hide it.
  function openSpec(id) {
    var s = null;
    for (var i = 0; i < specs.length; i++) { if (specs[i].id === id) { s = specs[i]; break; } }
    if (!s) { info.textContent = 'This report has no spec with the id in the link: ' + id; return; }
    if (filtered.indexOf(s) < 0) { setFilters({}); apply(); }
    var idx = -1, grp = null;
    for (var j = 0; j < items.length && idx < 0; j++) {
      if (items[j] === s) { idx = j; } else if (items[j].rc && items[j].specs.indexOf(s) >= 0) { idx = j; grp = items[j]; }
    }
    while (idx >= 0 && state.shown <= idx) { renderMore(); }
    if (grp) { grp._fill(); grp._el.open = true; }
    var d = s._el;
    if (!d) { return; }
    if (!d._done) { d._done = true; d.appendChild(detail(s)); }
    d.open = true;
    Array.prototype.forEach.call(list.querySelectorAll('details.spec.target'), function (t) { t.classList.remove('target'); });
    d.classList.add('target');
    d.scrollIntoView({ block: 'start' });
  }

  Array.prototype.forEach.call(outcomeButtons, function (b) {
    b.addEventListener('click', function () {
      var o = b.getAttribute('data-outcome');
      state.outcomes[o] = !state.outcomes[o];
      b.setAttribute('aria-pressed', state.outcomes[o] ? 'true' : 'false');
      apply();
      writeHash();
    });
  });
  selGroup.addEventListener('change', function () { state.group = selGroup.value; apply(); writeHash(); });
  selCause.addEventListener('change', function () { state.cause = selCause.value; apply(); writeHash(); });
  selReq.addEventListener('change', function () { state.req = selReq.value; apply(); writeHash(); });
  var timer = null;
  inText.addEventListener('input', function () {
    var v = inText.value;
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () { state.text = v.trim().toLowerCase(); apply(); writeHash(); }, 150);
  });
  more.addEventListener('click', renderMore);
  document.getElementById('expand-all').addEventListener('click', function () {
    Array.prototype.forEach.call(list.querySelectorAll('details.spec'), function (d) {
      if (!d._done) { d._done = true; d.appendChild(detail(d._spec)); }
      d.open = true;
    });
  });
  document.getElementById('collapse-all').addEventListener('click', function () {
    Array.prototype.forEach.call(list.querySelectorAll('details.spec'), function (d) { d.open = false; });
  });
  window.addEventListener('beforeprint', function () {
    // The printed report (pacheck report pdf): paragraphs and causes open, every spec listed as
    // the appendix with its line, and expanded with its evidence: the representative (first) spec
    // of each failure cause, and errored specs when there are few. Expanding every failure made
    // a 700-page PDF for 108 failures of 4 causes.
    Array.prototype.forEach.call(document.querySelectorAll('details.cfr, details.cause, details.cause-ex'), function (d) { d.open = true; });
    while (state.shown < items.length) { renderMore(); }
    var errors = specs.filter(function (s) { return s.o === 'error'; }).length, seen = {};
    Array.prototype.forEach.call(list.querySelectorAll('details.spec'), function (d) {
      var s = d._spec, expand = false;
      if (s.o === 'fail' && s.c && !seen[s.c]) { seen[s.c] = true; expand = true; }
      if (s.o === 'fail' && !s.c) { expand = true; }
      if (s.o === 'error' && errors <= 50) { expand = true; }
      if (expand && !d.open) {
        if (!d._done) { d._done = true; d.appendChild(detail(s)); }
        d.open = true;
      }
    });
  });
  window.addEventListener('hashchange', function () {
    applyHash(false);
    var h = readHash();
    // A link into the list (#c=, #r=, #spec=) scrolls to it.
    if (h.spec === undefined && (h.c || h.r || h.g || h.o)) { document.getElementById('specs').scrollIntoView({ block: 'start' }); }
  });
  applyHash(true);
}());