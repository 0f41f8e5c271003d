// People over file://: a name on an issue page leads to the person's page, which lists that
// issue under a year, and the link back returns to the issue; the index reaches the page too,
// and someone seen once is a row of the index that a name link lands on.
// Usage: node people.mjs SITE_DIR ISSUE_PAGE PERSON_NAME ONCE_ISSUE_PAGE ONCE_NAME
import { launch, fileUrl, openPage, check, assert, summary } from './lib.mjs';

const [root, issuePage, name, onceIssuePage, onceName] = process.argv.slice(2);
const browser = await launch();

await check('file://: a name on an issue page leads to the person and back', async () => {
  const { context, page, log } = await openPage(browser);
  await page.goto(fileUrl(root, issuePage));
  const link = page.locator('a.person', { hasText: name }).first();
  assert(await link.count() === 1, `no link for ${name} on ${issuePage}`);
  await link.click();
  await page.waitForURL(/\/people\/[^/]+\.html$/, { timeout: 10000 });
  const heading = (await page.locator('h1').textContent()).trim();
  assert(heading === name, `the person page is headed ${heading}`);
  assert(await page.locator('table.person-years tbody tr').count() > 0, 'no year table');
  const key = issuePage.split('/').pop().replace(/\.html$/, '');
  const back = page.locator('section.person-year a.key', { hasText: key }).first();
  assert(await back.count() === 1, `${key} is not listed on ${page.url()}`);
  // A year in the table leads to its section on the page.
  const year = page.locator('table.person-years tbody th a').first();
  const anchor = (await year.getAttribute('href')).split('#')[1];
  await year.click();
  await page.waitForFunction((id) => document.getElementById(id)?.matches(':target'), anchor,
    { timeout: 5000 });
  await back.click();
  await page.waitForURL((u) => u.href.endsWith(issuePage), { timeout: 10000 });
  assert((await page.title()).includes(key), `back on ${page.url()}, titled ${await page.title()}`);
  assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
  await context.close();
});

await check('file://: the navigation and the index reach the person page', async () => {
  const { context, page, log } = await openPage(browser);
  await page.goto(fileUrl(root, 'index.html'));
  await page.locator('header.site-header nav a', { hasText: 'People' }).click();
  await page.waitForURL(/\/people\/index\.html$/, { timeout: 10000 });
  await page.locator('table.people a.person', { hasText: name }).first().click();
  await page.waitForURL(/\/people\/[^/]+\.html$/, { timeout: 10000 });
  assert((await page.locator('h1').textContent()).trim() === name, 'wrong person page');
  assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
  await context.close();
});

await check('file://: someone seen once is a row of the index', async () => {
  const { context, page, log } = await openPage(browser);
  await page.goto(fileUrl(root, onceIssuePage));
  await page.locator('a.person', { hasText: onceName }).first().click();
  await page.waitForURL(/\/people\/index\.html#/, { timeout: 10000 });
  const row = await page.evaluate(() => {
    const el = document.querySelector(':target');
    return el ? { tag: el.tagName, text: el.textContent } : null;
  });
  assert(row && row.tag === 'TR', `the target is ${JSON.stringify(row)}`);
  assert(row.text.includes(onceName), `the row is ${row.text}`);
  assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
  await context.close();
});

await browser.close();
process.exit(summary());
