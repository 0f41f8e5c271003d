// Shared helpers for the browser tests: one headless Debian Chromium, pages over file:// or a
// loopback HTTP server, and a record of console errors and of every request a page makes.
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--no-first-run', '--disable-quic', '--disable-component-update', '--disable-sync',
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
}

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml',
  '.xml': 'application/xml', '.txt': 'text/plain; charset=utf-8', '.png': 'image/png',
};

// Serves `root` on 127.0.0.1 at a free port; resolves to { url, close }.
export function serve(root) {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    let p = path.join(root, decodeURIComponent(u.pathname));
    if (!p.startsWith(root)) { res.writeHead(403).end(); return; }
    if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
      // As static hosts do: a folder without its slash is redirected, the query kept.
      if (!u.pathname.endsWith('/')) {
        res.writeHead(301, { location: u.pathname + '/' + u.search }).end();
        return;
      }
      p = path.join(p, 'index.html');
    }
    fs.readFile(p, (err, data) => {
      if (err) { res.writeHead(404).end('not found'); return; }
      res.writeHead(200, { 'content-type': MIME[path.extname(p)] || 'application/octet-stream' });
      res.end(data);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

// The file:// URL of `rel` inside `root`; with rel '' the folder itself, ending in '/'.
export function fileUrl(root, rel) {
  const href = pathToFileURL(path.join(root, rel)).href;
  return rel === '' && !href.endsWith('/') ? href + '/' : href;
}

// Opens a page that records console errors, page errors, dialogs and every request.
export async function openPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const log = { errors: [], requests: [], dialogs: [] };
  page.on('console', (m) => { if (m.type() === 'error') log.errors.push(m.text()); });
  page.on('pageerror', (e) => log.errors.push(String(e)));
  page.on('dialog', async (d) => { log.dialogs.push(d.message()); await d.dismiss(); });
  page.on('request', (r) => log.requests.push(r.url()));
  return { context, page, log };
}

let failures = 0;
let passes = 0;
export async function check(name, fn) {
  try {
    await fn();
    passes++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failures++;
    console.log(`not ok - ${name}\n  ${String(e && e.stack || e).split('\n').join('\n  ')}`);
  }
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// Waits until the page's location ends in `hash` (a same-page jump updates the URL a moment after
// the key press or click that caused it) and resolves to the final URL.
export async function settledHash(page, hash) {
  try {
    await page.waitForFunction((h) => location.hash === h, hash, { timeout: 5000 });
  } catch (e) { /* the caller's assertion reports the URL it found */ }
  return page.evaluate(() => location.href);
}

export function summary() {
  console.log(`${passes} passed, ${failures} failed`);
  return failures === 0 ? 0 : 1;
}
