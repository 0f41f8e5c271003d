// Release notes in a browser, over file://: the releases index links the compare view of a
// release and the one it follows, which lists the commits in one and not the other, both ways;
// a release page groups its commits by component, and its table of components reaches a group
// on a later page; an issue page's "fixed in … back-ported to …" line leads to the release the
// back-port shipped in, where the issue is marked a back-port.
// Usage: node releases.mjs SITE_DIR BACKPORT_SHORT_ID
// (the site tests/testsuite/releases.rs builds: releases 1.0.0, 1.0.1, 1.1.0, 1.2.0; LU-1
// fixed in 1.1.0 and back-ported to 1.0.1 by the commit BACKPORT_SHORT_ID).
import { launch, fileUrl, openPage, check, assert, summary } from './lib.mjs';

const [root, backport] = process.argv.slice(2);
const browser = await launch();

const headings = (page) => page.$$eval('section.commit-group > h2, section.commit-group > h3',
  (hs) => hs.map((h) => h.firstChild.textContent.trim()));

await check('the releases index links the compare view, which lists both directions', async () => {
  const { context, page, log } = await openPage(browser);
  await page.goto(fileUrl(root, 'releases/index.html'));
  await page.getByRole('link', { name: '1.0.0 → 1.1.0' }).click();
  await page.waitForURL(/releases\/compare\/1\.0\.0\.\.\.1\.1\.0\/index\.html$/);
  assert((await headings(page)).join('|') === 'In 1.1.0, not in 1.0.0', `page 1: ${await headings(page)}`);
  await page.getByRole('link', { name: 'Next →' }).first().click();
  await page.waitForURL(/1\.1\.0\/2\.html$/);
  const h = await headings(page);
  assert(h.join('|') === 'In 1.1.0, not in 1.0.0 (continued)|In 1.0.0, not in 1.1.0', `page 2: ${h}`);
  assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
  await context.close();
});

await check('a release page groups commits by component; its contents reach a later page', async () => {
  const { context, page, log } = await openPage(browser);
  await page.goto(fileUrl(root, 'releases/1.1.0/index.html'));
  assert((await headings(page)).join('|') === 'ldlm|llite', `groups: ${await headings(page)}`);
  await page.locator('nav.toc').getByRole('link', { name: 'tests' }).click();
  await page.waitForURL(/releases\/1\.1\.0\/2\.html#g-tests$/);
  const target = await page.evaluate(() => {
    const el = document.getElementById('g-tests');
    const r = el && el.getBoundingClientRect();
    return el && { target: el.matches(':target'), inView: r.top >= -2 && r.top < window.innerHeight };
  });
  assert(target && target.target && target.inView, `#g-tests: ${JSON.stringify(target)}`);
  // Both compare views 1.1.0 is in are linked from it.
  await page.goto(fileUrl(root, 'releases/1.1.0/index.html'));
  const compares = await page.$$eval('dd.compare-links a', (as) => as.map((a) => a.textContent));
  assert(compares.join('|') === '1.0.0 → 1.1.0|1.1.0 → 1.2.0', `compare links: ${compares}`);
  assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
  await context.close();
});

await check('an issue page leads to the release its back-port shipped in', async () => {
  const { context, page, log } = await openPage(browser);
  await page.goto(fileUrl(root, 'issues/LU/0/LU-1.html'));
  const line = page.locator('p.fix-line');
  const text = (await line.innerText()).replace(/\s+/g, ' ');
  assert(text.startsWith('Fixed in 1.1.0 (commit ') && text.includes(`back-ported to 1.0.1 (commit ${backport})`),
    `fix line: ${text}`);
  await line.getByRole('link', { name: '1.0.1' }).click();
  await page.waitForURL(/releases\/1\.0\.1\/index\.html$/);
  const row = page.locator('table.release-issues tr', { hasText: 'LU-1' });
  const rowText = await row.innerText();
  assert(rowText.includes('back-port') && rowText.includes(backport), `LU-1 row: ${rowText}`);
  // And from the line to the back-port's commit page.
  await page.goBack();
  await page.locator('p.fix-line').getByRole('link', { name: backport }).click();
  await page.waitForURL(/commits\/[0-9a-f]{2}\/[0-9a-f]{40}\.html$/);
  assert(page.url().includes(`/${backport}`), `commit page: ${page.url()}`);
  assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
  await context.close();
});

await browser.close();
process.exit(summary());
