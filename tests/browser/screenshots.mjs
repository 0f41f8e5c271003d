// Screenshots of a built site for the README: the home page, an issue page, a listing sorted
// in the page, a release page and a person's page, at a phone's 390 px and a laptop's 1280 px,
// one window high (not the whole page, to keep the files small). The last three are taken at
// 1280 px only when PAGES names them.
// Usage: node screenshots.mjs SITE_DIR ISSUE_PAGE OUT_DIR [LISTING RELEASE PERSON]
import path from 'node:path';
import { launch, fileUrl } from './lib.mjs';

const [root, issuePage, out, listing, release, person] = process.argv.slice(2);
const browser = await launch();
const both = [[390, 844], [1280, 800]];
const wide = [[1280, 800]];
const shots = [
  ['home', 'index.html', both],
  ['issue', issuePage, both],
  ['listing', listing, wide],
  ['release', release, wide],
  ['person', person, wide],
].filter((s) => s[1]);
for (const [name, rel, sizes] of shots) {
  for (const [width, height] of sizes) {
    const context = await browser.newContext({ viewport: { width, height }, colorScheme: 'light', deviceScaleFactor: 1 });
    const page = await context.newPage();
    const [file0, query] = rel.split('?');
    await page.goto(fileUrl(root, file0) + (query ? '?' + query : ''));
    await page.waitForLoadState('load');
    // A listing redraws itself from its data file once loaded (sorted as the address says).
    if (name === 'listing') await page.waitForTimeout(300);
    const file = path.join(out, `${name}-${width}.png`);
    await page.screenshot({ path: file });
    console.log(file);
    await context.close();
  }
}
await browser.close();
