// oxirtc web UI worker (docs/transfer.md "Speed"): file reading, SHA-256 and writing to disk run here,
// off the page's main thread, which only moves messages between this worker and the data channel.
// SHA-256 is hash-wasm's WebAssembly build (vendor/hash-wasm-sha256.js, MIT), ~4x the plain JS one.
//
// Jobs (main -> worker), each with an `id`; replies carry the same id:
//   {op:'read', id, file, offset, ahead}  reads `file` from 0, hashes all of it, posts the bytes from
//        `offset` as {op:'block', id, buf} (an ArrayBuffer of at most READ_BLOCK bytes, transferred), at
//        most `ahead` blocks before the page says {op:'more', id}; then {op:'digest', id, hex}.
//   {op:'open', id, key, offset}  opens the origin-private file `key` (created if missing), cuts it to
//        `offset` (at most its length), hashes what it keeps: {op:'opened', id, have}.
//   {op:'data', id, buf}  appends and hashes `buf` (no reply unless it fails).
//   {op:'end', id}  flushes and closes: {op:'ended', id, hex, size}.
//   {op:'close', id, remove}  stops a job (removing its file if `remove`): {op:'closed', id}.
// Failures: {op:'error', id, message}.
'use strict';
/* global hashwasm */
importScripts('/vendor/hash-wasm-sha256.js');

const BLOCK = 1 << 20; // bytes read from an origin-private file per call (a resume's prefix)
// Bytes read from a picked File per call: each read is a round trip to the browser process, so fewer,
// bigger reads cost less CPU (256 MiB: 1 MiB reads took 0.5 s of browser CPU, 8 MiB reads 0.26 s).
const READ_BLOCK = 4 << 20;
const jobs = new Map();
let rootDir = null;

async function root() {
  if (!rootDir) rootDir = await navigator.storage.getDirectory();
  return rootDir;
}

async function hasher() {
  const h = await hashwasm.createSHA256();
  h.init();
  return h;
}

function fail(id, e) {
  jobs.delete(id);
  postMessage({ op: 'error', id, message: String((e && e.message) || e) });
}

async function read(m) {
  const job = { credits: m.ahead || 4, wake: null, stopped: false };
  jobs.set(m.id, job);
  const h = await hasher();
  const file = m.file;
  for (let pos = 0; pos < file.size && !job.stopped;) {
    const end = Math.min(file.size, pos + READ_BLOCK);
    const block = new Uint8Array(await file.slice(pos, end).arrayBuffer());
    if (block.length !== end - pos) throw new Error(`${file.name} changed while being sent (read ${block.length} of ${end - pos} bytes)`);
    h.update(block);
    if (end > m.offset) {
      // The bytes before `offset` (the receiver has them) are hashed, not sent.
      const skip = Math.max(0, m.offset - pos);
      const buf = skip ? block.slice(skip).buffer : block.buffer;
      while (job.credits <= 0 && !job.stopped) await new Promise((r) => { job.wake = r; });
      if (job.stopped) break;
      job.credits--;
      postMessage({ op: 'block', id: m.id, buf }, [buf]);
    }
    pos = end;
  }
  if (!job.stopped) postMessage({ op: 'digest', id: m.id, hex: h.digest('hex') });
  jobs.delete(m.id);
}

// A receiving job's steps run in order on one promise chain: data that arrives while the file still
// opens waits for it.
function receiving(m, step) {
  let job = jobs.get(m.id);
  if (!job) {
    if (m.op !== 'open') return;
    job = { chain: Promise.resolve(), access: null, key: m.key, h: null, pos: 0, failed: null };
    jobs.set(m.id, job);
  }
  job.chain = job.chain.then(() => (job.failed ? null : step(job, m))).catch((e) => {
    job.failed = e;
    if (job.access) { try { job.access.close(); } catch { /* closed */ } }
    fail(m.id, e && e.name === 'QuotaExceededError' ? 'the browser\'s storage is full: free space or receive a smaller file' : e);
  });
}

async function open(job, m) {
  const fh = await (await root()).getFileHandle(m.key, { create: true });
  job.access = await fh.createSyncAccessHandle();
  job.h = await hasher();
  const have = Math.min(job.access.getSize(), m.offset);
  if (have < m.offset) throw new Error(`only ${have} of the ${m.offset} bytes kept earlier are still there`);
  job.access.truncate(have);
  const buf = new Uint8Array(BLOCK);
  for (let pos = 0; pos < have;) {
    const n = job.access.read(buf.subarray(0, Math.min(BLOCK, have - pos)), { at: pos });
    if (n <= 0) throw new Error('the kept part could not be read');
    job.h.update(buf.subarray(0, n));
    pos += n;
  }
  job.pos = have;
  postMessage({ op: 'opened', id: m.id, have });
}

function data(job, m) {
  const bytes = new Uint8Array(m.buf);
  for (let done = 0; done < bytes.length;) {
    const n = job.access.write(bytes.subarray(done), { at: job.pos + done });
    if (n <= 0) throw new Error('nothing could be written (is the disk full?)');
    done += n;
  }
  job.h.update(bytes);
  job.pos += bytes.length;
  // No flush() here: what is written survives a reload of the page (it is in the OS's cache); only a
  // crash of the whole machine could lose it, and then the SHA-256 at the end catches the damage.
}

function end(job, m) {
  job.access.close();
  jobs.delete(m.id);
  postMessage({ op: 'ended', id: m.id, hex: job.h.digest('hex'), size: job.pos });
}

async function close(m) {
  const job = jobs.get(m.id);
  if (job && job.chain) {
    // A receiving job: after what is queued, close (and remove) the file.
    await job.chain.catch(() => {});
    jobs.delete(m.id);
    if (job.access) { try { job.access.flush(); job.access.close(); } catch { /* closed */ } }
    if (m.remove) await (await root()).removeEntry(job.key).catch(() => {});
  } else if (job) {
    jobs.delete(m.id);
    job.stopped = true;
    if (job.wake) job.wake();
  }
  postMessage({ op: 'closed', id: m.id });
}

onmessage = (e) => {
  const m = e.data;
  let run;
  switch (m.op) {
    case 'ping': {
      const ok = typeof hashwasm !== 'undefined' && !!(navigator.storage && navigator.storage.getDirectory)
        && typeof FileSystemFileHandle !== 'undefined' && 'createSyncAccessHandle' in FileSystemFileHandle.prototype;
      postMessage({ op: 'ready', ok });
      return;
    }
    case 'read': run = read(m); break;
    case 'more': {
      const job = jobs.get(m.id);
      if (job) { job.credits++; if (job.wake) { const w = job.wake; job.wake = null; w(); } }
      return;
    }
    case 'open': return receiving(m, open);
    case 'data': return receiving(m, data);
    case 'end': return receiving(m, end);
    case 'close': run = close(m); break;
    default: return;
  }
  run.catch((err) => fail(m.id, err));
};
