// Browser test of a built example site: the home page and an issue page open over file://
// and over HTTP with no console errors, no request outside the site, and the expected content.
// Usage: node site.mjs SITE_DIR ISSUE_PAGE (ISSUE_PAGE relative to SITE_DIR)
import { launch, serve, fileUrl, openPage, check, assert, summary } from './lib.mjs';

const [root, issuePage] = process.argv.slice(2);
const browser = await launch();
const server = await serve(root);

for (const [how, base] of [['file://', fileUrl(root, '')], ['http', server.url]]) {
  const within = (u) => u.startsWith(base) || u.startsWith('data:');

  await check(`${how}: home page shows the archive`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.goto(base + 'index.html');
    await page.waitForLoadState('load');
    assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
    assert(log.requests.every(within), `requests outside the site: ${log.requests.filter((u) => !within(u))}`);
    const h1 = await page.textContent('h1');
    assert(/Lustre issue archive/.test(h1), `unexpected h1: ${h1}`);
    const rows = await page.locator('table.projects tbody tr').count();
    assert(rows >= 1, 'no project rows');
    const recent = await page.locator('table.issues tbody tr').count();
    assert(recent >= 10, `only ${recent} recent issues`);
    const css = await page.evaluate(() => getComputedStyle(document.querySelector('.site-header')).display);
    assert(css === 'flex', `stylesheet not applied (display ${css})`);
    await context.close();
  });

  await check(`${how}: issue page shows fields, description and comments`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.goto(base + issuePage);
    await page.waitForLoadState('load');
    assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
    assert(log.requests.every(within), `requests outside the site: ${log.requests.filter((u) => !within(u))}`);
    const key = await page.getAttribute('article.issue', 'data-key');
    assert(/^LU-\d+$/.test(key), `no issue key: ${key}`);
    const title = await page.title();
    assert(title.includes(key), `title ${title} lacks ${key}`);
    const comments = await page.locator('article.comment').count();
    assert(comments >= 1, 'no comments rendered');
    const anchor = await page.getAttribute('article.comment', 'id');
    assert(/^comment-\d+$/.test(anchor), `comment anchor ${anchor}`);
    const desc = await page.textContent('section.description');
    assert(desc.trim().length > 40, 'description missing');
    // Following a link to a related issue lands on a page of the archive.
    const link = page.locator('main a.issue-link').first();
    if (await link.count()) {
      await link.click();
      await page.waitForLoadState('load');
      assert(/\/issues\/LU\/\d+\/LU-\d+\.html/.test(page.url()), `link led to ${page.url()}`);
    }
    await context.close();
  });

  await check(`${how}: pressing / focuses the search box`, async () => {
    const { context, page } = await openPage(browser);
    await page.goto(base + 'index.html');
    await page.keyboard.press('/');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('type'));
    assert(focused === 'search', `focused: ${focused}`);
    await context.close();
  });
}

await server.close();
await browser.close();
process.exit(summary());
