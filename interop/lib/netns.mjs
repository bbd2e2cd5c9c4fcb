// Loopback-only network namespace for the whole harness run.
//
// Why: once Chromium has the media permission (which it needs to gather 127.0.0.1 at all) it gathers
// host candidates on EVERY interface of the machine, and may pair a non-loopback local address with the
// peer's 127.0.0.1 candidate; the peer then answers that address. In a fresh namespace where only `lo`
// is up, every packet of Chromium and of the peer command can only ever go to loopback.
//
// `isolate()` re-runs the current script (same argv) inside such a namespace and returns that run's exit
// code to our parent; the namespace is deleted afterwards, also on SIGINT/SIGTERM/SIGHUP. Needs root.
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';

/** The `ENV` variable that tells a re-run process it already is inside our namespace. */
export const NETNS_ENV = 'OXIRTC_INTEROP_NETNS';

/** Non-internal interface addresses of the current namespace, as `name:address` strings. */
export function exposedAddresses() {
  const out = [];
  for (const [name, list] of Object.entries(os.networkInterfaces())) {
    for (const a of list || []) if (!a.internal) out.push(`${name}:${a.address}`);
  }
  return out;
}

function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { ok: r.status === 0, err: String(r.stderr || r.error || '').trim() };
}

const PREFIX = 'oxirtc-interop-';

/** Deletes namespaces left by earlier runs of this harness whose process is gone (e.g. SIGKILLed). */
function sweepStale() {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of String(r.stdout || '').split('\n')) {
    const m = line.match(/^(oxirtc-interop-(\d+)-[a-z0-9]+)\b/);
    if (!m) continue;
    try { process.kill(Number(m[2]), 0); } catch (e) { if (e.code === 'ESRCH') ip('netns', 'del', m[1]); }
  }
}

/**
 * Returns `null` when this process is already isolated (or isolation is switched off with
 * OXIRTC_INTEROP_NO_NETNS=1, or there is nothing to isolate from). Otherwise runs this script again
 * inside a new namespace, deletes the namespace, and resolves to the child's exit code: the caller
 * must then exit with that code without doing anything else.
 */
export async function isolate() {
  if (process.env[NETNS_ENV] || process.env.OXIRTC_INTEROP_NO_NETNS === '1') return null;
  const exposed = exposedAddresses();
  if (exposed.length === 0) return null;
  sweepStale();
  const name = `${PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  const add = ip('netns', 'add', name);
  if (!add.ok) {
    console.error(`cannot create network namespace ${name} (${add.err}). This host has ${exposed.join(' ')}; ` +
      'run as root, or set OXIRTC_INTEROP_NO_NETNS=1 to run in this namespace anyway (unsafe: WebRTC may use those).');
    return 4;
  }
  let deleted = false;
  const del = () => { if (!deleted) { deleted = true; ip('netns', 'del', name); } };
  const up = ip('-n', name, 'link', 'set', 'lo', 'up');
  if (!up.ok) { del(); console.error(`cannot bring lo up in ${name}: ${up.err}`); return 4; }
  const child = spawn('ip', ['netns', 'exec', name, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, [NETNS_ENV]: name } });
  // Forward signals; the child cleans up its browser and peer, then we delete the namespace.
  let forced = null;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      try { child.kill(sig); } catch { /* already gone */ }
      // If the child does not exit within 10 s, kill it so the namespace still goes away.
      forced ??= setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 10000);
    });
  }
  process.on('exit', del);
  const code = await new Promise((resolve) => {
    child.on('error', (e) => { console.error(`ip netns exec failed: ${e.message}`); resolve(4); });
    child.on('exit', (c, s) => resolve(c ?? (s ? 128 + (os.constants.signals[s] || 1) : 1)));
  });
  if (forced) clearTimeout(forced);
  del();
  return code;
}
