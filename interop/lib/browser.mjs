// Debian's headless Chromium through playwright-core, with the flags WebRTC needs when loopback is the
// only interface, plus a tiny HTTP server on 127.0.0.1 for the test page. Never downloads a browser.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The interop/ folder. */
export const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(path.join(ROOT, 'package.json'));

// Chromium honours only the LAST --disable-features switch. Playwright passes its own list (which keeps
// Chromium from calling Google services), so when we add ours we have to repeat playwright's entries.
const PLAYWRIGHT_DISABLED = [
  'AvoidUnnecessaryBeforeUnloadCheckSync', 'DestroyProfileOnBrowserClose', 'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable', 'LensOverlay', 'MediaRouter', 'PaintHolding',
  'ThirdPartyStoragePartitioning', 'AvoidCorsURLLoaderRestartOnRedirect', 'OptimizationHints',
  'NetworkTimeServiceQuerying', 'AimEnabled', 'PreconnectToSearch',
];

/** Command-line switches for Chromium (playwright-core adds --headless and --no-sandbox itself). */
export function chromiumArgs() {
  return [
    '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-default-apps',
    // Without this Chromium never gathers 127.0.0.1 candidates (in a lo-only namespace: none at all).
    '--allow-loopback-in-peer-connection',
    // Grant the media permission without a prompt: without it Chromium does not enumerate interfaces
    // (it offers one mDNS-hidden default-route candidate, never loopback). No getUserMedia call needed.
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    // Received audio is decoded only while something plays it: the page plays remote tracks.
    '--autoplay-policy=no-user-gesture-required',
    // Raw IPs, not <uuid>.local names (the peer could not resolve them without multicast).
    '--disable-features=' + [...PLAYWRIGHT_DISABLED, 'WebRtcHideLocalIpsWithMdns'].join(','),
  ];
}

/** Launches Chromium (CHROMIUM_BIN, default /usr/bin/chromium). Returns `{ browser, launchMs }`. */
export async function launchBrowser() {
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch {
    throw new Error('playwright-core is missing: run `bash scripts/install-test-deps.sh` (or `npm ci` in interop/)');
  }
  const t0 = Date.now();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    headless: true, chromiumSandbox: false, args: chromiumArgs(), timeout: 60000,
  });
  return { browser, launchMs: Date.now() - t0 };
}

/** A fresh context (with the media permission) and page showing our page; waits for `window[global]`. */
export async function openPage(browser, url, onError, global = 'rtc') {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') onError(m.text()); });
  page.on('pageerror', (e) => onError(String(e)));
  await page.goto(url);
  await page.waitForFunction((g) => !!window[g], global);
  return { context, page };
}

/** Serves a page that loads page/`script` (default rtc.js) on 127.0.0.1:<free port>. */
export async function servePage(script = 'rtc.js') {
  const html = `<!doctype html><meta charset="utf-8"><title>oxirtc interop</title><script src="/${script}"></script>`;
  const files = {
    '/': ['text/html', html],
    [`/${script}`]: ['text/javascript', readFileSync(path.join(ROOT, 'page', script))],
  };
  const srv = http.createServer((req, res) => {
    if (req.url === '/favicon.ico') { res.writeHead(204); res.end(); return; }
    const f = files[req.url];
    res.writeHead(f ? 200 : 404, { 'content-type': f ? f[0] + '; charset=utf-8' : 'text/plain', 'cache-control': 'no-store' });
    res.end(f ? f[1] : 'not found');
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${srv.address().port}/`, close: () => new Promise((r) => srv.close(r)) };
}
