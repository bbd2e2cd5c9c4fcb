#!/usr/bin/env node
// Reference peer for checking the harness itself (NOT the thing under test): a second headless Chromium
// that serves the peer side of the signaling protocol in README.md, so every scenario can be run
// against a known-good WebRTC stack:
//   node interop/chromium-peer.mjs --peer-cmd "node interop/ref-peer.mjs --once" --scenario all
// Prints `LISTENING http://127.0.0.1:PORT/offer`, a `SESSION {json}` line per session whose transport
// closed, and with --once exits 0 after the first one. Must run in the harness's loopback-only namespace.
// `--fault NAME` makes it misbehave on purpose, to show the harness catches it (README.md).
import http from 'node:http';
import { launchBrowser, openPage, servePage } from './lib/browser.mjs';

const args = process.argv.slice(2);
const once = args.includes('--once');
// --fault corrupt|text-as-binary|drop-10th|reorder|ignore-cmd: misbehave on purpose (harness self-check).
const fault = args.includes('--fault') ? args[args.indexOf('--fault') + 1] : null;
const lifetimeMs = 300000;

const { browser } = await launchBrowser();
const srv = await servePage('ref-peer.js');
const { page } = await openPage(browser, srv.url, (e) => console.error(`page: ${e}`), 'ref');
await page.evaluate((f) => { ref.fault = f; }, fault);
const quit = async (code) => {
  await browser.close().catch(() => {});
  process.exit(code);
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => quit(0));
setTimeout(() => { console.error('ref-peer: lifetime reached'); quit(once ? 1 : 0); }, lifetimeMs).unref();

async function handle(msg) {
  if (msg.type === 'offer') return page.evaluate((m) => ref.offer(m), msg);
  if (msg.type === 'request-offer') return page.evaluate((m) => ref.requestOffer(m), msg);
  if (msg.type === 'answer') return page.evaluate((m) => ref.answer(m), msg);
  throw Object.assign(new Error(`unknown type ${msg.type}`), { status: 400 });
}

const server = http.createServer((req, res) => {
  const reply = (status, obj) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  };
  if (req.method !== 'POST') return reply(405, { error: 'POST only' });
  const chunks = [];
  let size = 0;
  req.on('data', (c) => { size += c.length; if (size <= 1 << 20) chunks.push(c); });
  req.on('end', async () => {
    try {
      if (size > 1 << 20) throw Object.assign(new Error('body too large'), { status: 413 });
      reply(200, await handle(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    } catch (e) {
      reply(e.status || 500, { error: String(e.message || e) });
    }
  });
});
server.listen(0, '127.0.0.1', () => console.log(`LISTENING http://127.0.0.1:${server.address().port}/offer`));

setInterval(async () => {
  const done = await page.evaluate(() => ref.finished()).catch(() => []);
  for (const s of done) console.log(`SESSION ${JSON.stringify(s)}`);
  if (once && done.length) await quit(0);
}, 100);
