// One query language, one answer: each query of EXPECTED_JSON (the terminal's answers, written
// by tests/testsuite/search_parity.rs with `hindsight search`'s own reader) is put to the
// site's search page three ways, and each must list the same top keys in the same order:
//   - opened cold as a shared link, search.html?q=… (over file:// and over HTTP);
//   - typed into the box, results read once the last keystroke has settled;
//   - typed, then submitted with Enter.
// Each result's snippet must read as the terminal's, with the same words highlighted (the
// page's <mark> written as the terminal's « »).
// Notes the terminal printed (unknown filter, a key not in the archive) must show in the page.
// Usage: node parity.mjs SITE_DIR EXPECTED_JSON
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, serve, fileUrl, openPage, check, assert, summary } from './lib.mjs';

const root = path.resolve(process.argv[2] || '');
const expected = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: CHROMIUM_ARGS.filter((a) => !a.startsWith('--allow-file-access-from-files')),
  headless: true,
});
const server = await serve(root);

async function keys(page) {
  return page.$$eval('#search-results li.search-result .search-key', (ks) => ks.map((k) => k.textContent));
}

// The page has answered `q`: the search ran for it (its URL carries it) and finished.
async function settled(page, q) {
  await page.waitForFunction((want) => {
    const s = document.getElementById('search-page');
    const got = new URL(location.href).searchParams.get('q');
    const state = s && s.dataset.state;
    return got === want && (state === 'done' || state === 'error' || (state === 'idle' && !want.trim()));
  }, q, { timeout: 15000 });
  const state = await page.getAttribute('#search-page', 'data-state');
  assert(state !== 'error', `search failed: ${await page.textContent('#search-status')}`);
}

async function snippets(page) {
  return page.$$eval('#search-results li.search-result', (lis) => lis.map((li) => {
    const p = li.querySelector('.search-snippet');
    if (!p) return '';
    let s = '';
    p.childNodes.forEach((n) => { s += n.nodeName === 'MARK' ? '«' + n.textContent + '»' : n.textContent; });
    return s;
  }));
}

function sameSnippets(got, want, how) {
  for (let i = 0; i < Math.min(10, want.length); i++) {
    assert(got[i] === want[i], `${how}: snippet ${i + 1} in the page\n  ${JSON.stringify(got[i])}\nin the terminal\n  ${JSON.stringify(want[i])}`);
  }
}

function same(got, want, how) {
  const g = got.slice(0, 10).join(' '), w = want.slice(0, 10).join(' ');
  assert(g === w, `${how}: page lists [${g}], terminal [${w}]`);
}

async function notesShown(page, notes, how) {
  const status = await page.textContent('#search-status');
  for (const n of notes) assert(status.includes(n), `${how}: note "${n}" not shown (status: "${status}")`);
}

// Cold links, over both protocols.
for (const [how, base] of [['file://', fileUrl(root, '')], ['http', server.url]]) {
  await check(`${how}: ${expected.length} shared links answer as the terminal does`, async () => {
    const { context, page, log } = await openPage(browser);
    const failures = [];
    for (const x of expected) {
      try {
        await page.goto(base + 'search.html?jump=0&q=' + encodeURIComponent(x.q));
        await page.waitForFunction(() => {
          const s = document.getElementById('search-page');
          return s && ['done', 'error', 'idle'].includes(s.dataset.state);
        }, null, { timeout: 15000 });
        same(await keys(page), x.keys, `cold ${JSON.stringify(x.q)}`);
        sameSnippets(await snippets(page), x.snippets, `cold ${JSON.stringify(x.q)}`);
        await notesShown(page, x.notes, `cold ${JSON.stringify(x.q)}`);
      } catch (e) {
        failures.push(e.message);
      }
    }
    assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
    assert(failures.length === 0, failures.join('\n'));
    await context.close();
  });
}

// Typed, then Enter, in one page over file://.
await check(`file://: ${expected.length} queries typed and submitted answer as the terminal does`, async () => {
  const { context, page, log } = await openPage(browser);
  await page.goto(fileUrl(root, '') + 'search.html?jump=0');
  await page.waitForFunction(() => document.getElementById('search-page').dataset.state === 'idle');
  const failures = [];
  for (const x of expected) {
    try {
      await page.fill('#search-q', '');
      await page.type('#search-q', x.q, { delay: 2 });
      await settled(page, x.q);
      same(await keys(page), x.keys, `typed ${JSON.stringify(x.q)}`);
      await notesShown(page, x.notes, `typed ${JSON.stringify(x.q)}`);
      if (x.q.trim()) {
        await page.evaluate(() => document.getElementById('search-page').setAttribute('data-state', 'submitted'));
        await page.press('#search-q', 'Enter');
        await settled(page, x.q);
        same(await keys(page), x.keys, `Enter ${JSON.stringify(x.q)}`);
        sameSnippets(await snippets(page), x.snippets, `Enter ${JSON.stringify(x.q)}`);
      }
    } catch (e) {
      failures.push(e.message);
    }
  }
  assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
  assert(failures.length === 0, failures.join('\n'));
  await context.close();
});

await server.close();
await browser.close();
process.exit(summary());
