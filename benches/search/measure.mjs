// Measures hindsight's static search and Pagefind on the same built site, in headless
// Chromium: bytes loaded before the first query and per cold query, and time to first
// results. hindsight runs over file://; Pagefind over HTTP on 127.0.0.1 (it cannot run over
// file://, which is checked too).
// Usage: node measure.mjs SITE_DIR [OUT_JSON]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const lib = await import(pathToFileURL(path.join(here, '../../tests/browser/lib.mjs')).href);
const { CHROMIUM_ARGS, serve, fileUrl, openPage } = lib;
const { chromium } = await import(pathToFileURL(path.join(here, '../../tests/browser/node_modules/playwright-core/index.mjs')).href);
// Chromium as a user runs it: any --allow-file-access-from-files switch (even "=false") lets
// file:// pages fetch other files.
const launch = () => chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: CHROMIUM_ARGS.filter((a) => !a.startsWith('--allow-file-access-from-files')),
  headless: true,
});
const root = path.resolve(process.argv[2]);
const outFile = process.argv[3];

// ---- document frequencies, read from the leaves of the static index
function readScript(file) {
  let got;
  const hindsightSearch = { load: (id, data) => { got = data; } };
  new Function('hindsightSearch', fs.readFileSync(file, 'utf8'))(hindsightSearch);
  return got;
}
const rootData = readScript(path.join(root, 'search/root.js'));
const N = rootData.n;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const V = {}; for (let i = 0; i < 64; i++) V[B64[i]] = i;
const dfs = [];
const pairs = []; // phrase pair terms ("lock cancel), in indexes that have them
for (const d of fs.readdirSync(path.join(root, 'search/l'))) {
  // Leaves are `l/<2 hex>/<14 hex>.js`; `<name>-<k>.js` beside them are their postings files.
  for (const f of fs.readdirSync(path.join(root, 'search/l', d)).filter((f) => !f.includes('-'))) {
    const [suffixes, meta] = readScript(path.join(root, 'search/l', d, f));
    let i = 0, at = 0, prev = '';
    const vlq = () => { let v = 0, m = 1, x; do { x = V[meta[i++]]; v += (x & 31) * m; m *= 32; } while (x >= 32); return v; };
    while (i < meta.length) {
      const pl = vlq(), sl = vlq();
      const t = prev.slice(0, pl) + suffixes.slice(at, at + sl); at += sl; prev = t;
      const df = vlq(), first = vlq();
      i += first;
      if (vlq() > 0) vlq();
      if (/^[a-z]{3,}$/.test(t)) dfs.push([t, df]);
      else if (/^"[a-z]{3,} [a-z]{3,}$/.test(t)) pairs.push([t.slice(1), df]);
    }
  }
}
dfs.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
const words = dfs.filter((x) => x[1] >= 5);
const median = words[Math.floor(words.length / 2)];
const closest = (target) => words.reduce((best, x) => Math.abs(x[1] - target) < Math.abs(best[1] - target) ? x : best);
const half = closest(N / 2);
const byDf = [...words].sort((a, b) => b[1] - a[1]);
const three = [byDf[Math.min(150, byDf.length - 1)], byDf[Math.min(800, byDf.length - 1)], byDf[Math.min(3000, byDf.length - 1)]];
const queries = [
  { name: `one word, median df (${median[0]}, df ${median[1]})`, q: median[0] },
  { name: `one word in half the docs (${half[0]}, df ${half[1]})`, q: half[0] },
  { name: `three words (df ${three.map((x) => x[1]).join('/')})`, q: three.map((x) => x[0]).join(' ') },
  { name: 'pasted log line (16 words)', q: 'LustreError: 28467:0:(ldlm_lock.c:1180:ldlm_lock_cancel()) ASSERTION( lock->l_readers == 0 ) failed: lock ffff8a3b5c2e1d00 LBUG' },
];

// A quoted phrase of two words that are next to each other in about 1% of the documents, alone
// and with another word and a filter; MEASURE_QUERIES (a JSON array) adds queries (to put the
// same phrases to an index without pairs).
if (pairs.length) {
  pairs.sort((a, b) => Math.abs(a[1] - N / 100) - Math.abs(b[1] - N / 100) || (a[0] < b[0] ? -1 : 1));
  const [ph, df] = pairs[0];
  queries.push({ name: `quoted phrase (df ${df})`, q: `"${ph}"` });
  queries.push({ name: 'quoted phrase, a word and a filter', q: `"${ph}" ${three[1][0]} status:open` });
}
for (const q of JSON.parse(process.env.MEASURE_QUERIES || '[]')) queries.push({ name: `query ${q}`, q });

function size(rel) { try { return fs.statSync(path.join(root, rel)).size; } catch { return 0; } }
function bytesOf(urls, base, prefix) {
  const seen = new Set(); let total = 0;
  for (const u of urls) {
    if (!u.startsWith(base) || seen.has(u)) continue;
    seen.add(u);
    const rel = decodeURIComponent(new URL(u).pathname).slice(decodeURIComponent(new URL(base).pathname).length);
    if (prefix && !rel.startsWith(prefix)) continue;
    total += size(rel);
  }
  return total;
}
function dirStats(dir) {
  let bytes = 0, files = 0;
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else { files++; bytes += fs.statSync(p).size; } } };
  if (fs.existsSync(dir)) walk(dir);
  return { bytes, files };
}

const browser = await launch();
const server = await serve(root);
const result = { docs: N, hindsight: { index: dirStats(path.join(root, 'search')), root: size('search/root.js'), client: size('static/search.js'), queries: [] },
  pagefind: { index: dirStats(path.join(root, 'pagefind')), queries: [] } };

// hindsight over file://, cold (new browser context per query), median of 3 runs.
async function hindsightQuery(q, base) {
  const runs = [];
  for (let r = 0; r < 3; r++) {
    const { context, page, log } = await openPage(browser);
    const t0 = Date.now();
    await page.goto(base + 'search.html?q=' + encodeURIComponent(q) + '&jump=0');
    await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('search-page').dataset.state), null, { timeout: 60000 });
    const wall = Date.now() - t0;
    const ms = await page.evaluate(() => window.hindsightSearch.stats.firstMs);
    const finalMs = await page.evaluate(() => window.hindsightSearch.stats.lastMs);
    const n = await page.locator('#search-results li').count();
    runs.push({ ms, finalMs, wall, results: n, index: bytesOf(log.requests, base, 'search/'), files: log.requests.filter((u) => u.includes('/search/')).length,
      outside: log.requests.filter((u) => !u.startsWith(base)).length, errors: log.errors.length });
    await context.close();
  }
  runs.sort((a, b) => a.ms - b.ms);
  return runs[1];
}

fs.writeFileSync(path.join(root, 'pagefind-bench.html'), '<!DOCTYPE html><meta charset="utf-8"><title>pagefind bench</title><body></body>');
async function pagefindQuery(q, base) {
  const runs = [];
  for (let r = 0; r < 3; r++) {
    const { context, page, log } = await openPage(browser);
    await page.goto(base + 'pagefind-bench.html');
    const before = log.requests.length;
    const out = await page.evaluate(async (q) => {
      const t0 = performance.now();
      const pf = await import('./pagefind/pagefind.js');
      await pf.options({ excerptLength: 30 });
      await pf.init();
      const tInit = performance.now();
      const s = await pf.search(q);
      const data = await Promise.all(s.results.slice(0, 10).map((x) => x.data()));
      return { ms: performance.now() - t0, initMs: tInit - t0, results: s.results.length, first: data.length ? data[0].url : null };
    }, q);
    const reqs = log.requests.slice(before);
    out.index = bytesOf(reqs, base, 'pagefind/');
    out.files = reqs.filter((u) => u.includes('/pagefind/')).length;
    runs.push(out);
    await context.close();
  }
  runs.sort((a, b) => a.ms - b.ms);
  return runs[1];
}

async function pagefindBeforeQuery(base) {
  const { context, page, log } = await openPage(browser);
  await page.goto(base + 'pagefind-bench.html');
  await page.evaluate(async () => { const pf = await import('./pagefind/pagefind.js'); await pf.init(); });
  const b = bytesOf(log.requests, base, 'pagefind/');
  await context.close();
  return b;
}

async function pagefindOverFile() {
  const { context, page } = await openPage(browser);
  await page.goto(fileUrl(root, 'pagefind-bench.html'));
  const r = await page.evaluate(async () => {
    try {
      const pf = await import('./pagefind/pagefind.js');
      await pf.init();
      const s = await pf.search('lustre');
      const d = await Promise.all(s.results.slice(0, 1).map((x) => x.data()));
      return d.length ? 'works' : `fails: no results (${s.results.length})`;
    } catch (e) { return 'fails: ' + String(e).slice(0, 160); }
  });
  await context.close();
  return r;
}

for (const x of queries) {
  result.hindsight.queries.push({ name: x.name, q: x.q, ...(await hindsightQuery(x.q, fileUrl(root, ''))) });
  if (result.pagefind.index.files) result.pagefind.queries.push({ name: x.name, q: x.q, ...(await pagefindQuery(x.q, server.url)) });
}
if (result.pagefind.index.files) {
  result.pagefind.beforeQuery = await pagefindBeforeQuery(server.url);
  result.pagefind.overFile = await pagefindOverFile();
}
fs.rmSync(path.join(root, 'pagefind-bench.html'));

const kb = (b) => (b / 1000).toFixed(1) + ' KB';
console.log(`\n${N} documents`);
console.log(`  total index        hindsight ${kb(result.hindsight.index.bytes)} in ${result.hindsight.index.files} files | pagefind ${kb(result.pagefind.index.bytes)} in ${result.pagefind.index.files} files`);
console.log(`  before 1st query   hindsight ${kb(result.hindsight.client + result.hindsight.root)} (search.js ${kb(result.hindsight.client)} + root.js ${kb(result.hindsight.root)}) | pagefind ${result.pagefind.beforeQuery !== undefined ? kb(result.pagefind.beforeQuery) : '-'}`);
for (let i = 0; i < queries.length; i++) {
  const h = result.hindsight.queries[i], p = result.pagefind.queries[i] || {};
  console.log(`  ${queries[i].name}`);
  console.log(`     hindsight file:// ${kb(h.index)} in ${h.files} files, first results ${Math.round(h.ms)} ms, final ${Math.round(h.finalMs)} ms (page load to final ${h.wall} ms), ${h.results} shown, ${h.outside} requests outside, ${h.errors} errors`);
  if (p.ms !== undefined) console.log(`     pagefind  http    ${kb(p.index)} in ${p.files} files, first 10 results ${Math.round(p.ms)} ms (init ${Math.round(p.initMs)} ms), ${p.results} results`);
}
if (result.pagefind.overFile) console.log(`  pagefind over file://: ${result.pagefind.overFile}`);
if (outFile) fs.writeFileSync(outFile, JSON.stringify(result, null, 1));
await server.close();
await browser.close();
