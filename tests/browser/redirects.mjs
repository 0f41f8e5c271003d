// Old tracker URLs reach their pages: redirect stubs for /browse/KEY and the script shims for
// show_bug.cgi?id=N and attachment.cgi?id=N, in the browser over HTTP (as a static host serves
// them) and over file://.
// Usage: node redirects.mjs SITE_DIR JIRA_KEY JIRA_PAGE BUGZILLA_ID BUGZILLA_PAGE
//          [ATTACHMENT_ID ATTACHMENT_FILE ATTACHMENT_TEXT UNCOPIED_ID UNCOPIED_TARGET]
// ATTACHMENT_FILE is the copied file (site path) holding ATTACHMENT_TEXT; UNCOPIED_TARGET is
// the issue page's anchor of an attachment whose bytes are not in the site.
import { launch, serve, fileUrl, openPage, check, assert, summary } from './lib.mjs';

const [root, jiraKey, jiraPage, bugId, bugPage, attId, attFile, attText, uncopiedId, uncopiedTarget] =
  process.argv.slice(2);
const browser = await launch();
const server = await serve(root);

// Opens `url`, waits until the address ends with `expected`, and returns what `read` makes of
// the page (its h1 by default).
async function landsOn(url, expected, read = (page) => page.textContent('h1')) {
  const { context, page, log } = await openPage(browser);
  await page.goto(url);
  await page.waitForURL((u) => u.href.endsWith(expected), { timeout: 10000 });
  await page.waitForLoadState('load');
  assert(page.url().endsWith(expected), `landed on ${page.url()}`);
  assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
  const out = await read(page);
  await context.close();
  return out;
}

await check('http: /browse/KEY (no slash) redirects to the issue page', async () => {
  const h1 = await landsOn(`${server.url}browse/${jiraKey}`, jiraPage);
  assert(h1.includes(jiraKey), `landed on ${h1}`);
});

await check('file://: browse/KEY/index.html forwards to the issue page', async () => {
  const h1 = await landsOn(fileUrl(root, `browse/${jiraKey}/index.html`), jiraPage);
  assert(h1.includes(jiraKey), `landed on ${h1}`);
});

if (bugId) {
  await check('http: show_bug.cgi?id=N reaches the bug through the shim', async () => {
    const h1 = await landsOn(`${server.url}show_bug.cgi?id=${bugId}`, bugPage);
    assert(h1.includes(bugId), `landed on ${h1}`);
  });
  await check('file://: show_bug.cgi/index.html?id=N reaches the bug', async () => {
    const h1 = await landsOn(fileUrl(root, 'show_bug.cgi/index.html') + `?id=${bugId}`, bugPage);
    assert(h1.includes(bugId), `landed on ${h1}`);
  });
}

if (attId) {
  const body = (page) => page.textContent('body');
  await check('http: attachment.cgi?id=N lands on the copied file', async () => {
    const text = await landsOn(`${server.url}attachment.cgi?id=${attId}`, attFile, body);
    assert(text.includes(attText), `the file reads ${text}`);
  });
  await check('file://: attachment.cgi/index.html?id=N lands on the copied file', async () => {
    const text = await landsOn(
      fileUrl(root, 'attachment.cgi/index.html') + `?id=${attId}`, attFile, body);
    assert(text.includes(attText), `the file reads ${text}`);
  });
  await check('http: an attachment without a copy lands on its entry on the issue page', async () => {
    const [, hash] = uncopiedTarget.split('#');
    const ok = await landsOn(`${server.url}attachment.cgi/?id=${uncopiedId}`, uncopiedTarget,
      (page) => page.isVisible(`#${hash}`));
    assert(ok, `#${hash} is not on the page`);
  });
  await check('file://: an attachment without a copy lands on its entry on the issue page', async () => {
    const [, hash] = uncopiedTarget.split('#');
    const ok = await landsOn(
      fileUrl(root, 'attachment.cgi/index.html') + `?id=${uncopiedId}`, uncopiedTarget,
      (page) => page.isVisible(`#${hash}`));
    assert(ok, `#${hash} is not on the page`);
  });
  // An id the archive never had: its table (or the entry in it) is missing.
  for (const [how, url] of [
    ['http', (id) => `${server.url}attachment.cgi?id=${id}`],
    ['file://', (id) => fileUrl(root, 'attachment.cgi/index.html') + `?id=${id}`],
  ]) {
    for (const id of ['4242424', String(Number(attId) + 1)]) {
      await check(`${how}: attachment.cgi?id=${id} says it is not in this archive`, async () => {
        const { context, page } = await openPage(browser);
        await page.goto(url(id));
        await page.waitForFunction(
          () => /not in this archive/.test(document.getElementById('redirect-message').textContent),
          null, { timeout: 10000 });
        assert(page.url().includes('attachment.cgi'), `went to ${page.url()}`);
        const href = await page.getAttribute('#redirect-message a', 'href');
        assert(href === `../search.html?q=attachment%20${id}`, `search link ${href}`);
        await context.close();
      });
    }
  }
}

await server.close();
await browser.close();
process.exit(summary());
