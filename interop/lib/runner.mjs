// Runs one scenario: fresh peer process + fresh browser context, the scenario, Chromium's view of the
// transport, then teardown (close the peer connections, let a --once peer exit, stop its process group).
import { openPage } from './browser.mjs';
import { Context } from './context.mjs';
import { peerReport, startPeer, stopPeer } from './peer.mjs';

/** Peers alive right now, so a signal or an exit can still stop them. */
export const livePeers = new Set();

/** `arg` quoted for `sh -c`. */
const shellQuote = (arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${String(arg).replace(/'/g, "'\\''")}'`);

async function launchPeer(opts, extraArgs = []) {
  const cmd = [opts.peerCmd, ...extraArgs.map(shellQuote)].join(' ');
  const peer = await startPeer(cmd, { verbose: opts.verbose });
  livePeers.add(peer);
  return peer;
}
async function endPeer(peer) {
  await stopPeer(peer);
  livePeers.delete(peer);
  return peerReport(peer);
}

function withDeadline(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms); });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

/** Chromium's figures for the first peer connection (the one every scenario but setup-time uses). */
async function browserView(ctx) {
  const key = ctx.pcKeys[0];
  if (!key) return null;
  const s = await ctx.run((k) => rtc.stats(k), key);
  const { events, gathered, dataChannels, ...transport } = s;
  return { transport, dataChannels, gathered, events };
}

/**
 * Runs scenario `name` (function `fn`). `opts`: { peerCmd | url, timeoutMs, verbose }.
 * Resolves to the result object (never throws).
 */
export async function runScenario(name, fn, { browser, pageUrl, opts }) {
  const t0 = Date.now();
  const result = { scenario: name, peerOffersFirst: !!opts.peerOffers, ok: false, checks: {}, info: {}, timings: {} };
  const pageErrors = [];
  const peers = [];
  let ctx, context;
  try {
    // A scenario may prepare state (temporary files...) and arguments for the peer command
    // (`fn.prepare()` -> { peerArgs, ... }); those need a peer command we start.
    const prep = fn.prepare ? await fn.prepare() : {};
    if (prep.peerArgs && !opts.peerCmd) throw new Error(`${name} adds arguments to the peer command: run it with --peer-cmd`);
    const peer = opts.peerCmd ? await launchPeer(opts, prep.peerArgs).catch((e) => { peers.push(e.peer); throw e; }) : null;
    if (peer) peers.push(peer);
    ({ context } = await openPage(browser, pageUrl, (e) => pageErrors.length < 20 && pageErrors.push(e)));
    const page = context.pages()[0];
    // RTCConfiguration for every RTCPeerConnection the page makes (rtc.js newPc).
    await page.evaluate((c) => { window.rtcConfig = c; },
      { iceServers: opts.iceServers || [], iceTransportPolicy: opts.relay ? 'relay' : 'all' });
    ctx = new Context({ page, peer, url: opts.url, timeoutMs: opts.timeoutMs, peerOffersFirst: !!opts.peerOffers });
    ctx.prep = prep;
    ctx.newPeer = async () => {
      if (!opts.peerCmd) return;
      const old = peers.at(-1);
      peers[peers.length - 1] = await endPeer(old);
      const p = await launchPeer(opts, ctx.prep.peerArgs);
      peers.push(p);
      ctx.peer = p;
      ctx.url = p.url;
      ctx.session = null;
    };
    await withDeadline(fn(ctx), opts.timeoutMs * 4, name);
  } catch (e) {
    result.error = String(e && e.stack || e);
  }
  if (ctx) {
    Object.assign(result, { checks: ctx.checks, info: ctx.info, timings: ctx.timings, session: ctx.session });
    try { result.browser = await withDeadline(browserView(ctx), 5000, 'getStats'); } catch (e) { result.browserError = String(e.message); }
    const t = (result.browser && result.browser.transport) || {};
    // What Chromium chose, at the top for quick reading (all of getStats' transport is in browser.transport).
    result.transport = { dtlsRole: t.dtlsRole, tlsVersion: t.tlsVersion, dtlsCipher: t.dtlsCipher,
      srtpCipher: t.srtpCipher, iceRole: t.iceRole, selectedPair: t.selectedPair };
    result.sdp = ctx.sdp;
    for (const k of ctx.pcKeys) await ctx.run((key) => rtc.closePc(key), k).catch(() => {});
  }
  if (context) await context.close().catch(() => {});
  const reports = [];
  for (const p of peers) if (p) reports.push(p.child ? await endPeer(p) : p);
  result.peer = reports.length > 1 ? reports : reports[0] ?? null;
  // Checks on what the peer reported when it ended (its SESSION lines), for scenarios that set one.
  if (ctx && ctx.afterPeer && reports.length) {
    try { await ctx.afterPeer(reports.at(-1)); } catch (e) { result.error = result.error || String(e && e.stack || e); }
    Object.assign(result.checks, ctx.checks);
  }
  // A non-zero exit of the peer (not a signal from us) is a failure of the peer under test.
  const bad = reports.filter((r) => typeof r.exit === 'number' && r.exit !== 0);
  if (opts.peerCmd) result.checks.peerExitStatusZero = bad.length === 0;
  if (pageErrors.length) result.pageErrors = pageErrors;
  result.timings.totalMs = Date.now() - t0;
  // A scenario that recorded no check of its own (it failed before its first one) has not passed.
  const own = Object.keys(result.checks).filter((k) => k !== 'peerExitStatusZero');
  result.ok = !result.error && own.length > 0 && Object.values(result.checks).every(Boolean);
  result.failedChecks = Object.keys(result.checks).filter((k) => !result.checks[k]);
  return result;
}

/** One line of the `--scenario all` summary. */
export function summaryLine(r) {
  const t = r.transport || {};
  return { scenario: r.scenario, ok: r.ok, failedChecks: r.failedChecks, error: r.error ? r.error.split('\n')[0] : undefined,
    dtlsRole: t.dtlsRole, tlsVersion: t.tlsVersion, dtlsCipher: t.dtlsCipher, srtpCipher: t.srtpCipher,
    selectedPair: t.selectedPair, ms: r.timings.totalMs, ...(r.timings.setupMedianMs != null ? { setupMedianMs: r.timings.setupMedianMs } : {}) };
}
