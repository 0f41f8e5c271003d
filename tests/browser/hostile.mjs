// Browser test of the hostile site (tests/fixtures/hostile): every HTML page of it is opened over
// file:// in headless Chromium and must run none of the payloads the exports carry: no dialog,
// no `window.__pwned`, no request outside the site folder, no navigation away, no page error
// raised by an injected script. The search page also runs a query for the payload text, and one
// for the commits of the git repository tests/testsuite/hostile.rs builds (their results show it as text).
// Usage: node hostile.mjs SITE_DIR
import fs from 'node:fs';
import path from 'node:path';
import { launch, fileUrl, openPage, check, assert, summary } from './lib.mjs';

const [root] = process.argv.slice(2);
const base = fileUrl(root, '');
const within = (u) => u.startsWith(base) || u.startsWith('data:image/');

function htmlFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...htmlFiles(p));
    else if (e.name.endsWith('.html')) out.push(path.relative(root, p));
  }
  return out.sort();
}

const pages = htmlFiles(root);
const browser = await launch();

await check(`the hostile site has pages (${pages.length})`, async () => {
  assert(pages.length >= 20, `only ${pages.length} pages`);
  assert(pages.some((p) => p.startsWith('issues/')), 'no issue pages');
  // The git repository tests/testsuite/hostile.rs builds: commit pages, listings, releases.
  for (const prefix of ['commits/index.html', 'commits/branch/', 'releases/']) {
    assert(pages.some((p) => p.startsWith(prefix)), `no ${prefix} pages`);
  }
  assert(pages.filter((p) => /^commits\/[0-9a-f]{2}\//.test(p)).length >= 3, 'no commit pages');
});

// A fresh context per page: redirect stubs navigate on their own, and nothing may carry over.
async function settle(page) {
  // Let timers, onload/onerror handlers, the site's own scripts and redirects run.
  for (let i = 0; i < 5; i++) {
    await page.waitForLoadState('load');
    await page.waitForTimeout(40);
    try {
      return await page.evaluate(() => {
        for (const el of document.querySelectorAll('a, img, div, span, svg, td')) {
          el.dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));
        }
        return window.__pwned;
      });
    } catch (e) {
      if (!/context was destroyed|navigation/i.test(String(e))) throw e;
    }
  }
  throw new Error('the page kept navigating');
}

for (const rel of pages) {
  await check(`${rel}: no payload runs`, async () => {
    const { context, page, log } = await openPage(browser);
    try {
      const url = fileUrl(root, rel);
      await page.goto(url);
      // Hover everything that could carry an inline handler.
      const pwned = await settle(page);
      assert(pwned === undefined, `window.__pwned was set to ${pwned}`);
      assert(log.dialogs.length === 0, `dialogs: ${log.dialogs.join(' | ')}`);
      const outside = log.requests.filter((u) => !within(u));
      assert(outside.length === 0, `requests outside the site: ${outside.join(' ')}`);
      assert(page.url().startsWith(base), `navigated away to ${page.url()}`);
      // Links, forms and frames that survived must not point to a script scheme or off-site
      // resources that load by themselves.
      const bad = await page.evaluate(() => {
        const found = [];
        for (const el of document.querySelectorAll('[href], [src], [action], [data], [formaction]')) {
          for (const attr of ['href', 'src', 'action', 'data', 'formaction']) {
            const v = el.getAttribute(attr);
            if (v && /^\s*(javascript|vbscript|data:text|livescript)/i.test(v.replace(/[\u0000-\u001f]/g, ''))) {
              found.push(`${el.tagName} ${attr}=${v}`);
            }
          }
        }
        for (const el of document.querySelectorAll('iframe, object, embed, base, frame, frameset, applet')) {
          found.push(el.tagName);
        }
        // The site's own search form is fine; a form sending anywhere else is not.
        for (const el of document.querySelectorAll('form')) {
          const action = el.getAttribute('action') || '';
          if (/^\s*([a-z][a-z0-9+.-]*:|\/\/)/i.test(action)) found.push(`FORM action=${action}`);
        }
        for (const el of document.querySelectorAll('*')) {
          for (const a of el.attributes) {
            if (/^on/i.test(a.name)) found.push(`${el.tagName} ${a.name}`);
          }
        }
        return found;
      });
      assert(bad.length === 0, `dangerous markup survived: ${bad.slice(0, 5).join(' | ')}`);
      const errors = log.errors.filter((e) => /pwned|msgbox/.test(e));
      assert(errors.length === 0, `payload errors: ${errors.join(' | ')}`);
    } finally {
      await context.close();
    }
  });
}

await check('searching for the payload text runs nothing', async () => {
  if (!fs.existsSync(path.join(root, 'search.html'))) return;
  const { context, page, log } = await openPage(browser);
  await page.goto(fileUrl(root, 'search.html') + '?q=' + encodeURIComponent('<img src=x onerror=window.__pwned=1> script window pwned'));
  await page.waitForLoadState('load');
  await page.waitForTimeout(500);
  const input = page.locator('input[type=search], input[name=q]').first();
  if (await input.count()) {
    await input.fill('"><svg onload=window.__pwned=1> pwned');
    await page.waitForTimeout(500);
  }
  const pwned = await page.evaluate(() => window.__pwned);
  assert(pwned === undefined, `window.__pwned was set to ${pwned}`);
  assert(log.dialogs.length === 0, `dialogs: ${log.dialogs.join(' | ')}`);
  const outside = log.requests.filter((u) => !within(u));
  assert(outside.length === 0, `requests outside the site: ${outside.join(' ')}`);
  await context.close();
});

await check('commit results with payloads are shown as text', async () => {
  if (!fs.existsSync(path.join(root, 'search.html'))) return;
  const { context, page, log } = await openPage(browser);
  try {
    await page.goto(fileUrl(root, 'search.html') + '?q=' + encodeURIComponent('kind:commit window pwned'));
    await page.waitForFunction(() => {
      const s = document.getElementById('search-page');
      return s && (s.dataset.state === 'done' || s.dataset.state === 'error');
    }, null, { timeout: 15000 });
    const state = await page.getAttribute('#search-page', 'data-state');
    assert(state === 'done', `search ended in state ${state}`);
    const shown = await page.$$eval('#search-results li.search-result', (lis) => lis.map((li) => li.textContent));
    assert(shown.length >= 3, `only ${shown.length} commit results`);
    assert(shown.some((t) => t.includes('<script>window.__pwned=1</script>')), `no payload shown as text: ${shown[0]}`);
    await settle(page);
    const pwned = await page.evaluate(() => window.__pwned);
    assert(pwned === undefined, `window.__pwned was set to ${pwned}`);
    assert(log.dialogs.length === 0, `dialogs: ${log.dialogs.join(' | ')}`);
    const outside = log.requests.filter((u) => !within(u));
    assert(outside.length === 0, `requests outside the site: ${outside.join(' ')}`);
  } finally {
    await context.close();
  }
});

await browser.close();
process.exit(summary());
