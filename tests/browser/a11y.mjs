// Accessibility: axe-core run in headless Chromium over file:// on every kind of page of a built
// site (home, browse, a facet index, a listing, an issue, the search page with and without a
// query, a Markdown page, and a commit and a release page when the site has them), in light and
// dark colour schemes. Fails on any violation of impact "serious" or "critical"; prints the
// moderate and minor ones as notes.
// Usage: node a11y.mjs SITE_DIR ISSUE_PAGE (ISSUE_PAGE relative to SITE_DIR)
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { launch, fileUrl, check, assert, summary } from './lib.mjs';

const require = createRequire(import.meta.url);
// Injected with page.evaluate: the pages' Content-Security-Policy allows only the site's own
// scripts, and evaluate (unlike an added <script>) is not subject to it.
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const [root, issuePage] = process.argv.slice(2);

// The first page (by name) found under `dir`, skipping folder indexes when `leaf`.
function firstPage(dir, leaf) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return null;
  const found = [];
  (function walk(d) {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.html') && !(leaf && e.name === 'index.html')) found.push(p);
    }
  })(abs);
  return found.length ? path.relative(root, found[0]) : null;
}

// The first page of the first project's listing.
function firstListing() {
  const dir = path.join(root, 'lists/project');
  const first = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()[0];
  return first ? `lists/project/${first}/index.html` : null;
}

const pages = [
  ['home', 'index.html'],
  ['browse', 'lists/index.html'],
  ['facet index', 'lists/status/index.html'],
  ['listing', firstListing()],
  ['issue', issuePage],
  ['search', 'search.html'],
  ['search with results', 'search.html?q=lustre'],
  ['Markdown page', fs.existsSync(path.join(root, 'about.html')) ? 'about.html' : null],
  ['commit', firstPage('commits', true)],
  ['release', firstPage('releases', true)],
  ['release index', fs.existsSync(path.join(root, 'releases/index.html')) ? 'releases/index.html' : null],
];

const browser = await launch();
const notes = [];

for (const scheme of ['light', 'dark']) {
  for (const [name, rel] of pages) {
    if (!rel) {
      console.log(`# no ${name} page in this site: skipped`);
      continue;
    }
    await check(`axe (${scheme}): ${name} page has no serious or critical violation`, async () => {
      const context = await browser.newContext({ colorScheme: scheme });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      const [file, query] = rel.split('?');
      await page.goto(fileUrl(root, file) + (query ? '?' + query : ''));
      await page.waitForLoadState('load');
      if (name === 'search with results') {
        await page.waitForSelector('#search-page[data-state="done"]', { timeout: 10000 })
          .catch(() => {});
      }
      await page.evaluate(AXE);
      const result = await page.evaluate(() =>
        // eslint-disable-next-line no-undef
        axe.run(document, { resultTypes: ['violations'] }));
      await context.close();
      assert(errors.length === 0, `page errors: ${errors.join(' | ')}`);
      const bad = [];
      for (const v of result.violations) {
        const line = `${v.impact} ${v.id}: ${v.help} — ${v.nodes.length} node(s), e.g. ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' ; ')}`
          + (v.nodes[0] && v.nodes[0].failureSummary ? `\n      ${v.nodes[0].failureSummary.split('\n').join(' ')}` : '');
        if (v.impact === 'serious' || v.impact === 'critical') bad.push(line);
        else notes.push(`${scheme} ${name}: ${line}`);
      }
      assert(bad.length === 0, `${rel}:\n    ${bad.join('\n    ')}`);
    });
  }
}
// Tracker content varies more than the templates: every issue page, light scheme, one tab.
await check('axe: no issue page of the site has a serious or critical violation', async () => {
  const issues = [];
  (function walk(d) {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.html')) issues.push(path.relative(root, p));
    }
  })(path.join(root, 'issues'));
  issues.sort();
  const context = await browser.newContext();
  const page = await context.newPage();
  const bad = [];
  for (const rel of issues) {
    await page.goto(fileUrl(root, rel));
    await page.evaluate(AXE);
    // eslint-disable-next-line no-undef
    const result = await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
    for (const v of result.violations) {
      if (v.impact === 'serious' || v.impact === 'critical') {
        bad.push(`${rel}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' ; ')})`);
      }
    }
  }
  await context.close();
  console.log(`# axe checked ${issues.length} issue pages`);
  assert(issues.length > 0, 'no issue pages');
  assert(bad.length === 0, bad.join('\n    '));
});

for (const n of notes) console.log(`# note: ${n}`);

await browser.close();
process.exit(summary());
