// Listings a reader can work with (listing.js over the listing's rows.js), over file:// and HTTP:
// every column sorts (both ways, the order checked against the data file), a facet narrows,
// the view lives in the address (reopening it reproduces the view; Back steps through views),
// pages of a sorted view, j/k move through the sorted rows; without JavaScript the listing
// reads in key order across its built pages.
// Usage: node listings.mjs SITE_DIR LISTING_DIR (e.g. lists/project/LU/; its pages must hold
//        fewer rows than the listing, so that it has several)
import fs from 'node:fs';
import path from 'node:path';
import { launch, serve, fileUrl, openPage, check, assert, summary } from './lib.mjs';

const [root, dir] = process.argv.slice(2);
const browser = await launch();
const server = await serve(root);

// The data file, read the way the page reads it.
const text = fs.readFileSync(path.join(root, dir, 'rows.js'), 'utf8');
const data = JSON.parse(text.replace(/^window\.hindsightListing=/, '').replace(/;\s*$/, ''));
const K = { key: 0, summary: 1, status: 2, type: 3, priority: 4, created: 5, updated: 6, votes: 7,
  component: 8, 'fix-version': 9, assignee: 10 };
const rows = data.rows;
const size = data.size;
assert(rows.length > size, `${dir} has ${rows.length} rows, one page of ${size}: too few to page`);

// The expected order of the whole listing for a column and direction, written independently
// of listing.js: missing values (null, -1) last either way, ties in key order.
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
function expected(col, dir) {
  const idx = rows.map((r, i) => i);
  const missing = (v) => v === null || v === -1;
  idx.sort((a, b) => {
    if (col === 'key') return (a - b) * dir;
    const x = rows[a][K[col]];
    const y = rows[b][K[col]];
    if (missing(x) || missing(y)) return missing(x) === missing(y) ? a - b : missing(x) ? 1 : -1;
    const c = col === 'summary' ? collator.compare(x, y) : x < y ? -1 : x > y ? 1 : 0;
    return c !== 0 ? c * dir : a - b;
  });
  return idx.map((i) => rows[i][0]);
}

// What the open page shows: keys of the rows, the sorted heading, the count, the controls.
async function shown(page) {
  return page.evaluate(() => {
    const th = document.querySelector('main table.listing th[aria-sort]');
    const sel = {};
    for (const s of document.querySelectorAll('.listing-controls select')) sel[s.name] = s.value;
    return {
      keys: Array.from(document.querySelectorAll('main table.listing tbody td.key a')).map((a) => a.textContent),
      hrefs: Array.from(document.querySelectorAll('main table.listing tbody td.key a')).map((a) => a.href),
      statuses: Array.from(document.querySelectorAll('main table.listing tbody .status')).map((s) => s.textContent),
      sorted: th ? [th.getAttribute('data-col'), th.getAttribute('aria-sort')] : null,
      count: document.querySelector('main p.count').textContent,
      search: location.search,
      selects: sel,
      controls: !!document.querySelector('.listing-controls'),
      pagers: document.querySelectorAll('main nav.pager').length,
    };
  });
}

function same(a, b, what) {
  assert(JSON.stringify(a) === JSON.stringify(b), `${what}:\n  got      ${JSON.stringify(a)}\n  expected ${JSON.stringify(b)}`);
}

const columns = await (async () => {
  const { context, page } = await openPage(browser);
  await page.goto(fileUrl(root, dir + 'index.html'));
  const cols = await page.$$eval('main table.listing thead th', (ths) => ths.map((t) => t.getAttribute('data-col')));
  await context.close();
  return cols;
})();
for (const c of ['key', 'summary', 'status', 'type', 'created', 'updated']) {
  assert(columns.includes(c), `no ${c} column in ${columns}`);
}

for (const [how, base] of [['file://', (p) => fileUrl(root, p)], ['http', (p) => `${server.url}${p}`]]) {
  const index = base(dir + 'index.html');

  await check(`${how}: an assignee's name links their person page, as built and as redrawn`, async () => {
    const { context, page } = await openPage(browser);
    await page.goto(index);
    const hrefOf = () => page.$$eval('main table.listing td a.person', (as) => as.map((a) => a.href));
    const built = await hrefOf();
    assert(built.length > 0, 'no linked assignee on the built page');
    await page.locator('main table.listing th[data-col="key"] button').click();
    await page.locator('main table.listing th[data-col="key"] button').click();
    const redrawn = await hrefOf();
    assert(redrawn.length > 0, 'no linked assignee after sorting');
    assert(redrawn.every((h) => /\/people\/[^/]+\.html(#.*)?$/.test(h)), `person links: ${redrawn.slice(0, 3)}`);
    await context.close();
  });

  await check(`${how}: every column sorts both ways, in the data file's order`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.goto(index);
    // Before any click: the built page, in key order.
    let s = await shown(page);
    same(s.keys, expected('key', 1).slice(0, size), 'first page before sorting');
    same(s.sorted, ['key', 'ascending'], 'sorted heading before sorting');
    for (const col of columns) {
      const button = page.locator(`main table.listing th[data-col="${col}"] button`);
      const first = await page.evaluate((c) => {
        const th = document.querySelector(`main table.listing th[data-col="${c}"]`);
        return th.getAttribute('aria-sort');
      }, col);
      await button.click();
      s = await shown(page);
      // A click on the sorted column reverses it; on another, dates and votes start at the
      // top (newest, most), names at the start.
      const dir1 = first === 'ascending' ? -1 : first === 'descending' ? 1
        : ['created', 'updated', 'votes'].includes(col) ? -1 : 1;
      same(s.sorted, [col, dir1 > 0 ? 'ascending' : 'descending'], `aria-sort after sorting by ${col}`);
      same(s.keys, expected(col, dir1).slice(0, size), `first page sorted by ${col} (${dir1})`);
      assert(s.search.startsWith(`?sort=${dir1 < 0 ? '-' : ''}${col}`), `address ${s.search}`);
      await button.click();
      s = await shown(page);
      same(s.sorted, [col, dir1 > 0 ? 'descending' : 'ascending'], `aria-sort after sorting by ${col} again`);
      same(s.keys, expected(col, -dir1).slice(0, size), `first page sorted by ${col} (${-dir1})`);
    }
    // The links lead to the issues' pages.
    const href = s.hrefs[0];
    await page.locator('main table.listing tbody td.key a').first().click();
    await page.waitForURL((u) => u.href === href);
    assert(/\/issues\/[A-Z]+\/\d+\/[A-Z]+-\d+\.html$/.test(href), `row link ${href}`);
    assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
    await context.close();
  });

  await check(`${how}: a facet narrows, the address carries the view, reopening reproduces it`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.goto(index);
    // The status with the most issues, but not all of them.
    const counts = new Map();
    for (const r of rows) counts.set(r[K.status], (counts.get(r[K.status]) || 0) + 1);
    const [status, n] = [...counts].filter(([, c]) => c < rows.length).sort((a, b) => b[1] - a[1])[0];
    const name = data.status[status][0];
    await page.selectOption('#listing-status', { label: `${name} (${n})` });
    let s = await shown(page);
    assert(s.statuses.length === Math.min(n, size) && s.statuses.every((x) => x === name),
      `rows after choosing ${name}: ${s.statuses}`);
    assert(s.count.startsWith(`${n} of ${rows.length} issues`), `count: ${s.count}`);
    same(new URLSearchParams(s.search).get('status'), name, 'status in the address');
    // Sort the narrowed list by updated, newest first.
    await page.selectOption('#listing-sort', '-updated');
    s = await shown(page);
    const want = expected('updated', -1).filter((k) => rows.find((r) => r[0] === k)[K.status] === status);
    same(s.keys, want.slice(0, size), 'narrowed rows sorted by updated');
    const url = page.url();
    assert(url.includes('sort=-updated') && url.includes('status='), `address ${url}`);
    // The same address in a new browser context shows the same view.
    const again = await openPage(browser);
    await again.page.goto(url);
    const t = await shown(again.page);
    same(t.keys, s.keys, 'rows when the address is reopened');
    same(t.sorted, s.sorted, 'sorted heading when reopened');
    same(t.selects, s.selects, 'controls when reopened');
    same(t.count, s.count, 'count when reopened');
    assert(again.log.errors.length === 0, `console errors: ${again.log.errors.join(' | ')}`);
    await again.context.close();
    // Clear goes back to key order, unfiltered.
    await page.click('.listing-reset');
    s = await shown(page);
    same(s.keys, expected('key', 1).slice(0, size), 'rows after Clear');
    assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
    await context.close();
  });

  await check(`${how}: Back and Forward step through the views; pages of a sorted view`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.goto(index);
    const built = (await shown(page)).keys;
    await page.click('main table.listing th[data-col="summary"] button');
    const bySummary = (await shown(page)).keys;
    same(bySummary, expected('summary', 1).slice(0, size), 'sorted by summary');
    // The next page of the sorted view.
    await page.locator('main nav.pager a[rel="next"]').first().click();
    let s = await shown(page);
    same(s.keys, expected('summary', 1).slice(size, 2 * size), 'second page sorted by summary');
    assert(new URLSearchParams(s.search).get('page') === '2', `address ${s.search}`);
    assert(s.count.includes('page 2 of'), `count: ${s.count}`);
    await page.goBack();
    s = await shown(page);
    same(s.keys, bySummary, 'after Back: first page sorted by summary');
    await page.goBack();
    s = await shown(page);
    same(s.keys, built, 'after Back again: the built page in key order');
    same(s.search, '', 'address after Back again');
    same(s.sorted, ['key', 'ascending'], 'sorted heading after Back again');
    await page.goForward();
    s = await shown(page);
    same(s.keys, bySummary, 'after Forward: sorted by summary');
    // j and k go through the sorted rows.
    await page.locator('main table.listing th[data-col="summary"] button').blur();
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    const focused = await page.evaluate(() => document.activeElement.textContent);
    same(focused, bySummary[1], 'the row j j reaches');
    assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
    await context.close();
  });

  await check(`${how}: a later built page shows its own rows, and sorts over the whole listing`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.goto(base(dir + '2.html'));
    let s = await shown(page);
    same(s.keys, expected('key', 1).slice(size, 2 * size), 'page 2 as built');
    await page.click('main table.listing th[data-col="updated"] button');
    s = await shown(page);
    same(s.keys, expected('updated', -1).slice(0, size), 'page 2 after sorting by updated');
    assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
    await context.close();
  });
}

await check('without JavaScript the listing reads in key order across its pages', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const keys = [];
  let url = fileUrl(root, dir + 'index.html');
  for (let i = 0; i < 1000 && url; i++) {
    await page.goto(url);
    const s = await page.evaluate(() => ({
      keys: Array.from(document.querySelectorAll('main table.listing tbody td.key a')).map((a) => a.textContent),
      next: document.querySelector('main nav.pager a[rel="next"]')?.href || null,
      buttons: document.querySelectorAll('main table.listing th button').length,
      controls: !!document.querySelector('.listing-controls'),
    }));
    assert(s.buttons === 0 && !s.controls, 'sort controls without JavaScript');
    keys.push(...s.keys);
    url = s.next;
  }
  same(keys, expected('key', 1), 'keys of every built page, in order');
  await context.close();
});

await browser.close();
await server.close();
process.exit(summary());
