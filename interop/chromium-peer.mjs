#!/usr/bin/env node
// oxirtc interop harness: headless Chromium against a peer command speaking our HTTP/JSON signaling
// protocol (README.md). Runs one named scenario, or all of them, and prints one JSON object on stdout.
// Exit 0 only if every check passed.
//
//   node interop/chromium-peer.mjs --peer-cmd "CMD" --scenario NAME|all [--timeout S] [--verbose]
//   node interop/chromium-peer.mjs --url http://127.0.0.1:PORT/offer --scenario NAME   (peer already running,
//        in the same loopback-only namespace as this process; no peer exit check)
//   node interop/chromium-peer.mjs --list
import { launchBrowser, servePage } from './lib/browser.mjs';
import { isolate, NETNS_ENV } from './lib/netns.mjs';
import { livePeers, runScenario, summaryLine } from './lib/runner.mjs';
import { ROLE_FIXED, SCENARIOS } from './scenarios/index.mjs';

const USAGE = 'usage: node chromium-peer.mjs (--peer-cmd "CMD" | --url URL) --scenario NAME|all [--peer-offers] [--ice-servers JSON] [--relay] [--timeout S] [--verbose] | --list';

function parseArgs(argv) {
  const o = { timeoutMs: 30000, verbose: false, scenario: null, peerCmd: null, url: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    if (a === '--peer-cmd') o.peerCmd = val();
    else if (a === '--url') o.url = val();
    else if (a === '--scenario') o.scenario = val();
    else if (a === '--timeout') o.timeoutMs = Number(val()) * 1000;
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--peer-offers') o.peerOffers = true;
    else if (a === '--ice-servers') o.iceServers = JSON.parse(val());
    else if (a === '--relay') o.relay = true;
    else if (a === '--list') o.list = true;
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (o.help || o.list) return o;
  if (!o.scenario) throw new Error('--scenario is required');
  if (o.scenario !== 'all' && !SCENARIOS[o.scenario]) throw new Error(`unknown scenario ${o.scenario} (try --list)`);
  if (!!o.peerCmd === !!o.url) throw new Error('give exactly one of --peer-cmd and --url');
  if (o.url && o.scenario === 'all') throw new Error('--scenario all needs --peer-cmd (a fresh peer per scenario)');
  if (!(o.timeoutMs > 0)) throw new Error('--timeout must be a positive number of seconds');
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`${e.message}\n${USAGE}`);
  process.exit(2);
}
if (opts.help) { console.log(USAGE); process.exit(0); }
if (opts.list) { console.log(Object.keys(SCENARIOS).join('\n')); process.exit(0); }

// Re-run inside a fresh loopback-only namespace (the peer command is started from inside it too).
const code = await isolate();
if (code !== null) process.exit(code);

const names = opts.scenario === 'all'
  ? Object.keys(SCENARIOS).filter((n) => !(opts.peerOffers && ROLE_FIXED.has(n)))
  : [opts.scenario];
// Hard deadline so a hung browser or peer never blocks CI: 4 x timeout per scenario, plus launch time.
const hard = setTimeout(() => { console.error('interop: hard deadline reached'); process.exit(3); },
  names.length * (opts.timeoutMs * 4 + 20000) + 60000);
hard.unref();

process.on('unhandledRejection', (e) => console.error(`interop: unhandled rejection: ${e && e.stack || e}`));
// Never leave a peer behind: on exit (any cause) SIGTERM every live peer's process group.
process.on('exit', () => { for (const p of livePeers) { try { process.kill(-p.child.pid, 'SIGTERM'); } catch { /* gone */ } } });
let browser = null;
for (const [sig, n] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(sig, () => {
    console.error(`interop: ${sig}, stopping`);
    const done = () => process.exit(n);
    setTimeout(done, 3000).unref();
    (browser ? browser.close() : Promise.resolve()).catch(() => {}).finally(done);
  });
}

const t0 = Date.now();
const srv = await servePage();
const results = [];
let launchMs = null, chromiumVersion = null, fatal = null;
try {
  ({ browser, launchMs } = await launchBrowser());
  chromiumVersion = browser.version();
  for (const name of names) {
    if (names.length > 1) console.error(`interop: ${name} ...`);
    const r = await runScenario(name, SCENARIOS[name], { browser, pageUrl: srv.url, opts });
    if (names.length > 1) console.error(`interop: ${name} ${r.ok ? 'passed' : 'FAILED'} (${r.timings.totalMs} ms)`);
    results.push(r);
  }
} catch (e) {
  fatal = String(e && e.stack || e);
} finally {
  if (browser) await browser.close().catch(() => {});
  await srv.close();
}

const env = { chromium: chromiumVersion, launchMs, netns: process.env[NETNS_ENV] || '(current namespace)', totalMs: Date.now() - t0 };
let out;
if (names.length === 1) {
  out = { ...(results[0] || { scenario: names[0], ok: false }), ...env, ...(fatal ? { fatal } : {}) };
} else {
  const passed = results.filter((r) => r.ok).map((r) => r.scenario);
  const failed = names.filter((n) => !passed.includes(n));
  out = { ok: !fatal && failed.length === 0, passed, failed, ...env, ...(fatal ? { fatal } : {}),
    summary: results.map(summaryLine), results };
  console.error(`interop: ${passed.length} passed, ${failed.length} failed`);
}
if (names.length === 1) out.ok = !fatal && results.length === 1 && results[0].ok;
// process.exit() right after console.log truncates a piped stdout at 64 KiB: exit once it is flushed.
process.stdout.write(JSON.stringify(out, null, 1) + '\n', () => process.exit(out.ok ? 0 : 1));
