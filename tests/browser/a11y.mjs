// Accessibility: axe-core run in headless Chromium over file:// on every kind of page of a built
// site (home, browse, a facet index, a listing, an issue, the search page with and without a
// query, a Markdown page, the source-history pages: a commit, the branches, a branch's
// commits, a release, the releases, a compare view, a path's history; the people index and a
// person; a listing as sorted in the page), in light and dark colour schemes. Fails on any violation
// of impact "serious" or "critical"; prints the moderate and minor ones as notes. The site must
// have source history: a missing commit or release page fails. Every page at a phone's 390 px
// and a laptop's 1280 px wide.
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

// The first page (by path, relative to the site, `/`-separated) under `dir` matching `re`.
function firstPage(dir, re) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return null;
  const found = [];
  (function walk(d) {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const rel = path.relative(root, p).split(path.sep).join('/');
        if (re.test(rel)) found.push(rel);
      }
    }
  })(abs);
  found.sort();
  return found.length ? found[0] : null;
}

const exists = (rel) => (fs.existsSync(path.join(root, rel)) ? rel : null);

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
  ['listing, sorted in the page', firstListing() && firstListing() + '?sort=-updated'],
  ['issue', issuePage],
  ['search', 'search.html'],
  ['search with results', 'search.html?q=lustre'],
  ['Markdown page', fs.existsSync(path.join(root, 'about.html')) ? 'about.html' : null],
  ['commit', firstPage('commits', /^commits\/[0-9a-f]{2}\/[0-9a-f]{40}\.html$/)],
  ['branches', exists('commits/index.html')],
  ['branch commits', firstPage('commits/branch', /^commits\/branch\/[^/]+\/index\.html$/)],
  ['release', firstPage('releases', /^releases\/[^/]+\/index\.html$/)],
  ['releases', exists('releases/index.html')],
  ['release compare', firstPage('releases/compare', /^releases\/compare\/[^/]+\/index\.html$/)],
  ['path history', firstPage('paths', /^paths\/.+\.html$/)],
  ['people', exists('people/index.html')],
  ['person', firstPage('people', /^people\/[^/]+\.html$/)],
];
// Pages every site checked here must have (the test builds one with a git repository).
const required = new Set(['commit', 'branches', 'branch commits', 'release', 'releases',
  'release compare', 'people', 'person']);

const browser = await launch();
const notes = [];

// A phone's width and a laptop's: the narrow layout hides and folds things the wide one shows.
const widths = [[390, 844], [1280, 800]];
for (const [width, height] of widths) for (const scheme of ['light', 'dark']) {
  for (const [name, rel] of pages) {
    if (!rel) {
      if (required.has(name)) {
        if (width !== widths[0][0] || scheme !== 'light') continue;
        await check(`the site has a ${name} page`, async () => {
          assert(false, `no ${name} page in ${root}`);
        });
      } else if (width === widths[0][0] && scheme === 'light') {
        console.log(`# no ${name} page in this site: skipped`);
      }
      continue;
    }
    await check(`axe (${width} px, ${scheme}): ${name} page has no serious or critical violation`, async () => {
      const context = await browser.newContext({ colorScheme: scheme, viewport: { width, height } });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      const [file, query] = rel.split('?');
      await page.goto(fileUrl(root, file) + (query ? '?' + query : ''));
      await page.waitForLoadState('load');
      // A listing redraws its rows from its data file; check the redrawn page.
      if (name === 'listing, sorted in the page') {
        await page.waitForSelector('th[aria-sort]', { state: 'attached', timeout: 10000 });
      }
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
        else notes.push(`${width} px ${scheme} ${name}: ${line}`);
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
