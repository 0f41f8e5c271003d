// Keyboard shortcuts: `/` focuses the search box, `j`/`k` move a visible focus through the rows
// of a listing, `?` opens a help listing the shortcuts and Escape closes it; none fires while
// typing in a field. Over file:// and HTTP.
// Usage: node keys.mjs SITE_DIR LISTING_PAGE ISSUE_PAGE
import { launch, serve, fileUrl, openPage, check, assert, summary } from './lib.mjs';

const [root, listing, issue] = process.argv.slice(2);
const browser = await launch();
const server = await serve(root);

// Which row carries the keyboard focus: its index among the listing's rows, whether its link
// has the focus, and whether the row is drawn differently from the others.
async function current(page) {
  return page.evaluate(() => {
    const rows = Array.from(document.querySelectorAll('main table.issues tbody tr'));
    const at = rows.findIndex((r) => r.classList.contains('kb-current'));
    if (at < 0) return { at, n: rows.length };
    const row = rows[at];
    const other = rows[at === 0 ? 1 : 0];
    const bg = (r) => getComputedStyle(r.firstElementChild).backgroundColor;
    const shadow = getComputedStyle(row.firstElementChild).boxShadow;
    const r = row.getBoundingClientRect();
    return {
      at,
      n: rows.length,
      focused: row.contains(document.activeElement) && document.activeElement.tagName === 'A',
      marked: bg(row) !== bg(other) && shadow !== 'none',
      inView: r.top >= 0 && r.bottom <= window.innerHeight,
      only: rows.filter((x) => x.classList.contains('kb-current')).length === 1,
    };
  });
}

for (const [how, base] of [['file://', (p) => fileUrl(root, p)], ['http', (p) => `${server.url}${p}`]]) {
  await check(`${how}: j and k move a visible focus through the listing's rows`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.setViewportSize({ width: 1280, height: 500 });
    await page.goto(base(listing));
    let s = await current(page);
    assert(s.at === -1 && s.n > 10, `before any key: ${JSON.stringify(s)}`);
    await page.keyboard.press('j');
    s = await current(page);
    assert(s.at === 0 && s.focused && s.marked && s.only, `after j: ${JSON.stringify(s)}`);
    for (let i = 0; i < 11; i++) await page.keyboard.press('j');
    s = await current(page);
    assert(s.at === 11 && s.focused && s.inView, `after 12 j: ${JSON.stringify(s)}`);
    await page.keyboard.press('k');
    await page.keyboard.press('k');
    s = await current(page);
    assert(s.at === 9 && s.focused && s.only, `after k k: ${JSON.stringify(s)}`);
    // Enter follows the focused row's link.
    const href = await page.evaluate(() => document.activeElement.href);
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.href === href, { timeout: 5000 });
    assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
    await context.close();
  });

  await check(`${how}: ? opens the shortcut help, Escape closes it and gives the focus back`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.goto(base(listing));
    await page.keyboard.press('j');
    const before = await page.evaluate(() => document.activeElement.href);
    await page.keyboard.press('?');
    const dialog = page.locator('[role=dialog]#kb-help');
    assert(await dialog.isVisible(), 'no help after ?');
    const text = await dialog.textContent();
    for (const k of ['/', 'j', 'k', '?', 'Esc']) assert(text.includes(k), `help lacks ${k}: ${text}`);
    assert(await page.evaluate(() => document.activeElement.closest('#kb-help') !== null),
      'the focus is not in the help');
    // Other shortcuts wait while the help is open.
    await page.keyboard.press('j');
    assert(await dialog.isVisible(), 'j closed the help');
    await page.keyboard.press('Escape');
    assert(!(await dialog.isVisible()), 'the help stays after Escape');
    const after = await page.evaluate(() => document.activeElement.href);
    assert(after === before, `focus went to ${after}, not back to ${before}`);
    // The Close button closes it too.
    await page.keyboard.press('?');
    await dialog.getByRole('button', { name: 'Close' }).click();
    assert(!(await dialog.isVisible()), 'the help stays after Close');
    assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
    await context.close();
  });
}

await check('/ focuses the search box, and no shortcut fires while typing in it', async () => {
  const { context, page } = await openPage(browser);
  await page.goto(fileUrl(root, listing));
  await page.keyboard.press('/');
  const id = await page.evaluate(() => document.activeElement.id);
  assert(id === 'site-search', `focus on ${id} after /`);
  await page.keyboard.type('jk?/');
  const value = await page.inputValue('#site-search');
  assert(value === 'jk?/', `the box reads ${value}`);
  const s = await current(page);
  assert(s.at === -1, `a row was moved to while typing: ${JSON.stringify(s)}`);
  assert(!(await page.locator('#kb-help').isVisible().catch(() => false)), 'help opened while typing');
  await context.close();
});

await check('on a page without a listing, j does nothing and ? still helps', async () => {
  const { context, page, log } = await openPage(browser);
  await page.goto(fileUrl(root, issue));
  const y = await page.evaluate(() => window.scrollY);
  await page.keyboard.press('j');
  assert(await page.evaluate(() => document.querySelectorAll('.kb-current').length) === 0,
    'a row was marked on an issue page');
  assert(await page.evaluate(() => window.scrollY) === y, 'j scrolled the page');
  await page.keyboard.press('?');
  assert(await page.locator('#kb-help').isVisible(), 'no help on the issue page');
  await page.keyboard.press('Escape');
  assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
  await context.close();
});

await server.close();
await browser.close();
process.exit(summary());
