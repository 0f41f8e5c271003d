/* hindsight search client: plain JavaScript, no modules, no network beyond the site's own
 * files. The index under search/ is a set of classic scripts, each calling
 * hindsightSearch.load(id, data), so it loads with <script src> over file:// as over HTTP.
 * The tokenizer and the query parser mirror src/search/tokenize.rs and src/search/query.rs;
 * tests/fixtures/search/tokenizer-vectors.json checks both sides. */
(function () {
  'use strict';

  // ---------------------------------------------------------------- tokenizer
  var MAX_TOKEN_CHARS = 64;
  var SPLIT_ORDER = ['/', '-', '.', '_'];
  var MARK = /\p{M}/u;
  var ALNUM = /[\p{Alphabetic}\p{N}]/u;
  var FOLD = { 'ς': 'σ', 'ı': 'i', 'ß': 'ss', 'ł': 'l', 'ø': 'o', 'đ': 'd', 'æ': 'ae', 'œ': 'oe' };
  var W = 1, B = 2, J = 3, O = 4;
  var foldCache = new Map();

  function isMark(c) {
    return c !== '\u3099' && c !== '\u309A' && MARK.test(c);
  }

  function cpLen(s) {
    var n = 0;
    for (var i = 0; i < s.length; i++) {
      var u = s.charCodeAt(i);
      if (u < 0xDC00 || u > 0xDFFF || i === 0 || s.charCodeAt(i - 1) < 0xD800 || s.charCodeAt(i - 1) > 0xDBFF) n++;
    }
    return n;
  }

  // Folds one character (one code point); see tokenize.rs.
  function foldChar(ch) {
    if (ch.length === 1 && ch.charCodeAt(0) < 128) return ch.toLowerCase();
    var r = foldCache.get(ch);
    if (r !== undefined) return r;
    var out = '';
    for (var d of ch.normalize('NFKD')) {
      if (isMark(d)) continue;
      for (var l of d.toLowerCase()) {
        var m = FOLD[l];
        if (m !== undefined) out += m;
        else if (!isMark(l)) out += l;
      }
    }
    if (cpLen(out) > 1) out = out.normalize('NFC');
    if (foldCache.size < 65536) foldCache.set(ch, out);
    return out;
  }

  function fold(s) {
    var out = '';
    for (var ch of s) out += foldChar(ch);
    return out;
  }

  function inBigramRange(u) {
    return (u >= 0x0E00 && u <= 0x0EFF) || (u >= 0x1000 && u <= 0x109F) ||
      (u >= 0x1100 && u <= 0x11FF) || (u >= 0x1780 && u <= 0x17FF) ||
      (u >= 0x2E80 && u <= 0x2FDF) || (u >= 0x3040 && u <= 0x30FF) ||
      (u >= 0x3100 && u <= 0x31BF) || (u >= 0x31F0 && u <= 0x31FF) ||
      (u >= 0x3400 && u <= 0x4DBF) || (u >= 0x4E00 && u <= 0x9FFF) ||
      (u >= 0xA960 && u <= 0xA97F) || (u >= 0xAC00 && u <= 0xD7FF) ||
      (u >= 0xF900 && u <= 0xFAFF) || (u >= 0xFF66 && u <= 0xFF9F) ||
      (u >= 0x20000 && u <= 0x3FFFF);
  }

  function classOf(c) {
    var u = c.codePointAt(0);
    if (u < 128) {
      if ((u >= 97 && u <= 122) || (u >= 65 && u <= 90) || (u >= 48 && u <= 57)) return W;
      if (c === '/' || c === '-' || c === '.' || c === '_') return J;
      return O;
    }
    if (inBigramRange(u) && (ALNUM.test(c) || u === 0x3099 || u === 0x309A)) return B;
    return ALNUM.test(c) ? W : O;
  }

  // Calls emit({t, pos, from, to}, {unitStart, atom}) for each token of text; from/to are
  // UTF-16 offsets into text.
  function tokenize(text, emit) {
    var st = { pos: 0, unitStart: false };
    var seg = [];
    var i = 0;
    for (var ch of text) {
      var from = i;
      i += ch.length;
      var f = foldChar(ch);
      for (var c of f) {
        if (c === '\u3099' || c === '\u309A') {
          // A lone voicing mark joins the character before it when they compose.
          var last = seg[seg.length - 1];
          if (last) {
            var comp = (last.c + c).normalize('NFC');
            if (cpLen(comp) === 1) { last.c = comp; last.k = classOf(comp); last.to = i; }
          }
          continue;
        }
        var k = classOf(c);
        if (k === O) {
          if (seg.length) segment(seg, st, emit);
          seg = [];
        } else {
          seg.push({ c: c, k: k, from: from, to: i });
        }
      }
    }
    if (seg.length) segment(seg, st, emit);
  }

  function emitTok(st, emit, t, pos, from, to, atom) {
    if (t.length > MAX_TOKEN_CHARS && cpLen(t) > MAX_TOKEN_CHARS) return;
    var info = { unitStart: st.unitStart, atom: atom };
    st.unitStart = false;
    emit({ t: t, pos: pos, from: from, to: to }, info);
  }

  function segment(seg, st, emit) {
    var n = seg.length, i = 0, s;
    while (i < n) {
      var k = seg[i].k;
      if (k === B) {
        s = i;
        while (i < n && seg[i].k === B) i++;
        st.unitStart = true;
        if (i - s === 1) {
          emitTok(st, emit, seg[s].c, st.pos, seg[s].from, seg[s].to, true);
          st.pos++;
        } else {
          for (var x = s; x + 1 < i; x++) {
            emitTok(st, emit, seg[x].c + seg[x + 1].c, st.pos, seg[x].from, seg[x + 1].to, true);
            st.pos++;
          }
        }
      } else if (k === W) {
        s = i;
        for (;;) {
          while (i < n && seg[i].k === W) i++;
          if (i + 1 < n && seg[i].k === J && seg[i + 1].k === W) i++;
          else break;
        }
        var minus = (s === 1 && seg[0].c === '-') ? seg[0] : null;
        st.unitStart = true;
        compound(seg.slice(s, i), minus, st, emit);
      } else {
        i++;
      }
    }
  }

  function compound(run, minus, st, emit) {
    var atoms = [], conns = [], i = 0;
    while (i < run.length) {
      var s = i;
      while (i < run.length && run[i].k === W) i++;
      atoms.push([s, i]);
      if (i < run.length) { conns.push(run[i].c); i++; }
    }
    var base = st.pos;
    node(run, atoms, conns, 0, atoms.length, 0, base, minus, st, emit);
    st.pos = base + atoms.length;
  }

  function node(run, atoms, conns, lo, hi, level, base, minus, st, emit) {
    var fc = atoms[lo][0], tc = atoms[hi - 1][1];
    var text = '';
    for (var x = fc; x < tc; x++) text += run[x].c;
    var pos = base + lo, from = run[fc].from, to = run[tc - 1].to;
    if (minus) emitTok(st, emit, '-' + text, pos, minus.from, to, false);
    if (hi - lo === 1) { emitTok(st, emit, text, pos, from, to, true); return; }
    if (!minus) emitTok(st, emit, text, pos, from, to, false);
    for (var l = level; l < SPLIT_ORDER.length; l++) {
      var sep = SPLIT_ORDER[l], has = false;
      for (var k = lo; k < hi - 1; k++) if (conns[k] === sep) { has = true; break; }
      if (!has) continue;
      var s = lo;
      for (k = lo; k < hi - 1; k++) {
        if (conns[k] === sep) {
          node(run, atoms, conns, s, k + 1, l + 1, base, null, st, emit);
          s = k + 1;
        }
      }
      node(run, atoms, conns, s, hi, l + 1, base, null, st, emit);
      return;
    }
  }

  // Term of two atoms next to each other, for quoted phrases (pair_term in tokenize.rs).
  function pairTerm(a, b) { return '"' + a + ' ' + b; }

  function tokens(text) {
    var out = [];
    tokenize(text, function (t) { out.push([t.t, t.pos]); });
    return out;
  }

  // ---------------------------------------------------------------- query language
  var MAX_EXPANSIONS = 8;
  var KEY_HASH_LEN = 12;
  var FIELDS = {
    project: 'project', proj: 'project', status: 'status', type: 'type', issuetype: 'type',
    component: 'component', comp: 'component', fix: 'fix', fixversion: 'fix', fixver: 'fix',
    version: 'version', affects: 'version', affectsversion: 'version', label: 'label',
    labels: 'label', year: 'year', kind: 'kind', is: 'kind'
  };
  var WS = /\s/;

  function filterTerm(field, value) {
    var folded = fold(value), out = field + ':', space = false;
    for (var c of folded) {
      var u = c.codePointAt(0);
      var ws = c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\u000b' || c === '\u000c' || c === '-' || c === '_';
      if (!ws && ((u < 32) || (u >= 0x7F && u < 0xA0))) continue;
      if (ws) space = true;
      else {
        if (space && out.charAt(out.length - 1) !== ':') out += ' ';
        space = false;
        out += c;
      }
    }
    return out;
  }

  function isHash(s) { return /^[0-9a-fA-F]{7,64}$/.test(s); }
  function isIssueKey(s) { return /^[A-Za-z][A-Za-z0-9_]*-[0-9]+$/.test(s); }
  function keyTerm(k) {
    return isHash(k) ? 'key:' + k.toLowerCase().slice(0, KEY_HASH_LEN) : 'key:' + fold(k);
  }

  // The filter fields, as the note about an unknown one lists them.
  var FIELD_LIST = 'project, status, type, component, fix, version, label, year, kind';

  // The last word is a prefix unless the query ends in a space or a closing quote: the same
  // rule while typing, after Enter, for a shared link and in the terminal (query.rs).
  // The number of a Bugzilla reference: `bug 1234`, `Bug #1234`, `b=1234`, `b:1234`.
  function bugNumber(s) {
    var m = /^(?:bug\s*(?:#\s*)?|b[=:])([0-9]{1,18})$/i.exec(s);
    if (!m) return null;
    var n = m[1].replace(/^0+/, '');
    return n || null;
  }

  function parseQuery(q) {
    var out = { groups: [], filters: [], exclude: [], key: null, bug: null, notes: [] };
    var trimmed = q.trim();
    if (isIssueKey(trimmed)) out.key = [keyTerm(trimmed), false];
    else if (isHash(trimmed) && trimmed.length <= 40) out.key = [keyTerm(trimmed), trimmed.length < KEY_HASH_LEN];
    else out.bug = bugNumber(trimmed);
    var chars = Array.from(q), n = chars.length, i = 0, text = '';
    function flush() { if (text) { words(text, out); text = ''; } }
    while (i < n) {
      var c = chars[i];
      if (c === '"') {
        flush();
        var s = i + 1, e = s;
        while (e < n && chars[e] !== '"') e++;
        if (e >= n) out.notes.push('a quote is not closed: the rest of the query is read as one phrase');
        phraseGroup(chars.slice(s, e).join(''), out);
        i = e + 1;
        continue;
      }
      if (WS.test(c)) { text += ' '; i++; continue; }
      s = i; e = i;
      while (e < n && !WS.test(chars[e]) && chars[e] !== '"') e++;
      var word = chars.slice(s, e).join('');
      var negated = word.charAt(0) === '-' && word.length > 1;
      var bare = negated ? word.slice(1) : word;
      var colon = bare.indexOf(':');
      if (colon >= 0) {
        var field = FIELDS[bare.slice(0, colon).toLowerCase()];
        if (field) {
          flush();
          var v = bare.slice(colon + 1), next = e;
          if (v === '' && e < n && chars[e] === '"') {
            var vs = e + 1, ve = vs;
            while (ve < n && chars[ve] !== '"') ve++;
            v = chars.slice(vs, ve).join('');
            next = ve + 1;
          }
          addFilter(out, field, v, negated);
          i = next;
          continue;
        }
        var fname = bare.slice(0, colon), fval = bare.slice(colon + 1);
        if (!negated && /^[A-Za-z]{1,20}$/.test(fname) && fval !== '' && fval.slice(0, 2) !== '//') {
          out.notes.push('`' + fname + ':` is not a filter (the filters are ' + FIELD_LIST + '); searched as words');
        }
      }
      if (word.length > 1 && word.charAt(word.length - 1) === '*') {
        flush();
        var before = out.groups.length;
        words(word.slice(0, -1), out);
        if (out.groups.length > before) out.groups[out.groups.length - 1].prefix = true;
        i = e;
        continue;
      }
      text += word;
      i = e;
    }
    var last = chars[n - 1];
    var endsInWord = n > 0 && !WS.test(last) && last !== '"';
    before = out.groups.length;
    flush();
    if (endsInWord && out.groups.length > before) out.groups[out.groups.length - 1].prefix = true;
    tidy(out);
    return out;
  }

  // Drops repeated groups, and in a long query (a pasted log line) numbers and hex addresses.
  var LONG_QUERY = 6;
  function isNoise(a) {
    return /^[0-9]+$/.test(a) || /^[0-9a-f]{8,}$/.test(a) || /^0x[0-9a-f]{8,}$/.test(a);
  }
  function tidy(q) {
    var long = q.groups.length >= LONG_QUERY, seen = new Set();
    q.groups = q.groups.filter(function (g) {
      var sig = JSON.stringify([g.whole, g.atoms, g.phrase, g.prefix]);
      if (seen.has(sig)) return false;
      seen.add(sig);
      return !(long && !g.prefix && g.whole === null && g.atoms.length === 1 && isNoise(g.atoms[0]));
    });
  }

  function addFilter(out, field, value, negated) {
    // `status:open,reopened`: alternatives, as `status:open status:reopened` are.
    if (field !== 'year' && value.indexOf(',') >= 0) {
      value.split(',').forEach(function (v) { if (v.trim()) addFilter(out, field, v, negated); });
      return;
    }
    var terms = [];
    if (field === 'year') {
      var yr = function (x) { return /^\s*[-+]?\d+\s*$/.test(x) ? parseInt(x, 10) : null; };
      var dots = value.indexOf('..');
      if (dots >= 0) {
        var a = yr(value.slice(0, dots)), b = yr(value.slice(dots + 2));
        if (a !== null && b !== null && a <= b && b - a <= 200) {
          for (var y = a; y <= b; y++) terms.push('year:' + y);
        } else out.notes.push('`year:' + value + '` is not a range like `year:2010..2015`; ignored');
        if (!terms.length) return;
      } else if (value !== '' && yr(value) === null) {
        out.notes.push('`year:' + value + '` is not a year like `year:2015`; ignored');
        return;
      }
    }
    if (field === 'kind') terms.push('kind:' + fold(value).replace(/s+$/, ''));
    if (!terms.length) terms.push(filterTerm(field, value));
    if (terms.every(function (t) { return t.length === field.length + 1; })) return;
    var list = negated ? out.exclude : out.filters;
    var f = list.find(function (x) { return x[0] === field; });
    if (!f) { f = [field, []]; list.push(f); }
    terms.forEach(function (t) { if (f[1].indexOf(t) < 0) f[1].push(t); });
  }

  function words(text, out) {
    var cur = null;
    tokenize(text, function (t, info) {
      if (info.unitStart) {
        if (cur) out.groups.push(cur);
        cur = { whole: null, atoms: [], phrase: false, prefix: false };
      }
      if (!cur) cur = { whole: null, atoms: [], phrase: false, prefix: false };
      if (info.atom) cur.atoms.push(t.t);
      else if (info.unitStart) cur.whole = t.t;
    });
    if (cur) out.groups.push(cur);
    out.groups.forEach(function (g) { if (g.whole === null && g.atoms.length > 1) g.phrase = true; });
  }

  function phraseGroup(text, out) {
    var g = { whole: null, atoms: [], phrase: true, prefix: false, quoted: true };
    tokenize(text, function (t, info) { if (info.atom) g.atoms.push(t.t); });
    if (g.atoms.length === 1) { g.phrase = false; g.quoted = false; }
    if (g.atoms.length) out.groups.push(g);
  }

  // ---------------------------------------------------------------- index access
  var B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  var B64V = {};
  for (var bi = 0; bi < 64; bi++) B64V[B64.charAt(bi)] = bi;

  function Reader(s, at) { this.s = s; this.i = at || 0; }
  Reader.prototype.vlq = function () {
    var v = 0, mul = 1, d;
    do {
      d = B64V[this.s.charAt(this.i++)];
      v += (d & 31) * mul;
      mul *= 32;
    } while (d >= 32);
    return v;
  };
  Reader.prototype.digit = function () { return B64V[this.s.charAt(this.i++)]; };
  Reader.prototype.done = function () { return this.i >= this.s.length; };

  // Code point order (the build sorts UTF-8 bytes).
  function cmp(a, b) {
    var n = Math.min(a.length, b.length);
    for (var i = 0; i < n; i++) {
      var x = a.charCodeAt(i), y = b.charCodeAt(i);
      if (x !== y) {
        if (x >= 0xD800 && y >= 0xD800) {
          x = x >= 0xE000 ? x - 0x800 : x + 0x2000;
          y = y >= 0xE000 ? y - 0x800 : y + 0x2000;
        }
        return x < y ? -1 : 1;
      }
    }
    return a.length - b.length;
  }

  function bucket(prefix, i) { return prefix + '/' + Math.floor(i / 1000) + '/' + (i % 1000); }
  // File k of a leaf: the leaf, then its postings files.
  function leafFile(name, k) { return 'l/' + name + (k ? '-' + k : ''); }

  var H = window.hindsightSearch = window.hindsightSearch || {};
  var pending = Object.create(null);
  var files = new Map();
  H.stats = { files: 0, ids: [] };
  H.load = function (id, data) {
    var r = pending[id];
    if (r) { delete pending[id]; r(data); }
  };

  function siteRoot() {
    var r = document.body && document.body.getAttribute('data-root');
    return r || '';
  }

  function get(id) {
    var p = files.get(id);
    if (p) return p;
    p = new Promise(function (resolve, reject) {
      pending[id] = resolve;
      var s = document.createElement('script');
      s.src = siteRoot() + 'search/' + id + '.js';
      s.charset = 'utf-8';
      s.async = true;
      s.onload = function () {
        s.remove();
        if (pending[id]) { delete pending[id]; reject(new Error('search index file ' + id + ' did not load')); }
      };
      s.onerror = function () {
        s.remove();
        delete pending[id];
        reject(new Error('search index file ' + id + ' is missing'));
      };
      H.stats.files++;
      H.stats.ids.push(id);
      document.head.appendChild(s);
    });
    files.set(id, p);
    p.catch(function () { files.delete(id); });
    return p;
  }

  var rootP = null;
  function root() { return rootP || (rootP = get('root')); }

  // Index of the last separator <= term (0 if none).
  function child(seps, term) {
    var lo = 0, hi = seps.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (cmp(seps[mid], term) <= 0) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  // A node of the term tree: [separators, names] of its children.
  function treeNode(name) { return get('n/' + name); }

  function leafName(term) {
    return root().then(function (r) {
      function down(seps, names, h) {
        var name = names[child(seps, term)];
        if (h === 0) return name;
        return treeNode(name).then(function (kids) { return down(kids[0], kids[1], h - 1); });
      }
      return down(r.t, r.c, r.h);
    });
  }

  var leafCache = new Map();
  function leaf(name) {
    var p = leafCache.get(name);
    if (!p) {
      p = get(leafFile(name, 0)).then(function (data) { return parseLeaf(data, name); });
      leafCache.set(name, p);
    }
    return p;
  }

  function parseLeaf(data, name) {
    var suffixes = data[0], rd = new Reader(data[1]), at = 0, prev = '';
    var terms = [], byTerm = new Map();
    while (!rd.done()) {
      var plen = rd.vlq(), slen = rd.vlq();
      var t = prev.slice(0, plen) + suffixes.slice(at, at + slen);
      at += slen;
      var e = { leaf: name, term: t, df: rd.vlq() };
      var n = rd.vlq();
      e.first = rd.s.substr(rd.i, n);
      rd.i += n;
      e.extra = rd.vlq();
      if (e.extra > 0) e.base = rd.vlq();
      terms.push(e);
      byTerm.set(t, e);
      prev = t;
    }
    return { terms: terms, byTerm: byTerm };
  }

  function lookup(term) {
    return leafName(term).then(leaf).then(function (l) { return l.byTerm.get(term) || null; });
  }

  // Leaves that may hold terms starting with p (at most max).
  function prefixLeaves(p, max) {
    return root().then(function (r) {
      var out = [];
      function walk(seps, names, h, first) {
        var lo = first ? child(seps, p) : 0;
        var j = lo;
        function step() {
          if (j >= seps.length || out.length >= max) return Promise.resolve(true);
          if (j > lo && seps[j].slice(0, p.length) !== p) return Promise.resolve(false);
          var name = names[j], isFirst = first && j === lo;
          j++;
          if (h === 0) { out.push(name); return step(); }
          return treeNode(name).then(function (kids) {
            return walk(kids[0], kids[1], h - 1, isFirst);
          }).then(function (more) { return more ? step() : false; });
        }
        return step();
      }
      return walk(r.t, r.c, r.h, true).then(function () { return out; });
    });
  }

  function expand(stem) {
    return prefixLeaves(stem, 3).then(function (ls) {
      return Promise.all(ls.map(leaf));
    }).then(function (leaves) {
      var found = [];
      leaves.forEach(function (l) {
        l.terms.forEach(function (e) {
          if (e.term.length > stem.length && e.term.slice(0, stem.length) === stem && e.term.indexOf(':') < 0) found.push(e);
        });
      });
      found.sort(function (a, b) { return b.df - a.df || cmp(a.term, b.term); });
      return found.slice(0, MAX_EXPANSIONS);
    });
  }

  // The k-th chunk (0-based) of a term's postings, as a string.
  function chunk(e, k) {
    if (k === 0) return Promise.resolve(e.first);
    return get(leafFile(e.leaf, e.base + k - 1)).then(function (a) { return a[0]; });
  }

  function decodeImpacts(s, out) {
    var rd = new Reader(s), minQ = 64;
    while (!rd.done()) {
      var q = rd.digit(), count = rd.vlq(), d = rd.vlq();
      out.push(q, d);
      for (var c = 1; c < count; c++) { d += rd.vlq() + 1; out.push(q, d); }
      minQ = q;
    }
    return minQ;
  }

  // A filter term's documents as a Set: chunks of (block number, gap list or bitmap).
  function filterDocs(e, r, set) {
    var ps = [];
    for (var k = 0; k <= e.extra; k++) ps.push(chunk(e, k));
    return Promise.all(ps).then(function (chunks) {
      chunks.forEach(function (s) {
        if (!s) return;
        var rd = new Reader(s), start = rd.vlq() * Math.pow(2, r.fb), kind = s.charAt(rd.i++);
        if (kind === 'l') {
          var d = start + rd.vlq();
          set.add(d);
          while (!rd.done()) { d += rd.vlq() + 1; set.add(d); }
        } else {
          for (var i = rd.i; i < s.length; i++) {
            var v = B64V[s.charAt(i)], base = start + (i - rd.i) * 6;
            for (var b = 0; b < 6; b++) if (v & (1 << b)) set.add(base + b);
          }
        }
      });
      return set;
    });
  }

  var shardCache = new Map();
  function record(ord) {
    return root().then(function (r) { return recordIn(r, ord); });
  }
  function recordIn(r, ord) {
    var s = Math.floor(ord / r.g);
    var p = shardCache.get(s);
    if (!p) { p = get(bucket('d', s)); shardCache.set(s, p); }
    return p.then(function (recs) {
      var x = recs[ord % r.g];
      return { ord: ord, kind: x[0] === 0 ? 'issue' : 'commit', key: x[1], title: x[2], path: x[3], status: x[4], type: x[5], year: x[6], xs: x[7], more: x[8] || [], cut: x[9] === 1 };
    });
  }

  // A record's text, from its text shard [first, text, ...].
  function textOf(x) {
    if (typeof x.xs !== 'number') return Promise.resolve('');
    return get(bucket('x', x.xs)).then(function (a) {
      var t = a[1 + x.ord - a[0]];
      return typeof t === 'string' ? t : '';
    });
  }

  // ---------------------------------------------------------------- evaluation
  var BUDGET_CHARS = 100000;

  // The note for a filter whose value no document has, with the nearest value the field does
  // have (facets.js) when one is close (unknown_value in client.rs).
  function unknownValue(field, term) {
    var typed = term.slice(0, field.length + 1) === field + ':' ? term.slice(field.length + 1) : term;
    return get('facets').then(function (facets) {
      var best = null;
      (facets[field] || []).forEach(function (v) {
        var t = filterTerm(field, v[0]);
        var d = editDistance(typed, t.slice(field.length + 1));
        if (!best || d < best[0]) best = [d, v[0]];
      });
      var limit = Math.min(2, Math.max(0, Array.from(typed).length - 1));
      var note = 'no document has ' + field + ' "' + typed + '"';
      return best && best[0] <= limit ? note + '; did you mean ' + best[1] + '?' : note;
    });
  }

  // Levenshtein distance, in code points.
  function editDistance(a, b) {
    a = Array.from(a); b = Array.from(b);
    var prev = [];
    for (var j = 0; j <= b.length; j++) prev.push(j);
    for (var i = 0; i < a.length; i++) {
      var cur = [i + 1];
      for (j = 0; j < b.length; j++) {
        cur.push(Math.min(prev[j] + (a[i] === b[j] ? 0 : 1), prev[j + 1] + 1, cur[j] + 1));
      }
      prev = cur;
    }
    return prev[b.length];
  }

  // Runs a query; resolves to {hits: [{ord, groups, score}], total, exact, key, highlight}.
  function search(q, opts) {
    opts = opts || {};
    var want = opts.want || 10;
    var pq = parseQuery(q);
    return root().then(function (r) {
      var highlight = new Set();
      var terms = []; // {e, group, alt, atom}
      var groups = pq.groups.map(function (g, gi) {
        return resolveGroup(g).then(function (sel) {
          sel.terms.forEach(function (x) {
            x.group = gi;
            terms.push(x);
            if (x.e.term.charAt(0) !== '"') highlight.add(x.e.term);
          });
          (g.atoms || []).forEach(function (a) { highlight.add(a); });
          if (g.whole) highlight.add(g.whole);
          return sel;
        });
      });
      // `bug 1234` is the key `BZ-1234` in an archive whose Bugzilla prefix is `BZ`.
      if (!pq.key && pq.bug && r.bz) pq.key = [keyTerm(r.bz + '-' + pq.bug), false];
      var keyP = pq.key ? resolveKey(pq.key) : Promise.resolve([]);
      var valueNotes = [];
      var filterP = Promise.all(pq.filters.map(function (f, fi) {
        return Promise.all(f[1].map(lookup)).then(function (es) {
          var set = new Set();
          if (!es.some(Boolean)) valueNotes.push(unknownValue(f[0], f[1][0]).then(function (n) { return [fi, n]; }));
          return Promise.all(es.filter(Boolean).map(function (e) { return filterDocs(e, r, set); })).then(function () { return set; });
        });
      }));
      var excluded = new Set();
      var excludeP = Promise.all(pq.exclude.map(function (f) {
        return Promise.all(f[1].map(lookup)).then(function (es) {
          return Promise.all(es.filter(Boolean).map(function (e) { return filterDocs(e, r, excluded); }));
        });
      }));
      return Promise.all([Promise.all(groups), keyP, filterP, excludeP]).then(function (all) {
        return Promise.all(valueNotes).then(function (vn) {
          vn.sort(function (a, b) { return a[0] - b[0]; });
          vn.forEach(function (x) { pq.notes.push(x[1]); });
          return all;
        });
      }).then(function (all) {
        var sels = all[0], keyOrds = all[1], filterSets = all[2];
        filterSets.sort(function (a, b) { return a.size - b.size; });
        function allowed(d) {
          for (var i = 0; i < filterSets.length; i++) if (!filterSets[i].has(d)) return false;
          return !excluded.has(d);
        }
        function finish(res) {
          res.key = keyOrds.filter(allowed);
          res.highlight = highlight;
          res.query = pq;
          res.notes = pq.notes.slice();
          return res;
        }
        // A key the archive does not hold: say so, and list nothing in its place.
        if (pq.key && !pq.key[1] && !keyOrds.filter(allowed).length) {
          var missing = finish({ hits: [], total: 0, exact: true });
          missing.notes.push(q.trim() + ' is not in this archive');
          return missing;
        }
        var early = opts.onProgress ? function (res) { opts.onProgress(finish(res)); } : null;
        return rank(r, pq, sels, terms, allowed, filterSets, excluded.size > 0, want, early).then(finish);
      });
    });
  }

  // Which terms stand for a group: its whole compound if indexed, else its atoms; a prefix's
  // completions.
  function resolveGroup(g) {
    var sel = { group: g, terms: [], atoms: 0, phrase: false };
    function add(e, atom, weight) { if (e) sel.terms.push({ e: e, atom: atom, weight: weight, chunks: 0, done: false, minQ: 64 }); }
    // Whole-number weights (the word itself 5, a completion 4) on the whole-number scores of
    // root.js's `w`: sums are exact, so every reader ranks alike (client.rs).
    if (g.prefix) {
      var stem = g.whole || g.atoms[g.atoms.length - 1] || '';
      var cjk = stem && classOf(Array.from(stem)[0]) === B;
      var exact = lookup(stem);
      var more = (cpLen(stem) >= 2 || cjk) ? expand(stem) : Promise.resolve([]);
      return Promise.all([exact, more]).then(function (x) {
        add(x[0], 0, 5);
        x[1].forEach(function (e) { add(e, 0, 4); });
        sel.atoms = 1;
        return sel;
      });
    }
    if (g.quoted && g.atoms.length > 1) {
      // A quoted phrase: documents with each two neighbouring words as a pair term.
      var ps = [];
      for (var i = 0; i + 1 < g.atoms.length; i++) ps.push(lookup(pairTerm(g.atoms[i], g.atoms[i + 1])));
      return Promise.all(ps).then(function (es) {
        es.forEach(function (e, i) { add(e, i, 5); });
        sel.atoms = g.atoms.length - 1;
        sel.phrase = true;
        sel.required = true;
        sel.found = sel.terms.length;
        // Three words or more: the pairs narrow, the text decides (holdsPhrases).
        if (g.atoms.length > 2) sel.check = g.atoms.slice();
        return sel;
      });
    }
    var wholeP = g.whole ? lookup(g.whole) : Promise.resolve(null);
    return wholeP.then(function (w) {
      if (w) { add(w, 0, 5); sel.atoms = 1; return sel; }
      return Promise.all(g.atoms.map(lookup)).then(function (es) {
        es.forEach(function (e, i) { add(e, i, 5); });
        sel.atoms = g.atoms.length;
        sel.phrase = g.atoms.length > 1;
        sel.found = sel.terms.length;
        return sel;
      });
    });
  }

  function resolveKey(k) {
    var p = k[1] ? prefixLeaves(k[0], 1).then(function (ls) { return Promise.all(ls.map(leaf)); }).then(function (leaves) {
      var es = [];
      leaves.forEach(function (l) { l.terms.forEach(function (e) { if (e.term.slice(0, k[0].length) === k[0]) es.push(e); }); });
      return es.slice(0, 5);
    }) : lookup(k[0]).then(function (e) { return e ? [e] : []; });
    return p.then(function (es) {
      return root().then(function (r) {
        return Promise.all(es.map(function (e) { return filterDocs(e, r, new Set()); }));
      });
    }).then(function (sets) {
      var out = [];
      sets.forEach(function (s) { s.forEach(function (d) { out.push(d); }); });
      return out.sort(function (a, b) { return a - b; });
    });
  }

  function rank(r, pq, sels, terms, allowed, filterSets, excluding, want, early) {
    var docs = new Map(); // ord -> {g: Float64Array per group score, atoms: per group bitmask}
    var ng = sels.length;
    var chars = 0;
    // Quoted phrases of three words or more: the text of each candidate about to be listed
    // decides; one that fails is out (checked, rejected).
    var checks = sels.filter(function (s) { return s.check; }).map(function (s) { return s.check; });
    var checked = new Set(), rejected = new Set();
    function qScore(q) { return r.w[q]; }

    function apply(t, s) {
      var buf = [];
      t.minQ = decodeImpacts(s, buf);
      chars += s.length;
      t.chunks++;
      var sel = sels[t.group];
      for (var i = 0; i < buf.length; i += 2) {
        var d = buf[i + 1];
        if ((excluding || filterSets.length) && !allowed(d) || rejected.has(d)) continue;
        var x = docs.get(d);
        if (!x) { x = { ord: d, gs: new Float64Array(ng), am: new Array(ng).fill(0) }; docs.set(d, x); }
        var sc = qScore(buf[i]) * t.weight;
        if (sel.phrase) { x.gs[t.group] += sc; x.am[t.group] |= (1 << Math.min(t.atom, 30)); }
        else { if (sc > x.gs[t.group]) x.gs[t.group] = sc; x.am[t.group] = 1; }
      }
      if (t.chunks > t.e.extra) t.done = true;
    }

    function loadNext(list) {
      return Promise.all(list.map(function (t) { return chunk(t.e, t.chunks).then(function (s) { apply(t, s); }); }));
    }

    function matched(x) {
      var m = 0;
      for (var g = 0; g < ng; g++) {
        var sel = sels[g];
        if (sel.phrase) { if (x.am[g] === (1 << sel.atoms) - 1) m++; } else if (x.am[g]) m++;
      }
      return m;
    }

    function score(x) { var s = 0; for (var g = 0; g < ng; g++) s += x.gs[g]; return s; }

    function ranked() {
      var list = [];
      docs.forEach(function (x) {
        // Listed only with every quoted phrase (settled() counts unread pairs).
        var ok = true;
        for (var g = 0; g < ng; g++) {
          var sel = sels[g];
          if (sel.required && x.am[g] !== (1 << sel.atoms) - 1) { ok = false; break; }
        }
        if (ok) list.push({ ord: x.ord, groups: matched(x), score: score(x) });
      });
      list.sort(function (a, b) { return b.groups - a.groups || b.score - a.score || b.ord - a.ord; });
      return list;
    }

    // Whether more postings could change the first `want` results: no document, seen or
    // not, can still match more groups than the want-th result, or as many with a higher
    // score (postings are ordered by impact, so what is unread scores at most the impact of
    // the last read posting of each term).
    function settled(list) {
      var per = new Float64Array(ng), openG = new Array(ng).fill(false), any = false;
      terms.forEach(function (t) {
        if (t.done) return;
        any = true;
        openG[t.group] = true;
        var v = qScore(t.minQ) * t.weight;
        if (sels[t.group].phrase) per[t.group] += v; else per[t.group] = Math.max(per[t.group], v);
      });
      if (!any) return true;
      if (list.length < want) return false;
      var kth = list[want - 1];
      function beats(m, s) { return m > kth.groups || (m === kth.groups && s > kth.score); }
      var um = 0, us = 0;
      for (var g = 0; g < ng; g++) if (openG[g]) { um++; us += per[g]; }
      if (beats(um, us)) return false;
      var ok = true;
      docs.forEach(function (x) {
        if (!ok) return;
        var m = 0, s = 0;
        for (var g = 0; g < ng; g++) {
          var sel = sels[g];
          var full = sel.phrase ? x.am[g] === (1 << sel.atoms) - 1 : x.am[g] !== 0;
          s += x.gs[g];
          if (full) m++;
          else if (openG[g]) { m++; s += per[g]; }
        }
        if (beats(m, s)) ok = false;
      });
      return ok;
    }

    function loop() {
      var list = ranked();
      if (checks.length) {
        var pending = list.slice(0, want).map(function (h) { return h.ord; }).filter(function (d) { return !checked.has(d); });
        if (pending.length) {
          return Promise.all(pending.map(function (d) { return holdsPhrases(r, d, checks); })).then(function (ok) {
            pending.forEach(function (d, i) {
              if (ok[i]) checked.add(d); else { rejected.add(d); docs.delete(d); }
            });
            return loop();
          });
        }
      }
      if (settled(list) || chars >= BUDGET_CHARS) {
        var exact = terms.every(function (t) { return t.done; }) &&
          (!checks.length || list.every(function (h) { return checked.has(h.ord); }));
        return { hits: list, total: list.length, exact: exact, checks: checks, checked: checked, rejected: rejected };
      }
      // Show what is known while more postings load (once).
      if (early) { early({ hits: list, total: list.length, exact: false, partial: true }); early = null; }
      // Load, at once, the next chunk of each open term whose unread postings may still
      // score at least half as much as the best unread ones.
      var open = terms.filter(function (t) { return !t.done; });
      var top = Math.max.apply(null, open.map(function (t) { return qScore(t.minQ) * t.weight; }));
      return loadNext(open.filter(function (t) { return qScore(t.minQ) * t.weight * 2 >= top; })).then(loop);
    }

    // A quoted phrase with a pair found nowhere: nothing matches.
    if (sels.some(function (s) { return s.required && s.found < s.atoms; })) {
      return Promise.resolve({ hits: [], total: 0, exact: true });
    }
    if (!terms.length) {
      // Only filters (or nothing): the filtered documents, newest first.
      var list = [];
      if (filterSets.length) filterSets[0].forEach(function (d) { if (allowed(d)) list.push({ ord: d, groups: 0, score: 0 }); });
      // Only exclusions: every other document.
      else if (excluding) for (var d = 0; d < r.n; d++) { if (allowed(d)) list.push({ ord: d, groups: 0, score: 0 }); }
      list.sort(function (a, b) { return b.ord - a.ord; });
      return Promise.resolve({ hits: list, total: list.length, exact: true });
    }
    return loadNext(terms).then(loop);
  }

  // Marks the ranges of text whose tokens are in `terms`: [[from, to], ...], merged.
  function marks(text, terms) {
    var rs = [];
    tokenize(text, function (t) { if (terms.has(t.t)) rs.push([t.from, t.to]); });
    rs.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var out = [];
    rs.forEach(function (x) {
      var l = out[out.length - 1];
      if (l && x[0] <= l[1]) l[1] = Math.max(l[1], x[1]); else out.push([x[0], x[1]]);
    });
    return out;
  }

  // Whether document d holds each phrase (atoms in a row) in its key, title, text, components
  // or labels (holds_phrases in client.rs); one whose text was cut does as far as we can tell.
  function holdsPhrases(r, d, phrases) {
    return recordIn(r, d).then(function (x) {
      if (x.cut) return true;
      return textOf(x).then(function (t) {
        var parts = [x.key, x.title, t].concat(x.more);
        return phrases.every(function (atoms) {
          return parts.some(function (p) { return hasPhrase(p, atoms); });
        });
      });
    });
  }

  // Whether the atoms appear in a row in text.
  function hasPhrase(text, atoms) {
    var seq = [];
    tokenize(text, function (t, info) { if (info.atom) seq.push(t.t); });
    outer: for (var i = 0; i + atoms.length <= seq.length; i++) {
      for (var j = 0; j < atoms.length; j++) if (seq[i + j] !== atoms[j]) continue outer;
      return true;
    }
    return false;
  }

  // The passage under a result (snippet in client.rs): SNIPPET_SPAN UTF-16 units where most
  // distinct query words are (else the start), cut at spaces.
  var SNIPPET_SPAN = 240, SNIPPET_CONTEXT = 60;
  function snippet(text, terms) {
    var ms = [];
    tokenize(text, function (t) { if (terms.has(t.t)) ms.push(t); });
    ms.sort(function (a, b) { return a.from - b.from; });
    var from = 0, to = 0, bestD = 0, bestC = 0;
    for (var i = 0; i < ms.length; i++) {
      var seen = new Set(), c = 0;
      for (var j = i; j < ms.length && ms[j].to <= ms[i].from + SNIPPET_SPAN; j++) { seen.add(ms[j].t); c++; }
      if (seen.size > bestD || (seen.size === bestD && c > bestC)) { bestD = seen.size; bestC = c; from = ms[i].from; to = ms[i].to; }
    }
    var len = text.length, a, b, sp;
    if (from <= SNIPPET_CONTEXT) a = 0;
    else {
      sp = text.indexOf(' ', from - SNIPPET_CONTEXT);
      a = sp >= 0 && sp < from ? sp + 1 : from;
    }
    b = Math.max(a + SNIPPET_SPAN, to);
    if (b >= len) b = len;
    else {
      sp = text.indexOf(' ', b);
      b = sp < 0 ? len : sp;
      if (b - a > SNIPPET_SPAN + SNIPPET_CONTEXT) {
        b = a + SNIPPET_SPAN + SNIPPET_CONTEXT;
        var u = text.charCodeAt(b - 1);
        if (u >= 0xD800 && u < 0xDC00) b--;
      }
    }
    return (a > 0 ? '…' : '') + text.slice(a, b) + (b < len ? '…' : '');
  }

  // Records of the hits from..from+n (the named keys first), phrase matches first, with texts
  // and snippets. A quoted phrase of three words or more that rank() left unchecked (past the
  // first `want`) is checked here; a result that fails is dropped and the page refilled.
  function page(res, from, n) {
    return root().then(function (r) {
      var ords = res.key.slice();
      res.hits.forEach(function (h) {
        if (ords.length < from + n && res.key.indexOf(h.ord) < 0 && !(res.rejected && res.rejected.has(h.ord))) ords.push(h.ord);
      });
      ords = ords.slice(from, from + n);
      var unchecked = res.checks && res.checks.length ? ords.filter(function (d) { return res.key.indexOf(d) < 0 && !res.checked.has(d); }) : [];
      if (unchecked.length) {
        return Promise.all(unchecked.map(function (d) { return holdsPhrases(r, d, res.checks); })).then(function (ok) {
          unchecked.forEach(function (d, i) {
            if (ok[i]) res.checked.add(d); else { res.rejected.add(d); res.total--; }
          });
          return page(res, from, n);
        });
      }
      return Promise.all(ords.map(function (d) {
        return recordIn(r, d).then(function (x) {
          return textOf(x).then(function (t) {
            x.text = t;
            x.snippet = snippet(t, res.highlight);
            return x;
          });
        });
      })).then(function (recs) {
        var phrases = res.query.groups.filter(function (g) { return g.phrase && g.atoms.length > 1; });
        if (!phrases.length) return recs;
        var keyed = recs.map(function (x, i) {
          var text = x.title + '\n' + x.text;
          var v = phrases.filter(function (g) { return hasPhrase(text, g.atoms); }).length;
          return { x: x, v: v, i: i };
        });
        keyed.sort(function (a, b) {
          var ak = res.key.indexOf(a.x.ord) >= 0, bk = res.key.indexOf(b.x.ord) >= 0;
          return (bk - ak) || (b.v - a.v) || (a.i - b.i);
        });
        return keyed.map(function (k) { return k.x; });
      });
    });
  }

  H.fold = fold;
  H.tokens = tokens;
  H.tokenize = tokenize;
  H.parseQuery = parseQuery;
  H.search = search;
  H.page = page;
  H.marks = marks;
  H.snippet = snippet;

  // ---------------------------------------------------------------- user interface
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function highlighted(parent, text, terms) {
    var at = 0;
    marks(text, terms).forEach(function (m) {
      if (m[0] > at) parent.appendChild(document.createTextNode(text.slice(at, m[0])));
      parent.appendChild(el('mark', null, text.slice(m[0], m[1])));
      at = m[1];
    });
    if (at < text.length) parent.appendChild(document.createTextNode(text.slice(at)));
  }

  function resultItem(x, terms) {
    var li = el('li', 'search-result');
    var a = el('a', 'search-result-link');
    a.href = siteRoot() + x.path;
    if (x.kind === 'issue') a.appendChild(el('span', 'search-key', x.key));
    else a.appendChild(el('span', 'search-key search-sha', x.key.slice(0, 10)));
    a.appendChild(document.createTextNode(' '));
    var t = el('span', 'search-title');
    highlighted(t, x.title, terms);
    a.appendChild(t);
    li.appendChild(a);
    var meta = [x.kind === 'commit' ? 'commit' : null, x.status, x.type, x.year].filter(function (v) { return v !== null && v !== undefined && v !== ''; });
    if (meta.length) li.appendChild(el('div', 'search-meta', meta.join(' · ')));
    if (x.snippet) {
      var p = el('p', 'search-snippet');
      highlighted(p, x.snippet, terms);
      li.appendChild(p);
    }
    return li;
  }

  function number(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }

  var FILTER_LABELS = [['kind', 'Issues or commits'], ['project', 'Project'], ['status', 'Status'], ['type', 'Type'], ['component', 'Component'], ['fix', 'Fix version'], ['version', 'Affects version'], ['year', 'Year']];

  function initPage(pageEl) {
    var form = document.getElementById('search-form');
    var input = document.getElementById('search-q');
    var status = document.getElementById('search-status');
    var list = document.getElementById('search-results');
    var more = document.getElementById('search-more');
    var details = document.getElementById('search-filters');
    var params = new URLSearchParams(location.search);
    var q0 = params.get('q') || '';
    var noJump = params.get('jump') === '0';
    input.value = q0;
    var seq = 0, current = null, shown = 0, timer = 0;
    var PAGE = 10;

    function setUrl(q) {
      try {
        var u = new URL(location.href);
        u.searchParams.set('q', q);
        u.searchParams.delete('jump');
        history.replaceState(null, '', u.href);
      } catch (e) { /* some file:// setups refuse; the page still works */ }
    }

    function show(res, append, provisional) {
      var from = append ? shown : 0;
      return page(res, from, PAGE).then(function (recs) {
        if (!append) { list.textContent = ''; shown = 0; }
        recs.forEach(function (x) { list.appendChild(resultItem(x, res.highlight)); });
        shown += recs.length;
        var total = res.total + res.key.filter(function (d) { return !res.hits.some(function (h) { return h.ord === d; }); }).length;
        more.hidden = shown >= total;
        // Notes first: how the query was read (unknown filter, a key not in the archive).
        var notes = (res.notes || []).map(function (x) { return x + '. '; }).join('');
        if (!total) status.textContent = notes || 'No results for ' + input.value.trim() + '.';
        else status.textContent = notes + (res.exact ? '' : 'About ') + number(total) + (total === 1 ? ' result' : ' results') + (shown < total ? ', showing ' + shown : '') + '.';
        pageEl.setAttribute('data-state', provisional ? 'refining' : 'done');
        return recs;
      });
    }

    function run(q, typing, jump) {
      var my = ++seq;
      shown = 0;
      if (!q.trim()) {
        list.textContent = '';
        status.textContent = '';
        more.hidden = true;
        pageEl.setAttribute('data-state', 'idle');
        return Promise.resolve();
      }
      pageEl.setAttribute('data-state', 'searching');
      var t0 = performance.now();
      var shownEarly = null;
      function early(res) {
        if (my !== seq || jump && res.key.length === 1 && !noJump) return;
        shownEarly = show(res, false, true).then(function () {
          if (H.stats.firstMs === undefined || H.stats.firstRun !== my) { H.stats.firstMs = performance.now() - t0; H.stats.firstRun = my; }
        });
      }
      return search(q, { typing: typing, want: PAGE, onProgress: early }).then(function (res) {
        if (my !== seq) return;
        return (shownEarly || Promise.resolve()).then(function () { return res; });
      }).then(function (res) {
        if (!res || my !== seq) return;
        if (jump && res.key.length === 1 && !noJump) {
          return record(res.key[0]).then(function (x) {
            pageEl.setAttribute('data-state', 'jumping');
            location.replace(siteRoot() + x.path);
          });
        }
        current = res;
        shown = 0;
        return show(res, false).then(function () {
          H.stats.lastMs = performance.now() - t0;
          if (H.stats.firstRun !== my) { H.stats.firstMs = H.stats.lastMs; H.stats.firstRun = my; }
        });
      }).catch(function (e) {
        if (my !== seq) return;
        status.textContent = 'Search failed: ' + e.message;
        pageEl.setAttribute('data-state', 'error');
      });
    }

    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        setUrl(input.value);
        run(input.value, true, false);
      }, 120);
    });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      clearTimeout(timer);
      setUrl(input.value);
      run(input.value, false, true);
    });
    more.addEventListener('click', function () {
      if (current) show(current, true).then(function (recs) {
        var first = list.children[shown - recs.length];
        if (first) first.querySelector('a').focus();
      });
    });

    // Keyboard: arrows move between the box and the results; Escape returns to the box.
    function links() { return Array.prototype.slice.call(list.querySelectorAll('a.search-result-link')); }
    input.addEventListener('keydown', function (ev) {
      if (ev.key === 'ArrowDown') {
        var ls = links();
        if (ls.length) { ev.preventDefault(); ls[0].focus(); }
      }
    });
    list.addEventListener('keydown', function (ev) {
      var ls = links(), i = ls.indexOf(document.activeElement);
      if (i < 0) return;
      if (ev.key === 'ArrowDown' && i + 1 < ls.length) { ev.preventDefault(); ls[i + 1].focus(); }
      else if (ev.key === 'ArrowUp') { ev.preventDefault(); (i > 0 ? ls[i - 1] : input).focus(); }
      else if (ev.key === 'Escape') { ev.preventDefault(); input.focus(); }
    });

    // Filters: choosing a value edits the query, so the URL carries everything.
    var selects = {};
    var facetsLoaded = null;
    function currentValue(field) {
      var pq = parseQuery(input.value, false);
      var f = pq.filters.find(function (x) { return x[0] === field; });
      return f ? f[1][0] : '';
    }
    function loadFacets() {
      if (facetsLoaded) return facetsLoaded;
      facetsLoaded = get('facets').then(function (facets) {
        FILTER_LABELS.forEach(function (fl) {
          var sel = selects[fl[0]];
          if (!sel) return;
          var vals = facets[fl[0]] || [];
          var cur = currentValue(fl[0]);
          vals.forEach(function (v) {
            var o = el('option', null, v[0] + ' (' + number(v[1]) + ')');
            o.value = v[0];
            if (filterTerm(fl[0], v[0]) === cur) o.selected = true;
            sel.appendChild(o);
          });
          sel.closest('.search-filter').hidden = vals.length === 0;
        });
      });
      return facetsLoaded;
    }
    function setFilter(field, value) {
      var names = Object.keys(FIELDS).filter(function (k) { return FIELDS[k] === field; });
      var re = new RegExp('(^|\\s)(' + names.join('|') + '):("[^"]*"?|\\S*)', 'gi');
      var q = input.value.replace(re, ' ').replace(/\s+/g, ' ').trim();
      if (value) q = (q ? q + ' ' : '') + field + ':' + (/[\s"]/.test(value) ? '"' + value.replace(/"/g, '') + '"' : value);
      input.value = q;
      setUrl(q);
      run(q, false, false);
    }
    if (details) {
      var box = el('div', 'search-filter-controls');
      FILTER_LABELS.forEach(function (fl) {
        var wrap = el('div', 'search-filter');
        var id = 'search-filter-' + fl[0];
        var label = el('label', null, fl[1]);
        label.htmlFor = id;
        var sel = el('select');
        sel.id = id;
        sel.name = fl[0];
        var any = el('option', null, 'Any');
        any.value = '';
        sel.appendChild(any);
        sel.addEventListener('change', function () { setFilter(fl[0], sel.value); });
        wrap.appendChild(label);
        wrap.appendChild(sel);
        box.appendChild(wrap);
        selects[fl[0]] = sel;
      });
      details.appendChild(box);
      details.addEventListener('toggle', function () { if (details.open) loadFacets(); });
      if (parseQuery(q0, false).filters.length) { details.open = true; }
    }

    pageEl.setAttribute('data-state', 'idle');
    if (q0.trim()) run(q0, false, true);
    else input.focus();
  }

  function init() {
    var pageEl = document.getElementById('search-page');
    if (pageEl) initPage(pageEl);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
