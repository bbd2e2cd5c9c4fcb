// Playwright tests of the `oxirtc serve` web UI in headless Chromium (loopback-only namespace, as
// chromium-peer.mjs). Each check is a named boolean; the script prints one JSON object and exits 0 only
// if every check passed.
//
//  - two pages opened on the link `oxirtc serve` prints share a room and see each other; a file moves
//    with SHA-256 equal, streamed to disk (OPFS) by the worker, saved to Downloads by itself (auto-save:
//    the download's bytes are hashed too); the receiver got a notification and a title badge; decline,
//    cancel, text messages; screenshots mid-transfer (laptop and phone);
//  - several files in one offer (a 0-byte one and unicode names) and "Save all"; auto-accept under the
//    size set in Settings; rename in place (no prompt() anywhere); clearing the history;
//  - a peer that closes its tab disappears at once, and a transfer to it ends clearly;
//  - the QR code decodes (jsQR) to the room link; `/` puts pages of one network in the `local` room;
//    "New private room" and a `#` change; a typed code joins the CLI sender;
//  - resume: a receiving page reloaded mid-transfer resumes from what it kept, from `oxirtc send` (which
//    waits for it) and from another page (which offers the rest again when it comes back);
//  - browser -> CLI with the command the page shows, names with hidden characters escaped.
//
//   node interop/serve-ui.mjs --oxirtc target/debug/oxirtc --out DIR [--mib 64] [--cli-mib 16] [--cli-to-cli]
//                             [--docs-img DIR]   (also write docs/img's screenshots: share-nearby,
//                             share-received, share-phone (mid-transfer), share-dark)
//
// As a bench (figures in `info`, MB/s from picking the file to verified, connection already up): a release
// build and `--bench --mib 256 --cli-mib 256 --cli-to-cli`; it also measures the raw data channel between
// two pages of the same browser (no page code: same message size and send-queue bounds, no hashing, no
// disk) as `info.rawChannelMBps`, right before the page's own browser -> browser transfer.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, openSync, readFileSync, writeSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { chromiumArgs, launchBrowser, ROOT } from './lib/browser.mjs';
import { isolate } from './lib/netns.mjs';

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}
const BIN = arg('oxirtc');
const OUT = arg('out', '/tmp/oxirtc-serve-ui');
const MIB = Number(arg('mib', '64'));
const CLI_MIB = Number(arg('cli-mib', '16'));
const DOCS_IMG = arg('docs-img', '');
const BENCH = process.argv.includes('--bench'); // only the timed transfers, no screenshots
if (!BIN) { console.error('usage: serve-ui.mjs --oxirtc BIN [--out DIR] [--mib N] [--cli-mib N] [--bench] [--docs-img DIR]'); process.exit(2); }

const code = await isolate();
if (code !== null) process.exit(code);
setTimeout(() => { console.error('serve-ui: hard deadline'); process.exit(3); }, 900000).unref();

mkdirSync(OUT, { recursive: true });
const children = [];
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

/** Starts a process, resolves its first stdout line matching `re`, keeps its output. */
function start(args, re) {
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const out = { stdout: '', stderr: '', child, exit: new Promise((r) => child.on('exit', (c) => r(c))) };
  child.stderr.on('data', (d) => { out.stderr += d; });
  const rl = readline.createInterface({ input: child.stdout });
  out.match = new Promise((resolve, reject) => {
    rl.on('line', (l) => { out.stdout += l + '\n'; const m = l.match(re); if (m) resolve(m); });
    child.on('exit', (c) => reject(new Error(`${args[0]} exited ${c} before printing ${re}: ${out.stderr}`)));
  });
  return out;
}

function randomFile(file, mib, seed) {
  const fd = openSync(file, 'w');
  const buf = Buffer.alloc(1 << 20);
  let x = seed >>> 0 || 1;
  for (let m = 0; m < mib; m++) {
    for (let i = 0; i < buf.length; i += 4) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; buf.writeUInt32LE(x, i); }
    writeSync(fd, buf);
  }
  closeSync(fd);
}

function sha256File(file) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}
const sha256Of = (data) => createHash('sha256').update(data).digest('hex');

const checks = {}, info = {}, pageErrors = [], dialogs = [];
let step = 'start';
// The first line is the one link for everyone: `open http://HOST:PORT/#CODE on every device`.
const serve = start(['serve', '--listen', '127.0.0.1:0', '--turn-listen', '127.0.0.1:0', '--drain-timeout', '1'], /open (http:\/\/[^/\s]+)\/#(\S+) /);
const [, base, SHARED] = await serve.match;
const { browser } = await launchBrowser();

// The bench runs its pages as tabs of one browser with an on-disk profile: in Playwright's usual
// (incognito) contexts the origin-private file system lives in the browser process's memory and every
// write is a round trip to it (256 MiB cost 1.5-2 s of browser CPU), which is not what a user's browser
// does. (Two browsers with a profile each measured the raw channel at 23 MB/s instead of ~40: two network
// service processes.) The checks use the faster incognito contexts, one per page.
let profiles = 0;
let benchContext = null;
async function persistentContext(options) {
  if (benchContext) return benchContext;
  const { chromium } = createRequire(path.join(ROOT, 'package.json'))('playwright-core');
  const dir = path.join(OUT, `profile-${++profiles}`);
  rmSync(dir, { recursive: true, force: true });
  benchContext = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', headless: true, chromiumSandbox: false,
    args: chromiumArgs(), timeout: 60000, ...options,
  });
  return benchContext;
}

/** A page in a fresh context (its own storage: another device). */
async function page(hash = '', opts = {}) {
  const options = {
    permissions: ['camera', 'microphone', 'notifications'], viewport: { width: 1200, height: 820 },
    acceptDownloads: true, colorScheme: opts.colorScheme || 'light',
  };
  const context = BENCH ? await persistentContext(options) : await browser.newContext(options);
  // Record what the page shows as system notifications (the real API is still called).
  await context.addInitScript(() => {
    const Real = window.Notification;
    window.__notifications = [];
    if (!Real) return;
    class Recording extends Real {
      constructor(title, o) { super(title, o); window.__notifications.push({ title, body: o && o.body }); }
    }
    Object.defineProperty(Recording, 'permission', { get: () => Real.permission });
    Recording.requestPermission = (...a) => Real.requestPermission(...a);
    window.Notification = Recording;
  });
  const p = await context.newPage();
  for (const old of context.pages()) if (old !== p && old.url() === 'about:blank') await old.close();
  p.setDefaultTimeout(90000); // debug builds on a loaded 2-core machine are slow
  p.on('pageerror', (e) => pageErrors.push(String(e)));
  p.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  p.on('dialog', (d) => { dialogs.push(d.type() + ': ' + d.message()); d.dismiss().catch(() => {}); });
  p.downloads = [];
  p.on('download', (d) => p.downloads.push(d));
  await p.goto(`${base}/${hash ? '#' + hash : ''}`);
  await p.waitForFunction(() => window.oxirtcApp && window.oxirtcApp.room);
  return p;
}
const room = (p) => p.evaluate(() => window.oxirtcApp.room);
const ready = (p, n = 1) => p.waitForFunction((n) => document.querySelectorAll('.peer .send-files:not([disabled])').length >= n, n, { timeout: 90000 });
const receivedSha = (p, i = -1) => p.evaluate(async (i) => {
  const r = window.oxirtcApp.received.at(i);
  const d = await crypto.subtle.digest('SHA-256', await r.blob.arrayBuffer());
  return { name: r.name, size: r.blob.size, storage: r.storage, resumedFrom: r.resumedFrom,
    sha256: Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('') };
}, i);
const state = (p, dir) => p.$eval(`.transfer:not(.old)[data-dir="${dir}"]`, (e) => e.dataset.state);
const waitState = (p, dir, states, timeout = 180000) => p.waitForFunction(([d, s]) => {
  const e = document.querySelector(`.transfer:not(.old)[data-dir="${d}"]`);
  return e && s.includes(e.dataset.state);
}, [dir, states], { timeout });
/** Pretends the page is in the background (another window has the focus): notifications are shown then. */
const background = (p) => p.evaluate(() => { document.hasFocus = () => false; });
async function downloaded(p, name, timeout = 60000) {
  const t0 = Date.now();
  for (;;) {
    const d = p.downloads.find((x) => x.suggestedFilename() === name);
    if (d) { const file = await d.path(); return sha256Of(readFileSync(file)); }
    if (Date.now() - t0 > timeout) return null;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const close = async (...pages) => { for (const p of pages) await (BENCH ? p.close() : p.context().close()).catch(() => {}); };

// The raw data channel between two pages of this browser: the same message size and send-queue bounds
// as the page (read from transfer.js), no hashing, no disk. The ceiling for the page's own figure.
async function rawChannel(mib) {
  const a = await page(), b = await page();
  const params = await a.evaluate(() => ({ chunk: window.oxirtcTransfer.MAX_CHUNK }));
  await a.evaluate(() => { window.rpc = new RTCPeerConnection(); window.rdc = rpc.createDataChannel('raw'); });
  const offer = await a.evaluate(async () => { await rpc.setLocalDescription(); await new Promise((r) => { if (rpc.iceGatheringState === 'complete') r(); else rpc.onicegatheringstatechange = () => rpc.iceGatheringState === 'complete' && r(); }); return rpc.localDescription.toJSON(); });
  const answer = await b.evaluate(async (o) => {
    window.rpc = new RTCPeerConnection(); window.rgot = 0;
    rpc.ondatachannel = (e) => { e.channel.binaryType = 'arraybuffer'; e.channel.onmessage = (m) => { window.rgot += m.data.byteLength; }; };
    await rpc.setRemoteDescription(o); await rpc.setLocalDescription();
    await new Promise((r) => { if (rpc.iceGatheringState === 'complete') r(); else rpc.onicegatheringstatechange = () => rpc.iceGatheringState === 'complete' && r(); });
    return rpc.localDescription.toJSON();
  }, offer);
  await a.evaluate(async (x) => { await rpc.setRemoteDescription(x); await new Promise((r) => { if (rdc.readyState === 'open') r(); else rdc.onopen = r; }); }, answer);
  const total = mib * 1048576;
  const t0 = Date.now();
  const got = b.evaluate((total) => new Promise((r) => { const i = setInterval(() => { if (window.rgot >= total) { clearInterval(i); r(); } }, 2); }), total);
  await a.evaluate(async ([total, chunk]) => {
    // The page's bounds: at most 8 MiB queued, go on at 4 MiB (transfer.js HIGH_WATER, LOW_WATER).
    rdc.bufferedAmountLowThreshold = 4 << 20;
    for (let sent = 0; sent < total; sent += chunk) {
      if (rdc.bufferedAmount > (8 << 20)) await new Promise((r) => { rdc.onbufferedamountlow = () => { rdc.onbufferedamountlow = null; r(); }; });
      rdc.send(new Uint8Array(Math.min(chunk, total - sent)));
    }
  }, [total, params.chunk]);
  await got;
  const mbps = total / ((Date.now() - t0) / 1000) / 1e6;
  await close(a, b);
  return mbps;
}

async function twoPages(file, want) {
  // Issue 17 §1: two tabs opened on the link `oxirtc serve` printed are in one room and see each other.
  const a = await page(SHARED);
  const b = await page(SHARED);
  checks.printedLinkIsOneRoom = (await room(a)) === SHARED && (await room(b)) === SHARED;
  await ready(a); await ready(b);
  checks.twoPagesSeeEachOther = true;
  let t0;
  if (BENCH) {
    // No human in the loop: the receiver takes offers without asking (Settings), as a user can set it.
    await b.click('#settings-toggle');
    await b.check('#auto-accept');
    await b.fill('#auto-mb', '100000');
    await b.dispatchEvent('#settings', 'change');
    t0 = Date.now();
    await a.setInputFiles('.peer input[type=file]', file);
  } else {
    // The receiver is in the background with notifications allowed: it gets one, and a title badge.
    await background(b);
    t0 = Date.now();
    await a.setInputFiles('.peer input[type=file]', file);
    await b.waitForSelector('.transfer[data-state="asking"] button.accept');
    checks.titleBadgeOnOffer = /^\(1\) /.test(await b.title());
    const notes = await b.evaluate(() => window.__notifications);
    checks.notificationFired = notes.length === 1 && notes[0].title.includes('wants to send you') && notes[0].title.includes(path.basename(file));
    if (!checks.notificationFired) info.notifications = notes;
    await b.click('.transfer[data-state="asking"] button.accept');
    checks.badgeClearedOnAccept = (await b.title()) === 'oxirtc share';
  }
  if (!BENCH) {
    await b.waitForFunction(() => { const p = document.querySelector('.transfer progress'); return p && Number(p.value) >= 30; });
    await b.screenshot({ path: path.join(OUT, 'mid-transfer-receiver.png') });
    await a.screenshot({ path: path.join(OUT, 'mid-transfer-sender.png') });
    await a.setViewportSize({ width: 390, height: 844 });
    await a.screenshot({ path: path.join(OUT, 'mid-transfer-phone.png'), fullPage: true });
    if (DOCS_IMG) await a.screenshot({ path: path.join(DOCS_IMG, 'share-phone.png') });
    await a.setViewportSize({ width: 1200, height: 820 });
  }
  await waitState(b, 'in', ['done', 'failed', 'cancelled']);
  await waitState(a, 'out', ['done', 'failed', 'cancelled']);
  info.browserToBrowserMBps = (MIB * 1048576) / ((Date.now() - t0) / 1000) / 1e6;
  // Where the time went, on the receiving page (ms from the offer's arrival).
  info.twoPagesPhasesMs = await b.evaluate(() => {
    const m = window.oxirtcApp.lastIncoming.marks, r = {};
    for (const [k, v] of Object.entries(m)) r[k] = Math.round(v - m.offer);
    return r;
  });
  info.twoPagesWireMBps = (MIB * 1048576) / ((info.twoPagesPhasesMs.end - info.twoPagesPhasesMs.firstByte) / 1000) / 1e6;
  checks.browserReceiverDone = (await state(b, 'in')) === 'done';
  checks.browserSenderDone = (await state(a, 'out')) === 'done';
  const got = await receivedSha(b);
  info.twoPages = got;
  checks.twoPagesSha256Equal = got.sha256 === want && got.size === MIB * 1048576;
  // Chromium has the origin-private file system: the receiving page streams to disk, not to memory.
  checks.receiverStreamedToDisk = got.storage === 'disk';
  checks.workerUsed = await b.evaluate(() => window.oxirtcTransfer.startWorker());
  if (BENCH) {
    info.browserToBrowserHow = 'two tabs of one Chromium with an on-disk profile, the receiver accepts without asking';
    await close(a, b); return;
  }
  // Auto-save (the default): the verified file went to Downloads by itself, byte-exact.
  checks.autoSavedToDownloads = (await downloaded(b, path.basename(file))) === want;
  if (DOCS_IMG) await b.screenshot({ path: path.join(DOCS_IMG, 'share-received.png') });
  // Text messages.
  await a.fill('#chat-text', 'hello from A');
  await a.click('#chat button');
  await b.waitForFunction(() => document.querySelector('#messages').textContent.includes('hello from A'));
  checks.textMessage = true;
  // Decline.
  const small = path.join(OUT, 'small.txt');
  randomFile(small, 1, 9);
  await a.setInputFiles('.peer input[type=file]', small);
  await b.click('.transfer[data-state="asking"] button.decline');
  await waitState(a, 'out', ['declined'], 60000);
  checks.declineShownToSender = (await state(a, 'out')) === 'declined';
  checks.declineShownToReceiver = (await state(b, 'in')) === 'declined';
  // Cancel by the receiver mid-transfer.
  await a.setInputFiles('.peer input[type=file]', file);
  await b.click('.transfer[data-state="asking"] button.accept');
  await b.waitForFunction(() => { const p = document.querySelector('.transfer:not(.old) progress'); return p && Number(p.value) >= 5; });
  await b.click('.transfer[data-state="receiving"] button.cancel');
  await waitState(a, 'out', ['cancelled'], 60000);
  checks.cancelShownToSender = (await state(a, 'out')) === 'cancelled';
  checks.cancelShownToReceiver = (await state(b, 'in')) === 'cancelled';
  checks.cancelledNotSaved = (await b.evaluate(() => window.oxirtcApp.received.length)) === 1;
  await severalFiles(a, b);
  await autoAccept(a, b);
  await renameInPlace(a, b);
  await clearHistory(b);
  await leaveAndClose(a, b, file);
}

// Several files in one offer: a 0-byte file and unicode names; "Save all" saves every one.
async function severalFiles(a, b) {
  const dir = path.join(OUT, 'several'); rmSync(dir, { recursive: true, force: true }); mkdirSync(dir);
  const names = ['empty.bin', 'résumé 📄 данные.txt', '日本語のファイル名.dat'];
  const files = names.map((n) => path.join(dir, n));
  writeFileSync(files[0], '');
  writeFileSync(files[1], 'é'.repeat(5000));
  randomFile(files[2], 1, 77);
  const want = files.map((f) => sha256Of(readFileSync(f)));
  const before = await b.evaluate(() => window.oxirtcApp.received.length);
  await a.setInputFiles('.peer input[type=file]', files);
  await b.click('.transfer[data-state="asking"] button.accept');
  await waitState(b, 'in', ['done', 'failed', 'cancelled'], 60000);
  await waitState(a, 'out', ['done', 'failed', 'cancelled'], 60000);
  const got = await b.evaluate(async (before) => Promise.all(window.oxirtcApp.received.slice(before).map(async (r) => {
    const d = await crypto.subtle.digest('SHA-256', await r.blob.arrayBuffer());
    return { name: r.name, size: r.blob.size, sha256: Array.from(new Uint8Array(d), (x) => x.toString(16).padStart(2, '0')).join('') };
  })), before);
  info.severalFiles = got;
  checks.zeroByteAndUnicodeNamesArrive = got.length === 3 && got.every((g, i) => g.name === names[i] && g.sha256 === want[i]) && got[0].size === 0;
  checks.severalFilesAutoSaved = (await Promise.all(names.map((n) => downloaded(b, n)))).every((s, i) => s === want[i]);
  b.downloads.length = 0;
  await b.click('.transfer[data-state="done"] button.save-all');
  checks.saveAllSavesEach = (await Promise.all(names.map((n) => downloaded(b, n, 20000)))).every((s, i) => s === want[i]);
}

// Settings: receive without asking up to N MB; bigger offers still ask.
async function autoAccept(a, b) {
  await b.click('#settings-toggle');
  await b.check('#auto-accept');
  await b.fill('#auto-mb', '2');
  await b.dispatchEvent('#settings', 'change');
  const small = path.join(OUT, 'auto-small.bin'); randomFile(small, 1, 31);
  const big = path.join(OUT, 'auto-big.bin'); randomFile(big, 3, 32);
  const before = await b.evaluate(() => window.oxirtcApp.received.length);
  await a.setInputFiles('.peer input[type=file]', small);
  await b.waitForFunction((n) => window.oxirtcApp.received.length > n, before, { timeout: 60000 });
  checks.autoAcceptUnderTheLimit = (await downloaded(b, 'auto-small.bin')) === await sha256File(small);
  await waitState(a, 'out', ['done'], 60000);
  await a.setInputFiles('.peer input[type=file]', big);
  await b.waitForSelector('.transfer[data-state="asking"] button.accept', { timeout: 60000 });
  checks.biggerOfferStillAsks = true;
  await b.click('.transfer[data-state="asking"] button.decline');
  await waitState(a, 'out', ['declined'], 60000);
  await b.uncheck('#auto-accept');
  await b.dispatchEvent('#settings', 'change');
  await b.click('#settings-toggle');
}

// Renaming in place: the other page sees the new name; no prompt() anywhere (checked at the end).
async function renameInPlace(a, b) {
  await a.click('#rename');
  await a.fill('#rename-input', 'Kitchen Laptop');
  await a.click('#rename-form button[type=submit]');
  await b.waitForFunction(() => [...document.querySelectorAll('.peer-name')].some((e) => e.textContent === 'Kitchen Laptop'), null, { timeout: 60000 });
  await ready(a); await ready(b);
  checks.renameSeenByThePeer = (await a.textContent('#me')) === 'Kitchen Laptop';
}

async function clearHistory(b) {
  await b.click('#clear-history');
  await b.waitForFunction(() => document.querySelectorAll('#transfers .transfer').length === 0, null, { timeout: 20000 });
  checks.historyCleared = (await b.evaluate(() => localStorage.getItem('oxirtc-history'))) === null
    && await b.isVisible('#no-transfers');
}

// A page that closes mid-transfer: its card goes at once, the sender's transfer ends with a clear reason
// (and waits for it to come back), no greyed card stays behind.
async function leaveAndClose(a, b, file) {
  await a.setInputFiles('.peer input[type=file]', file);
  await b.click('.transfer[data-state="asking"] button.accept');
  await b.waitForFunction(() => { const p = document.querySelector('.transfer:not(.old) progress'); return p && Number(p.value) >= 5; });
  await close(b);
  await a.waitForFunction(() => document.querySelectorAll('.peer').length === 0, null, { timeout: 30000 });
  checks.leftPeerDisappears = await a.isVisible('#empty');
  try { await waitState(a, 'out', ['waiting-peer', 'failed'], 30000); } catch (e) {
    info.leaveRows = await a.evaluate(() => [...document.querySelectorAll('.transfer')].map((e) => `${e.className} ${e.dataset.dir} ${e.dataset.state}: ${e.textContent}`));
    throw e;
  }
  const info1 = await a.textContent('.transfer:not(.old)[data-dir="out"] .transfer-info');
  checks.senderSaysThePeerWentAway = info1.includes('went away');
  info.leaveMessage = info1;
  await close(a);
}

// `/` is the room of the devices on this network (here: loopback, one network): two pages see each other
// by themselves. "New private room" makes a code, a `#` change joins the room it names.
async function discoveryAndRooms() {
  const a = await page();
  const b = await page();
  checks.plainUrlIsTheLocalRoom = (await room(a)) === 'local' && (await room(b)) === 'local';
  await ready(a); await ready(b);
  checks.localDevicesSeeEachOther = true;
  if (DOCS_IMG) await a.screenshot({ path: path.join(DOCS_IMG, 'share-nearby.png') });
  // The QR code: present, and it decodes to the link shown next to it.
  await a.click('#go-private');
  await a.waitForFunction(() => /^\d+-[a-z]+-[a-z]+$/.test(window.oxirtcApp.room || ''));
  const r = await room(a);
  checks.privateRoomHasACode = r !== 'local';
  const jsqr = readFileSync(path.join(ROOT, 'node_modules/jsqr/dist/jsQR.js'), 'utf8');
  await a.addScriptTag({ content: jsqr });
  const decoded = await a.evaluate(async () => {
    const svg = document.querySelector('#qr svg');
    if (!svg) return null;
    const img = new Image();
    img.src = 'data:image/svg+xml;base64,' + btoa(new XMLSerializer().serializeToString(svg));
    await img.decode();
    const c = document.createElement('canvas'); c.width = 400; c.height = 400;
    const g = c.getContext('2d'); g.imageSmoothingEnabled = false; g.drawImage(img, 0, 0, 400, 400);
    const px = g.getImageData(0, 0, 400, 400);
    const q = window.jsQR(px.data, 400, 400);
    return q && q.data;
  });
  info.qrDecoded = decoded;
  checks.qrCodeDecodesToTheRoomLink = decoded === `${base}/#${r}` && (await a.inputValue('#link')) === decoded;
  await b.evaluate((r) => { location.hash = r; }, r);
  await b.waitForFunction((r) => window.oxirtcApp.room === r, r);
  await ready(a); await ready(b);
  checks.hashChangeJoinsTheRoom = true;
  // Back to the devices of the network.
  await b.click('#go-nearby');
  await b.waitForFunction(() => window.oxirtcApp.room === 'local');
  checks.backToNearby = (await b.evaluate(() => location.pathname + location.hash)) === '/';
  await close(a, b);
}

async function darkMode() {
  const a = await page(SHARED, { colorScheme: 'dark' });
  const bg = await a.evaluate(() => getComputedStyle(document.body).backgroundColor);
  checks.darkModeFollowsTheSystem = bg === 'rgb(13, 17, 23)';
  if (DOCS_IMG) await a.screenshot({ path: path.join(DOCS_IMG, 'share-dark.png') });
  await close(a);
}

async function cliToBrowser(file, want) {
  const send = start(['send', file, '--server', base], /^code: (\S+)/);
  const codeStr = (await send.match)[1];
  // The code typed into the page (as a person reads it off the terminal), not a link.
  const p = await page();
  await p.fill('#code-input', codeStr.replace(/-/g, ' ').toUpperCase());
  await p.click('#code-form button');
  await p.waitForFunction((c) => window.oxirtcApp.room === c, codeStr);
  checks.typedCodeJoinsTheSender = true;
  const t0 = Date.now();
  // (The bench's pages take offers without asking.)
  if (!BENCH) await p.click('.transfer[data-state="asking"] button.accept', { timeout: 90000 });
  await waitState(p, 'in', ['done', 'failed', 'cancelled']);
  info.cliToBrowserMBps = (CLI_MIB * 1048576) / ((Date.now() - t0) / 1000) / 1e6;
  const got = await receivedSha(p);
  checks.cliToBrowserSha256Equal = got.sha256 === want;
  checks.cliToBrowserStreamedToDisk = got.storage === 'disk';
  checks.cliSenderExitZero = (await send.exit) === 0;
  if (!checks.cliSenderExitZero) info.cliSender = send.stdout + send.stderr;
  await close(p);
}

// Issue 17 §2 in the browser: the receiving page reloads mid-transfer; `oxirtc send` waits for it, offers
// again, and the page resumes (without a click) from what it kept in OPFS. SHA-256 equal, the CLI says
// `sent` once.
async function resumeAfterReloadFromCli(file, want) {
  const send = start(['send', file, '--server', base], /^code: (\S+)/);
  const codeStr = (await send.match)[1];
  const p = await page(codeStr);
  await p.click('.transfer[data-state="asking"] button.accept', { timeout: 90000 });
  await p.waitForFunction(() => { const e = document.querySelector('.transfer:not(.old) progress'); return e && Number(e.value) >= 25; });
  await p.reload();
  await p.waitForFunction((c) => window.oxirtcApp && window.oxirtcApp.room === c, codeStr);
  await waitState(p, 'in', ['done', 'failed', 'cancelled']);
  const got = await receivedSha(p);
  info.resumeFromCli = got;
  checks.reloadResumesFromCliSender = got.sha256 === want && got.resumedFrom > 0;
  checks.cliSenderWaitedAndSucceededOnce = (await send.exit) === 0 && (send.stdout.match(/^sent /gm) || []).length === 1
    && send.stderr.includes('waiting up to');
  if (!checks.cliSenderWaitedAndSucceededOnce) info.resumeCliSender = send.stdout + send.stderr;
  await close(p);
}

// The same between two pages: the receiver reloads; the sending page waits for a device of that name to
// come back and offers the rest; the receiver resumes from what it kept.
async function resumeAfterReloadBetweenPages(file, want) {
  const a = await page(SHARED), b = await page(SHARED);
  await ready(a); await ready(b);
  await a.setInputFiles('.peer input[type=file]', file);
  await b.click('.transfer[data-state="asking"] button.accept');
  await b.waitForFunction(() => { const e = document.querySelector('.transfer:not(.old) progress'); return e && Number(e.value) >= 25; });
  await b.reload();
  await b.waitForFunction((c) => window.oxirtcApp && window.oxirtcApp.room === c, SHARED);
  try { await waitState(b, 'in', ['done', 'failed', 'cancelled'], 120000); } catch (e) {
    const dump = (p) => p.evaluate(() => ({
      me: window.oxirtcApp.me, peers: [...window.oxirtcApp.peers.values()].map((x) => [x.info, !!x.link, x.link && x.link.busy(), x.pc.connectionState]),
      retries: window.oxirtcApp.retries.map((r) => [r.name, r.files.length]),
      rows: [...document.querySelectorAll('.transfer')].map((e) => `${e.dataset.dir} ${e.dataset.state}: ${e.textContent}`),
    }));
    info.resumePagesDump = { a: await dump(a), b: await dump(b) };
    throw e;
  }
  const got = await receivedSha(b);
  info.resumeBetweenPages = got;
  checks.reloadResumesFromBrowserSender = got.sha256 === want && got.resumedFrom > 0;
  await close(a, b);
}

// Issue 17 §3: a right-to-left override in an offered name is shown escaped, not obeyed.
async function hiddenCharsInNames(file) {
  const send = start(['send', file, '--server', base, '--as-name', 'invoice\u202Efdp.exe'], /^code: (\S+)/);
  const p = await page((await send.match)[1]);
  const names = await p.textContent('.transfer[data-state="asking"] .names', { timeout: 90000 });
  checks.hiddenCharsEscapedInPage = !names.includes('\u202E') && names.includes('invoice\\u{202e}fdp.exe');
  if (!checks.hiddenCharsEscapedInPage) info.hiddenNames = names;
  await p.click('.transfer[data-state="asking"] button.decline');
  await send.exit;
  await close(p);
}

async function browserToCli(file, want) {
  const p = await page();
  await p.click('#go-private');
  await p.waitForFunction(() => /^\d+-/.test(window.oxirtcApp.room || ''));
  const dir = path.join(OUT, 'cli-recv');
  rmSync(dir, { recursive: true, force: true }); mkdirSync(dir);
  // The command the page tells the user to run, exactly as shown (issue 17 §3: it lacked --server).
  const hint = await p.textContent('#status');
  const cmd = (hint.match(/run: oxirtc (recv .*)$/) || [])[1] || '';
  checks.uiHintNamesTheServer = cmd === `recv --server ${base} ${await room(p)}`;
  if (!checks.uiHintNamesTheServer) info.uiHint = hint;
  const recv = start([...cmd.split(' '), '--dir', dir], /^received /);
  await ready(p);
  const t0 = Date.now();
  await p.setInputFiles('.peer input[type=file]', file);
  await recv.match;
  info.browserToCliMBps = (CLI_MIB * 1048576) / ((Date.now() - t0) / 1000) / 1e6;
  checks.cliReceiverExitZero = (await recv.exit) === 0;
  if (!checks.cliReceiverExitZero) info.cliReceiver = recv.stdout + recv.stderr;
  checks.browserToCliSha256Equal = (await sha256File(path.join(dir, path.basename(file)))) === want;
  await waitState(p, 'out', ['done'], 60000);
  checks.browserSenderSawVerified = true;
  await close(p);
}

async function cliToCli(file, want) {
  const dir = path.join(OUT, 'cli-cli');
  rmSync(dir, { recursive: true, force: true }); mkdirSync(dir);
  const send = start(['send', file, '--server', base], /^code: (\S+)/);
  const t0 = Date.now();
  const recv = start(['recv', (await send.match)[1], '--dir', dir, '--server', base], /^received /);
  await recv.match;
  info.cliToCliMBps = (CLI_MIB * 1048576) / ((Date.now() - t0) / 1000) / 1e6;
  info.cliToCliRecvLine = recv.stdout.trim();
  checks.cliToCliSha256Equal = (await sha256File(path.join(dir, path.basename(file)))) === want;
  checks.cliToCliExitZero = (await recv.exit) === 0 && (await send.exit) === 0;
  rmSync(dir, { recursive: true, force: true });
}

let error = null;
try {
  const big = path.join(OUT, `page-${MIB}MiB.bin`);
  randomFile(big, MIB, 1234);
  const mid = path.join(OUT, `cli-${CLI_MIB}MiB.bin`);
  randomFile(mid, CLI_MIB, 4321);
  const [wantBig, wantMid] = [await sha256File(big), await sha256File(mid)];
  if (BENCH) {
    step = 'rawChannel';
    info.rawChannelMBps = await rawChannel(MIB);
  }
  step = 'twoPages';
  await twoPages(big, wantBig);
  if (!BENCH) {
    step = 'discoveryAndRooms';
    await discoveryAndRooms();
    step = 'darkMode';
    await darkMode();
  }
  step = 'cliToBrowser';
  await cliToBrowser(mid, wantMid);
  if (!BENCH) {
    step = 'resumeAfterReloadFromCli';
    await resumeAfterReloadFromCli(mid, wantMid);
    step = 'resumeAfterReloadBetweenPages';
    await resumeAfterReloadBetweenPages(mid, wantMid);
    step = 'hiddenCharsInNames';
    await hiddenCharsInNames(path.join(OUT, 'small.txt'));
  }
  step = 'browserToCli';
  await browserToCli(mid, wantMid);
  step = 'cliToCli';
  if (process.argv.includes('--cli-to-cli')) await cliToCli(mid, wantMid);
  rmSync(big); rmSync(mid);
  if (benchContext) await benchContext.close();
  for (let i = 1; i <= profiles; i++) rmSync(path.join(OUT, `profile-${i}`), { recursive: true, force: true });
} catch (e) {
  error = `in ${step}: ${e && e.stack || e}`;
}
await browser.close().catch(() => {});
serve.child.kill('SIGTERM');
checks.serveExitsOnSigterm = (await serve.exit) === 0;
checks.noPageErrors = pageErrors.length === 0;
checks.noPromptOrAlert = dialogs.length === 0;
const failed = Object.entries(checks).filter(([, v]) => !v).map(([k]) => k);
const ok = !error && failed.length === 0;
console.log(JSON.stringify({ ok, failedChecks: failed, checks, info, error, pageErrors, dialogs, screenshots: OUT }, null, 2));
process.exit(ok ? 0 : 1);
