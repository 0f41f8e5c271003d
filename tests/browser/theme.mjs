// The theme, in headless Chromium over file://: no sideways scrolling of the page from a 360 px
// phone to a wide screen, dark mode, the print stylesheet, the wrap toggle on long log blocks
// (mouse and keyboard), permalinks to every comment, `/` to search, and the history chart.
// Usage: node theme.mjs SITE_DIR ISSUE_PAGE (an issue page with comments, relative to SITE_DIR)
import fs from 'node:fs';
import path from 'node:path';
import { launch, fileUrl, check, assert, settledHash, summary } from './lib.mjs';

const [root, issuePage] = process.argv.slice(2);

// The issue page whose preformatted blocks hold the longest line: the "long log" page.
function longLogPage() {
  let best = null;
  let bestLen = 0;
  (function walk(d) {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { walk(p); continue; }
      if (!e.name.endsWith('.html')) continue;
      const html = fs.readFileSync(p, 'utf8');
      for (const m of html.matchAll(/<pre[^>]*>([\s\S]*?)<\/pre>/g)) {
        for (const line of m[1].replace(/<[^>]+>/g, '').split('\n')) {
          if (line.length > bestLen) { bestLen = line.length; best = p; }
        }
      }
    }
  })(path.join(root, 'issues'));
  return { page: best && path.relative(root, best), longest: bestLen };
}

function firstListing() {
  const dir = path.join(root, 'lists/project');
  const first = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()[0];
  return `lists/project/${first}/index.html`;
}

const longLog = longLogPage();
console.log(`# long-log page: ${longLog.page} (a line of ${longLog.longest} characters)`);

const browser = await launch();

async function open(rel, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(fileUrl(root, rel));
  await page.waitForLoadState('load');
  return { context, page, errors };
}

const narrowPages = [
  ['home', 'index.html'],
  ['browse', 'lists/index.html'],
  ['facet index', 'lists/component/index.html'],
  ['listing', firstListing()],
  ['issue with comments', issuePage],
  ['issue with long log lines', longLog.page],
  ['search', 'search.html'],
];

for (const width of [360, 390, 768, 1280, 1920]) {
  await check(`${width} px: no page scrolls sideways`, async () => {
    const wide = [];
    for (const [name, rel] of narrowPages) {
      const { context, page, errors } = await open(rel, { viewport: { width, height: 800 } });
      const sw = await page.evaluate(() => document.documentElement.scrollWidth);
      if (sw > width) {
        // Name the widest elements, to say what to fix.
        const culprits = await page.evaluate((w) => [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > w + 1)
          .slice(0, 5)
          .map((el) => `${el.tagName.toLowerCase()}.${el.className}`), width);
        wide.push(`${name} (${rel}): scrollWidth ${sw}: ${culprits.join(', ')}`);
      }
      assert(errors.length === 0, `${rel}: console errors: ${errors.join(' | ')}`);
      await context.close();
    }
    assert(wide.length === 0, wide.join('\n'));
  });
}

await check('360 px: long log lines scroll inside their block, text stays readable', async () => {
  assert(longLog.page && longLog.longest > 60, `no issue with a long preformatted line (${longLog.longest})`);
  const { context, page } = await open(longLog.page, { viewport: { width: 360, height: 800 } });
  const r = await page.evaluate(() => {
    const pre = [...document.querySelectorAll('.text pre, pre.plain-text')]
      .sort((a, b) => b.scrollWidth - a.scrollWidth)[0];
    const cs = getComputedStyle(pre);
    return {
      overflowX: cs.overflowX, scroll: pre.scrollWidth, client: pre.clientWidth,
      font: parseFloat(getComputedStyle(document.body).fontSize),
    };
  });
  assert(r.overflowX === 'auto' || r.overflowX === 'scroll', `pre overflow-x ${r.overflowX}`);
  assert(r.scroll > r.client, `the long block does not scroll (${r.scroll} <= ${r.client})`);
  assert(r.font >= 16, `body font ${r.font}px`);
  await context.close();
});

await check('dark mode follows prefers-color-scheme', async () => {
  const colours = {};
  for (const scheme of ['light', 'dark']) {
    const { context, page } = await open('index.html', { colorScheme: scheme });
    colours[scheme] = await page.evaluate(() => {
      const cs = getComputedStyle(document.body);
      const bar = (cls) => {
        const r = document.querySelector(`svg.history-chart .series.${cls} rect`);
        return r ? getComputedStyle(r).fill : null;
      };
      return { bg: cs.backgroundColor, fg: cs.color, opened: bar('opened'), closed: bar('closed') };
    });
    await context.close();
  }
  const { light, dark } = colours;
  assert(light.bg !== dark.bg, `same background in both schemes: ${light.bg}`);
  assert(light.fg !== dark.fg, `same text colour in both schemes: ${light.fg}`);
  // Dark background: its channels are low.
  const lum = (rgb) => rgb.match(/\d+/g).slice(0, 3).reduce((a, b) => a + Number(b), 0);
  assert(lum(dark.bg) < lum(light.bg), `dark background ${dark.bg} is not darker than ${light.bg}`);
  assert(light.opened && light.closed && light.opened !== light.closed, `chart series share a colour: ${JSON.stringify(light)}`);
  assert(dark.opened !== light.opened, `chart colours do not follow the scheme: ${light.opened}`);
  assert(!/rgb\(0, 0, 0\)/.test(light.opened + dark.opened), 'chart bars are unstyled (black)');
});

await check('print stylesheet hides the header, footer and controls', async () => {
  const { context, page } = await open(longLog.page);
  await page.emulateMedia({ media: 'print' });
  const r = await page.evaluate(() => ({
    header: getComputedStyle(document.querySelector('.site-header')).display,
    footer: getComputedStyle(document.querySelector('.site-footer')).display,
    toggle: [...document.querySelectorAll('.toggle-wrap')].map((b) => getComputedStyle(b).display),
    pre: [...document.querySelectorAll('.text pre')].map((p) => getComputedStyle(p).whiteSpace),
    bg: getComputedStyle(document.body).backgroundColor,
  }));
  assert(r.header === 'none', `header display ${r.header} in print`);
  assert(r.footer === 'none', `footer display ${r.footer} in print`);
  assert(r.toggle.every((d) => d === 'none'), `wrap toggles printed: ${r.toggle}`);
  assert(r.pre.every((w) => w === 'pre-wrap'), `printed logs do not wrap: ${r.pre}`);
  assert(r.bg === 'rgb(255, 255, 255)', `print background ${r.bg}`);
  const pdf = await page.pdf({ format: 'A4' });
  assert(pdf.length > 1000, 'no PDF');
  await context.close();
});

await check('wrap toggle on long log blocks: click and keyboard', async () => {
  const { context, page, errors } = await open(longLog.page, { viewport: { width: 390, height: 800 } });
  const button = page.locator('button.toggle-wrap').first();
  assert(await button.count() === 1, 'no "Wrap lines" button on the long-log page');
  assert((await button.textContent()).trim() === 'Wrap lines', `button text ${await button.textContent()}`);
  const pre = button.locator('xpath=following-sibling::pre[1]');
  const state = () => pre.evaluate((p) => ({
    ws: getComputedStyle(p).whiteSpace, sw: p.scrollWidth, cw: p.clientWidth, tab: p.getAttribute('tabindex'),
  }));
  let s = await state();
  assert(s.ws === 'pre', `white-space before: ${s.ws}`);
  assert(s.sw > s.cw, 'block does not overflow before wrapping');
  assert(s.tab === '0', 'an overflowing block is not focusable for keyboard scrolling');
  assert(await button.getAttribute('aria-pressed') === 'false', 'aria-pressed not false at first');
  await button.click();
  s = await state();
  assert(s.ws === 'pre-wrap', `white-space after click: ${s.ws}`);
  assert(s.sw <= s.cw + 2, `still overflows when wrapped (${s.sw} > ${s.cw})`);
  assert(await button.getAttribute('aria-pressed') === 'true', 'aria-pressed not true after click');
  // Keyboard: focus the button and press Enter, then Space.
  await button.focus();
  await page.keyboard.press('Enter');
  s = await state();
  assert(s.ws === 'pre' && await button.getAttribute('aria-pressed') === 'false', `Enter did not unwrap (${s.ws})`);
  await page.keyboard.press('Space');
  s = await state();
  assert(s.ws === 'pre-wrap' && await button.getAttribute('aria-pressed') === 'true', `Space did not wrap (${s.ws})`);
  // Short blocks get no button.
  const short = await page.evaluate(() => [...document.querySelectorAll('.text pre')]
    .filter((p) => p.scrollWidth <= p.clientWidth + 2 && !p.hasAttribute('data-wrap-toggle')).length);
  const buttons = await page.locator('button.toggle-wrap').count();
  const blocks = await page.locator('.text pre, pre.plain-text').count();
  assert(buttons + short <= blocks, `${buttons} buttons for ${blocks} blocks`);
  assert(errors.length === 0, `console errors: ${errors.join(' | ')}`);
  await context.close();
});

await check('Tab reaches the skip link first, and it jumps to the content', async () => {
  const { context, page } = await open(issuePage);
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => ({ cls: document.activeElement.className, text: document.activeElement.textContent }));
  assert(first.cls === 'skip', `first Tab stop: ${JSON.stringify(first)}`);
  const visible = await page.evaluate(() => document.activeElement.getBoundingClientRect().left >= 0);
  assert(visible, 'the focused skip link is off screen');
  await page.keyboard.press('Enter');
  const landed = await settledHash(page, '#main');
  assert(landed.endsWith('#main'), `skip link led to ${landed}`);
  await context.close();
});

await check('every comment has an id and a permalink to it', async () => {
  const { context, page } = await open(issuePage);
  const r = await page.evaluate(() => [...document.querySelectorAll('article.comment')].map((c) => {
    const a = c.querySelector('a.permalink');
    return { id: c.id, href: a && a.getAttribute('href'), name: a && (a.getAttribute('aria-label') || a.textContent) };
  }));
  assert(r.length >= 1, 'no comments');
  const ids = new Set();
  for (const c of r) {
    assert(/^(comment-\d+|c\d+)$/.test(c.id), `comment id ${c.id}`);
    assert(!ids.has(c.id), `duplicate comment id ${c.id}`);
    ids.add(c.id);
    assert(c.href === `#${c.id}`, `permalink of ${c.id} is ${c.href}`);
    assert(c.name && c.name.trim().length > 1, `permalink of ${c.id} has no accessible name`);
  }
  // Following one scrolls to the comment and highlights it.
  const last = r[r.length - 1];
  await page.click(`#${last.id} a.permalink`);
  const after = await settledHash(page, `#${last.id}`);
  assert(after.endsWith(`#${last.id}`), `URL after permalink click: ${after}`);
  const targeted = await page.evaluate((id) => document.querySelector(`#${id}`).matches(':target'), last.id);
  assert(targeted, 'the comment is not :target after following its permalink');
  await context.close();
  // A permalink opened directly lands on the comment.
  const pick = r[Math.floor(r.length / 2)];
  const fresh = await browser.newContext({ viewport: { width: 1280, height: 600 } });
  const p2 = await fresh.newPage();
  await p2.goto(fileUrl(root, issuePage) + `#${pick.id}`);
  await p2.waitForLoadState('load');
  const pos = await p2.evaluate((id) => ({
    top: document.getElementById(id).getBoundingClientRect().top,
    scrolled: window.scrollY,
    max: document.documentElement.scrollHeight - window.innerHeight,
  }), pick.id);
  // At the top of the window, unless the page cannot scroll that far.
  assert(Math.abs(pos.top) < 5 || pos.scrolled >= pos.max - 1, `comment ${pick.id} at ${JSON.stringify(pos)} after opening its permalink`);
  await fresh.close();
});

await check('/ focuses the search box, but not while typing', async () => {
  for (const [rel, expected] of [['index.html', 'home-search'], [issuePage, 'site-search'], ['search.html', 'search-q']]) {
    const { context, page } = await open(rel);
    // The search page focuses its box on load: start from nowhere.
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.keyboard.press('/');
    const id = await page.evaluate(() => document.activeElement && document.activeElement.id);
    assert(id === expected, `${rel}: / focused #${id}, expected #${expected}`);
    // Typing a slash into the box types it.
    await page.keyboard.type('a/b');
    const value = await page.evaluate(() => document.activeElement.value);
    assert(value === 'a/b', `${rel}: typed ${value}`);
    await context.close();
  }
});

await check('home page draws the history chart, with its numbers', async () => {
  const { context, page } = await open('index.html', { viewport: { width: 360, height: 800 } });
  const r = await page.evaluate(() => {
    const svg = document.querySelector('svg.history-chart');
    if (!svg) return null;
    const label = (svg.getAttribute('aria-labelledby') || '').split(' ')
      .map((id) => document.getElementById(id)?.textContent || '').join(' ');
    return {
      role: svg.getAttribute('role'),
      label,
      bars: svg.querySelectorAll('.series rect').length,
      heading: document.getElementById('history-h')?.textContent,
      rows: document.querySelectorAll('.chart-numbers tbody tr').length,
      width: svg.getBoundingClientRect().width,
      // The rendered size of the year labels' text.
      text: Math.min(...[...svg.querySelectorAll('.x-axis text')].map((t) => t.getBoundingClientRect().height)),
    };
  });
  assert(r, 'no chart on the home page');
  assert(r.role === 'img', `chart role ${r.role}`);
  assert(/per year/.test(r.label) && /in all, most in \d{4}/.test(r.label), `chart label: ${r.label}`);
  assert(r.bars >= 4, `${r.bars} bars`);
  // The example has a git history, so the chart counts its commits too.
  assert(/opened and closed, and commits, per year/i.test(r.heading), `heading ${r.heading}`);
  assert(r.rows >= 2, `${r.rows} rows in the numbers table`);
  assert(r.width > 300 && r.width <= 360, `chart ${r.width}px wide at 360 px`);
  assert(r.text >= 9, `year labels only ${r.text}px tall at 360 px`);
  await page.click('.chart-numbers summary');
  assert(await page.isVisible('.chart-numbers table'), 'the numbers do not show');
  await context.close();
});

await browser.close();
process.exit(summary());
