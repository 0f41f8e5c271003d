// hindsight site behaviour: keyboard shortcut for search, wrap toggles on long log blocks.
(function () {
  'use strict';
  document.addEventListener('keydown', function (e) {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
    var box = document.querySelector('main input[type=search]') || document.getElementById('site-search');
    if (box) { e.preventDefault(); box.focus(); }
  });
  var blocks = document.querySelectorAll('.text pre, pre.plain-text');
  for (var i = 0; i < blocks.length; i++) {
    var pre = blocks[i];
    if (pre.scrollWidth <= pre.clientWidth + 2) continue;
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'toggle-wrap';
    b.textContent = 'Wrap lines';
    b.setAttribute('aria-pressed', 'false');
    b.addEventListener('click', (function (p, btn) {
      return function () {
        var on = p.classList.toggle('wrapped');
        btn.setAttribute('aria-pressed', on ? 'true' : 'false');
        btn.textContent = on ? 'Unwrap lines' : 'Wrap lines';
      };
    })(pre, b));
    pre.parentNode.insertBefore(b, pre);
  }
})();
