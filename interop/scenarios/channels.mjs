// Scenarios about one channel's delivery: both offer/answer roles, reliability settings, negotiated ids,
// message sizes. Each is `async (ctx) => void` and records named checks on ctx (lib/context.mjs).
import { msgs } from '../lib/context.mjs';

const TEXT_AND_BINARY = [...msgs(100, 'text', 24), ...msgs(100, 'binary', 100)];

/** Browser offers and creates channel "echo"; 100 text + 100 binary messages echoed in order. */
export async function offerBasic(ctx) {
  await ctx.browserOffers({ channels: [{ key: 'echo', label: 'echo' }] });
  if ((await ctx.opened('echo')).readyState !== 'open') return;
  const r = await ctx.echo('echo', TEXT_AND_BINARY);
  ctx.check('echoedInOrder', r.inOrder, r);
}

/** Peer offers and creates channel "echo"; the browser answers; same echo as offer-basic. */
export async function answerBasic(ctx) {
  const d = await ctx.peerOffers({ label: 'echo', key: 'echo' });
  if (!ctx.check('ondatachannelEcho', d !== null, d)) return;
  if ((await ctx.opened('echo')).readyState !== 'open') return;
  const r = await ctx.echo('echo', TEXT_AND_BINARY);
  ctx.check('echoedInOrder', r.inOrder, r);
}

/** Shared body of the partial-reliability scenarios: `init` channel, 200 messages, ≥ minFraction back. */
async function lossyEcho(ctx, init, expect, minFraction, batch = 0) {
  await ctx.connect({ channels: [{ key: 'dc', label: 'lossy', init }] });
  const d = await ctx.opened('dc');
  const config = Object.fromEntries(Object.keys(expect).map((k) => [k, d[k]]));
  ctx.check('channelConfigAsRequested', Object.entries(expect).every(([k, v]) => d[k] === v), config);
  if (d.readyState !== 'open') return;
  const r = await ctx.echo('dc', [...msgs(100, 'text', 40), ...msgs(100, 'binary', 40)], { minFraction, batch });
  ctx.info.echo = r;
  ctx.check(minFraction === 1 ? 'allEchoed' : `atLeast${Math.round(minFraction * 100)}PercentEchoed`,
    r.matched >= minFraction * r.sent && r.unexpected.length === 0);
}

/** `{ordered:false}`: all 200 messages come back (compared as a set). */
export const unordered = (ctx) => lossyEcho(ctx, { ordered: false }, { ordered: false }, 1);

// The partially reliable ones send in batches of 20 (each after the previous came back, or 300 ms): a
// burst of 200 at once overflowed a receive buffer and lost ~20 % against a Chromium peer on loopback.

/** `{ordered:false, maxRetransmits:0}`: ≥ 95 % of 200 messages come back on loopback. */
export const maxRetransmits0 = (ctx) => lossyEcho(ctx, { ordered: false, maxRetransmits: 0 },
  { ordered: false, maxRetransmits: 0 }, 0.95, 20);

/** `{maxPacketLifeTime:100}`: ≥ 95 % of 200 messages come back on loopback. */
export const maxPacketLifetime = (ctx) => lossyEcho(ctx, { maxPacketLifeTime: 100 }, { maxPacketLifeTime: 100 }, 0.95, 20);

/** `{negotiated:true, id:5}` declared in the offer JSON; echo works on stream 5. */
export async function negotiated(ctx) {
  await ctx.connect({
    channels: [{ key: 'neg', label: 'neg5', init: { negotiated: true, id: 5 } }],
    negotiated: [{ id: 5, label: 'neg5', ordered: true }],
  });
  const d = await ctx.opened('neg');
  ctx.check('streamId5', d.id === 5 && d.negotiated === true, { id: d.id, negotiated: d.negotiated });
  if (d.readyState !== 'open') return;
  const r = await ctx.echo('neg', [...msgs(50, 'text', 30), ...msgs(50, 'binary', 30)]);
  ctx.check('echoedInOrder', r.inOrder, r);
}

/** 0-byte text, 0-byte binary, 256 KiB binary echoed intact; one byte over max-message-size: info. */
export async function sizes(ctx) {
  await ctx.connect({ channels: [{ key: 'echo', label: 'echo' }] });
  if ((await ctx.opened('echo')).readyState !== 'open') return;
  const cases = [['emptyText', 'text', 0], ['emptyBinary', 'binary', 0], ['binary256KiB', 'binary', 262144]];
  for (const [name, kind, len] of cases) {
    const r = await ctx.echo('echo', [{ kind, len }]);
    ctx.check(name, r.matched === 1 && r.received === 1, r);
  }
  const max = await ctx.run(() => rtc.maxMessageSize('pc'));
  ctx.info.sctpMaxMessageSize = max;
  ctx.info.peerSdpMaxMessageSize = ctx.sdp.remote[0]?.maxMessageSize ?? null;
  if (Number.isFinite(max) && max > 0 && max < 1 << 30) {
    ctx.info.sendOneByteOverMax = await ctx.run((n) => rtc.trySend('echo', n), max + 1);
  }
}

/** Bulk: 200 binary messages of 64 KiB (12.5 MiB each way) echoed in order; throughput as info. */
export async function bulk(ctx) {
  await ctx.connect({ channels: [{ key: 'echo', label: 'bulk' }] });
  if ((await ctx.opened('echo')).readyState !== 'open') return;
  const r = await ctx.echo('echo', msgs(200, 'binary', 65536), { highWater: 1 << 20 });
  ctx.check('echoedInOrder', r.inOrder, r);
  if (r.inOrder) ctx.timings.bulkMiBPerSecondEachWay = Math.round((200 * 65536 / 1048576) / (r.elapsedMs / 1000) * 10) / 10;
}
