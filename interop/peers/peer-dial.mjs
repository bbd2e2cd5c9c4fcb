// werift or node-datachannel (libdatachannel) as the DIALING side of the signaling protocol
// (docs/interop-signaling.md), against a server such as `oxirtc echo --once`. Same checks and flags as
// `oxirtc dial`. Prints one JSON object; exit 0 only if every check passed.
//
//   node peers/peer-dial.mjs --impl werift|ndc [options] URL
//     --mode offer|answer      offer (default): we offer and create the channel; answer: we POST
//                              request-offer, the server offers and creates the channel
//     --messages N (10)        text messages, and as many binary ones with --binary
//     --size B | --sizes A,B   payload size (see echo-check.mjs)
//     --unordered, --max-retransmits N   the channel we create (offer mode)
//     --close-from us|peer     after the echoes, close the channel ourselves or send `cmd:close` so the
//                              server closes it; checks our close event arrives while the connection
//                              stays up
//     --timeout S (20)         limit of each wait
//     --label L (echo)
//   NDC_LOG=Verbose|Debug|Info: libdatachannel's log on stderr.
// Run it in a loopback-only namespace: peers/cell.mjs does that (werift uses every interface).
import { candidateLines, loopbackOnly, requireLoopbackOnly, requireLoopbackUrl, sleep } from './common.mjs';
import { EchoCheck, makeMessages, parseSizes } from './echo-check.mjs';
import { cleanupStacks, openStack } from './stacks.mjs';

const USAGE = 'usage: node peers/peer-dial.mjs --impl werift|ndc [--mode offer|answer] [--messages N] ' +
  '[--size B | --sizes A,B,..] [--binary] [--unordered] [--max-retransmits N] [--close-from us|peer] ' +
  '[--timeout S] [--label L] URL';

function parseArgs(argv) {
  const o = { impl: null, mode: 'offer', messages: 10, size: 0, sizes: null, binary: false, unordered: false,
    maxRetransmits: null, closeFrom: null, timeout: 20, label: 'echo', url: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    const num = () => { const n = Number(val()); if (!Number.isInteger(n) || n < 0) throw new Error(`${a} wants a whole number >= 0`); return n; };
    if (a === '--impl') o.impl = val();
    else if (a === '--mode') o.mode = val();
    else if (a === '--messages') o.messages = num();
    else if (a === '--size') o.size = num();
    else if (a === '--sizes') o.sizes = parseSizes(val());
    else if (a === '--binary') o.binary = true;
    else if (a === '--unordered') o.unordered = true;
    else if (a === '--max-retransmits') o.maxRetransmits = num();
    else if (a === '--close-from') o.closeFrom = val();
    else if (a === '--timeout') o.timeout = num();
    else if (a === '--label') o.label = val();
    else if (!a.startsWith('-') && !o.url) o.url = a;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!['werift', 'ndc'].includes(o.impl)) throw new Error('--impl werift|ndc is required');
  if (!['offer', 'answer'].includes(o.mode)) throw new Error('--mode must be offer or answer');
  if (o.closeFrom !== null && !['us', 'peer'].includes(o.closeFrom)) throw new Error('--close-from must be us or peer');
  if (o.mode === 'answer' && (o.unordered || o.maxRetransmits !== null)) throw new Error('--unordered and --max-retransmits need --mode offer (the server creates the channel in answer mode)');
  if (!o.url) throw new Error('the server URL is missing');
  return o;
}

let opts;
try { opts = parseArgs(process.argv.slice(2)); } catch (e) { console.error(`${e.message}\n${USAGE}`); process.exit(2); }
requireLoopbackOnly(`peer-dial --impl ${opts.impl}`);
requireLoopbackUrl(opts.url);

const t0 = Date.now();
const events = [];
const ev = (e) => events.push(`${Date.now() - t0}ms ${e}`);
const result = { ok: false, impl: opts.impl, mode: opts.mode, signal: opts.url, checks: {} };
const print = () => {
  result.events = events;
  result.totalMs = Date.now() - t0;
  console.log(JSON.stringify(result, null, 1));
};
// The last resort: a stack that hangs must not hang the cell.
setTimeout(() => { result.error = `hard deadline: no result after ${opts.timeout * 3 + 10} s`; print(); process.exit(3); },
  (opts.timeout * 3 + 10) * 1000).unref();

async function post(body) {
  const end = Date.now() + 10000; // the server may still be starting
  for (;;) {
    try {
      const res = await fetch(opts.url, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body), signal: AbortSignal.timeout(15000) });
      const text = await res.text();
      if (!res.ok) throw Object.assign(new Error(`signaling POST ${body.type} -> HTTP ${res.status}: ${text.slice(0, 300)}`), { final: true });
      return text ? JSON.parse(text) : {};
    } catch (e) {
      if (e.final || Date.now() > end || e?.cause?.code !== 'ECONNREFUSED') throw e;
      await sleep(200);
    }
  }
}

/** Resolves to true once `ready()` holds, false after `ms`. */
async function waitFor(ready, ms) {
  const end = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

const stack = openStack(opts.impl, ev);
result.version = stack.version;
const msgs = makeMessages(opts);
const partial = opts.maxRetransmits !== null;
const check = new EchoCheck(msgs, { ordered: !opts.unordered, partial });
const dc = { echoMeReplied: 0, sendErrors: [] };
let channel = null;
let opened = false;
let closed = false;
let lastMessageAt = Date.now();
// Partially reliable: what is lost stays lost, so the echo wait ends once nothing came for a while.
const quietFor = (ms) => Date.now() - lastMessageAt > ms;

function wire(ch) {
  channel = ch;
  Object.assign(dc, { label: ch.label, ordered: ch.ordered, maxRetransmits: ch.maxRetransmits });
  ch.on('open', () => {
    opened = true;
    dc.openMs = Date.now() - t0;
    lastMessageAt = Date.now();
    ev(`dc open ${ch.label}`);
    // Sent from the open callback on purpose: an incoming werift channel fires open before it sends
    // its DCEP ACK, so the server gets data ahead of the ACK, which a robust stack must accept.
    const send = (m) => { try { ch.send(m); } catch (e) { if (dc.sendErrors.length < 5) dc.sendErrors.push(String(e.message || e)); } };
    for (const t of msgs.texts) send(t);
    for (const b of msgs.bins) send(b);
  });
  ch.on('message', (m) => {
    lastMessageAt = Date.now();
    if (typeof m === 'string' && m.startsWith('echo-me:')) { ch.send(`echo-reply:${m.slice(8)}`); dc.echoMeReplied++; return; }
    check.add(m);
    if (check.complete()) dc.allEchoedMs ??= Date.now() - t0;
  });
  ch.on('close', () => { closed = true; ev('dc close'); });
}

try {
  const limit = opts.timeout * 1000;
  if (opts.mode === 'offer') {
    wire(stack.createChannel(opts.label, { ordered: !opts.unordered, maxRetransmits: opts.maxRetransmits ?? undefined }));
    const offer = loopbackOnly(await stack.offer());
    result.localCandidates = candidateLines(offer);
    const ans = await post({ type: 'offer', sdp: offer, label: opts.label });
    if (ans.type !== 'answer' || !ans.sdp) throw new Error(`the server's reply is not {type:"answer",sdp}: ${JSON.stringify(ans).slice(0, 200)}`);
    result.remoteCandidates = candidateLines(ans.sdp);
    await stack.applyAnswer(loopbackOnly(ans.sdp));
  } else {
    stack.onChannel((ch) => { if (!channel) wire(ch); });
    const off = await post({ type: 'request-offer', label: opts.label });
    if (off.type !== 'offer' || !off.sdp) throw new Error(`the server's reply is not {type:"offer",sdp}: ${JSON.stringify(off).slice(0, 200)}`);
    result.remoteCandidates = candidateLines(off.sdp);
    const answer = loopbackOnly(await stack.answer(loopbackOnly(off.sdp)));
    result.localCandidates = candidateLines(answer);
    await post({ type: 'answer', sdp: answer, session: off.session });
  }
  result.signalingMs = Date.now() - t0;
  if (!await waitFor(() => opened || closed, limit)) throw new Error(`the data channel did not open within ${opts.timeout} s`);
  if (!await waitFor(() => check.complete() || closed || (partial && quietFor(1000)), limit)) ev('echo timeout');
  result.checks.dataChannelEcho = check.passed();
  if (opts.closeFrom) {
    // The channel must close on both ends while the connection stays up (RFC 8831 §6.7).
    const t = Date.now();
    if (opts.closeFrom === 'us') channel.close(); else channel.send('cmd:close');
    const done = await waitFor(() => closed, limit);
    dc.closeMs = done ? Date.now() - t : null;
    await sleep(200);
    dc.connectionAfterClose = stack.state();
    result.checks.channelClosed = done && dc.connectionAfterClose === 'connected';
    await sleep(300); // the server checks its side 250 ms after its close; keep the connection until then
  } else if (channel) {
    channel.close(); // the server sees the close and ends its session
    await sleep(300);
  }
} catch (e) {
  result.error = String(e?.message || e);
}
Object.assign(dc, check.report());
result.dc = dc;
Object.assign(result, stack.info());
await stack.close().catch(() => {});
result.ok = !result.error && Object.keys(result.checks).length > 0 && Object.values(result.checks).every(Boolean);
print();
cleanupStacks(opts.impl);
process.exit(result.ok ? 0 : 1);
