// The peer under test: a command run via `sh -c` in its own process group (so we can always stop it and
// everything it started). Its first stdout line must be `LISTENING http://127.0.0.1:PORT/path`; later
// `SESSION {json}` lines are collected. Other output is kept (last lines only) for the result.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

const TAIL = 40;

/**
 * Starts `cmd`; resolves once it printed LISTENING. Rejects (error.peer = the stopped peer) after
 * `timeoutMs` without it, or if the command exits first.
 */
export async function startPeer(cmd, { timeoutMs = 30000, verbose = false } = {}) {
  const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const peer = { cmd, child, url: null, sessions: [], output: [], exit: null, exited: null };
  peer.exited = new Promise((resolve) => child.on('exit', (code, sig) => {
    peer.exit = code ?? `signal ${sig}`;
    resolve(peer.exit);
  }));
  const keep = (what, line) => {
    peer.output.push(`${what}: ${line}`);
    if (peer.output.length > TAIL) peer.output.shift();
    if (verbose) console.error(`peer ${what}: ${line}`);
  };
  readline.createInterface({ input: child.stderr }).on('line', (l) => keep('stderr', l));
  const out = readline.createInterface({ input: child.stdout });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peer printed no LISTENING line within ${timeoutMs} ms`)), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    peer.exited.then(async (c) => {
      clearTimeout(timer);
      // Let its last output lines (usually the reason) arrive before reporting.
      await Promise.race([new Promise((r) => child.once('close', r)), new Promise((r) => setTimeout(r, 300))]);
      reject(new Error(`peer exited (${c}) before LISTENING`));
    });
    out.on('line', (line) => {
      if (line.startsWith('LISTENING ') && !peer.url) {
        peer.url = line.slice(10).trim();
        clearTimeout(timer);
        resolve();
      } else if (line.startsWith('SESSION ')) {
        try { peer.sessions.push(JSON.parse(line.slice(8))); } catch { peer.sessions.push(line.slice(8)); }
      } else keep('stdout', line);
    });
  }).catch(async (e) => { await stopPeer(peer, 0); throw Object.assign(e, { peer }); });
  const host = new URL(peer.url).hostname.replace(/^\[|\]$/g, '');
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host)) {
    await stopPeer(peer, 0);
    throw Object.assign(new Error(`peer listens on non-loopback host ${host}; refusing`), { peer });
  }
  return peer;
}

/** Waits up to `graceMs` for the peer to exit by itself, then SIGTERMs (later SIGKILLs) its process group. */
export async function stopPeer(peer, graceMs = 4000) {
  if (!peer) return;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const wait = (ms) => Promise.race([peer.exited, sleep(ms)]);
  if (peer.exit === null) await wait(graceMs);
  peer.exitedByItself = peer.exit !== null;
  const group = (sig) => { try { process.kill(-peer.child.pid, sig); } catch { /* group gone */ } };
  if (peer.exit === null) { group('SIGTERM'); await wait(2000); }
  if (peer.exit === null) { group('SIGKILL'); await wait(1000); }
  // Leftovers of the group (e.g. a grandchild that ignored SIGTERM) get the same treatment.
  group('SIGKILL');
}

/** The part of a peer that goes into a result object. */
export function peerReport(peer) {
  if (!peer) return null;
  return { cmd: peer.cmd, url: peer.url, exit: peer.exit, exitedByItself: !!peer.exitedByItself,
    sessions: peer.sessions, outputTail: peer.output };
}
