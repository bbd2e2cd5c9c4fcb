#!/usr/bin/env python3
"""aiortc as the SERVER side of the signaling protocol (docs/interop-signaling.md), like `oxirtc echo`:
`oxirtc dial URL` connects to it. Data channels only.

    interop/.venv/bin/python peers/aiortc-peer.py [--once] [--port 0] [--session-timeout 60] [--lifetime 300]

Prints "LISTENING http://127.0.0.1:PORT/offer", then one "SESSION {json}" line per session. On every
channel: sends "echo-me:hello-from-aiortc" when it opens (answered with "echo-reply:"), echoes every other
message unchanged (str as text, bytes as binary), and "cmd:close" closes the channel from this side. A
channel that closes while the connection stays up counts in "channelsClosed"; the session then ends.
With --once: exit after one session, 0 if it echoed.

Loopback only: aiortc's default STUN server is switched off (iceServers=[]), aioice's host address
discovery (which skips 127.0.0.1) is replaced by 127.0.0.1, and non-loopback candidates of the remote
SDP are dropped (so no mDNS query is sent either).
"""
import argparse
import asyncio
import json
import sys
import time
import uuid

import aioice.ice
import aiortc
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription


def force_loopback():
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else []


def loopback_only(sdp):
    def keep(line):
        if not line.startswith("a=candidate:"):
            return True
        fields = line[2:].split(" ")
        addr = fields[4] if len(fields) > 4 else ""
        return addr.startswith("127.") or addr == "::1"
    return "\r\n".join(l for l in sdp.split("\r\n") if keep(l))


class Session:
    def __init__(self):
        self.id = uuid.uuid4().hex[:12]
        self.t0 = time.monotonic()
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.stats = {"impl": "aiortc", "version": "aiortc " + aiortc.__version__, "echoed": 0,
                      "echoedBinary": 0, "echoMeReplied": False, "channelsClosed": 0, "events": []}
        self.finished = asyncio.get_running_loop().create_future()
        pc = self.pc

        @pc.on("connectionstatechange")
        async def _state():
            self.ev("pc " + pc.connectionState)
            if pc.connectionState in ("failed", "closed"):
                self.finish()

        @pc.on("datachannel")
        def _channel(channel):
            self.wire(channel)

    def ev(self, what):
        if len(self.stats["events"]) < 100:
            self.stats["events"].append("%dms %s" % ((time.monotonic() - self.t0) * 1000, what))

    def finish(self):
        if not self.finished.done():
            self.finished.set_result(None)

    def wire(self, channel):
        self.stats["label"] = channel.label

        def on_open():
            self.ev("dc open " + channel.label)
            channel.send("echo-me:hello-from-aiortc")

        @channel.on("message")
        def on_message(msg):
            if isinstance(msg, str):
                if msg.startswith("echo-reply:"):
                    self.stats["echoMeReplied"] = True
                    return
                if msg == "cmd:close":
                    self.ev("cmd:close")
                    channel.close()
                    return
                self.stats["echoed"] += 1
            else:
                self.stats["echoedBinary"] += 1
            channel.send(msg)  # str -> text (PPID 51), bytes -> binary (PPID 53)

        @channel.on("close")
        def on_close():
            self.ev("dc close")

            async def later():
                # Closed by a stream reset (RFC 8831 §6.7), not with the connection: still up a moment later.
                await asyncio.sleep(0.25)
                if self.pc.connectionState == "connected":
                    self.stats["channelsClosed"] += 1
                await asyncio.sleep(0.25)
                self.finish()
            asyncio.ensure_future(later())

        if channel.readyState == "open":
            on_open()
        else:
            channel.on("open", on_open)

    async def answer(self, offer_sdp):
        await self.pc.setRemoteDescription(RTCSessionDescription(loopback_only(offer_sdp), "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())  # gathers every candidate
        return self.pc.localDescription.sdp

    async def offer(self, label):
        self.wire(self.pc.createDataChannel(label))
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def apply_answer(self, sdp):
        await self.pc.setRemoteDescription(RTCSessionDescription(loopback_only(sdp), "answer"))

    async def close(self):
        await self.pc.close()
        self.stats["ok"] = self.stats["echoed"] + self.stats["echoedBinary"] > 0
        return self.stats


async def read_request(reader):
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    lines = head.decode("latin-1").split("\r\n")
    method = lines[0].split(" ", 1)[0]
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    n = int(headers.get("content-length", "0"))
    if n > 1 << 20:
        raise ValueError("body over 1 MiB")
    body = await asyncio.wait_for(reader.readexactly(n), 10) if n else b""
    return method, body


async def respond(writer, status, obj):
    data = json.dumps(obj).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}.get(status, "Error")
    writer.write(("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                  "Connection: close\r\n\r\n" % (status, reason, len(data))).encode() + data)
    await writer.drain()
    writer.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0, help="0 = any free port")
    ap.add_argument("--once", action="store_true", help="exit after the first session")
    ap.add_argument("--session-timeout", type=float, default=60.0)
    ap.add_argument("--lifetime", type=float, default=300.0, help="exit after this many seconds regardless")
    args = ap.parse_args()
    force_loopback()
    sessions = {}
    done = asyncio.get_running_loop().create_future()

    async def run_session(sess):
        try:
            await asyncio.wait_for(asyncio.shield(sess.finished), args.session_timeout)
        except asyncio.TimeoutError:
            sess.ev("session timeout")
        res = await sess.close()
        sessions.pop(sess.id, None)
        print("SESSION " + json.dumps(res), flush=True)
        if args.once and not done.done():
            done.set_result(res["ok"])

    async def handle(reader, writer):
        try:
            method, body = await read_request(reader)
            if method != "POST":
                return await respond(writer, 405, {"error": "POST a JSON message"})
            msg = json.loads(body or b"{}")
            kind = msg.get("type")
            if kind == "offer":
                sess = Session()
                sessions[sess.id] = sess
                sdp = await sess.answer(msg["sdp"])
                asyncio.ensure_future(run_session(sess))
                return await respond(writer, 200, {"type": "answer", "sdp": sdp, "session": sess.id})
            if kind == "request-offer":
                sess = Session()
                sessions[sess.id] = sess
                sdp = await sess.offer(msg.get("label") or "echo")
                return await respond(writer, 200, {"type": "offer", "sdp": sdp, "session": sess.id})
            if kind == "answer":
                sess = sessions.get(msg.get("session"))
                if not sess:
                    return await respond(writer, 404, {"error": "unknown session %r" % msg.get("session")})
                await sess.apply_answer(msg["sdp"])
                asyncio.ensure_future(run_session(sess))
                return await respond(writer, 200, {})
            return await respond(writer, 400, {"error": "unknown type %r: send offer, request-offer or answer" % kind})
        except Exception as e:  # the reply says what went wrong
            try:
                await respond(writer, 500, {"error": repr(e)})
            except Exception:
                pass

    server = await asyncio.start_server(handle, "127.0.0.1", args.port)
    print("LISTENING http://127.0.0.1:%d/offer" % server.sockets[0].getsockname()[1], flush=True)
    try:
        ok = await asyncio.wait_for(done, args.lifetime)
    except asyncio.TimeoutError:
        print("lifetime reached without a finished session", file=sys.stderr)
        ok = False
    server.close()
    for s in list(sessions.values()):
        await s.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
