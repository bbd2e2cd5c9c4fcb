// Audio and video (issue 18): the browser sends its fake camera and microphone, the peer (oxirtc
// echo) sends them back on the same sections, and the browser decodes what comes back.
import { msgs } from '../lib/context.mjs';

/** How long the decode ratio is measured, after the first frames came back. */
const WINDOW_MS = 10000;

/**
 * Browser offers the fake camera and microphone plus channel "echo" (video limited to `videoCodec`
 * by setCodecPreferences when given); the peer answers. Checks: both media sections answered
 * sendrecv (the peer reflects them), DTLS-SRTP negotiated, the browser sends RTP of both kinds, a
 * PLI from the peer arrives, the data channel still echoes, and over a 10 s window the browser decodes
 * what comes back: video framesDecoded ≥ 90 % of its own framesEncoded, keyFramesDecoded ≥ 1, with
 * the codec asked for; audio concealedSamples ≤ 5 % of totalSamplesReceived.
 */
function mediaEcho(videoCodec, peerOffers = false) {
  return async (ctx) => {
    let peerSdp;
    if (peerOffers) {
      // The peer offers audio + video + channel "echo"; the browser answers with its camera.
      const dc = await ctx.peerOffers({ label: 'echo', key: 'echo', media: true, videoCodec });
      ctx.check('peerOfferedChannelArrived', dc !== null);
      if (dc === null) return;
      peerSdp = ctx.lastOffer;
    } else {
      peerSdp = (await ctx.browserOffers({ channels: [{ key: 'echo', label: 'echo' }], media: true, videoCodec })).sdp;
    }
    const sections = [...peerSdp.matchAll(/^m=(audio|video) (\d+) [^\r\n]*[\s\S]*?(?=^m=|(?![\s\S]))/gm)];
    const dirs = sections.map((m) => ({ kind: m[1], port: Number(m[2]), sendrecv: /^a=sendrecv/m.test(m[0]) }));
    ctx.check('peerAudioAndVideoSendRecv', dirs.length === 2 && dirs.every((s) => s.port !== 0 && s.sendrecv), dirs);
    if ((await ctx.opened('echo')).readyState !== 'open') return;
    const r = await ctx.echo('echo', msgs(20, 'text', 40));
    ctx.check('echoedInOrder', r.inOrder, r);
    // Wait for the first frames to come back, then measure a window.
    const first = await waitFor(ctx, (m) => (m.inbound.video?.framesDecoded ?? 0) > 0, 8000);
    ctx.check('videoCameBack', first !== null, first && first.inbound);
    if (!first) return;
    await new Promise((res) => setTimeout(res, WINDOW_MS));
    const m = await ctx.run((k) => rtc.mediaStats(k), 'pc');
    ctx.info.media = m;
    const st = await ctx.run((k) => rtc.stats(k), 'pc');
    ctx.check('srtpNegotiated', typeof st.srtpCipher === 'string' && st.srtpCipher.length > 0, st.srtpCipher);
    ctx.check('browserSendsAudio', (m.outbound.audio?.packetsSent ?? 0) > 0);
    ctx.check('browserSendsVideo', (m.outbound.video?.packetsSent ?? 0) > 0);
    // oxirtc echo asks for a keyframe once video flows (one PLI per video track after 20 packets).
    ctx.check('browserGotPli', (m.outbound.video?.pliCount ?? 0) > 0, m.outbound.video);
    const enc = delta(m, first, 'outbound', 'video', 'framesEncoded');
    const dec = delta(m, first, 'inbound', 'video', 'framesDecoded');
    ctx.info.window = { framesEncoded: enc, framesDecoded: dec };
    ctx.check('videoDecoded90Percent', enc > 0 && dec >= 0.9 * enc, { enc, dec });
    ctx.check('keyframeDecoded', (m.inbound.video?.keyFramesDecoded ?? 0) >= 1, m.inbound.video);
    // Our RTCP as Chromium read it: receiver reports on what it sends (RTT measured from their
    // LSR/DLSR, RFC 3550 §6.4.1) and sender reports on what we send.
    ctx.check('browserReadOurReceiverReports', ['audio', 'video'].every((k) => (m.remoteInbound[k]?.roundTripTimeMeasurements ?? 0) > 0),
      m.remoteInbound);
    ctx.check('browserReadOurSenderReports', (m.remoteOutbound.video?.reportsSent ?? 0) > 0, m.remoteOutbound);
    if (videoCodec) {
      const want = `video/${videoCodec}`.toLowerCase();
      ctx.check('videoCodecAsked', (m.inbound.video?.codec ?? '').toLowerCase() === want
        && (m.outbound.video?.codec ?? '').toLowerCase() === want, [m.outbound.video?.codec, m.inbound.video?.codec]);
    }
    const samples = delta(m, first, 'inbound', 'audio', 'totalSamplesReceived');
    const concealed = delta(m, first, 'inbound', 'audio', 'concealedSamples');
    ctx.info.audio = { samples, concealed };
    ctx.check('audioConcealedAtMost5Percent', samples > 0 && concealed <= 0.05 * samples, { samples, concealed });
    ctx.check('remoteTracksBothKinds', ['audio', 'video'].every((k) => m.remoteTracks.includes(k)), m.remoteTracks);
    if (ctx.peer) {
      ctx.afterPeer = (report) => {
        const s = (report.sessions || []).at(-1);
        ctx.info.peerMedia = s && { tracks: s.tracks, rtpRead: s.rtpRead, rtpReceived: s.rtpReceived,
          rtpReflected: s.rtpReflected, reflectDropped: s.reflectDropped, rtpSent: s.rtpSent,
          srtpDropped: s.srtpDropped, rtpUnroutable: s.rtpUnroutable };
        ctx.check('peerReceivedRtp', !!s && s.rtpReceived > 0 && s.srtpDropped === 0 && s.rtpUnroutable === 0);
        ctx.check('peerReflectedTwoTracks', !!s && s.tracks === 2 && s.reflectedTracks === 2 && s.rtpSent > 0);
      };
    }
    ctx.check('transceiversSendRecv', Object.values(m.directions).filter((d) => d.current === 'sendrecv').length === 2,
      m.directions);
  };
}

async function waitFor(ctx, pred, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const m = await ctx.run((k) => rtc.mediaStats(k), 'pc');
    if (pred(m)) return m;
    await new Promise((res) => setTimeout(res, 200));
  }
  return null;
}

function delta(now, before, dir, kind, field) {
  return (now[dir][kind]?.[field] ?? 0) - (before[dir][kind]?.[field] ?? 0);
}

export const offerMedia = mediaEcho(null);
export const offerMediaVp9 = mediaEcho('VP9');
export const offerMediaH264 = mediaEcho('H264');
export const offerMediaAv1 = mediaEcho('AV1');
export const answerMedia = mediaEcho(null, true);
export const answerMediaVp9 = mediaEcho('VP9', true);
export const answerMediaH264 = mediaEcho('H264', true);
export const answerMediaAv1 = mediaEcho('AV1', true);

/**
 * Browser sends its camera as three simulcast streams (rids q, h, f); oxirtc echo answers with
 * `a=rid:<id> recv` and `a=simulcast:recv q;h;f` (RFC 8853 §5.3). Checks: the answer accepts the three
 * rids, the browser sends packets on each of them, and the peer receives all three as streams with
 * their rids (its SESSION line lists the rids seen).
 */
export async function simulcastReceive(ctx) {
  const ans = await ctx.browserOffers({ channels: [{ key: 'echo', label: 'echo' }], simulcast: true });
  ctx.check('answerReceivesThreeRids', /^a=simulcast:recv q;h;f\r?$/m.test(ans.sdp)
    && ['q', 'h', 'f'].every((r) => new RegExp(`^a=rid:${r} recv`, 'm').test(ans.sdp)));
  if ((await ctx.opened('echo')).readyState !== 'open') return;
  const end = Date.now() + 8000;
  let layers = [];
  while (Date.now() < end) {
    layers = await ctx.run((k) => rtc.simulcastStats(k), 'pc');
    if (layers.filter((l) => (l.packetsSent ?? 0) > 20).length === 3) break;
    await new Promise((res) => setTimeout(res, 250));
  }
  ctx.info.layers = layers;
  ctx.check('browserSendsThreeLayers', ['q', 'h', 'f'].every((r) => layers.some((l) => l.rid === r && l.packetsSent > 0)), layers);
  if (ctx.peer) {
    ctx.afterPeer = (report) => {
      const s = (report.sessions || []).at(-1);
      ctx.info.peerMedia = s && { rids: s.rids, rtpReceived: s.rtpReceived, rtpUnroutable: s.rtpUnroutable };
      ctx.check('peerReceivedThreeRids', !!s && ['q', 'h', 'f'].every((r) => (s.rids || []).includes(r)), s && s.rids);
      ctx.check('peerRoutedEverything', !!s && s.rtpUnroutable === 0 && s.srtpDropped === 0);
    };
  }
}

/**
 * The SFU (WHIP/WHEP, RFC 9725) that `oxirtc serve` runs, here inside `oxirtc echo`: one
 * RTCPeerConnection publishes the fake camera and microphone with WHIP, a second one subscribes with
 * WHEP. Checks: 201 with a Location for both, the subscriber decodes video (framesDecoded ≥ 90 % of
 * the publisher's framesEncoded over 5 s once frames flow, keyFramesDecoded ≥ 1) and receives audio,
 * and DELETE ends the sessions.
 */
export async function whipWhep(ctx) {
  const base = ctx.url.replace(/\/offer$/, '');
  await ctx.run((k) => rtc.newPc(k), 'pub');
  await ctx.run((k) => rtc.newPc(k), 'sub');
  ctx.pcKeys.push('pub', 'sub');
  const pub = await ctx.run((a) => rtc.whipPublish(a.k, a.url), { k: 'pub', url: `${base}/whip/room1` });
  ctx.info.whip = pub;
  ctx.check('whipCreated', pub.status === 201 && /^\/whip\/room1\//.test(pub.location || ''), pub);
  if (pub.status !== 201) return;
  // The publisher's tracks are in the room once its connection is up.
  await ctx.run((a) => rtc.waitIce(a.k, ['connected', 'completed'], 10000), { k: 'pub' });
  await new Promise((res) => setTimeout(res, 500));
  const sub = await ctx.run((a) => rtc.whepSubscribe(a.k, a.url), { k: 'sub', url: `${base}/whep/room1` });
  ctx.info.whep = sub;
  ctx.check('whepCreated', sub.status === 201 && /^\/whep\/room1\//.test(sub.location || ''), sub);
  if (sub.status !== 201) return;
  const stats = (k) => ctx.run((key) => rtc.mediaStats(key), k);
  const end = Date.now() + 10000;
  let first = null;
  while (Date.now() < end && !first) {
    const s = await stats('sub');
    if ((s.inbound.video?.framesDecoded ?? 0) > 0) first = { sub: s, pub: await stats('pub') };
    else await new Promise((res) => setTimeout(res, 200));
  }
  ctx.check('subscriberDecodesVideo', first !== null);
  if (!first) return;
  await new Promise((res) => setTimeout(res, 5000));
  const [s, p] = [await stats('sub'), await stats('pub')];
  const enc = (p.outbound.video?.framesEncoded ?? 0) - (first.pub.outbound.video?.framesEncoded ?? 0);
  const dec = (s.inbound.video?.framesDecoded ?? 0) - (first.sub.inbound.video?.framesDecoded ?? 0);
  ctx.info.window = { framesEncoded: enc, framesDecoded: dec, sub: s.inbound, pub: p.outbound };
  ctx.check('forwardedVideo90Percent', enc > 0 && dec >= 0.9 * enc, { enc, dec });
  ctx.check('subscriberKeyframe', (s.inbound.video?.keyFramesDecoded ?? 0) >= 1);
  ctx.check('subscriberAudio', (s.inbound.audio?.totalSamplesReceived ?? 0) > 0, s.inbound.audio);
  const del = await ctx.run(async (a) => (await fetch(a, { method: 'DELETE' })).status, `${base}${sub.location}`);
  ctx.check('deleteEndsSession', del === 200, del);
}
