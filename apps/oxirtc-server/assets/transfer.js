// oxirtc file transfer in the browser (docs/transfer.md): streaming SHA-256, the sending and receiving
// sides of the protocol on one RTCDataChannel, with bufferedAmountLow backpressure. No UI here.
'use strict';

// ---- SHA-256 (FIPS 180-4), incremental: WebCrypto cannot hash a stream. ----
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

const CHUNK = 64 * 1024;
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

/** Waits until the channel's send queue is below LOW_WATER (W3C bufferedamountlow). */
function drained(dc) {
  if (dc.bufferedAmount <= HIGH_WATER) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => { dc.removeEventListener('bufferedamountlow', done); dc.removeEventListener('close', fail); resolve(); };
    const fail = () => { dc.removeEventListener('bufferedamountlow', done); reject(new Error('the connection closed')); };
    dc.addEventListener('bufferedamountlow', done);
    dc.addEventListener('close', fail);
  });
}

/**
 * One connection's transfers. `ui` gets callbacks: offer(files) -> Promise<bool> (accept?), progress(t),
 * finished(t), text(msg). A transfer `t` is { id, dir: 'out'|'in', files, index, bytes, total, state, ... }.
 */
class TransferLink {
  constructor(dc, ui) {
    this.dc = dc; this.ui = ui; this.out = null; this.inc = null; this.seq = 0;
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = LOW_WATER;
    dc.addEventListener('message', (e) => this.onMessage(e.data));
    dc.addEventListener('close', () => this.onClose());
  }
  ctl(m) { if (this.dc.readyState === 'open') this.dc.send(JSON.stringify(m)); }
  sendText(text) { this.ctl({ type: 'text', text }); }
  busy() { return !!this.out; }

  /** Offers `files` (File objects) and streams them once accepted. */
  async send(files) {
    const t = { id: ++this.seq, dir: 'out', files: [...files].map((f) => ({ name: f.name, size: f.size })), index: 0,
      bytes: 0, total: [...files].reduce((s, f) => s + f.size, 0), state: 'waiting', started: 0, results: [] };
    this.out = t; this.ui.progress(t);
    this.ctl({ type: 'files', v: 1, files: t.files });
    try {
      const offsets = await new Promise((resolve, reject) => { t.answer = { resolve, reject }; });
      t.state = 'sending'; t.started = performance.now();
      for (let i = 0; i < files.length; i++) {
        if (t.state !== 'sending') break;
        t.index = i;
        await this.sendFile(t, i, files[i], offsets[i] || 0);
        if (t.state !== 'sending') break;
        const verdict = await new Promise((resolve, reject) => { t.done = { resolve, reject }; });
        t.results.push(verdict);
        if (!verdict.ok) throw new Error(verdict.error || 'the receiver rejected the file');
      }
      if (t.state === 'sending') t.state = 'done';
    } catch (e) {
      if (t.state !== 'cancelled' && t.state !== 'declined') { t.state = 'failed'; t.error = String(e.message || e); }
    }
    this.out = null; this.ui.finished(t);
  }

  async sendFile(t, index, file, offset) {
    const h = new Sha256();
    for (let pos = 0; pos < offset; pos += CHUNK) {
      h.update(new Uint8Array(await file.slice(pos, Math.min(offset, pos + CHUNK)).arrayBuffer()));
    }
    this.ctl({ type: 'file', index, offset });
    for (let pos = offset; pos < file.size; pos += CHUNK) {
      if (t.state !== 'sending') return;
      // Read one chunk at a time: the file is never held whole in memory.
      const chunk = new Uint8Array(await file.slice(pos, Math.min(file.size, pos + CHUNK)).arrayBuffer());
      h.update(chunk);
      await drained(this.dc);
      if (t.state !== 'sending') return;
      this.dc.send(chunk);
      t.bytes += chunk.length; this.ui.progress(t);
    }
    this.ctl({ type: 'end', index, sha256: h.hex() });
  }

  /** Cancels whatever runs on this link (both directions). */
  cancel(reason = 'cancelled by the user') {
    this.ctl({ type: 'cancel', reason });
    this.abort('cancelled', reason);
  }

  abort(state, reason) {
    for (const t of [this.out, this.inc]) {
      if (!t || ['done', 'failed', 'cancelled', 'declined'].includes(t.state)) continue;
      t.state = state; t.error = reason;
      if (t.answer) t.answer.reject(new Error(reason));
      if (t.done) t.done.reject(new Error(reason));
      if (t.dir === 'in') {
        const cur = t.cur; t.cur = null;
        if (cur) cur.writing.then(() => cur.sink && cur.sink.remove());
        this.inc = null; this.ui.finished(t);
      } else this.ui.progress(t);
    }
  }

  onClose() { this.abort('failed', 'the peer went away'); }

  async onMessage(data) {
    if (typeof data !== 'string') return this.onChunk(new Uint8Array(data));
    let m;
    try { m = JSON.parse(data); } catch { return; }
    const out = this.out;
    switch (m.type) {
      case 'accept': if (out && out.answer) out.answer.resolve(m.offsets || []); break;
      case 'decline': if (out) { out.state = 'declined'; out.error = m.reason; out.answer && out.answer.reject(new Error(m.reason)); } break;
      case 'done': if (out && out.done) out.done.resolve(m); break;
      case 'cancel': this.abort('cancelled', 'cancelled by the peer: ' + (m.reason || '')); break;
      case 'text': this.ui.text(m.text); break;
      case 'files': return this.onOffer(m);
      case 'file': if (this.inc) this.startFile(m.index, m.offset); break;
      case 'end': if (this.inc) this.endFile(m.index, m.sha256); break;
    }
  }

  async onOffer(m) {
    const files = Array.isArray(m.files) ? m.files : [];
    const t = { id: ++this.seq, dir: 'in', files, index: 0, bytes: 0, total: files.reduce((s, f) => s + (f.size || 0), 0),
      state: 'asking', started: 0, results: [], received: [] };
    this.inc = t; this.ui.progress(t);
    const ok = m.v === 1 && await this.ui.offer(t);
    if (t.state !== 'asking') return;
    if (!ok) { t.state = 'declined'; this.ctl({ type: 'decline', reason: 'declined by the user' }); this.inc = null; this.ui.finished(t); return; }
    t.state = 'receiving'; t.started = performance.now();
    this.ctl({ type: 'accept', offsets: files.map(() => 0) });
    this.ui.progress(t);
  }

  startFile(index, offset) {
    const t = this.inc;
    const cur = { parts: [], hash: new Sha256(), got: 0, size: t.files[index]?.size ?? 0, offset, sink: null, writing: Promise.resolve() };
    t.index = index; t.cur = cur;
    // Stream to disk (origin-private file system) where the browser has it; chunks that arrive while
    // it opens are kept in `parts` and written first. Without it the file is assembled in memory.
    cur.writing = openDiskSink().then((sink) => {
      if (!sink) return;
      cur.sink = sink;
      const early = cur.parts; cur.parts = [];
      return early.reduce((p, c) => p.then(() => sink.write(c)), Promise.resolve());
    }).catch((e) => { cur.sink = null; cur.diskError = String(e && e.message || e); });
  }

  onChunk(chunk) {
    const t = this.inc;
    if (!t || !t.cur || t.state !== 'receiving') return;
    const cur = t.cur;
    cur.hash.update(chunk); cur.got += chunk.length; t.bytes += chunk.length;
    if (cur.sink) cur.writing = cur.writing.then(() => cur.sink && cur.sink.write(chunk));
    else cur.parts.push(chunk);
    this.ui.progress(t);
  }

  async endFile(index, sha256) {
    const t = this.inc, cur = t.cur;
    t.cur = null;
    const digest = cur.hash.hex();
    const name = t.files[index]?.name ?? 'file';
    const ok = cur.got === cur.size && digest === String(sha256).toLowerCase();
    const result = { index, name, size: cur.got, sha256: digest, ok };
    let blob = null;
    try {
      await cur.writing;
      if (cur.sink) { blob = await cur.sink.finish(cur.parts); result.storage = 'disk'; }
    } catch (e) { cur.diskError = String(e && e.message || e); }
    if (!blob) { blob = new Blob(cur.parts); result.storage = 'memory'; }
    if (cur.diskError) result.diskError = cur.diskError;
    if (ok) result.blob = blob; else if (cur.sink) cur.sink.remove();
    t.results.push(result);
    this.ctl(ok ? { type: 'done', index, ok: true }
      : { type: 'done', index, ok: false, error: `checksum mismatch for ${name}: received ${digest}, sender has ${sha256}` });
    if (!ok) { t.state = 'failed'; t.error = `checksum mismatch for ${name}`; }
    else if (t.results.length === t.files.length) t.state = 'done';
    if (t.state !== 'receiving') { this.inc = null; this.ui.finished(t); } else this.ui.progress(t);
  }
}

// ---- Receiving to disk: a file in the origin-private file system (OPFS), written as chunks arrive;
// the finished file is a disk-backed File for the download link. Files older than a day are removed
// at start-up (a tab closed mid-transfer leaves one behind). ----
const SINK_PREFIX = 'oxirtc-rx-';

async function opfsRoot() {
  if (!navigator.storage || !navigator.storage.getDirectory) return null;
  return navigator.storage.getDirectory();
}

async function openDiskSink() {
  const root = await opfsRoot();
  if (!root) return null;
  const fileName = SINK_PREFIX + Date.now() + '-' + Math.random().toString(36).slice(2);
  const handle = await root.getFileHandle(fileName, { create: true });
  if (!handle.createWritable) return null;
  const w = await handle.createWritable();
  return {
    write: (chunk) => w.write(chunk),
    async finish(rest) {
      for (const c of rest) await w.write(c);
      await w.close();
      return handle.getFile();
    },
    remove() { w.abort().catch(() => {}).finally(() => root.removeEntry(fileName).catch(() => {})); },
  };
}

async function sweepDiskSinks() {
  const root = await opfsRoot();
  if (!root || !root.entries) return;
  for await (const [name, handle] of root.entries()) {
    if (!name.startsWith(SINK_PREFIX) || handle.kind !== 'file') continue;
    const f = await handle.getFile();
    if (Date.now() - f.lastModified > 24 * 3600 * 1000) await root.removeEntry(name).catch(() => {});
  }
}
sweepDiskSinks().catch(() => {});

window.oxirtcTransfer = { Sha256, TransferLink, CHUNK };
