// temporary exploration (not committed)
import { launchBrowser } from './lib/browser.mjs';
import { isolate } from './lib/netns.mjs';
import { readFileSync } from 'node:fs';
import http from 'node:http';
const code = await isolate();
if (code !== null) process.exit(code);
const transferJs = readFileSync('../apps/oxirtc-server/assets/transfer.js', 'utf8');
const hw = readFileSync('/tmp/share2-explore/sha256.umd.min.js', 'utf8');
const srv = http.createServer((q, r) => { r.setHeader('content-type', q.url.endsWith('.js') ? 'text/javascript' : 'text/html');
  r.end(q.url === '/t.js' ? transferJs : q.url === '/hw.js' ? hw : '<script src="/t.js"></script><script src="/hw.js"></script>'); });
await new Promise((r) => srv.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${srv.address().port}/`;
const { browser } = await launchBrowser();
const mk = async () => { const c = await browser.newContext({ permissions: ['camera', 'microphone'] }); const p = await c.newPage(); await p.goto(base); return p; };
const a = await mk();
const hashRes = await a.evaluate(async () => {
  const buf = new Uint8Array(64 << 20); for (let i = 0; i < buf.length; i += 4096) buf[i] = i & 255;
  let t = performance.now(); const h = new window.oxirtcTransfer.Sha256(); for (let o = 0; o < buf.length; o += 65536) h.update(buf.subarray(o, o + 65536)); h.hex();
  const js = 64 * 1048576 / ((performance.now() - t) / 1000) / 1e6;
  const w = await hashwasm.createSHA256(); t = performance.now(); w.init(); for (let o = 0; o < buf.length; o += 65536) w.update(buf.subarray(o, o + 65536)); w.digest('hex');
  const wasm = 64 * 1048576 / ((performance.now() - t) / 1000) / 1e6;
  t = performance.now(); await crypto.subtle.digest('SHA-256', buf); const sub = 64 * 1048576 / ((performance.now() - t) / 1000) / 1e6;
  return { js, wasm, sub };
});
console.log('hash MB/s', hashRes);
const b = await mk();
async function raw(mib, chunk, high, low) {
  await a.evaluate(() => { window.pc = new RTCPeerConnection(); window.dc = pc.createDataChannel('x'); window.cands = []; pc.onicecandidate = (e) => e.candidate && cands.push(e.candidate.toJSON()); });
  const offer = await a.evaluate(async () => { await pc.setLocalDescription(); await new Promise((r) => setTimeout(r, 300)); return pc.localDescription.toJSON(); });
  const answer = await b.evaluate(async (o) => { window.pc = new RTCPeerConnection(); window.got = 0; pc.ondatachannel = (e) => { window.dc = e.channel; dc.binaryType = 'arraybuffer'; dc.onmessage = (m) => { got += m.data.byteLength; }; };
    await pc.setRemoteDescription(o); await pc.setLocalDescription(); await new Promise((r) => setTimeout(r, 300)); return pc.localDescription.toJSON(); }, offer);
  await a.evaluate(async (x) => { await pc.setRemoteDescription(x); await new Promise((r) => { if (dc.readyState === 'open') r(); else dc.onopen = r; }); }, answer);
  const total = mib * 1048576;
  const t0 = Date.now();
  const wait = b.evaluate((total) => new Promise((r) => { const i = setInterval(() => { if (got >= total) { clearInterval(i); r(); } }, 5); }), total);
  await a.evaluate(async ([total, chunk, high, low]) => {
    dc.bufferedAmountLowThreshold = low; const buf = new Uint8Array(chunk);
    for (let sent = 0; sent < total; sent += chunk) {
      if (dc.bufferedAmount > high) await new Promise((r) => { dc.onbufferedamountlow = () => { dc.onbufferedamountlow = null; r(); }; });
      dc.send(buf);
    }
  }, [total, chunk, high, low]);
  await wait;
  const mbps = total / ((Date.now() - t0) / 1000) / 1e6;
  await a.evaluate(() => pc.close()); await b.evaluate(() => pc.close());
  return mbps;
}
for (const [chunk, high, low] of [[65536, 8 << 20, 2 << 20], [262144, 4 << 20, 1 << 20], [262144, 8 << 20, 4 << 20], [131072, 8 << 20, 2 << 20], [16384, 2 << 20, 1 << 20]]) {
  const r = []; for (let i = 0; i < 2; i++) r.push((await raw(256, chunk, high, low)).toFixed(1));
  console.log(`raw chunk ${chunk} high ${high} low ${low}: ${r.join(' ')} MB/s`);
}
await browser.close(); srv.close();
