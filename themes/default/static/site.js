// hindsight site behaviour: keyboard shortcut for search, wrap toggles on long log blocks, old
// JIRA comment addresses, long comment threads folded.
(function () {
  'use strict';
  document.addEventListener('keydown', function (e) {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
    var box = document.querySelector('main input[type=search]') || document.getElementById('site-search');
    if (box) { e.preventDefault(); box.focus(); }
  });
  // Long log lines scroll sideways; a block that overflows gets a "Wrap lines" toggle, and is
  // made focusable so that it can be scrolled from the keyboard.
  function addToggles() {
    var blocks = document.querySelectorAll('.text pre, pre.plain-text, .diff pre');
    for (var i = 0; i < blocks.length; i++) {
      var pre = blocks[i];
      if (pre.hasAttribute('data-wrap-toggle')) continue;
      if (pre.scrollWidth <= pre.clientWidth + 2) continue;
      pre.setAttribute('data-wrap-toggle', '');
      if (!pre.hasAttribute('tabindex')) pre.setAttribute('tabindex', '0');
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
