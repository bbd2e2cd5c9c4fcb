// werift or node-datachannel (libdatachannel) as the SERVER side of the signaling protocol
// (docs/interop-signaling.md), like `oxirtc echo`: `oxirtc dial URL` (or another dialer) connects to it.
//
//   node peers/node-peer.mjs --impl werift|ndc [--once] [--port 0] [--session-timeout 60] [--lifetime 300]
//
// Prints `LISTENING http://127.0.0.1:PORT/offer`, then one `SESSION {json}` line per session. On every
// channel: sends `echo-me:hello-from-<impl>` when it opens (answered with `echo-reply:`), echoes every
// other message unchanged (text as text, binary as binary, empty too), and `cmd:close` closes the
// channel from this side. A channel that closes while the connection stays up counts in
// `channelsClosed`; the session then ends. With --once: exit after one session, 0 if it echoed.
// NDC_LOG=Verbose|Debug|Info: libdatachannel's log on stderr.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { loopbackOnly, requireLoopbackOnly, sleep } from './common.mjs';
import { cleanupStacks, openStack } from './stacks.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const IMPL = opt('--impl', null);
const ONCE = args.includes('--once');
const PORT = Number(opt('--port', '0'));
const SESSION_TIMEOUT = Number(opt('--session-timeout', '60'));
const LIFETIME = Number(opt('--lifetime', '300'));
if (!['werift', 'ndc'].includes(IMPL)) {
  console.error('usage: node peers/node-peer.mjs --impl werift|ndc [--once] [--port 0] [--session-timeout 60] [--lifetime 300]');
  process.exit(2);
}
requireLoopbackOnly(`node-peer --impl ${IMPL}`);

class Session {
  constructor() {
    this.id = randomUUID().slice(0, 12);
    this.t0 = Date.now();
    this.stats = { impl: IMPL, echoed: 0, echoedBinary: 0, echoMeReplied: false, channelsClosed: 0, events: [] };
    this.finished = new Promise((r) => { this.finish = r; });
    this.pc = openStack(IMPL, (e) => this.ev(e));
    this.stats.version = this.pc.version;
    this.pc.onState((st) => { if (st === 'failed' || st === 'closed') this.finish(); });
    this.pc.onChannel((ch) => this.wire(ch));
  }

  ev(e) { if (this.stats.events.length < 100) this.stats.events.push(`${Date.now() - this.t0}ms ${e}`); }

  wire(ch) {
    this.stats.label = ch.label;
    ch.on('open', () => { this.ev(`dc open ${ch.label}`); ch.send(`echo-me:hello-from-${IMPL}`); });
    ch.on('message', (m) => {
      if (typeof m === 'string') {
        if (m.startsWith('echo-reply:')) { this.stats.echoMeReplied = true; return; }
        if (m === 'cmd:close') { this.ev('cmd:close'); ch.close(); return; }
        this.stats.echoed++;
      } else this.stats.echoedBinary++;
      ch.send(m);
    });
    ch.on('close', async () => {
      this.ev('dc close');
      // Closed by a stream reset (RFC 8831 §6.7), not with the connection: it is still up a moment later.
      await sleep(250);
      if (this.pc.state() === 'connected') this.stats.channelsClosed++;
      await sleep(250);
      this.finish();
    });
  }

  async run() {
    await Promise.race([this.finished, sleep(SESSION_TIMEOUT * 1000).then(() => this.ev('session timeout'))]);
    sessions.delete(this.id);
    Object.assign(this.stats, this.pc.info());
    await this.pc.close().catch(() => {});
    this.stats.ok = this.stats.echoed + this.stats.echoedBinary > 0;
    console.log(`SESSION ${JSON.stringify(this.stats)}`);
    if (ONCE) done(this.stats.ok);
  }
}

const sessions = new Map();
let done;
const allDone = new Promise((r) => { done = r; });

async function route(msg) {
  if (msg.type === 'offer') {
    const s = new Session();
    sessions.set(s.id, s);
    const sdp = await s.pc.answer(loopbackOnly(msg.sdp));
    s.run();
    return { type: 'answer', sdp, session: s.id };
  }
  if (msg.type === 'request-offer') {
    const s = new Session();
    sessions.set(s.id, s);
    s.wire(s.pc.createChannel(msg.label || 'echo'));
    return { type: 'offer', sdp: await s.pc.offer(), session: s.id };
  }
  if (msg.type === 'answer') {
    const s = sessions.get(msg.session);
    if (!s) throw Object.assign(new Error(`unknown session ${msg.session}`), { status: 404 });
    await s.pc.applyAnswer(loopbackOnly(msg.sdp));
    s.run();
    return {};
  }
  throw Object.assign(new Error(`unknown type ${msg.type}: send offer, request-offer or answer`), { status: 400 });
}

const server = http.createServer(async (req, res) => {
  const reply = (code, obj) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(obj)); };
  try {
    if (req.method !== 'POST') return reply(405, { error: 'POST a JSON message' });
    let body = '';
    for await (const c of req) { body += c; if (body.length > 1 << 20) throw Object.assign(new Error('body over 1 MiB'), { status: 400 }); }
    reply(200, await route(JSON.parse(body || '{}')));
  } catch (e) { reply(e.status || 500, { error: String(e.message || e) }); }
});
server.listen(PORT, '127.0.0.1', () => console.log(`LISTENING http://127.0.0.1:${server.address().port}/offer`));
const ok = await Promise.race([allDone, sleep(LIFETIME * 1000).then(() => null)]);
server.close();
for (const s of sessions.values()) await s.pc.close().catch(() => {});
cleanupStacks(IMPL);
process.exit(ok ? 0 : 1);
