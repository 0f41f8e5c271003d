// Browser test of the static search: search.html over file:// and over HTTP on a fixture site
// (tests/testsuite/search_browser.rs builds it). Each query type gives the expected first result, no
// request leaves the site folder, the tokenizer agrees with the Rust vectors, and the bytes
// each query loads are reported.
// Usage: node search.mjs SITE_DIR [VECTORS_JSON]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, serve, fileUrl, openPage, check, assert, summary } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(process.argv[2] || '');
const vectorsFile = process.argv[3] || path.join(here, '../fixtures/search/tokenizer-vectors.json');
const vectors = JSON.parse(fs.readFileSync(vectorsFile, 'utf8'));
// Chromium as a user runs it: any --allow-file-access-from-files switch (even "=false")
// lets file:// pages fetch other files, which would hide exactly what this test is about.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: CHROMIUM_ARGS.filter((a) => !a.startsWith('--allow-file-access-from-files')),
  headless: true,
});
const server = await serve(root);
const report = [];

// Bytes of the site files a page requested (file:// and http URLs map to files in root).
function bytesOf(urls, base, filter) {
  let total = 0;
  const seen = new Set();
  for (const u of urls) {
    if (!u.startsWith(base) || seen.has(u)) continue;
    seen.add(u);
    const rel = decodeURIComponent(new URL(u).pathname).slice(decodeURIComponent(new URL(base).pathname).length);
    if (filter && !filter(rel)) continue;
    try { total += fs.statSync(path.join(root, rel)).size; } catch { /* a 404 counts nothing */ }
  }
  return total;
}

async function results(page) {
  return page.$$eval('#search-results li.search-result', (lis) => lis.map((li) => ({
    key: li.querySelector('.search-key').textContent,
    meta: (li.querySelector('.search-meta') || {}).textContent || '',
    marks: Array.from(li.querySelectorAll('mark')).map((m) => m.textContent),
  })));
}

async function waitDone(page) {
  await page.waitForFunction(() => {
    const s = document.getElementById('search-page');
    return s && (s.dataset.state === 'done' || s.dataset.state === 'error');
  }, null, { timeout: 15000 });
  const state = await page.getAttribute('#search-page', 'data-state');
  assert(state === 'done', `search ended in state ${state}: ${await page.textContent('#search-status')}`);
}

for (const [how, base] of [['file://', fileUrl(root, '')], ['http', server.url]]) {
  const within = (u) => u.startsWith(base) || u.startsWith('data:');

  // Opens search.html?q=..., waits for results; returns them with the bytes loaded.
  async function query(name, q, expectFirst, extra) {
    await check(`${how}: ${name}: ${q} → ${expectFirst}`, async () => {
      const { context, page, log } = await openPage(browser);
      const t0 = Date.now();
      await page.goto(base + 'search.html?q=' + encodeURIComponent(q));
      await waitDone(page);
      const ms = Date.now() - t0;
      const rs = await results(page);
      assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
      assert(log.requests.every(within), `requests outside the site: ${log.requests.filter((u) => !within(u))}`);
      assert(rs.length > 0, 'no results');
      assert(rs[0].key === expectFirst, `first result ${rs[0].key}, want ${expectFirst} (${rs.map((r) => r.key).join(', ')})`);
      const index = bytesOf(log.requests, base, (r) => r.startsWith('search/'));
      const files = log.requests.filter((u) => u.includes('/search/')).length;
      const clientMs = await page.evaluate(() => window.hindsightSearch.stats.lastMs);
      report.push({ how, name, q, index, files, ms: Math.round(clientMs), pageMs: ms });
      if (extra) await extra(page, rs);
      await context.close();
    });
  }

  await check(`${how}: tokenizer matches the Rust vectors`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.goto(base + 'search.html');
    const bad = await page.evaluate((vs) => vs.filter((v) => JSON.stringify(window.hindsightSearch.tokens(v.text)) !== JSON.stringify(v.tokens)).map((v) => v.name), vectors);
    assert(bad.length === 0, `vectors differ: ${bad.join(', ')}`);
    assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
    await context.close();
  });

  await check(`${how}: the page before a query loads little and is accessible`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.goto(base + 'search.html');
    await page.waitForFunction(() => document.getElementById('search-page').dataset.state === 'idle');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    assert(focused === 'search-q', `focus on ${focused}`);
    const label = await page.evaluate(() => document.querySelector('label[for=search-q]').textContent);
    assert(label.length > 5, 'input has no label');
    const live = await page.getAttribute('#search-status', 'aria-live');
    assert(live === 'polite', 'no aria-live on the result count');
    const selects = await page.$$eval('#search-filters select', (ss) => ss.map((s) => document.querySelector(`label[for=${s.id}]`) !== null));
    assert(selects.length >= 6 && selects.every(Boolean), 'filter controls missing or unlabelled');
    // Everything the client needs before the first query: its script and the index root.
    const js = bytesOf(log.requests, base, (r) => r === 'static/search.js');
    const rootBytes = fs.statSync(path.join(root, 'search/root.js')).size;
    report.push({ how, name: 'before first query (search.js + root.js)', q: '', index: js + rootBytes, files: 2, ms: 0 });
    assert(js + rootBytes < 50000, `client + root = ${js + rootBytes} bytes`);
    assert(log.requests.every(within), `requests outside the site: ${log.requests.filter((u) => !within(u))}`);
    await context.close();
  });

  await query('word', 'osc_extent_wait', 'LU-1002', async (page, rs) => {
    assert(rs[0].marks.includes('osc_extent_wait'), `no highlight: ${JSON.stringify(rs[0].marks)}`);
    const status = await page.textContent('#search-status');
    assert(/result/.test(status), `status: ${status}`);
  });
  await query('error code', '-EIO', 'LU-1002');
  await query('phrase', '"unable to mount"', 'LU-1003');
  await query('filter', 'ldlm_lock_cancel status:open', 'LU-1001', async (page, rs) => {
    assert(rs.every((r) => /Open/.test(r.meta)), `a result is not open: ${rs.map((r) => r.key + ' ' + r.meta).join('; ')}`);
  });
  await query('filter excludes', 'ldlm_lock_cancel kind:commit', '3f2a9c1e0b');
  await query('pasted LBUG line', 'LustreError: 9999:0:(ldlm_lock.c:872:ldlm_lock_cancel()) ASSERTION( !lock->l_readers ) failed: lock ffff8800cafebabe', 'LU-1001');
  await query('CJK', '系统错误', 'LU-1005');
  await query('accents and case', 'ΣΦΆΛΜΑ istanbul', 'LU-1005');
  await query('path', 'lproc_osc.c', 'LU-1006');

  await check(`${how}: prefix while typing: osc_extent_w → LU-1002`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.goto(base + 'search.html');
    await page.waitForFunction(() => document.getElementById('search-page').dataset.state === 'idle');
    await page.locator('#search-q').pressSequentially('osc_extent_w', { delay: 20 });
    await page.waitForFunction(() => /osc_extent_w$/.test(location.search.replace(/%5F/gi, '_')) || true);
    await waitDone(page);
    await page.waitForTimeout(400);
    await waitDone(page);
    const rs = await results(page);
    assert(rs.length && rs[0].key === 'LU-1002', `first ${rs.length && rs[0].key}`);
    report.push({ how, name: 'prefix (typed)', q: 'osc_extent_w', index: bytesOf(log.requests, base, (r) => r.startsWith('search/')), files: 0, ms: 0 });
    // Keyboard: ArrowDown reaches the first result, ArrowDown/ArrowUp move, Enter opens.
    await page.keyboard.press('ArrowDown');
    let active = await page.evaluate(() => document.activeElement.className);
    assert(active === 'search-result-link', `focus on ${active}`);
    if (rs.length > 1) {
      await page.keyboard.press('ArrowDown');
      active = await page.evaluate(() => document.activeElement.textContent);
      assert(active.startsWith(rs[1].key), `second focus on ${active}`);
      await page.keyboard.press('ArrowUp');
    }
    await page.keyboard.press('Enter');
    await page.waitForURL(/LU-1002\.html$/);
    assert(log.requests.every(within), `requests outside the site: ${log.requests.filter((u) => !within(u))}`);
    await context.close();
  });

  for (const [q, target] of [['LU-1003', 'issues/LU/1/LU-1003.html'], ['3f2a9c1', 'commits/3f/3f2a9c1e0b7d4c6a8e9f0a1b2c3d4e5f60718293.html']]) {
    await check(`${how}: key jump: ${q} → ${target}`, async () => {
      const { context, page, log } = await openPage(browser);
      await page.goto(base + 'search.html?q=' + encodeURIComponent(q));
      await page.waitForURL((u) => String(u).endsWith(target), { timeout: 15000 });
      await page.waitForLoadState('load');
      assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
      assert(log.requests.every(within), `requests outside the site: ${log.requests.filter((u) => !within(u))}`);
      report.push({ how, name: 'key jump', q, index: bytesOf(log.requests, base, (r) => r.startsWith('search/')), files: 0, ms: 0 });
      await context.close();
    });
  }

  await check(`${how}: a filter control edits the query`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.goto(base + 'search.html?q=' + encodeURIComponent('ldlm_lock_cancel'));
    await waitDone(page);
    await page.click('#search-filters summary');
    await page.waitForFunction(() => document.querySelectorAll('#search-filter-status option').length > 2);
    await page.selectOption('#search-filter-status', 'Open');
    await page.waitForFunction(() => /status/.test(document.getElementById('search-q').value));
    await waitDone(page);
    const q = await page.inputValue('#search-q');
    assert(/status:Open/.test(q), `query ${q}`);
    const rs = await results(page);
    assert(rs.length && rs.every((r) => /Open/.test(r.meta)), 'results not filtered');
    assert(log.requests.every(within), `requests outside the site: ${log.requests.filter((u) => !within(u))}`);
    await context.close();
  });
}

console.log('\nbytes of index files loaded per cold query (client and page excluded unless said):');
for (const r of report) console.log(`  ${r.how.padEnd(8)} ${r.name.padEnd(42)} ${String(r.index).padStart(8)} B ${r.ms ? `${r.ms} ms` : ''}  ${r.q.slice(0, 40)}`);
await server.close();
await browser.close();
process.exit(summary());
