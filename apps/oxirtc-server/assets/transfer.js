// oxirtc file transfer in the browser (docs/transfer.md): the sending and receiving sides of the
// protocol on one RTCDataChannel, with bufferedAmountLow backpressure. Reading, SHA-256 and writing to
// the origin-private file system run in a Worker (worker.js); this file only moves messages. Where
// Workers or OPFS are missing it falls back to hashing on this thread (Sha256 below) and keeping the
// file in memory. Received data is kept under a key of (name, size), so a page that reloads resumes
// from what it kept. No UI here.
'use strict';

// ---- SHA-256 (FIPS 180-4), incremental, for the fallback path and small keys. ----
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

class Sha256 {
  constructor() {
    this.h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    this.buf = new Uint8Array(64); this.fill = 0; this.len = 0; this.w = new Uint32Array(64);
  }
  block(b, o) {
    const w = this.w, h = this.h;
    for (let i = 0; i < 16; i++) w[i] = (b[o + 4 * i] << 24) | (b[o + 4 * i + 1] << 16) | (b[o + 4 * i + 2] << 8) | b[o + 4 * i + 3];
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15], y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  update(data) {
    let i = 0; this.len += data.length;
    if (this.fill) {
      while (i < data.length && this.fill < 64) this.buf[this.fill++] = data[i++];
      if (this.fill < 64) return;
      this.block(this.buf, 0); this.fill = 0;
    }
    for (; i + 64 <= data.length; i += 64) this.block(data, i);
    while (i < data.length) this.buf[this.fill++] = data[i++];
  }
  hex() {
    const bits = this.len * 8, pad = new Uint8Array(((this.fill < 56) ? 56 : 120) - this.fill + 8);
    pad[0] = 0x80;
    const dv = new DataView(pad.buffer);
    dv.setUint32(pad.length - 8, Math.floor(bits / 2 ** 32)); dv.setUint32(pad.length - 4, bits >>> 0);
    this.update(pad);
    return Array.from(this.h, (x) => (x >>> 0).toString(16).padStart(8, '0')).join('');
  }
}

/** Largest binary message sent: the peer's max-message-size, at most 256 KiB (what Chromium accepts). */
const MAX_CHUNK = 256 * 1024;
/** Send-queue bounds: stop sending above HIGH_WATER, go on at `bufferedamountlow` (LOW_WATER). */
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 4 * 1024 * 1024;
/** Blocks (4 MiB each) the sending worker may read ahead of the channel. */
const READ_AHEAD = 4;
const KEEP_PREFIX = 'oxirtc-keep-';
const DONE_PREFIX = 'oxirtc-done-';
const PARTIALS = 'oxirtc-partials';

/** Waits until the channel's send queue is at most HIGH_WATER (W3C bufferedamountlow), or `t` stops. */
function drained(dc, t) {
  if (dc.readyState !== 'open') return Promise.reject(new Error('the connection closed'));
  if (dc.bufferedAmount <= HIGH_WATER) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const off = () => { dc.removeEventListener('bufferedamountlow', done); dc.removeEventListener('close', fail); t.kick = null; };
    const done = () => { off(); resolve(); };
    const fail = () => { off(); reject(new Error('the connection closed')); };
    dc.addEventListener('bufferedamountlow', done);
    dc.addEventListener('close', fail);
    t.kick = done; // abort() ends the wait
  });
}

// ---- The worker: one per page, shared by every transfer. ----
let seq = 0;
const pipe = { worker: null, handlers: new Map(), ready: null };

/** Resolves true once the worker runs (it loaded the WebAssembly SHA-256), false if there is none. */
function startWorker() {
  if (pipe.ready) return pipe.ready;
  pipe.ready = new Promise((resolve) => {
    if (typeof Worker === 'undefined' || !navigator.storage || !navigator.storage.getDirectory) return resolve(false);
    let w;
    try { w = new Worker('/worker.js'); } catch { return resolve(false); }
    const timer = setTimeout(() => resolve(false), 10000);
    w.onerror = () => { clearTimeout(timer); resolve(false); };
    w.onmessage = (e) => {
      if (e.data.op === 'ready') { clearTimeout(timer); pipe.worker = w; resolve(!!e.data.ok); return; }
      const h = pipe.handlers.get(e.data.id);
      if (h) h(e.data);
    };
    w.postMessage({ op: 'ping' });
  });
  return pipe.ready;
}

function job(handler) { const id = ++seq; pipe.handlers.set(id, handler); return id; }
function post(m, transfer) { pipe.worker.postMessage(m, transfer || []); }
function endJob(id) { pipe.handlers.delete(id); }

// ---- What a receiving page keeps, by (name, size), for a resume after a reload. ----
function keepKey(name, size) {
  const h = new Sha256();
  h.update(new TextEncoder().encode(`${size}\n${name}`));
  return KEEP_PREFIX + h.hex().slice(0, 32);
}

function partials() {
  try { return JSON.parse(localStorage.getItem(PARTIALS) || '{}') || {}; } catch { return {}; }
}

function setPartial(key, info) {
  const all = partials();
  if (info) all[key] = info; else delete all[key];
  try { localStorage.setItem(PARTIALS, JSON.stringify(all)); } catch { /* storage full or off */ }
}

async function opfsRoot() {
  if (!navigator.storage || !navigator.storage.getDirectory) return null;
  return navigator.storage.getDirectory();
}

/** Bytes kept for `key` (0 if none). */
async function keptBytes(key) {
  try {
    const root = await opfsRoot();
    if (!root) return 0;
    return (await (await root.getFileHandle(key)).getFile()).size;
  } catch { return 0; }
}

/** The kept file `key` as a disk-backed File. */
async function keptFile(key) {
  const root = await opfsRoot();
  return (await root.getFileHandle(key)).getFile();
}

/** A verified file moves from its (name, size) key to a name of its own, so a later file with the same
 * name and size starts afresh instead of resuming from it. Returns the key it is kept under. */
async function settle(key) {
  const root = await opfsRoot();
  const handle = await root.getFileHandle(key);
  if (!handle.move) return key;
  const done = DONE_PREFIX + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2);
  await handle.move(done);
  return done;
}

/** Removes what is kept under `key`. */
async function forget(key) {
  setPartial(key, null);
  const root = await opfsRoot().catch(() => null);
  if (root) await root.removeEntry(key).catch(() => {});
}

/**
 * One connection's transfers. `ui` gets callbacks: offer(t) -> Promise<bool> (accept?), progress(t),
 * finished(t), text(msg). A transfer `t` is { id, dir: 'out'|'in', files, index, bytes, total, state, ... };
 * an incoming one's files carry `have` (bytes kept from an earlier attempt) and `t.resumable` says
 * whether every file with bytes to come has some kept. `opts.maxMessageSize`: the peer's limit.
 */
class TransferLink {
  constructor(dc, ui, opts = {}) {
    this.dc = dc; this.ui = ui; this.out = null; this.inc = null; this.localSeq = 0;
    this.chunk = Math.max(16384, Math.min(MAX_CHUNK, opts.maxMessageSize || 65536));
    this.peerName = opts.peerName || '';
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = LOW_WATER;
    dc.addEventListener('message', (e) => this.onMessage(e.data));
    dc.addEventListener('close', () => this.onClose());
    startWorker();
  }
  ctl(m) { if (this.dc.readyState === 'open') this.dc.send(JSON.stringify(m)); }
  sendText(text) { this.ctl({ type: 'text', text }); }
  busy() { return !!this.out; }

  /** Offers `files` (File objects) and streams them once accepted. `t0` continues an earlier transfer. */
  async send(files, t0 = null) {
    files = [...files];
    const t = { id: ++this.localSeq, dir: 'out', files: files.map((f) => ({ name: f.name, size: f.size })), index: 0,
      bytes: 0, total: files.reduce((s, f) => s + f.size, 0), state: 'waiting', started: 0, results: [], sources: files };
    if (t0) { t.continues = t0; }
    this.out = t; this.ui.progress(t);
    this.ctl({ type: 'files', v: 1, files: t.files });
    try {
      const offsets = await new Promise((resolve, reject) => { t.answer = { resolve, reject }; });
      t.state = 'sending'; t.started = performance.now();
      t.resumedBytes = 0;
      for (let i = 0; i < files.length; i++) {
        const off = Math.min(Number(offsets[i]) || 0, files[i].size);
        t.resumedBytes += off; t.bytes += off;
      }
      for (let i = 0; i < files.length; i++) {
        if (t.state !== 'sending') break;
        t.index = i;
        const offset = Math.min(Number(offsets[i]) || 0, files[i].size);
        await this.sendFile(t, i, files[i], offset);
        if (t.state !== 'sending') break;
        const verdict = await new Promise((resolve, reject) => { t.done = { resolve, reject }; });
        t.results.push({ ...verdict, name: files[i].name });
        if (!verdict.ok) throw new Error(verdict.error || 'the receiver rejected the file');
      }
      if (t.state === 'sending') t.state = 'done';
    } catch (e) {
      if (t.state !== 'cancelled' && t.state !== 'declined' && t.state !== 'failed') { t.state = 'failed'; t.error = String(e.message || e); }
    }
    // The connection died under it (not a refusal): it can go on when the peer comes back.
    if (t.state === 'failed' && this.dc.readyState !== 'open') t.lost = true;
    this.out = null; this.ui.finished(t);
  }

  async sendFile(t, index, file, offset) {
    this.ctl({ type: 'file', index, offset });
    const hex = (await startWorker()) ? await this.streamFromWorker(t, file, offset) : await this.streamHere(t, file, offset);
    if (hex !== null) this.ctl({ type: 'end', index, sha256: hex });
  }

  /** Sends `file` from `offset` as the worker reads and hashes it; its SHA-256 hex, or null if stopped. */
  async streamFromWorker(t, file, offset) {
    const queue = []; let wake = null; let digest = null; let error = null;
    const id = job((m) => {
      if (m.op === 'block') queue.push(m.buf);
      else if (m.op === 'digest') digest = m.hex;
      else if (m.op === 'error') error = new Error(m.message);
      if (wake) { const w = wake; wake = null; w(); }
    });
    post({ op: 'read', id, file, offset, ahead: READ_AHEAD });
    try {
      for (;;) {
        if (error) throw error;
        if (t.state !== 'sending') return null;
        if (!queue.length) {
          if (digest !== null) return digest;
          await new Promise((r) => { wake = r; t.kick = r; });
          t.kick = null;
          continue;
        }
        const block = queue.shift();
        for (let o = 0; o < block.byteLength; o += this.chunk) {
          await drained(this.dc, t);
          if (t.state !== 'sending') return null;
          const view = new Uint8Array(block, o, Math.min(this.chunk, block.byteLength - o));
          this.dc.send(view);
          t.bytes += view.length; this.ui.progress(t);
        }
        post({ op: 'more', id });
      }
    } finally {
      if (digest === null && !error) post({ op: 'close', id });
      endJob(id);
    }
  }

  /** The fallback: read, hash and send on this thread. */
  async streamHere(t, file, offset) {
    const h = new Sha256();
    for (let pos = 0; pos < offset; pos += this.chunk) {
      h.update(new Uint8Array(await file.slice(pos, Math.min(offset, pos + this.chunk)).arrayBuffer()));
    }
    for (let pos = offset; pos < file.size; pos += this.chunk) {
      if (t.state !== 'sending') return null;
      const chunk = new Uint8Array(await file.slice(pos, Math.min(file.size, pos + this.chunk)).arrayBuffer());
      h.update(chunk);
      await drained(this.dc, t);
      if (t.state !== 'sending') return null;
      this.dc.send(chunk);
      t.bytes += chunk.length; this.ui.progress(t);
    }
    return h.hex();
  }

  /** Cancels whatever runs on this link (both directions). */
  cancel(reason = 'cancelled by the user') {
    this.ctl({ type: 'cancel', reason });
    this.abort('cancelled', reason, false);
  }

  /** Ends what runs here: `state` (failed, cancelled), `keep` what was received for a resume. */
  abort(state, reason, keep = true) {
    for (const t of [this.out, this.inc]) {
      if (!t || ['done', 'failed', 'cancelled', 'declined'].includes(t.state)) continue;
      t.state = state; t.error = reason;
      if (state === 'failed') t.lost = true;
      if (t.answer) t.answer.reject(new Error(reason));
      if (t.done) t.done.reject(new Error(reason));
      if (t.kick) { const k = t.kick; t.kick = null; k(); }
      if (t.dir === 'in') {
        const cur = t.cur; t.cur = null;
        if (cur) cur.sink.close(!keep);
        t.kept = keep && t.bytes > 0;
        if (!keep) for (const f of t.files) if (!t.results.some((r) => r.index === t.files.indexOf(f) && r.ok)) setPartial(f.key, null);
        this.inc = null; this.ui.finished(t);
      } else this.ui.progress(t);
    }
  }

  onClose() { this.abort('failed', `${this.peerName || 'the peer'} went away`); }

  onMessage(data) {
    if (typeof data !== 'string') return this.onChunk(data);
    let m;
    try { m = JSON.parse(data); } catch { return; }
    const out = this.out;
    switch (m.type) {
      case 'accept': if (out && out.answer) out.answer.resolve(Array.isArray(m.offsets) ? m.offsets : []); break;
      case 'decline': if (out) { out.state = 'declined'; out.error = String(m.reason || ''); out.answer && out.answer.reject(new Error(out.error)); } break;
      case 'done': if (out && out.done) out.done.resolve(m); break;
      case 'cancel': this.abort('cancelled', 'cancelled by the other side: ' + String(m.reason || ''), true); break;
      case 'text': this.ui.text(String(m.text || '')); break;
      case 'files': this.onOffer(m); break;
      case 'file': if (this.inc) this.startFile(m.index, m.offset); break;
      case 'end': if (this.inc) this.endFile(m.index, m.sha256); break;
      default: break;
    }
  }

  async onOffer(m) {
    if (this.inc) { this.ctl({ type: 'decline', reason: 'busy receiving another offer' }); return; }
    const files = (Array.isArray(m.files) ? m.files : []).map((f) => ({ name: String(f && f.name), size: Math.max(0, Math.floor(Number(f && f.size) || 0)) }));
    const t = { id: ++this.localSeq, dir: 'in', files, index: 0, bytes: 0, total: files.reduce((s, f) => s + f.size, 0),
      state: 'checking', started: 0, results: [], marks: { offer: performance.now() } };
    this.inc = t;
    const useDisk = await startWorker();
    const known = partials();
    for (const f of files) {
      f.key = keepKey(f.name, f.size);
      // Only bytes of a file accepted earlier and not finished count (a partial from a reload).
      f.accepted = !!known[f.key];
      f.have = useDisk && f.accepted ? Math.min(await keptBytes(f.key), f.size) : 0;
    }
    if (t.state !== 'checking') return;
    // A reloaded page picks up what it accepted before: every file still to come has bytes kept here.
    t.resumable = files.some((f) => f.have > 0) && files.every((f) => f.accepted && (f.have > 0 || f.size === 0));
    t.state = 'asking'; t.marks.asking = performance.now();
    const ok = m.v === 1 && await this.ui.offer(t);
    if (t.state !== 'asking') return;
    if (!ok) { t.state = 'declined'; this.ctl({ type: 'decline', reason: 'declined by the user' }); this.inc = null; this.ui.finished(t); return; }
    t.state = 'receiving'; t.started = performance.now(); t.marks.accepted = t.started;
    for (const f of files) {
      if (useDisk) setPartial(f.key, { name: f.name, size: f.size, from: this.peerName, at: Date.now() });
      t.bytes += f.have;
    }
    t.resumedBytes = t.bytes;
    this.ctl({ type: 'accept', offsets: files.map((f) => f.have) });
    this.ui.progress(t);
  }

  startFile(index, offset) {
    const t = this.inc;
    const f = t.files[index];
    if (!f || offset !== f.have) {
      this.ctl({ type: 'cancel', reason: `the sender sent file ${index} from byte ${offset}, not as agreed` });
      this.abort('failed', 'the sender broke the protocol', true);
      return;
    }
    t.index = index;
    t.cur = { index, got: 0, offset, size: f.size, sink: pipe.worker ? new DiskSink(f.key, offset) : new MemorySink() };
  }

  onChunk(buf) {
    const t = this.inc;
    if (!t || !t.cur || t.state !== 'receiving') return;
    if (!t.marks.firstByte) t.marks.firstByte = performance.now();
    const cur = t.cur, len = buf.byteLength;
    if (cur.offset + cur.got + len > cur.size) {
      this.ctl({ type: 'cancel', reason: `more bytes than the ${cur.size} announced for ${t.files[cur.index].name}` });
      this.abort('failed', 'the sender sent more bytes than it announced', false);
      return;
    }
    cur.sink.write(buf);
    cur.got += len; t.bytes += len;
    this.ui.progress(t);
  }

  async endFile(index, sha256) {
    const t = this.inc, cur = t.cur;
    if (!cur || cur.index !== index) return;
    t.marks.end = performance.now();
    t.cur = null;
    const f = t.files[index];
    const result = { index, name: f.name, size: cur.offset + cur.got, key: f.key, resumedFrom: cur.offset };
    let ended;
    try { ended = await cur.sink.end(); } catch (e) { ended = { error: String(e.message || e) }; }
    if (t.state !== 'receiving') return;
    result.sha256 = ended.hex || '';
    result.ok = !ended.error && ended.size === f.size && result.sha256 === String(sha256).toLowerCase();
    result.storage = ended.blob ? 'memory' : 'disk';
    if (result.ok && !ended.blob) {
      try {
        result.key = await settle(f.key);
        result.blob = await keptFile(result.key);
      } catch (e) { result.ok = false; ended.error = `the received file vanished from the browser's storage: ${e.message}`; }
    } else if (result.ok) result.blob = ended.blob;
    t.results.push(result);
    if (result.ok) {
      setPartial(f.key, null);
      this.ctl({ type: 'done', index, ok: true });
    } else {
      if (!ended.blob) forget(f.key);
      const error = ended.error ? `${f.name}: ${ended.error}` : `checksum mismatch for ${f.name}: received ${result.sha256}, sender has ${sha256}`;
      this.ctl({ type: 'done', index, ok: false, error });
      t.state = 'failed'; t.error = error;
    }
    if (t.state === 'receiving' && t.results.length === t.files.length) t.state = 'done';
    t.marks.verified = performance.now();
    if (t.state !== 'receiving') { this.inc = null; this.ui.finished(t); } else this.ui.progress(t);
  }
}

/** Received bytes of one file, hashed and written to the origin-private file `key` by the worker. */
class DiskSink {
  constructor(key, offset) {
    this.waiters = new Map();
    this.error = null;
    this.id = job((m) => {
      if (m.op === 'error') this.error = new Error(m.message);
      const w = this.waiters.get(m.op) || (m.op === 'error' ? [...this.waiters.values()][0] : null);
      if (w) w(m);
    });
    post({ op: 'open', id: this.id, key, offset });
  }
  write(buf) { post({ op: 'data', id: this.id, buf }, [buf]); }
  reply(op) {
    return new Promise((resolve) => {
      if (this.error) return resolve({ op: 'error', message: this.error.message });
      this.waiters.set(op, resolve);
    });
  }
  async end() {
    const r = this.reply('ended');
    post({ op: 'end', id: this.id });
    const m = await r; endJob(this.id);
    if (m.op === 'error') throw new Error(m.message);
    return { hex: m.hex, size: m.size };
  }
  close(remove) { post({ op: 'close', id: this.id, remove }); setTimeout(() => endJob(this.id), 5000); }
}

/** The fallback: the file in memory, hashed on this thread. */
class MemorySink {
  constructor() { this.parts = []; this.hash = new Sha256(); this.size = 0; }
  write(buf) { const b = new Uint8Array(buf); this.hash.update(b); this.parts.push(b); this.size += b.length; }
  async end() { return { hex: this.hash.hex(), size: this.size, blob: new Blob(this.parts) }; }
  close() { this.parts = []; }
}

/** Removes kept files older than a day (a tab closed mid-transfer), and their entries. */
async function sweepKept() {
  const root = await opfsRoot();
  if (!root || !root.entries) return;
  const known = partials();
  for await (const [name, handle] of root.entries()) {
    if (handle.kind !== 'file' || !['oxirtc-rx-', KEEP_PREFIX, DONE_PREFIX].some((p) => name.startsWith(p))) continue;
    const f = await handle.getFile();
    if (Date.now() - f.lastModified > 24 * 3600 * 1000) { await root.removeEntry(name).catch(() => {}); delete known[name]; }
  }
  try { localStorage.setItem(PARTIALS, JSON.stringify(known)); } catch { /* off */ }
}
sweepKept().catch(() => {});

window.oxirtcTransfer = { Sha256, TransferLink, startWorker, keptFile, forget, partials, MAX_CHUNK };
