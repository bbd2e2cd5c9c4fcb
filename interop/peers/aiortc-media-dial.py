#!/usr/bin/env python3
"""aiortc as the DIALER of the signaling protocol (docs/interop-signaling.md) with audio and video,
against a server that reflects media back on the same sections (`oxirtc echo`).

    interop/.venv/bin/python peers/aiortc-media-dial.py [--mode offer|answer] [--codec VP8|H264]
        [--window 5] [--timeout 10] URL

--mode offer: aiortc offers an audio and a video section (sendrecv, the video one limited to --codec by
setCodecPreferences) plus channel "echo", and the server answers. --mode answer: aiortc POSTs
{"type":"request-offer","media":true,"videoCodec":CODEC}, the server offers audio + video + channel
"echo", and aiortc answers with its own tracks on the offered sections (aiortc applies an answerer's
codec preferences inside setRemoteDescription, before there is a transceiver to set them on, so there
the server's offer alone limits the codec).

What aiortc sends: 640x480 video at 30 fps (about 2 RTP packets a frame), diagonal stripes that move
every frame, with the frame's index written into its top row as 16 black/white blocks (12 bits of
index, 4 bits of check); a 400 Hz tone (48 kHz mono, 20 ms frames). What comes back is decoded by
aiortc (PyAV: libvpx, libx264's decoder, libopus) and the index read out of every decoded picture.
After the first picture came back, a window of --window seconds is measured, then sending stops and
1 s is left for the rest to arrive. MEDIA_DIAL_SDP=1 adds both SDPs to the verdict.

Prints one JSON object; exit 0 only if every check passed:
  videoDecoded90Percent   of the frames sent in the window, >= 90 % came back as pictures whose index
                          reads
  videoInOrder            the indices read come back increasing (none repeated, none from the future)
  keyframeRequested       the server sent a PLI/FIR (oxirtc echo asks once video flows): aiortc made a
                          keyframe
  keyframeRequestPassedOn halfway through aiortc sends a PLI for the video coming back; the server passes
                          it on to aiortc's sender, which makes another keyframe
  videoCodecAsked         aiortc encoded and decoded with --codec
  audio90Percent          audio frames decoded >= 90 % of those sent in the window, and the tone is
                          there
  dataChannelEcho         10 text messages on channel "echo" come back in order

Loopback only, as peers/aiortc-peer.py (no STUN, 127.0.0.1 host candidates, non-loopback candidates of
the remote SDP dropped).
"""
import argparse
import asyncio
import fractions
import importlib.util
import json
import math
import os
import re
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import aiortc
import aiortc.rtcrtpreceiver
import aiortc.rtcrtpsender
import av
from aiortc import (MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCRtpReceiver,
                    RTCSessionDescription)
from aiortc.mediastreams import MediaStreamError

_spec = importlib.util.spec_from_file_location(
    "aiortc_peer", os.path.join(os.path.dirname(os.path.abspath(__file__)), "aiortc-peer.py"))
aiortc_peer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(aiortc_peer)

W, H, FPS = 640, 480, 30
BLOCKS, BLOCK_H = 16, 16  # the index row: 16 blocks of 40x16 pixels
SAMPLE_RATE, AUDIO_SAMPLES = 48000, 960  # 20 ms
TONE_HZ, TONE_AMPLITUDE = 400, 8000


class Counters:
    """Shared with aiortc's encoder and decoder threads (ints under the GIL)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.encoded = {}  # kind -> frames handed to the encoder
        self.keyframes_forced = 0  # encode(..., force_keyframe=True): a PLI/FIR arrived
        self.decoder_in = {}  # kind -> encoded frames assembled from RTP, handed to the decoder
        self.decoder_out = {}  # kind -> frames the decoder gave back
        self.decode_errors = {}
        self.encoder_codecs = set()
        self.decoder_codecs = set()

    def add(self, table, kind, n=1):
        with self.lock:
            table[kind] = table.get(kind, 0) + n


COUNTERS = Counters()


def count_codecs():
    """Wraps aiortc's get_encoder/get_decoder to count what goes in and out of them, and the codec."""
    get_encoder, get_decoder = aiortc.rtcrtpsender.get_encoder, aiortc.rtcrtpreceiver.get_decoder

    class CountingEncoder:
        def __init__(self, inner, codec):
            self.inner, self.kind = inner, codec.mimeType.split("/")[0]

        def encode(self, frame, force_keyframe=False):
            COUNTERS.add(COUNTERS.encoded, self.kind)
            if force_keyframe:
                with COUNTERS.lock:
                    COUNTERS.keyframes_forced += 1
            return self.inner.encode(frame, force_keyframe)

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def __setattr__(self, name, value):
            if name in ("inner", "kind"):
                object.__setattr__(self, name, value)
            else:
                setattr(self.inner, name, value)

    class CountingDecoder:
        def __init__(self, inner, codec):
            self.inner, self.kind = inner, codec.mimeType.split("/")[0]

        def decode(self, encoded_frame):
            COUNTERS.add(COUNTERS.decoder_in, self.kind)
            try:
                frames = self.inner.decode(encoded_frame)
            except Exception:
                COUNTERS.add(COUNTERS.decode_errors, self.kind)
                raise
            COUNTERS.add(COUNTERS.decoder_out, self.kind, len(frames))
            return frames

    def encoder(codec):
        COUNTERS.encoder_codecs.add(codec.mimeType)
        return CountingEncoder(get_encoder(codec), codec)

    def decoder(codec):
        COUNTERS.decoder_codecs.add(codec.mimeType)
        return CountingDecoder(get_decoder(codec), codec)

    aiortc.rtcrtpsender.get_encoder = encoder
    aiortc.rtcrtpreceiver.get_decoder = decoder


def index_bits(i):
    """12 bits of index and a 4-bit check (the three nibbles xor-ed, plus 5)."""
    i &= 0xFFF
    check = ((i ^ (i >> 4) ^ (i >> 8)) + 5) & 0xF
    v = i | (check << 12)
    return [(v >> b) & 1 for b in range(BLOCKS)]


def read_index(frame):
    """The index written into a decoded picture, or None if it cannot be read (or its check fails)."""
    if frame.width != W or frame.height != H:
        return None
    plane = frame.planes[0]
    data, stride = bytes(plane), plane.line_size
    bw = W // BLOCKS
    v = 0
    for b in range(BLOCKS):
        x, y = b * bw + bw // 2, BLOCK_H // 2
        s = sum(data[(y + dy) * stride + x + dx] for dy in (-2, 0, 2) for dx in (-2, 0, 2)) / 9
        if abs(s - 128) < 48:
            return None  # neither black nor white
        v |= (1 if s > 128 else 0) << b
    i = v & 0xFFF
    return i if index_bits(i) == [(v >> b) & 1 for b in range(BLOCKS)] else None


class PatternTrack(MediaStreamTrack):
    """640x480 @ 30 fps: diagonal stripes moving 3 px a frame, the index in the top row."""

    kind = "video"

    def __init__(self):
        super().__init__()
        self.n = 0
        self.paused = False
        self._resume = asyncio.Event()
        self._start = None
        ramp = bytes((x * 4) & 0xFF for x in range(64)) * 12  # a sawtooth, period 64 px
        self._ramp = ramp
        self._chroma_u = bytes([96]) * ((W // 2) * (H // 2))
        self._chroma_v = bytes([160]) * ((W // 2) * (H // 2))

    def pause(self):
        self.paused = True

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self.paused:
            await self._resume.wait()  # never set: the sender waits here until the connection closes
        if self._start is None:
            self._start = time.monotonic()
        else:
            wait = self._start + self.n / FPS - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        i = self.n
        self.n += 1
        frame = av.VideoFrame(width=W, height=H, format="yuv420p")
        y = frame.planes[0]
        stride = y.line_size
        pad = bytes(stride - W)
        rows = []
        bits = index_bits(i)
        bw = W // BLOCKS
        index_row = b"".join((b"\xf0" if bit else b"\x10") * bw for bit in bits) + pad
        for r in range(H):
            if r < BLOCK_H:
                rows.append(index_row)
            else:
                off = (3 * i + r) % 64
                rows.append(self._ramp[off:off + W] + pad)
        y.update(b"".join(rows))
        for plane, value in ((frame.planes[1], self._chroma_u), (frame.planes[2], self._chroma_v)):
            cw = W // 2
            cpad = bytes(plane.line_size - cw)
            plane.update(b"".join(value[r * cw:(r + 1) * cw] + cpad for r in range(H // 2)))
        frame.pts = i * 3000
        frame.time_base = fractions.Fraction(1, 90000)
        return frame


class ToneTrack(MediaStreamTrack):
    """A 400 Hz tone, 48 kHz mono s16, 20 ms frames."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self.n = 0
        self.paused = False
        self._resume = asyncio.Event()
        self._start = None
        period = SAMPLE_RATE // TONE_HZ  # 120 samples; 960 is 8 periods
        one = [int(TONE_AMPLITUDE * math.sin(2 * math.pi * k / period)) for k in range(period)]
        self._pcm = struct.pack("<%dh" % AUDIO_SAMPLES, *(one * (AUDIO_SAMPLES // period)))

    def pause(self):
        self.paused = True

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self.paused:
            await self._resume.wait()
        if self._start is None:
            self._start = time.monotonic()
        else:
            wait = self._start + self.n * AUDIO_SAMPLES / SAMPLE_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        frame = av.AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES)
        frame.planes[0].update(self._pcm)
        frame.pts = self.n * AUDIO_SAMPLES
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self.n += 1
        return frame


class Receiver:
    """Reads a remote track to its end: decoded frames, indices read, audio level."""

    def __init__(self, track):
        self.track = track
        self.frames = 0
        self.indices = []  # (index or None) per decoded picture
        self.first = asyncio.get_running_loop().create_future()
        self.rms_sum, self.rms_n = 0.0, 0
        self.sizes = set()
        self.task = asyncio.ensure_future(self.run())

    async def run(self):
        try:
            while True:
                frame = await self.track.recv()
                self.frames += 1
                if self.track.kind == "video":
                    self.indices.append(read_index(frame))
                    self.sizes.add("%dx%d" % (frame.width, frame.height))
                elif self.frames % 5 == 0:
                    pcm = bytes(frame.planes[0])[: 960 * 2]
                    s = struct.unpack("<%dh" % (len(pcm) // 2), pcm)
                    self.rms_sum += math.sqrt(sum(v * v for v in s) / max(1, len(s)))
                    self.rms_n += 1
                if not self.first.done():
                    self.first.set_result(time.monotonic())
        except MediaStreamError:
            pass


def post_json(url, body, timeout=15):
    data = json.dumps(body).encode()
    end = time.monotonic() + 10
    while True:
        req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                text = r.read(1 << 20)
                return json.loads(text) if text.strip() else {}
        except urllib.error.HTTPError as e:
            raise RuntimeError("signaling POST -> HTTP %d: %s" % (e.code, e.read(300).decode("utf-8", "replace")))
        except urllib.error.URLError as e:
            if isinstance(e.reason, ConnectionRefusedError) and time.monotonic() < end:
                time.sleep(0.2)
                continue
            raise


def prefer(transceiver, kind, codec):
    """setCodecPreferences: `codec` (and its rtx) for video; opus alone for audio."""
    caps = RTCRtpReceiver.getCapabilities(kind).codecs
    want = "opus" if kind == "audio" else codec.lower()
    chosen = [c for c in caps if c.mimeType.lower() == "%s/%s" % (kind, want)]
    if not chosen:
        raise RuntimeError("aiortc has no %s codec %s" % (kind, want))
    rtx = [c for c in caps if c.mimeType.lower() == "%s/rtx" % kind]
    transceiver.setCodecPreferences(chosen + rtx)


def sections(sdp):
    """[(kind, port, direction, [codec names])] of an SDP's audio/video sections."""
    out = []
    for m in re.finditer(r"^m=(audio|video) (\d+) [^\r\n]*\r?\n(.*?)(?=^m=|\Z)", sdp, re.M | re.S):
        body = m.group(3)
        d = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)", body, re.M)
        codecs = re.findall(r"^a=rtpmap:\d+ ([^/\r\n]+)", body, re.M)
        out.append({"kind": m.group(1), "port": int(m.group(2)), "direction": d.group(1) if d else None,
                    "codecs": codecs})
    return out


async def rtcp_stats(pc):
    """What the server's RTCP told aiortc: receiver reports on our streams (remote-inbound-rtp) and
    sender reports of its streams (remote-outbound-rtp), per kind."""
    out = {}
    for s in (await pc.getStats()).values():
        if s.type == "remote-inbound-rtp":
            out["rr_" + s.kind] = {"packetsLost": s.packetsLost, "fractionLost": s.fractionLost,
                                   "roundTripTime": s.roundTripTime}
        elif s.type == "remote-outbound-rtp":
            out["sr_" + s.kind] = {"packetsSent": s.packetsSent, "bytesSent": s.bytesSent}
    return out


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url")
    ap.add_argument("--mode", choices=["offer", "answer"], default="offer")
    ap.add_argument("--codec", choices=["VP8", "H264"], default="VP8")
    ap.add_argument("--window", type=float, default=5.0, help="seconds measured after the first picture came back")
    ap.add_argument("--timeout", type=float, default=10.0, help="limit per wait, seconds")
    args = ap.parse_args()
    aiortc_peer.force_loopback()
    count_codecs()
    t0 = time.monotonic()
    res = {"ok": False, "impl": "aiortc", "version": "aiortc %s, av %s" % (aiortc.__version__, av.__version__),
           "mode": args.mode, "codec": args.codec, "signal": args.url, "checks": {}, "events": []}

    def ev(what):
        res["events"].append("%dms %s" % ((time.monotonic() - t0) * 1000, what))

    host = urllib.parse.urlparse(args.url).hostname or ""
    if not re.match(r"^(127\.\d+\.\d+\.\d+|::1|localhost)$", host):
        res["error"] = "refusing non-loopback signaling host %s" % host
        print(json.dumps(res, indent=1))
        return 1

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    video_out, audio_out = PatternTrack(), ToneTrack()
    receivers = {}
    connected = asyncio.get_running_loop().create_future()
    texts = ["ping:%d:%s" % (i, "x" * 20) for i in range(10)]
    echoed, mismatched = [], []
    dc_done = asyncio.get_running_loop().create_future()

    @pc.on("connectionstatechange")
    def _state():
        ev("pc " + pc.connectionState)
        if pc.connectionState == "connected" and not connected.done():
            connected.set_result(True)
        if pc.connectionState in ("failed", "closed") and not connected.done():
            connected.set_result(False)

    @pc.on("track")
    def _track(track):
        ev("track " + track.kind)
        receivers[track.kind] = Receiver(track)

    def wire(channel):
        def on_open():
            ev("dc open " + channel.label)
            for t in texts:
                channel.send(t)

        @channel.on("message")
        def on_message(msg):
            if isinstance(msg, str) and msg.startswith("echo-me:"):
                channel.send("echo-reply:" + msg[8:])
                return
            (echoed if msg == texts[len(echoed)] else mismatched).append(msg)
            if len(echoed) == len(texts) and not dc_done.done():
                dc_done.set_result(True)

        if channel.readyState == "open":
            on_open()
        else:
            channel.on("open", on_open)

    @pc.on("datachannel")
    def _dc(channel):
        wire(channel)

    local_sdp = remote_sdp = None
    try:
        if args.mode == "offer":
            for kind, track in (("audio", audio_out), ("video", video_out)):
                tr = pc.addTransceiver(track, direction="sendrecv")
                prefer(tr, kind, args.codec)
            wire(pc.createDataChannel("echo"))
            await pc.setLocalDescription(await pc.createOffer())
            local_sdp = aiortc_peer.loopback_only(pc.localDescription.sdp)
            ans = await asyncio.get_running_loop().run_in_executor(
                None, post_json, args.url, {"type": "offer", "sdp": local_sdp, "label": "echo"})
            if ans.get("type") != "answer" or not ans.get("sdp"):
                raise RuntimeError("the server's reply is not {type:'answer',sdp}: %r" % ans)
            remote_sdp = ans["sdp"]
            await pc.setRemoteDescription(RTCSessionDescription(aiortc_peer.loopback_only(remote_sdp), "answer"))
        else:
            off = await asyncio.get_running_loop().run_in_executor(
                None, post_json, args.url,
                {"type": "request-offer", "label": "echo", "media": True, "videoCodec": args.codec})
            if off.get("type") != "offer" or not off.get("sdp"):
                raise RuntimeError("the server's reply is not {type:'offer',sdp}: %r" % off)
            remote_sdp = off["sdp"]
            await pc.setRemoteDescription(RTCSessionDescription(aiortc_peer.loopback_only(remote_sdp), "offer"))
            for track in (audio_out, video_out):
                pc.addTrack(track)  # takes the offered section of its kind (sendrecv)
            # No setCodecPreferences here: aiortc picks an answerer's codecs inside
            # setRemoteDescription (before there is a transceiver to set them on); the server's
            # offer is limited to the codec by videoCodec.
            await pc.setLocalDescription(await pc.createAnswer())
            local_sdp = aiortc_peer.loopback_only(pc.localDescription.sdp)
            await asyncio.get_running_loop().run_in_executor(
                None, post_json, args.url, {"type": "answer", "sdp": local_sdp, "session": off.get("session")})
        res["signalingMs"] = int((time.monotonic() - t0) * 1000)
        res["localSections"], res["remoteSections"] = sections(local_sdp), sections(remote_sdp)
        if os.environ.get("MEDIA_DIAL_SDP"):
            res["localSdp"], res["remoteSdp"] = local_sdp, remote_sdp

        if not await asyncio.wait_for(connected, args.timeout):
            raise RuntimeError("the connection failed (%s)" % pc.connectionState)
        # The first picture back, then the window.
        deadline = time.monotonic() + args.timeout
        while "video" not in receivers and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if "video" not in receivers:
            raise RuntimeError("no video track came from the server within %.0f s" % args.timeout)
        try:
            first = await asyncio.wait_for(asyncio.shield(receivers["video"].first),
                                           max(0.1, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            raise RuntimeError("no video picture came back within %.0f s of connecting" % args.timeout)
        ev("first picture back")
        res["firstPictureMs"] = int((first - t0) * 1000)

        def snap():
            v, a = receivers.get("video"), receivers.get("audio")
            return {"videoSent": video_out.n, "audioSent": audio_out.n,
                    "videoDecoded": v.frames if v else 0, "audioDecoded": a.frames if a else 0,
                    "videoAssembled": COUNTERS.decoder_in.get("video", 0),
                    "audioAssembled": COUNTERS.decoder_in.get("audio", 0),
                    }

        before = snap()
        # Halfway through, a PLI of ours for the server's video: oxirtc echo passes it on to the sender
        # of what it reflects (us), which then encodes a keyframe.
        await asyncio.sleep(args.window / 2)
        forced_before_pli = COUNTERS.keyframes_forced
        video_receiver = next(t.receiver for t in pc.getTransceivers() if t.kind == "video")
        sources = video_receiver.getSynchronizationSources()
        if sources:
            await video_receiver._send_rtcp_pli(sources[0].source)  # aiortc has no public call for it
            ev("PLI sent for ssrc %d" % sources[0].source)
        await asyncio.sleep(args.window / 2)
        video_out.pause()
        audio_out.pause()
        sent = snap()
        ev("sending stopped")
        await asyncio.sleep(1.0)
        after = snap()
        try:
            await asyncio.wait_for(asyncio.shield(dc_done), 0.1 if dc_done.done() else 2.0)
        except asyncio.TimeoutError:
            pass

        w = {k: after[k] - before[k] for k in ("videoDecoded", "audioDecoded", "videoAssembled",
                                                 "audioAssembled")}
        # Of the frames sent in the window, those whose picture came back with its index readable.
        w["videoIndexed"] = len({i for i in receivers["video"].indices
                                 if i is not None and before["videoSent"] <= i < sent["videoSent"]})
        w["videoSent"] = sent["videoSent"] - before["videoSent"]
        w["audioSent"] = sent["audioSent"] - before["audioSent"]
        res["window"] = dict(seconds=args.window, **w)
        v, a = receivers["video"], receivers.get("audio")
        idx = [i for i in v.indices if i is not None]
        backwards = sum(1 for x, y in zip(idx, idx[1:]) if y <= x)
        res["video"] = {
            "framesSent": video_out.n, "framesEncoded": COUNTERS.encoded.get("video", 0),
            "framesAssembled": COUNTERS.decoder_in.get("video", 0), "framesDecoded": v.frames,
            "framesIndexed": len(idx), "unreadable": v.frames - len(idx), "backwards": backwards,
            "lastIndex": idx[-1] if idx else None, "decodeErrors": COUNTERS.decode_errors.get("video", 0),
            "keyframesForced": COUNTERS.keyframes_forced, "sizes": sorted(v.sizes),
            "encoderCodecs": sorted(COUNTERS.encoder_codecs), "decoderCodecs": sorted(COUNTERS.decoder_codecs),
        }
        res["audio"] = {
            "framesSent": audio_out.n, "framesAssembled": COUNTERS.decoder_in.get("audio", 0),
            "framesDecoded": a.frames if a else 0, "decodeErrors": COUNTERS.decode_errors.get("audio", 0),
            "rms": round(a.rms_sum / a.rms_n) if a and a.rms_n else 0,
        }
        def decoded_with(kind):
            return ",".join(sorted(x for x in COUNTERS.decoder_codecs if x.startswith(kind)))

        res["summary"] = {
            "codec": decoded_with("video"), "audioCodec": decoded_with("audio"),
            "videoSent": video_out.n, "videoReceived": res["video"]["framesAssembled"], "videoDecoded": len(idx),
            "audioSent": audio_out.n, "audioReceived": res["audio"]["framesAssembled"],
            "audioDecoded": res["audio"]["framesDecoded"],
            "windowVideoSent": w["videoSent"], "windowVideoBack": w["videoIndexed"],
            "windowAudioSent": w["audioSent"], "windowAudioBack": w["audioDecoded"],
        }
        res["dc"] = {"sent": len(texts), "echoed": len(echoed), "mismatched": len(mismatched)}
        res["rtcp"] = await rtcp_stats(pc)
        want = ("video/" + args.codec).lower()
        c = res["checks"]
        c["videoDecoded90Percent"] = w["videoSent"] > 0 and w["videoIndexed"] >= 0.9 * w["videoSent"]
        c["videoInOrder"] = backwards == 0 and len(idx) > 0 and idx[-1] < video_out.n
        c["keyframeRequested"] = forced_before_pli >= 1
        c["keyframeRequestPassedOn"] = COUNTERS.keyframes_forced > forced_before_pli
        codecs = {x.lower() for x in COUNTERS.encoder_codecs | COUNTERS.decoder_codecs if x.startswith("video")}
        c["videoCodecAsked"] = codecs == {want}
        # The tone's RMS is 8000/sqrt(2) ~ 5657; Opus keeps it within a few percent.
        c["audio90Percent"] = (w["audioSent"] > 0 and w["audioDecoded"] >= 0.9 * w["audioSent"]
                               and res["audio"]["rms"] > 2000)
        c["dataChannelEcho"] = len(echoed) == len(texts) and not mismatched
    except Exception as e:  # the verdict says what went wrong
        res["error"] = "%s: %s" % (type(e).__name__, e)
    res["connectionState"] = pc.connectionState
    await pc.close()
    for r in receivers.values():
        r.task.cancel()
    res["ok"] = "error" not in res and bool(res["checks"]) and all(res["checks"].values())
    res["totalMs"] = int((time.monotonic() - t0) * 1000)
    print(json.dumps(res, indent=1), flush=True)
    return 0 if res["ok"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
