// Screenshots of a built site for the README: the home page and an issue page, at a phone's
// 390 px and a laptop's 1280 px, one window high (not the whole page, to keep the files small).
// Usage: node screenshots.mjs SITE_DIR ISSUE_PAGE OUT_DIR
import path from 'node:path';
import { launch, fileUrl } from './lib.mjs';

const [root, issuePage, out] = process.argv.slice(2);
const browser = await launch();
const shots = [
  ['home', 'index.html'],
  ['issue', issuePage],
];
for (const [name, rel] of shots) {
  for (const [width, height] of [[390, 844], [1280, 800]]) {
    const context = await browser.newContext({ viewport: { width, height }, colorScheme: 'light', deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(fileUrl(root, rel));
    await page.waitForLoadState('load');
    const file = path.join(out, `${name}-${width}.png`);
    await page.screenshot({ path: file });
    console.log(file);
    await context.close();
  }
}
await browser.close();
