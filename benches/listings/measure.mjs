// Measures a listing in headless Chromium over file://: the time from navigation to the listing
// ready to sort (listing.js's `hindsight-listing-ready` mark, after rows.js is parsed), and the
// median of RUNS sorts by each column (both ways) and of narrowing by each facet, timed with
// performance.now() around the click (listing.js sorts and redraws synchronously), JavaScript
// alone and with the forced layout that follows.
// Usage: node benches/listings/measure.mjs SITE_DIR LISTING_DIR
import { launch, fileUrl } from '../../tests/browser/lib.mjs';

const [root, dir] = process.argv.slice(2);
const RUNS = 7;
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const loads = [];
for (let i = 0; i < RUNS; i++) {
  await page.goto(fileUrl(root, dir + 'index.html'));
  await page.waitForFunction(() => performance.getEntriesByName('hindsight-listing-ready').length > 0);
  loads.push(await page.evaluate(() => {
    const ready = performance.getEntriesByName('hindsight-listing-ready')[0].startTime;
    const data = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/rows.js'));
    return { ready, data: data ? data.responseEnd - data.startTime : null, rows: window.hindsightListing.rows.length };
  }));
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const ms = (x) => `${x.toFixed(1)} ms`;
// (Chromium keeps no resource timing for file:// loads, so the data file's own load time
// shows only over HTTP.)
const data = loads.filter((l) => l.data !== null).map((l) => l.data);
console.log(`rows: ${loads[0].rows}; navigation to ready: ${ms(median(loads.map((l) => l.ready)))}` +
  (data.length ? ` (rows.js loaded in ${ms(median(data))})` : '') + `, median of ${RUNS}`);

const cols = await page.$$eval('main table.listing thead th', (t) => t.map((th) => th.getAttribute('data-col')));
// One timed click on `selector` (or a select's change to `value`): [JavaScript, with layout].
async function timed(selector, value) {
  return page.evaluate(([sel, value]) => {
    const el = document.querySelector(sel);
    const t0 = performance.now();
    if (value === undefined) el.click();
    else { el.value = value; el.dispatchEvent(new Event('change')); }
    const t1 = performance.now();
    void document.body.offsetHeight;
    const t2 = performance.now();
    return [t1 - t0, t2 - t0];
  }, [selector, value]);
}
console.log('action                          JS only   with layout   (median of ' + RUNS + ')');
const line = (what, runs) => console.log(what.padEnd(32) +
  ms(median(runs.map((r) => r[0]))).padStart(8) + ms(median(runs.map((r) => r[1]))).padStart(14));
for (const col of cols) {
  for (const way of ['first click', 'second click']) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      // From key order each time, so that every run sorts the same way.
      await timed('.listing-reset');
      if (way === 'second click') await timed(`th[data-col="${col}"] button`);
      runs.push(await timed(`th[data-col="${col}"] button`));
    }
    line(`sort by ${col} (${way})`, runs);
  }
}
const facets = await page.$$eval('.listing-controls select:not([name=sort])', (ss) =>
  ss.map((s) => [s.name, s.options[1].value, s.options.length - 1]));
for (const [name, value, n] of facets) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    await timed('.listing-reset');
    runs.push(await timed(`.listing-controls select[name="${name}"]`, value));
  }
  line(`narrow by ${name} (${n} values)`, runs);
}
await browser.close();
