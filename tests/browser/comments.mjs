// Comments as a reader of the old trackers expects them: numbered, each with its old anchor;
// old addresses of a comment (JIRA's browse/KEY?focusedCommentId=N and #comment-N, Bugzilla's
// show_bug.cgi?id=N#cM) land on it over HTTP and over file://; a long thread is folded to its
// first and last comments, and a link into the fold opens it; without scripts all of it shows.
// Usage: node comments.mjs SITE_DIR JIRA_KEY JIRA_PAGE JIRA_COMMENT_ID JIRA_COMMENT_NUMBER
//          BUG_ID BUG_PAGE BUG_COMMENT_NUMBER LONG_PAGE LONG_COUNT
import { launch, serve, fileUrl, openPage, check, assert, summary } from './lib.mjs';

const [root, jiraKey, jiraPage, jiraComment, jiraNumber, bugId, bugPage, bugNumber, longPage,
  longCount] = process.argv.slice(2);
const browser = await launch();
const server = await serve(root);

// The state of the comment `id` on the open page: numbered label, :target, in the viewport.
async function commentState(page, id) {
  return page.evaluate((id) => {
    const el = document.getElementById(id);
    if (!el) return null;
    const r = el.getBoundingClientRect();
    const label = el.querySelector('a.permalink');
    return {
      target: el.matches(':target'),
      hidden: el.hidden || el.offsetParent === null,
      inView: r.top >= -2 && r.top < window.innerHeight,
      label: label ? label.textContent.trim() : null,
      href: label ? label.getAttribute('href') : null,
    };
  }, id);
}

// Opens `url`, waits for an address ending with `expected`, and checks that comment `id` is
// the target, shown, in view and labelled `#number`.
async function landsOnComment(url, expected, id, number) {
  const { context, page, log } = await openPage(browser);
  await page.goto(url);
  await page.waitForURL((u) => u.href.endsWith(expected), { timeout: 10000 });
  await page.waitForLoadState('load');
  await page.waitForFunction((id) => {
    const el = document.getElementById(id);
    return el && el.matches(':target');
  }, id, { timeout: 5000 });
  const s = await commentState(page, id);
  assert(s, `no #${id} on ${page.url()}`);
  assert(s.target && !s.hidden && s.inView, `#${id} at ${page.url()}: ${JSON.stringify(s)}`);
  assert(s.label === `#${number}`, `#${id} is labelled ${s.label}, not #${number}`);
  assert(s.href === `#${id}`, `#${id} links to ${s.href}`);
  assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
  await context.close();
}

const jiraAnchor = `comment-${jiraComment}`;
const bugAnchor = `c${bugNumber}`;
const jiraLanding = `${jiraPage}#${jiraAnchor}`;
const bugLanding = `${bugPage}#${bugAnchor}`;

await check('http: browse/KEY?focusedCommentId=N lands on the comment', () =>
  landsOnComment(`${server.url}browse/${jiraKey}?focusedCommentId=${jiraComment}&page=com.atlassian.jira.plugin.system.issuetabpanels%3Acomment-tabpanel`,
    jiraLanding, jiraAnchor, jiraNumber));
await check('file://: browse/KEY/index.html?focusedCommentId=N lands on the comment', () =>
  landsOnComment(fileUrl(root, `browse/${jiraKey}/index.html`) + `?focusedCommentId=${jiraComment}`,
    jiraLanding, jiraAnchor, jiraNumber));
await check('http: browse/KEY#comment-N keeps the fragment', () =>
  landsOnComment(`${server.url}browse/${jiraKey}#${jiraAnchor}`, jiraLanding, jiraAnchor, jiraNumber));
await check('file://: browse/KEY/index.html#comment-N keeps the fragment', () =>
  landsOnComment(fileUrl(root, `browse/${jiraKey}/index.html`) + `#${jiraAnchor}`, jiraLanding,
    jiraAnchor, jiraNumber));
await check('http: an issue page reached with ?focusedCommentId=N (a rewrite rule) moves to the comment', () =>
  landsOnComment(`${server.url}${jiraPage}?focusedCommentId=${jiraComment}`,
    `${jiraPage}?focusedCommentId=${jiraComment}#${jiraAnchor}`, jiraAnchor, jiraNumber));
await check('http: show_bug.cgi?id=N#cM lands on the comment', () =>
  landsOnComment(`${server.url}show_bug.cgi?id=${bugId}#${bugAnchor}`, bugLanding, bugAnchor, bugNumber));
await check('file://: show_bug.cgi/index.html?id=N#cM lands on the comment', () =>
  landsOnComment(fileUrl(root, 'show_bug.cgi/index.html') + `?id=${bugId}#${bugAnchor}`, bugLanding,
    bugAnchor, bugNumber));

await check('without scripts a browse stub still forwards to the issue', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(fileUrl(root, `browse/${jiraKey}/index.html`));
  await page.waitForURL((u) => u.href.endsWith(jiraPage), { timeout: 10000 });
  const h1 = await page.textContent('h1');
  assert(h1.includes(jiraKey), `landed on ${h1}`);
  await context.close();
});

await check('comments are numbered in order, with Bugzilla keeping its own numbers', async () => {
  const { context, page } = await openPage(browser);
  await page.goto(fileUrl(root, bugPage));
  const labels = await page.$$eval('article.comment', (list) =>
    list.map((c) => [c.id, c.querySelector('a.permalink').textContent.trim()]));
  assert(labels.length > 1, `comments: ${JSON.stringify(labels)}`);
  for (const [id, label] of labels) assert(`#${id.slice(1)}` === label, `${id} is labelled ${label}`);
  await page.goto(fileUrl(root, jiraPage));
  const jira = await page.$$eval('article.comment a.permalink', (l) => l.map((a) => a.textContent.trim()));
  assert(jira.join(' ') === jira.map((_, i) => `#${i + 1}`).join(' '), `JIRA labels ${jira}`);
  await context.close();
});

const count = Number(longCount);
for (const [how, url] of [['file://', fileUrl(root, longPage)], ['http', `${server.url}${longPage}`]]) {
  await check(`${how}: a long thread shows its first and last comments and folds the rest`, async () => {
    const { context, page, log } = await openPage(browser);
    await page.goto(url);
    const shown = await page.$$eval('article.comment', (l) => l.filter((c) => !c.hidden).map((c) => c.id));
    const all = await page.$$eval('article.comment', (l) => l.map((c) => c.id));
    assert(all.length === count, `${all.length} comments, not ${count}`);
    assert(shown.length === 2 && shown[0] === all[0] && shown[1] === all[count - 1],
      `shown: ${shown}`);
    const button = page.locator('button.comments-folded');
    const text = await button.textContent();
    assert(text.includes(`Show ${count - 2} more comments`), `button reads ${text}`);
    await button.click();
    const after = await page.$$eval('article.comment', (l) => l.filter((c) => !c.hidden).length);
    assert(after === count, `${after} comments shown after unfolding`);
    assert(await button.count() === 0, 'the button stays after unfolding');
    const focused = await page.evaluate(() => document.activeElement.closest('article')?.id);
    assert(focused === all[1], `focus on ${focused} after unfolding`);
    assert(log.errors.length === 0, `console errors: ${log.errors.join(' | ')}`);
    await context.close();
  });
}

await check('a link into the fold opens the thread at that comment, on load and later', async () => {
  const { context, page } = await openPage(browser);
  const all = await (async () => {
    await page.goto(fileUrl(root, longPage));
    return page.$$eval('article.comment', (l) => l.map((c) => c.id));
  })();
  const middle = all[Math.floor(count / 2)];
  // Later: a link on the page (or a typed fragment) to a folded comment.
  await page.evaluate((id) => { location.hash = id; }, middle);
  await page.waitForFunction((id) => !document.getElementById(id).hidden, middle, { timeout: 5000 });
  let s = await commentState(page, middle);
  assert(s.target && s.inView, `after the hash changed: ${JSON.stringify(s)}`);
  // On load: the address names a comment in the middle.
  await page.goto('about:blank');
  await page.goto(fileUrl(root, longPage) + `#${middle}`);
  s = await commentState(page, middle);
  assert(s.target && !s.hidden && s.inView, `on load: ${JSON.stringify(s)}`);
  const hidden = await page.$$eval('article.comment', (l) => l.filter((c) => c.hidden).length);
  assert(hidden === 0, `${hidden} comments folded though the address names one of them`);
  await context.close();
});

await check('without scripts a long thread shows every comment', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(fileUrl(root, longPage));
  const visible = await page.locator('article.comment').evaluateAll((l) =>
    l.filter((c) => c.getBoundingClientRect().height > 0).length);
  assert(visible === count, `${visible} of ${count} comments visible`);
  assert(await page.locator('button.comments-folded').count() === 0, 'a fold button without scripts');
  await context.close();
});

await server.close();
await browser.close();
process.exit(summary());
