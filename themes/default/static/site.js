// hindsight site behaviour: keyboard shortcuts (with a help on `?`), wrap toggles on long log
// blocks, old JIRA comment addresses, long comment threads folded.
(function () {
  'use strict';
  // Keyboard shortcuts: `/` search, `j`/`k` next and previous row of a listing, `?` this help,
  // Escape closes it. None fires while typing in a field or with a modifier held.
  var SHORTCUTS = [
    ['/', 'Focus the search box'],
    ['j', 'Next row of the listing'],
    ['k', 'Previous row of the listing'],
    ['Enter', 'Open the row\u2019s link'],
    ['?', 'Show this help'],
    ['Esc', 'Close this help']
  ];
  var ROWS = 'main table.issues tbody tr, main table.commits:not(.dev) tbody tr, main table.releases tbody tr, ' +
    'main table.branches tbody tr, main table.projects tbody tr, main ol.search-results > li';
  var help = null;
  var helpReturn = null;
  function typing(t) {
    return t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' ||
      t.isContentEditable);
  }
  function rows() {
    var all = document.querySelectorAll(ROWS);
    var out = [];
    for (var i = 0; i < all.length; i++) {
      if (all[i].offsetParent !== null && all[i].querySelector('a[href]')) out.push(all[i]);
    }
    return out;
  }
  function moveRow(step) {
    var list = rows();
    if (!list.length) return false;
    var at = -1;
    for (var i = 0; i < list.length; i++) {
      if (list[i].classList.contains('kb-current') || list[i].contains(document.activeElement)) {
        at = i;
        break;
      }
    }
    var next = at < 0 ? (step > 0 ? 0 : list.length - 1)
      : Math.max(0, Math.min(list.length - 1, at + step));
    for (i = 0; i < list.length; i++) list[i].classList.remove('kb-current');
    var row = list[next];
    row.classList.add('kb-current');
    var link = row.querySelector('a[href]');
    link.focus();
    row.scrollIntoView({ block: 'nearest' });
    return true;
  }
  function openHelp() {
    if (!help) {
      help = document.createElement('div');
      help.className = 'kb-help';
      help.id = 'kb-help';
      help.setAttribute('role', 'dialog');
      help.setAttribute('aria-modal', 'true');
      help.setAttribute('aria-labelledby', 'kb-help-title');
      help.tabIndex = -1;
      var box = document.createElement('div');
      box.className = 'kb-help-box';
      var h = document.createElement('h2');
      h.id = 'kb-help-title';
      h.textContent = 'Keyboard shortcuts';
      box.appendChild(h);
      var dl = document.createElement('dl');
      for (var i = 0; i < SHORTCUTS.length; i++) {
        var dt = document.createElement('dt');
        var kbd = document.createElement('kbd');
        kbd.textContent = SHORTCUTS[i][0];
        dt.appendChild(kbd);
        var dd = document.createElement('dd');
        dd.textContent = SHORTCUTS[i][1];
        dl.appendChild(dt);
        dl.appendChild(dd);
      }
      box.appendChild(dl);
      var close = document.createElement('button');
      close.type = 'button';
      close.textContent = 'Close';
      close.addEventListener('click', closeHelp);
      box.appendChild(close);
      help.appendChild(box);
      help.addEventListener('click', function (e) { if (e.target === help) closeHelp(); });
      document.body.appendChild(help);
    }
    helpReturn = document.activeElement;
    help.hidden = false;
    help.querySelector('button').focus();
  }
  function closeHelp() {
    if (!help || help.hidden) return;
    help.hidden = true;
    if (helpReturn && helpReturn.focus) helpReturn.focus();
  }
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && help && !help.hidden) {
      e.preventDefault();
      closeHelp();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (help && !help.hidden) {
      // The help is modal: Tab stays on its button; other shortcuts wait until it closes.
      if (e.key === 'Tab') e.preventDefault();
      return;
    }
    if (e.key === '/') {
      var box = document.querySelector('main input[type=search]') || document.getElementById('site-search');
      if (box) { e.preventDefault(); box.focus(); }
    } else if (e.key === 'j' || e.key === 'k') {
      if (moveRow(e.key === 'j' ? 1 : -1)) e.preventDefault();
    } else if (e.key === '?') {
      e.preventDefault();
      openHelp();
    }
  });
  // Long log lines scroll sideways; a block that overflows gets a "Wrap lines" toggle (but for
  // a diff's text), and is made focusable so that it can be scrolled from the keyboard.
  function addToggles() {
    var blocks = document.querySelectorAll('.text pre, pre.plain-text, .diff pre');
    for (var i = 0; i < blocks.length; i++) {
      var pre = blocks[i];
      if (pre.hasAttribute('data-wrap-toggle')) continue;
      if (pre.scrollWidth <= pre.clientWidth + 2) continue;
      pre.setAttribute('data-wrap-toggle', '');
      if (!pre.hasAttribute('tabindex')) pre.setAttribute('tabindex', '0');
      // A diff's text lines up with its line-number columns: it scrolls, never wraps.
      if (pre.parentNode.classList.contains('diff-body')) continue;
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'toggle-wrap';
      b.textContent = 'Wrap lines';
      b.setAttribute('aria-pressed', 'false');
      b.addEventListener('click', (function (p, btn) {
        return function () {
          var on = p.classList.toggle('wrapped');
          btn.setAttribute('aria-pressed', on ? 'true' : 'false');
        };
      })(pre, b));
      pre.parentNode.insertBefore(b, pre);
    }
  }
  addToggles();
  // An old JIRA address carried over by a host's rewrite rule (…/LU-1234.html?focusedCommentId=N)
  // lands on the comment it named.
  var focused = /[?&]focusedCommentId=([0-9]{1,18})(?:&|$)/.exec(location.search);
  if (focused && !location.hash && document.getElementById('comment-' + focused[1])) {
    location.replace('#comment-' + focused[1]);
  }
  // A long thread shows its first and last comments and a button for those between; a link to
  // one of those (on load or later) shows them all. Without scripts every comment shows.
  function foldComments() {
    var section = document.querySelector('section.comments[data-collapsible]');
    if (!section) return;
    var all = section.querySelectorAll('article.comment');
    if (all.length < 4) return;
    var middle = Array.prototype.slice.call(all, 1, all.length - 1);
    var wanted = location.hash.slice(1);
    for (var i = 0; i < middle.length; i++) if (middle[i].id === wanted) return;
    for (i = 0; i < middle.length; i++) middle[i].hidden = true;
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'comments-folded';
    var first = middle[0].querySelector('a.permalink');
    var last = middle[middle.length - 1].querySelector('a.permalink');
    button.textContent = 'Show ' + middle.length + ' more comments' +
      (first && last ? ' (' + first.textContent + ' to ' + last.textContent + ')' : '');
    function unfold() {
      for (var j = 0; j < middle.length; j++) middle[j].hidden = false;
      if (button.parentNode) button.parentNode.removeChild(button);
      window.removeEventListener('hashchange', onHash);
    }
    function onHash() {
      var t = document.getElementById(location.hash.slice(1));
      if (t && t.hidden) { unfold(); t.scrollIntoView(); }
    }
    button.addEventListener('click', function () {
      unfold();
      var link = middle[0].querySelector('a.permalink');
      if (link) link.focus();
    });
    window.addEventListener('hashchange', onHash);
    section.insertBefore(button, middle[0]);
  }
  foldComments();
  var pending = 0;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(addToggles, 150);
  });
})();
