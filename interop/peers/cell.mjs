// One interop cell: a server and a dialer of the signaling protocol (docs/interop-signaling.md) in a
// fresh network namespace that has only loopback. Starts SERVER_CMD (via sh -c, from the current
// directory), reads its `LISTENING <url>` line, runs the dialer with that URL appended, then gives the
// server 2 s (1 s if the dialer failed) to end by itself before stopping its process group (SIGTERM,
// then SIGKILL).
//
//   node peers/cell.mjs [--timeout S] [--expect-closed] [--media] [--verbose] --server "SERVER_CMD" -- DIALER [ARGS...]
//
//   --timeout S       the dialer's limit (default 20); it is killed after 3x that plus 30 s
//   --expect-closed   also check the server's SESSION line counts a closed channel (`channelsClosed`)
//   --media           also check the server (`oxirtc echo`) reflected the dialer's audio and video: its
//                     SESSION has 2 tracks read, 2 reflecting tracks, >= 98 % of the RTP read reflected, none dropped, no
//                     SRTP failure or unroutable packet, and it asked for a keyframe (`serverMedia`)
//   --verbose         both sides' output on stderr as it comes
// e.g. (from interop/):
//   node peers/cell.mjs --server "node peers/node-peer.mjs --impl werift --once" -- ../target/debug/oxirtc dial --binary
//   node peers/cell.mjs --server "../target/debug/oxirtc echo --once" -- node peers/peer-dial.mjs --impl ndc --binary
//
// Prints one JSON object: { ok, reason, hints, checks, failedChecks, dialer: { argv, exit, result,
// outputTail }, server: { cmd, exit, sessions, outputTail, ... }, ms, netns }: `reason` says in one line
// why a cell failed, `hints` are the last output lines of either side that look like errors. Exit 0
// only if ok; 4: no namespace could be made (needs root).
// The dialer must print one JSON object with `ok` (and `error`/`checks`) on stdout, the server
// `SESSION {json}` lines with `ok` (or `messagesEchoed`, as `oxirtc echo`).
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { NETNS_ENV, isolate } from '../lib/netns.mjs';
import { peerReport, startPeer } from '../lib/peer.mjs';

const TAIL = 40;
const USAGE = 'usage: node peers/cell.mjs [--timeout S] [--expect-closed] [--media] [--verbose] --server "SERVER_CMD" -- DIALER [ARGS...]';

function parseArgs(argv) {
  const o = { timeout: 20, expectClosed: false, media: false, verbose: false, server: null, dialer: [] };
  const sep = argv.indexOf('--');
  if (sep < 0 || sep === argv.length - 1) throw new Error('the dialer command is missing after --');
  o.dialer = argv.slice(sep + 1);
  const own = argv.slice(0, sep);
  for (let i = 0; i < own.length; i++) {
    const a = own[i];
    if (a === '--timeout') o.timeout = Number(own[++i]);
    else if (a === '--expect-closed') o.expectClosed = true;
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--media') o.media = true;
    else if (a === '--server') o.server = own[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.server) throw new Error('--server "CMD" is required');
  if (!Number.isFinite(o.timeout) || o.timeout <= 0) throw new Error('--timeout wants seconds > 0');
  return o;
}

/**
 * Runs the dialer with `url` appended; resolves to { argv, exit, stdout, outputTail }. A dialer still
 * running 3 s after the server exited has nobody to talk to: it is stopped then (`stoppedEarly`).
 */
function runDialer(argv, url, { timeoutMs, verbose, serverExited }) {
  const full = [...argv, url];
  const child = spawn(full[0], full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const out = { argv: full, exit: null, stdout: '', outputTail: [] };
  const keep = (line) => {
    out.outputTail.push(line);
    if (out.outputTail.length > TAIL) out.outputTail.shift();
    if (verbose) console.error(`dialer: ${line}`);
  };
  child.stdout.on('data', (d) => { if (out.stdout.length < 1 << 20) out.stdout += d; });
  readline.createInterface({ input: child.stderr }).on('line', keep);
  const kill = (why) => { keep(`(${why}: killed)`); try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
  const timers = [setTimeout(() => kill(`still running after ${timeoutMs} ms`), timeoutMs)];
  serverExited.then((code) => timers.push(setTimeout(() => {
    out.stoppedEarly = `the server exited (${code}) 3 s before`;
    kill(out.stoppedEarly);
  }, 3000)));
  return new Promise((resolve) => {
    const end = (exit) => { timers.forEach(clearTimeout); out.exit = exit; resolve(out); };
    child.on('error', (e) => end(`spawn failed: ${e.message}`));
    child.on('close', (code, sig) => end(code ?? `signal ${sig}`));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Gives the server's process group `graceMs` to end by itself, then SIGTERM (a server may report on
 * it, as `oxirtc echo` does), 3 s later SIGKILL. Waits for the group, not only for `sh`, so output
 * written after a signal is still read.
 */
async function stopServer(peer, graceMs) {
  if (!peer) return;
  const alive = () => { try { process.kill(-peer.child.pid, 0); return true; } catch { return false; } };
  const gone = async (ms) => { const end = Date.now() + ms; while (alive() && Date.now() < end) await sleep(20); return !alive(); };
  peer.exitedByItself = await gone(graceMs);
  if (!peer.exitedByItself) {
    try { process.kill(-peer.child.pid, 'SIGTERM'); } catch { /* gone */ }
    if (!await gone(3000)) { try { process.kill(-peer.child.pid, 'SIGKILL'); } catch { /* gone */ } }
  }
  await Promise.race([new Promise((r) => peer.child.once('close', r)), sleep(1000)]);
}

/** `exec CMD` where that changes nothing but who gets the signals: the server itself, not `sh`. */
const execServer = (cmd) => (/^[\w./-]+( |$)/.test(cmd) && !/[;&|()<>`$]/.test(cmd) ? `exec ${cmd}` : cmd);

/** What a dialer said went wrong, in one line. */
function dialerReason(d) {
  const r = d.result;
  if (!r) return `dialer printed no JSON (exit ${d.exit}): ${d.outputTail.slice(-3).join(' | ') || (d.stdout || '').slice(0, 300)}`;
  if (r.error) return `dialer: ${r.error}`;
  const failed = Object.entries(r.checks || {}).filter(([, v]) => !v).map(([k]) => k);
  const dc = r.dc ? ` (dc ${JSON.stringify(r.dc).slice(0, 300)})` : '';
  return `dialer checks failed: ${failed.join(', ') || 'none passed'}${dc}`;
}

/** The last few lines of either side's output that look like a reason (errors, warnings, resets). */
function hints(res) {
  const lines = [...(res.server?.outputTail || []).map((l) => `server ${l}`),
    ...(res.dialer?.outputTail || []).map((l) => `dialer ${l}`)];
  const re = /error|warn|fail|unknown|abort|reset|refus|alert|panic|exception|unhandled/i;
  return [...new Set(lines.filter((l) => re.test(l)))].slice(-4).map((l) => l.slice(0, 300));
}

/** The media counters of an `oxirtc echo` SESSION line. */
function mediaCounters(s) {
  if (!s) return null;
  const keys = ['tracks', 'reflectedTracks', 'rtpRead', 'rtpReceived', 'rtpReflected', 'reflectDropped', 'rtpSent',
    'srtpDropped', 'rtpUnroutable', 'keyframeRequests', 'peerKeyframeRequests'];
  return Object.fromEntries(keys.map((k) => [k, s[k]]));
}

/** What is wrong with a SESSION line's media counters (none: it reflected both tracks cleanly). */
function mediaProblems(s) {
  if (!s) return ['no SESSION line'];
  const p = [];
  if (s.tracks !== 2) p.push(`tracks ${s.tracks} (want 2)`);
  if (s.reflectedTracks !== 2) p.push(`reflectedTracks ${s.reflectedTracks} (want 2)`);
  // A packet read as the session ended may not be written back yet: 98 %, not all.
  if (!(s.rtpReflected > 0) || s.rtpReflected < 0.98 * s.rtpRead) p.push(`rtpReflected ${s.rtpReflected} of rtpRead ${s.rtpRead}`);
  if (s.reflectDropped !== 0) p.push(`reflectDropped ${s.reflectDropped}`);
  if (s.srtpDropped !== 0) p.push(`srtpDropped ${s.srtpDropped}`);
  if (s.rtpUnroutable !== 0) p.push(`rtpUnroutable ${s.rtpUnroutable}`);
  if (!(s.keyframeRequests >= 1)) p.push(`keyframeRequests ${s.keyframeRequests}`);
  return p;
}

async function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { console.error(`${e.message}\n${USAGE}`); return 2; }
  const code = await isolate();
  if (code !== null) return code;
  const t0 = Date.now();
  const res = { ok: false, checks: {}, netns: process.env[NETNS_ENV] || '(current namespace)' };
  let server = null;
  try {
    server = await startPeer(execServer(opts.server), { timeoutMs: 30000, verbose: opts.verbose });
    const d = await runDialer(opts.dialer, server.url,
      { timeoutMs: (opts.timeout * 3 + 30) * 1000, verbose: opts.verbose, serverExited: server.exited });
    try { d.result = JSON.parse(d.stdout); } catch { d.result = null; }
    if (d.result) delete d.stdout; else d.stdout = d.stdout.slice(0, 2000);
    res.dialer = d;
    res.checks.dialer = d.exit === 0 && d.result?.ok === true;
  } catch (e) {
    res.error = String(e.message || e);
    server = e.peer || server;
  }
  // A server whose dialer passed ends its session by itself within a second (node-peer, pion-peer and
  // aiortc-peer 500 ms after the channel closed, `oxirtc echo` on the DTLS close_notify) unless the
  // dialer left without a word (werift sends none): then SIGTERM makes `oxirtc echo` report.
  await stopServer(server, res.checks.dialer ? 2000 : 1000);
  res.server = peerReport(server);
  if (res.server) res.server.cmd = opts.server;
  // oxirtc's log is coloured even into a pipe: plain text reads better in JSON.
  for (const side of [res.server, res.dialer]) {
    if (side?.outputTail) side.outputTail = side.outputTail.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
  }
  const session = server?.sessions?.find((s) => typeof s === 'object');
  if (res.dialer) {
    res.checks.serverSession = !!session && (session.ok ?? session.messagesEchoed > 0) === true;
    if (opts.expectClosed) res.checks.serverSawClose = (session?.channelsClosed ?? 0) >= 1;
    if (opts.media) {
      res.media = mediaCounters(session);
      res.checks.serverMedia = mediaProblems(session).length === 0;
    }
  }
  res.failedChecks = Object.entries(res.checks).filter(([, v]) => !v).map(([k]) => k);
  res.ok = !res.error && res.failedChecks.length === 0 && Object.keys(res.checks).length > 0;
  if (!res.ok) {
    if (res.error) res.reason = `cell: ${res.error}`;
    else if (!res.checks.dialer) {
      res.reason = dialerReason(res.dialer);
      if (res.dialer.stoppedEarly) res.reason = `${res.dialer.stoppedEarly}; ${res.reason}`;
    }
    else if (!res.checks.serverSession) res.reason = session ? `server session not ok: ${JSON.stringify(session).slice(0, 300)}` : 'server printed no SESSION line (its session did not end)';
    else if (opts.expectClosed && !res.checks.serverSawClose) res.reason = `server saw no channel close while connected: ${JSON.stringify(session).slice(0, 300)}`;
    else res.reason = `server media: ${mediaProblems(session).join(', ')}: ${JSON.stringify(res.media)}`;
  }
  if (!res.ok) res.hints = hints(res);
  res.ms = Date.now() - t0;
  console.log(JSON.stringify(res, null, 1));
  return res.ok ? 0 : 1;
}

process.exit(await main());
