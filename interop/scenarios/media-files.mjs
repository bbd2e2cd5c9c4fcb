// Media files in and out of a call with Chromium (issue 18). The peer command (`oxirtc echo --once`)
// gets extra arguments from `prepare()`: `--send-media FIXTURE opus.ogg` (it sends the files
// instead of reflecting) or `--record DIR` (it records what the browser sends instead of
// reflecting). These are the same code paths as `oxirtc dial --send-media / --record`
// (apps/oxirtc-cli/src/media_files), behind the signaling the harness already speaks; README.md
// "Media files" says why this design.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** crates/oxirtc-media-file/fixtures: 60 frames at 30 fps (keyframes 0 and 30), 101 Opus packets. */
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../crates/oxirtc-media-file/fixtures');
const FIXTURE_FRAMES = 60;
const FIXTURE_KEYFRAMES = 2;
const OPUS_PACKETS = 101;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function mediaStats(ctx) {
  return ctx.run((k) => rtc.mediaStats(k), 'pc');
}

/**
 * oxirtc sends FIXTURE + opus.ogg; Chromium receives only. The peer offers (request-offer: its
 * sections carry only the files' codecs) and Chromium answers without tracks of its own. Once
 * nothing more is decoded for 1.5 s: video framesDecoded = the fixture's 60 frames (±1) with the
 * codec asked, both keyframes decoded, no decode error (Chromium asked no keyframe: pliCount 0,
 * nothing dropped, no freeze), 320x240; audio 101 packets (±1), none lost. The peer's SESSION line
 * says it sent every frame and the connection dropped none.
 */
function sendFixture(file, codec) {
  const fn = async (ctx) => {
    const dc = await ctx.peerOffers({ label: 'echo', key: 'echo' });
    ctx.check('peerOfferedChannelArrived', dc !== null);
    if (dc === null) return;
    const offered = [...ctx.lastOffer.matchAll(/^a=rtpmap:\d+ ([\w-]+)\//gm)].map((m) => m[1]);
    ctx.info.offeredCodecs = [...new Set(offered)];
    ctx.check('offerCarriesOnlyTheFilesCodecs',
      ctx.info.offeredCodecs.every((c) => [codec, 'opus', 'rtx'].includes(c)) && offered.includes(codec), ctx.info.offeredCodecs);
    // Until nothing changes for 1.5 s (the files last 2 s), at most 15 s.
    let m = null, last = '', stableSince = Date.now();
    const end = Date.now() + 15000;
    while (Date.now() < end) {
      m = await mediaStats(ctx);
      const v = m.inbound.video || {}, a = m.inbound.audio || {};
      const now = `${v.framesDecoded}/${a.packetsReceived}`;
      if (now !== last) { last = now; stableSince = Date.now(); }
      if ((v.framesDecoded ?? 0) > 0 && Date.now() - stableSince >= 1500) break;
      await sleep(250);
    }
    ctx.info.media = m;
    const v = m.inbound.video || {}, a = m.inbound.audio || {};
    ctx.check('videoCodec', (v.codec ?? '').toLowerCase() === `video/${codec}`.toLowerCase(), v.codec);
    ctx.check('framesDecodedEqualsFixture', Math.abs((v.framesDecoded ?? 0) - FIXTURE_FRAMES) <= 1,
      { framesDecoded: v.framesDecoded, framesReceived: v.framesReceived, fixture: FIXTURE_FRAMES });
    ctx.check('bothKeyframesDecoded', v.keyFramesDecoded === FIXTURE_KEYFRAMES, v.keyFramesDecoded);
    ctx.check('noDecodeErrors', v.pliCount === 0 && (v.firCount ?? 0) === 0 && v.framesDropped === 0
      && (v.freezeCount ?? 0) === 0 && v.packetsLost === 0,
    { pliCount: v.pliCount, firCount: v.firCount, framesDropped: v.framesDropped, freezeCount: v.freezeCount, packetsLost: v.packetsLost });
    ctx.check('pictureSize320x240', v.frameWidth === 320 && v.frameHeight === 240, [v.frameWidth, v.frameHeight]);
    ctx.check('opusPacketsReceived', Math.abs((a.packetsReceived ?? 0) - OPUS_PACKETS) <= 1 && a.packetsLost === 0,
      { packetsReceived: a.packetsReceived, packetsLost: a.packetsLost, fixture: OPUS_PACKETS });
    ctx.afterPeer = (report) => {
      const s = (report.sessions || []).at(-1);
      const sent = (s && s.media && s.media.sent) || [];
      ctx.info.peerSent = sent;
      ctx.check('peerSentEveryFrame', sent.length === 2
        && sent.every((f) => f.framesSent === f.framesInFile && f.dropped === 0 && !f.error), sent);
    };
  };
  fn.prepare = async () => ({ peerArgs: ['--send-media', path.join(FIXTURES, file), path.join(FIXTURES, 'opus.ogg')] });
  return fn;
}

/** Seconds Chromium sends before it stops, in the record scenarios. */
const RECORD_SECONDS = 3;

/**
 * Chromium sends its fake camera (video limited to `codec`) and microphone for 3 s to `oxirtc echo
 * --record DIR`, then stops its encoders (replaceTrack(null)) and reads its outbound-rtp counts.
 * After the peer ended (the browser closed the connection), every recording decodes with
 * `ffmpeg -v error` and nothing printed, and holds the frames Chromium encoded (video framesEncoded,
 * audio packetsSent: within 5 %), with the codec asked; the peer's report calls neither partial.
 */
function recordBrowser(codec) {
  const fn = async (ctx) => {
    await ctx.browserOffers({ channels: [{ key: 'echo', label: 'echo' }], media: true, videoCodec: codec });
    const recvonly = [...ctx.lastAnswer.matchAll(/^m=(audio|video) [\s\S]*?(?=^m=|(?![\s\S]))/gm)]
      .every((m) => /^a=recvonly/m.test(m[0]));
    ctx.check('peerAnswersReceiveOnly', recvonly);
    if ((await ctx.opened('echo')).readyState !== 'open') return;
    let first = null;
    for (const end = Date.now() + 8000; Date.now() < end && !first; await sleep(200)) {
      const m = await mediaStats(ctx);
      if ((m.outbound.video?.framesEncoded ?? 0) > 0) first = m;
    }
    ctx.check('browserEncodes', first !== null);
    if (!first) return;
    await sleep(RECORD_SECONDS * 1000);
    ctx.info.stopped = await ctx.run((k) => rtc.stopSending(k), 'pc');
    await sleep(1000); // the last packets arrive; the counts settle
    const m = await mediaStats(ctx);
    ctx.info.outbound = m.outbound;
    const encoded = { video: m.outbound.video?.framesEncoded ?? 0, audio: m.outbound.audio?.packetsSent ?? 0 };
    ctx.check('browserUsedTheCodec', (m.outbound.video?.codec ?? '').toLowerCase() === `video/${codec}`.toLowerCase(), m.outbound.video?.codec);
    ctx.afterPeer = async (report) => {
      const s = (report.sessions || []).at(-1);
      const recorded = ((s && s.media && s.media.recorded) || []).filter((r) => r.framesReceived > 0);
      ctx.info.peerRecorded = recorded;
      ctx.check('peerRecordedBothKinds', ['audio', 'video'].every((k) => recorded.some((r) => r.kind === k && r.file)),
        recorded.map((r) => [r.kind, r.codec, r.file]));
      ctx.check('peerRecordingsNotPartial', recorded.length > 0 && recorded.every((r) => !r.partial),
        recorded.map((r) => ({ kind: r.kind, partial: r.partial, dropped: r.dropped, error: r.error })));
      const ff = await ffmpegPresent();
      if (!ff.ok) {
        if (process.env.OXIRTC_REQUIRE_FFMPEG === '1') ctx.check('ffmpegOnPath', false, ff.why);
        else ctx.info.ffmpegSkipped = `${ff.why}; set OXIRTC_REQUIRE_FFMPEG=1 to make this a failure`;
        return;
      }
      const decoded = {};
      for (const r of recorded) {
        const errors = await run('ffmpeg', ['-nostdin', '-v', 'error', '-i', r.file, '-f', 'null', '-']);
        const probe = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames,width,height',
          '-of', 'json', r.file]);
        const st = (JSON.parse(probe.stdout || '{}').streams || [])[0] || {};
        const frames = Number(st.nb_read_frames);
        decoded[r.kind] = { file: r.file, ffmpegErrors: errors.stderr.trim(), exit: errors.code, frames,
          codec: st.codec_name, size: st.width && `${st.width}x${st.height}`, encoded: encoded[r.kind], written: r.framesWritten };
      }
      ctx.info.decoded = decoded;
      ctx.check('recordingsDecodeWithoutErrors', Object.values(decoded).every((d) => d.exit === 0 && d.ffmpegErrors === ''),
        Object.fromEntries(Object.entries(decoded).map(([k, d]) => [k, d.ffmpegErrors])));
      ctx.check('recordedFramesWithin5PercentOfEncoded', ['audio', 'video'].every((k) => decoded[k]
        && decoded[k].encoded > 0 && Math.abs(decoded[k].frames - decoded[k].encoded) <= 0.05 * decoded[k].encoded),
      Object.fromEntries(Object.entries(decoded).map(([k, d]) => [k, { frames: d.frames, encoded: d.encoded }])));
      ctx.check('recordedCodec', decoded.video && decoded.video.codec === { VP8: 'vp8', VP9: 'vp9', H264: 'h264', AV1: 'av1' }[codec],
        decoded.video && decoded.video.codec);
      if (Object.values(ctx.checks).every(Boolean)) rmSync(ctx.prep.dir, { recursive: true, force: true });
      else ctx.info.recordingsKeptIn = ctx.prep.dir;
    };
  };
  fn.prepare = async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'oxirtc-interop-record-'));
    return { dir, peerArgs: ['--record', dir] };
  };
  return fn;
}

function run(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : String(err.code)) : 0, stdout, stderr });
    });
  });
}

async function ffmpegPresent() {
  for (const t of ['ffmpeg', 'ffprobe']) {
    const r = await run(t, ['-version']);
    if (r.code !== 0) return { ok: false, why: `${t} is not on PATH (${r.code}): run scripts/install-test-deps.sh` };
  }
  return { ok: true };
}

export const sendMediaVp8 = sendFixture('vp8.ivf', 'VP8');
export const sendMediaVp9 = sendFixture('vp9.ivf', 'VP9');
export const sendMediaH264 = sendFixture('h264.h264', 'H264');
export const sendMediaAv1 = sendFixture('av1.ivf', 'AV1');
export const recordVp8 = recordBrowser('VP8');
export const recordVp9 = recordBrowser('VP9');
export const recordH264 = recordBrowser('H264');
export const recordAv1 = recordBrowser('AV1');
