// Audio and video (issue 18). The peer has no tracks of its own yet: it receives.
import { msgs } from '../lib/context.mjs';

/**
 * Browser offers the fake camera and microphone plus channel "echo"; the peer answers. Checks: the
 * browser accepts the answer, both media sections are answered receive-only (so the browser's
 * transceivers settle on sendonly), DTLS-SRTP is negotiated (an SRTP cipher in getStats), the browser
 * sends RTP for both kinds, and the data channel still echoes.
 */
export async function offerMedia(ctx) {
  const ans = await ctx.browserOffers({ channels: [{ key: 'echo', label: 'echo' }], media: true });
  const sections = [...ans.sdp.matchAll(/^m=(audio|video) (\d+) [^\r\n]*[\s\S]*?(?=^m=|(?![\s\S]))/gm)];
  const recvonly = sections.map((m) => ({ kind: m[1], port: Number(m[2]), recvonly: /^a=recvonly/m.test(m[0]) }));
  ctx.check('audioAndVideoAnsweredReceiveOnly',
    recvonly.length === 2 && recvonly.every((s) => s.port !== 0 && s.recvonly), recvonly);
  if ((await ctx.opened('echo')).readyState !== 'open') return;
  const r = await ctx.echo('echo', msgs(20, 'text', 40));
  ctx.check('echoedInOrder', r.inOrder, r);
  // RTP flows once DTLS-SRTP is up; give the encoders a moment.
  await new Promise((res) => setTimeout(res, 1500));
  const m = await ctx.run((k) => rtc.mediaStats(k), 'pc');
  ctx.info.media = m;
  const st = await ctx.run((k) => rtc.stats(k), 'pc');
  ctx.check('srtpNegotiated', typeof st.srtpCipher === 'string' && st.srtpCipher.length > 0, st.srtpCipher);
  ctx.check('browserSendsAudio', (m.outbound.audio?.packetsSent ?? 0) > 0);
  ctx.check('browserSendsVideo', (m.outbound.video?.packetsSent ?? 0) > 0);
  // The peer asks for a keyframe once video flows (oxirtc echo: one PLI per video track after 20
  // packets); Chromium counts it in outbound-rtp pliCount.
  ctx.check('browserGotPli', (m.outbound.video?.pliCount ?? 0) > 0, m.outbound.video);
  // What the peer decrypted and routed, from its SESSION line once it ended (oxirtc echo prints
  // rtpReceived / srtpDropped / rtpUnroutable); a peer command without them fails this check.
  if (ctx.peer) {
    ctx.afterPeer = (report) => {
      const s = (report.sessions || []).at(-1);
      ctx.info.peerMedia = s && { tracks: s.tracks, rtpRead: s.rtpRead, rtpReceived: s.rtpReceived,
        srtpDropped: s.srtpDropped, rtpUnroutable: s.rtpUnroutable };
      ctx.check('peerReceivedRtp', !!s && s.rtpReceived > 0 && s.srtpDropped === 0 && s.rtpUnroutable === 0);
      ctx.check('peerReadTwoTracks', !!s && s.tracks === 2 && s.rtpRead > 0);
    };
  }
  ctx.check('transceiversSendOnly', Object.values(m.directions).filter((d) => d.current === 'sendonly').length === 2,
    m.directions);
}
