// Old tracker URLs reach their pages: redirect stubs for /browse/KEY and the script shim for
// show_bug.cgi?id=N, in the browser over HTTP (as a static host serves them) and over file://.
// Usage: node redirects.mjs SITE_DIR JIRA_KEY JIRA_PAGE BUGZILLA_ID BUGZILLA_PAGE
import { launch, serve, fileUrl, openPage, check, assert, summary } from './lib.mjs';

const [root, jiraKey, jiraPage, bugId, bugPage] = process.argv.slice(2);
const browser = await launch();
const server = await serve(root);

async function landsOn(url, expected) {
  const { context, page, log } = await openPage(browser);
  await page.goto(url);
  await page.waitForURL((u) => u.href.endsWith(expected), { timeout: 10000 });
  await page.waitForLoadState('load');
  assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
  const h1 = await page.textContent('h1');
  await context.close();
  return h1;
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

await server.close();
await browser.close();
process.exit(summary());
