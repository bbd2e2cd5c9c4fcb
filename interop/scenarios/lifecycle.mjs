// Scenarios about channel and connection lifecycles: many channels, close/reopen, peer-created channels,
// ICE restart, set-up time. Each is `async (ctx) => void` recording named checks on ctx.
import { msgs } from '../lib/context.mjs';

/** 32 channels created at once (before the offer), 10 messages each, all echoed in order. */
export async function manyChannels(ctx) {
  const channels = Array.from({ length: 32 }, (_, i) => ({ key: `c${i}`, label: `chan-${i}` }));
  await ctx.connect({ channels });
  const keys = channels.map((c) => c.key);
  const ds = await Promise.all(keys.map((k) => ctx.run((a) => rtc.waitOpen(a.k, a.ms), { k, ms: ctx.timeoutMs })));
  const open = ds.filter((d) => d.readyState === 'open').length;
  ctx.check('all32Open', open === 32, { open });
  ctx.check('distinctStreamIds', new Set(ds.map((d) => d.id)).size === 32, ds.map((d) => d.id));
  const rs = await ctx.run((a) => Promise.all(a.keys.map((k) => rtc.echo(k, a.spec, { ms: a.ms }))),
    { keys, spec: [...msgs(5, 'text', 20), ...msgs(5, 'binary', 20)], ms: ctx.timeoutMs });
  const good = rs.filter((r) => r.inOrder).length;
  ctx.check('allEchoedInOrder', good === 32, { channelsEchoedInOrder: good, firstBad: rs.find((r) => !r.inOrder) });
}

/** Renegotiates so the peer creates negotiated channel `id`, then opens it here and runs an echo. */
async function reopen(ctx, key, id, label) {
  await ctx.renegotiate({ negotiated: [{ id, label, ordered: true }] });
  const d = await ctx.run((a) => rtc.createChannel('pc', a.key, a.label, { negotiated: true, id: a.id }), { key, label, id });
  await ctx.opened(key, `${key}Open`);
  const r = await ctx.echo(key, [...msgs(5, 'text', 16), ...msgs(5, 'binary', 16)]);
  ctx.check(`${key}Echo`, d.id === id && r.inOrder, { id: d.id, ...r });
}

/**
 * Browser closes an in-band channel (its onclose fires once the peer reset its side too), a negotiated
 * channel reuses that id (the peer learns it from a renegotiation offer carrying `negotiated`), then
 * `cmd:close` makes the peer close that one and the id is reused once more.
 */
export async function closeReopen(ctx) {
  await ctx.connect({ channels: [{ key: 'first', label: 'first' }] });
  const d = await ctx.opened('first');
  if (d.readyState !== 'open') return;
  const r = await ctx.echo('first', msgs(5, 'text', 16));
  ctx.check('firstEcho', r.inOrder, r);
  await ctx.run(() => rtc.closeChannel('first'));
  ctx.check('browserCloseOnclose', await ctx.run((ms) => rtc.waitClosed('first', ms), ctx.timeoutMs));
  await reopen(ctx, 'reopenedAfterBrowserClose', d.id, 'reopen-1');
  await ctx.run(() => rtc.sendText('reopenedAfterBrowserClose', 'cmd:close'));
  ctx.check('peerCloseOnclose', await ctx.run((ms) => rtc.waitClosed('reopenedAfterBrowserClose', ms), ctx.timeoutMs));
  await reopen(ctx, 'reopenedAfterPeerClose', d.id, 'reopen-2');
  ctx.info.streamId = d.id;
}

/** Browser offers; `cmd:open:from-peer` makes the peer open an in-band channel; echo works on it. */
export async function peerOpens(ctx) {
  await ctx.browserOffers({ channels: [{ key: 'echo', label: 'echo' }] });
  const mine = await ctx.opened('echo');
  if (mine.readyState !== 'open') return;
  await ctx.run(() => rtc.sendText('echo', 'cmd:open:from-peer'));
  const d = await ctx.run((ms) => rtc.waitIncoming('pc', 'from-peer', 'fromPeer', ms), ctx.timeoutMs);
  if (!ctx.check('ondatachannelFromPeer', d !== null, d)) return;
  ctx.info.streamIds = { browser: mine.id, peer: d.id };
  if ((await ctx.opened('fromPeer')).readyState !== 'open') return;
  const r = await ctx.echo('fromPeer', [...msgs(20, 'text', 16), ...msgs(20, 'binary', 16)]);
  ctx.check('echoOnPeerChannel', r.inOrder, r);
}

/** Echo, `restartIce()` + renegotiation in the same session, new ufrags both sides, echo again. */
export async function iceRestart(ctx) {
  await ctx.connect({ channels: [{ key: 'echo', label: 'echo' }] });
  if ((await ctx.opened('echo')).readyState !== 'open') return;
  const spec = [...msgs(10, 'text', 16), ...msgs(10, 'binary', 16)];
  ctx.check('echoBeforeRestart', (await ctx.echo('echo', spec)).inOrder);
  await ctx.run(() => rtc.restartIce('pc'));
  const t0 = Date.now();
  await ctx.renegotiate();
  const [a, b] = [ctx.sdp.local.at(-2), ctx.sdp.local.at(-1)];
  const [ra, rb] = [ctx.sdp.remote.at(-2), ctx.sdp.remote.at(-1)];
  ctx.check('browserUfragChanged', a.iceUfrag && b.iceUfrag && a.iceUfrag !== b.iceUfrag, [a.iceUfrag, b.iceUfrag]);
  // RFC 8829 §5.3.2: an answer to a restarting m= section MUST carry new ICE credentials.
  ctx.check('peerUfragChanged', ra.iceUfrag && rb.iceUfrag && ra.iceUfrag !== rb.iceUfrag, [ra.iceUfrag, rb.iceUfrag]);
  const sel = await ctx.run((a) => rtc.waitSelectedUfrag('pc', a.ufrag, a.ms), { ufrag: b.iceUfrag, ms: ctx.timeoutMs });
  ctx.timings.restartToNewPairMs = Date.now() - t0;
  ctx.check('newIceSessionSelected', sel.local === b.iceUfrag, sel);
  const r = await ctx.echo('echo', spec);
  ctx.check('echoAfterRestart', r.inOrder, r);
}

/**
 * Median over 5 fresh connections (a new peer process each) of the time from `new RTCPeerConnection()`
 * (immediately followed by createDataChannel + createOffer) to the channel's open event in the browser.
 */
export async function setupTime(ctx) {
  const samples = [];
  const phases = [];
  for (let i = 0; i < 5; i++) {
    if (i > 0) await ctx.newPeer();
    const pcKey = `pc${i}`, key = `dc${i}`;
    await ctx.browserOffers({ pcKey, channels: [{ key, label: 'echo' }] });
    const d = await ctx.run((a) => rtc.waitOpen(a.key, a.ms), { key, ms: ctx.timeoutMs });
    const m = await ctx.run((k) => rtc.marks(k), pcKey);
    if (d.readyState === 'open') {
      samples.push(d.openAt - m.createdAt);
      // restMs: applying the answer, then whatever of ICE, DTLS, SCTP and DCEP was not done yet (the
      // answerer can start ICE and, as DTLS client, its handshake before Chromium has the answer).
      phases.push({ offerGatheredMs: m.offerReadyAt - m.createdAt, peerAnswerMs: m.answerAt - m.offerReadyAt,
        restMs: d.openAt - m.answerAt });
    }
    await ctx.run((k) => rtc.closePc(k), pcKey);
  }
  ctx.timings.setupPhases = phases;
  const sorted = [...samples].sort((x, y) => x - y);
  ctx.timings.setupSamplesMs = samples;
  ctx.timings.setupMedianMs = sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
  ctx.check('all5Opened', samples.length === 5, { opened: samples.length });
}
