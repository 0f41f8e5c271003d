// hindsight site behaviour: keyboard shortcut for search, wrap toggles on long log blocks.
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
  var pending = 0;
  window.addEventListener('resize', function () {
    clearTimeout(pending);
    pending = setTimeout(addToggles, 150);
  });
})();
