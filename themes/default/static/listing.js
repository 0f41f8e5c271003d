// hindsight listings: sort by any column and narrow by the facets in the page, from the
// listing's data file (rows.js beside the page: a classic script that sets
// window.hindsightListing, so it loads under file:// too, where fetch is refused).
//
// The view lives in the query of the page's address (?sort=-updated&status=Open&page=2): a link
// reproduces it over file:// and HTTP, Back and Forward step through the views. An address
// without a query shows the page as it was built: its own page of the listing in key order.
// Without scripts the listing reads in key order, page by page.
(function () {
  'use strict';
  var data = window.hindsightListing;
  var table = document.querySelector('main table.listing');
  if (!data || data.v !== 1 || !table || !table.tBodies.length || !window.URLSearchParams ||
      !window.history || !history.pushState) return;

  // Row fields, as src/render/listings.rs writes them.
  var KEY = 0, SUMMARY = 1, STATUS = 2, TYPE = 3, PRIORITY = 4, CREATED = 5, UPDATED = 6,
    VOTES = 7, COMPONENT = 8, FIX = 9, ASSIGNEE = 10, PATH = 11;
  var rows = data.rows;
  var total = rows.length;
  var size = data.size > 0 ? data.size : 100;
  var root = document.body.getAttribute('data-root') || '';
  var filePage = parseInt(table.getAttribute('data-page'), 10) || 1;
  var tbody = table.tBodies[0];
  var count = document.querySelector('main p.count');
  var NONE = '(none)';

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function nameIn(table, i) { return i >= 0 && i < table.length ? table[i] : ''; }

  // Columns: how each sorts (its values, missing ones last either way), which way first, and
  // how each direction reads.
  var COLUMNS = {
    key: { title: 'Key', first: 1, say: ['first to last', 'last to first'],
      value: function (r, i) { return i; } },
    summary: { title: 'Summary', first: 1, say: ['A to Z', 'Z to A'], text: true },
    status: { title: 'Status', first: 1, say: ['to do first', 'done first'],
      value: function (r) { return named(r[STATUS]); } },
    type: { title: 'Type', first: 1, say: ['A to Z', 'Z to A'],
      value: function (r) { return named(r[TYPE]); } },
    priority: { title: 'Priority', first: 1, say: ['highest first', 'lowest first'],
      value: function (r) { return named(r[PRIORITY]); } },
    assignee: { title: 'Assignee', first: 1, say: ['A to Z', 'Z to A'],
      value: function (r) { return named(r[ASSIGNEE]); } },
    created: { title: 'Created', first: -1, say: ['oldest first', 'newest first'],
      value: function (r) { return number(r[CREATED]); } },
    updated: { title: 'Updated', first: -1, say: ['oldest first', 'newest first'],
      value: function (r) { return number(r[UPDATED]); } },
    votes: { title: 'Votes', first: -1, say: ['fewest first', 'most first'],
      value: function (r) { return number(r[VOTES]); } }
  };
  // Sort values: a name's position in its table (the tables are in sort order), a number;
  // NaN when missing.
  function named(i) { return i >= 0 ? i : NaN; }
  function number(v) { return v === null ? NaN : v; }
  // Facets that narrow the listing: the field, its names, whether an issue may have several.
  var FACETS = [
    { id: 'status', title: 'Status', field: STATUS,
      names: data.status.map(function (s) { return s[0]; }) },
    { id: 'type', title: 'Type', field: TYPE, names: data.type },
    { id: 'priority', title: 'Priority', field: PRIORITY, names: data.priority },
    { id: 'component', title: 'Component', field: COMPONENT, names: data.component, many: true },
    { id: 'fix-version', title: 'Fix version', field: FIX, names: data['fix-version'], many: true },
    { id: 'assignee', title: 'Assignee', field: ASSIGNEE, names: data.assignee }
  ];

  // The table's own columns, in its order.
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var cols = heads.map(function (th) { return th.getAttribute('data-col'); });
  for (var c = 0; c < cols.length; c++) if (!COLUMNS[cols[c]]) return;

  // Sort values per column, computed once when first asked for: a number per row (NaN for
  // missing, which sorts last either way); summaries by their rank in a collated order.
  var values = {};
  function valuesOf(col) {
    if (values[col]) return values[col];
    var v = new Float64Array(total);
    var spec = COLUMNS[col];
    if (spec.text) {
      var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
      var order = rows.map(function (r, i) { return i; });
      order.sort(function (a, b) { return collator.compare(rows[a][SUMMARY], rows[b][SUMMARY]) || a - b; });
      for (var i = 0, rank = 0; i < order.length; i++) {
        if (i > 0 && collator.compare(rows[order[i - 1]][SUMMARY], rows[order[i]][SUMMARY]) !== 0) rank = i;
        v[order[i]] = rank;
      }
    } else {
      for (var j = 0; j < total; j++) v[j] = spec.value(rows[j], j);
    }
    values[col] = v;
    return v;
  }

  // The view: { sort: column, dir: 1 or -1, filters: { facet id: name position, -1 for none },
  // page }, read from and written to the address.
  function facetById(id) {
    for (var i = 0; i < FACETS.length; i++) if (FACETS[i].id === id) return FACETS[i];
    return null;
  }
  function defaultView(page) { return { sort: 'key', dir: 1, filters: {}, page: page }; }
  function readView() {
    var q = new URLSearchParams(location.search);
    var known = false;
    q.forEach(function (v, k) { if (k === 'sort' || k === 'page' || facetById(k)) known = true; });
    if (!known) return defaultView(filePage);
    var view = defaultView(1);
    var sort = q.get('sort') || 'key';
    var dir = 1;
    if (sort.charAt(0) === '-') { dir = -1; sort = sort.slice(1); }
    if (cols.indexOf(sort) >= 0) { view.sort = sort; view.dir = dir; }
    FACETS.forEach(function (f) {
      var name = q.get(f.id);
      if (name === null) return;
      var at = name === NONE ? -1 : f.names.indexOf(name);
      if (at >= 0 || name === NONE) view.filters[f.id] = at;
    });
    var page = parseInt(q.get('page'), 10);
    if (page > 1) view.page = page;
    return view;
  }
  function query(view) {
    var q = ['sort=' + (view.dir < 0 ? '-' : '') + view.sort];
    FACETS.forEach(function (f) {
      if (!(f.id in view.filters)) return;
      var at = view.filters[f.id];
      q.push(encodeURIComponent(f.id) + '=' + encodeURIComponent(at < 0 ? NONE : f.names[at]));
    });
    if (view.page > 1) q.push('page=' + view.page);
    return '?' + q.join('&');
  }

  function has(r, f, at) {
    var v = r[f.field];
    if (f.many) return at < 0 ? v.length === 0 : v.indexOf(at) >= 0;
    return v === at;
  }
  function matches(r, view, except) {
    for (var id in view.filters) {
      if (id === except) continue;
      if (!has(r, facetById(id), view.filters[id])) return false;
    }
    return true;
  }
  // The rows of a view, in its order.
  function select(view) {
    var out = [];
    for (var i = 0; i < total; i++) if (matches(rows[i], view)) out.push(i);
    var v = valuesOf(view.sort);
    var dir = view.dir;
    out.sort(function (a, b) {
      var x = v[a], y = v[b];
      var xm = x !== x, ym = y !== y;
      if (xm || ym) return xm && ym ? a - b : xm ? 1 : -1;
      if (x !== y) return (x < y ? -1 : 1) * dir;
      return a - b;
    });
    return out;
  }

  function time(t) {
    if (t === null || t === undefined) return '';
    var iso = new Date(t * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    return '<time datetime="' + iso + '">' + iso.slice(0, 10) + '</time>';
  }
  function href(r) {
    if (r.length > PATH) return root + r[PATH] + '.html';
    var m = /^([A-Z][A-Z0-9_]*)-(0|[1-9][0-9]*)$/.exec(r[KEY]);
    return m ? root + 'issues/' + m[1] + '/' + Math.floor(Number(m[2]) / 1000) + '/' + r[KEY] + '.html' : '#';
  }
  var CELLS = {
    key: function (r) { return '<td class="key"><a href="' + esc(href(r)) + '">' + esc(r[KEY]) + '</a></td>'; },
    summary: function (r) { return '<td>' + esc(r[SUMMARY]) + '</td>'; },
    status: function (r) {
      var s = data.status[r[STATUS]];
      return '<td><span class="status status-' + (s ? s[1] : 'new') + '">' + esc(s ? s[0] : '') + '</span></td>';
    },
    type: function (r) { return '<td>' + esc(nameIn(data.type, r[TYPE])) + '</td>'; },
    priority: function (r) { return '<td>' + esc(nameIn(data.priority, r[PRIORITY])) + '</td>'; },
    assignee: function (r) {
      var name = esc(nameIn(data.assignee, r[ASSIGNEE]));
      var to = (data['assignee-href'] || [])[r[ASSIGNEE]];
      return '<td>' + (to ? '<a class="person" href="' + esc(root + to) + '">' + name + '</a>' : name) + '</td>';
    },
    created: function (r) { return '<td>' + time(r[CREATED]) + '</td>'; },
    updated: function (r) { return '<td>' + time(r[UPDATED]) + '</td>'; },
    votes: function (r) { return '<td class="num">' + (r[VOTES] === null ? '' : r[VOTES]) + '</td>'; }
  };
  function rowHtml(r) {
    var h = '<tr>';
    for (var i = 0; i < cols.length; i++) h += CELLS[cols[i]](r);
    return h + '</tr>\n';
  }

  // Controls: a sort button in each column's heading, a form with the sort and the facets.
  var buttons = {};
  heads.forEach(function (th, i) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'sort';
    b.setAttribute('data-sort', cols[i]);
    b.appendChild(document.createTextNode(th.textContent));
    var mark = document.createElement('span');
    mark.className = 'sort-mark';
    mark.setAttribute('aria-hidden', 'true');
    b.appendChild(mark);
    th.textContent = '';
    th.appendChild(b);
    buttons[cols[i]] = b;
    b.addEventListener('click', function () {
      var view = current();
      var col = cols[i];
      var dir = view.sort === col ? -view.dir : COLUMNS[col].first;
      go({ sort: col, dir: dir, filters: view.filters, page: 1 });
    });
  });

  var form = document.createElement('form');
  form.className = 'listing-controls';
  form.setAttribute('aria-label', 'Sort and filter');
  function field(labelText, control, id) {
    var wrap = document.createElement('div');
    var label = document.createElement('label');
    label.htmlFor = id;
    label.textContent = labelText;
    control.id = id;
    wrap.appendChild(label);
    wrap.appendChild(control);
    form.appendChild(wrap);
  }
  var sortSelect = document.createElement('select');
  sortSelect.name = 'sort';
  cols.forEach(function (col) {
    var spec = COLUMNS[col];
    [spec.first, -spec.first].forEach(function (dir) {
      var o = document.createElement('option');
      o.value = (dir < 0 ? '-' : '') + col;
      o.textContent = spec.title + ', ' + spec.say[dir > 0 ? 0 : 1];
      sortSelect.appendChild(o);
    });
  });
  field('Sort by', sortSelect, 'listing-sort');
  sortSelect.addEventListener('change', function () {
    var view = current();
    var v = sortSelect.value;
    var dir = v.charAt(0) === '-' ? -1 : 1;
    go({ sort: dir < 0 ? v.slice(1) : v, dir: dir, filters: view.filters, page: 1 });
  });

  // A facet gets a select when it can narrow the listing: two choices or more.
  var selects = {};
  FACETS.forEach(function (f) {
    var missing = false;
    var seen = 0;
    var n = new Array(f.names.length);
    for (var i = 0; i < total; i++) {
      var v = rows[i][f.field];
      if (f.many) {
        if (!v.length) missing = true;
        for (var j = 0; j < v.length; j++) if (!n[v[j]]) { n[v[j]] = 1; seen++; }
      } else if (v < 0) missing = true;
      else if (!n[v]) { n[v] = 1; seen++; }
    }
    f.hasNone = missing;
    if (seen + (missing ? 1 : 0) < 2) return;
    var s = document.createElement('select');
    s.name = f.id;
    var any = document.createElement('option');
    any.value = '';
    s.appendChild(any);
    f.names.forEach(function (name, at) {
      var o = document.createElement('option');
      o.value = String(at);
      s.appendChild(o);
    });
    if (missing) {
      var o = document.createElement('option');
      o.value = '-1';
      s.appendChild(o);
    }
    field(f.title, s, 'listing-' + f.id);
    selects[f.id] = s;
    s.addEventListener('change', function () {
      var view = current();
      var filters = {};
      for (var k in view.filters) filters[k] = view.filters[k];
      if (s.value === '') delete filters[f.id];
      else filters[f.id] = parseInt(s.value, 10);
      go({ sort: view.sort, dir: view.dir, filters: filters, page: 1 });
    });
  });
  var reset = document.createElement('button');
  reset.type = 'button';
  reset.textContent = 'Clear';
  reset.className = 'listing-reset';
  reset.addEventListener('click', function () { go({ sort: 'key', dir: 1, filters: {}, page: 1 }); });
  form.appendChild(reset);
  form.addEventListener('submit', function (e) { e.preventDefault(); });
  table.parentNode.insertBefore(form, count && count.parentNode === table.parentNode ? count : table);

  // Pagers: the built ones are replaced by two that page through the view.
  var built = document.querySelectorAll('main nav.pager');
  for (var b = 0; b < built.length; b++) built[b].parentNode.removeChild(built[b]);
  var pagers = [document.createElement('nav'), document.createElement('nav')];
  pagers.forEach(function (p, i) {
    p.className = 'pager';
    p.setAttribute('aria-label', i === 0 ? 'Pages' : 'Pages (below the list)');
    table.parentNode.insertBefore(p, i === 0 ? table : table.nextSibling);
    p.addEventListener('click', function (e) {
      var a = e.target.closest && e.target.closest('a[data-page]');
      if (!a || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      var view = current();
      view.page = parseInt(a.getAttribute('data-page'), 10);
      go(view);
      table.focus();
      table.scrollIntoView({ block: 'start' });
    });
  });
  table.tabIndex = -1;
  function pagerHtml(view, pages) {
    if (pages < 2) return '';
    var h = '';
    function link(p, rel, text) {
      var v = { sort: view.sort, dir: view.dir, filters: view.filters, page: p };
      return '<a rel="' + rel + '" data-page="' + p + '" href="' + esc(query(v)) + '">' + text + '</a>';
    }
    if (view.page > 1) h += link(view.page - 1, 'prev', '\u2190 Previous');
    h += '<span>Page ' + view.page + ' of ' + pages + '</span>';
    if (view.page < pages) h += link(view.page + 1, 'next', 'Next \u2192');
    return h;
  }

  var shown = null;
  function current() {
    return shown || readView();
  }
  // Shows `view`: the rows, the headings' state, the controls, the pagers and the count.
  function draw(view) {
    var list = select(view);
    var pages = Math.max(1, Math.ceil(list.length / size));
    if (view.page > pages) view.page = pages;
    var start = (view.page - 1) * size;
    var html = '';
    for (var i = start; i < Math.min(list.length, start + size); i++) html += rowHtml(rows[list[i]]);
    tbody.innerHTML = html;
    heads.forEach(function (th, i) {
      var on = cols[i] === view.sort;
      if (on) th.setAttribute('aria-sort', view.dir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
      buttons[cols[i]].lastChild.textContent = on ? (view.dir > 0 ? '\u00a0\u25b2' : '\u00a0\u25bc') : '';
    });
    sortSelect.value = (view.dir < 0 ? '-' : '') + view.sort;
    FACETS.forEach(function (f) {
      var s = selects[f.id];
      if (!s) return;
      // What each choice would leave, given the other facets' choices.
      var n = new Array(f.names.length + 1);
      for (var k = 0; k < n.length; k++) n[k] = 0;
      var none = f.names.length;
      var all = 0;
      for (var r = 0; r < total; r++) {
        var row = rows[r];
        if (!matches(row, view, f.id)) continue;
        all++;
        var v = row[f.field];
        if (f.many) {
          if (!v.length) n[none]++;
          for (var j = 0; j < v.length; j++) n[v[j]]++;
        } else n[v < 0 ? none : v]++;
      }
      var opts = s.options;
      opts[0].textContent = 'Any (' + all + ')';
      for (var o = 1; o < opts.length; o++) {
        var at = parseInt(opts[o].value, 10);
        opts[o].textContent = (at < 0 ? NONE : f.names[at]) + ' (' + n[at < 0 ? none : at] + ')';
      }
      s.value = f.id in view.filters ? String(view.filters[f.id]) : '';
    });
    var filtered = Object.keys(view.filters).length > 0;
    reset.hidden = !filtered && view.sort === 'key' && view.dir === 1;
    pagers.forEach(function (p) { p.innerHTML = pagerHtml(view, pages); p.hidden = pages < 2; });
    if (count) {
      var text = (filtered ? list.length + ' of ' + total : String(total)) +
        (total === 1 && !filtered ? ' issue' : ' issues');
      if (view.sort !== 'key' || view.dir !== 1) {
        text += ', sorted by ' + COLUMNS[view.sort].title.toLowerCase() + ', ' +
          COLUMNS[view.sort].say[view.dir > 0 ? 0 : 1];
      }
      if (pages > 1) text += ' (page ' + view.page + ' of ' + pages + ')';
      count.textContent = text;
    }
    shown = view;
  }
  function go(view) {
    history.pushState(null, '', query(view) + location.hash);
    draw(view);
  }
  window.addEventListener('popstate', function () { draw(readView()); });
  draw(readView());
  if (window.performance && performance.mark) performance.mark('hindsight-listing-ready');
})();
