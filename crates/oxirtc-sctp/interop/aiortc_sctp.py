"""Interop check of oxirtc-sctp against aiortc's independent SCTP stack, without DTLS.

aiortc's RTCSctpTransport runs over a fake DTLS transport whose records go through pipes to
`pipe_peer` (crates/oxirtc-sctp/examples/pipe_peer.rs), which echoes messages and mirrors stream
resets. Run with a Python that has aiortc installed (`python3 -m venv .venv && .venv/bin/pip install
aiortc==1.16.0`):

    cargo build -p oxirtc-sctp --example pipe_peer
    .venv/bin/python crates/oxirtc-sctp/interop/aiortc_sctp.py target/debug/examples/pipe_peer

Add `--loss 0.05` to drop that share of packets in each direction (retransmissions, fast retransmit
and FORWARD TSN then interoperate too). Prints one JSON line per DTLS role with the checks; exits 0
only if all passed.
"""

import asyncio
import json
import random
import struct
import sys
import time

from aiortc.rtcdatachannel import RTCDataChannel, RTCDataChannelParameters
from aiortc.rtcsctptransport import RTCSctpTransport


class PipeDtls:
    """Just enough of RTCDtlsTransport for RTCSctpTransport."""

    def __init__(self, proc, role, loss):
        self.loss = loss
        self.state = "connected"
        self._role = role
        self._data_receiver = None
        self.proc = proc

    def _register_data_receiver(self, receiver):
        self._data_receiver = receiver

    def _unregister_data_receiver(self, receiver):
        self._data_receiver = None

    async def _send_data(self, data):
        if random.random() < self.loss:
            return
        self.proc.stdin.write(struct.pack("!H", len(data)) + data)
        await self.proc.stdin.drain()


async def pump(proc, dtls):
    while True:
        try:
            head = await proc.stdout.readexactly(2)
            data = await proc.stdout.readexactly(struct.unpack("!H", head)[0])
        except asyncio.IncompleteReadError:
            return
        if dtls._data_receiver and random.random() >= dtls.loss:
            await dtls._data_receiver._handle_data(data)


async def echo_round(channel, messages, timeout=30):
    got = []
    done = asyncio.Event()

    @channel.on("message")
    def on_message(m):
        got.append(m)
        if len(got) == len(messages):
            done.set()

    for m in messages:
        channel.send(m)
    try:
        await asyncio.wait_for(done.wait(), timeout)
    except asyncio.TimeoutError:
        pass
    channel.remove_all_listeners("message")
    return got


async def main(peer_cmd, role, loss):
    proc = await asyncio.create_subprocess_exec(
        peer_cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    dtls = PipeDtls(proc, role, loss)
    sctp = RTCSctpTransport(dtls)
    pump_task = asyncio.ensure_future(pump(proc, dtls))
    checks = {}
    t0 = time.monotonic()
    await sctp.start(sctp.getCapabilities(), 5000)
    for _ in range(400):
        if sctp.state == "connected":
            break
        await asyncio.sleep(0.05)
    checks["connected"] = sctp.state == "connected"
    checks["setup_ms"] = round((time.monotonic() - t0) * 1000, 1)

    ordered = RTCDataChannel(sctp, RTCDataChannelParameters(label="o", negotiated=True, id=1))
    msgs = ["hello", b"\x00\x01binary", "x" * 65536, bytes(range(256)) * 1024]
    msgs += [f"msg {i}" for i in range(200)]
    got = await echo_round(ordered, msgs, timeout=120)
    checks["ordered_echo"] = got == msgs

    unordered = RTCDataChannel(
        sctp, RTCDataChannelParameters(label="u", negotiated=True, id=3, ordered=False, maxRetransmits=0)
    )
    msgs = [f"u{i}".encode() for i in range(100)]
    got = await echo_round(unordered, msgs, timeout=10 if loss else 30)
    # Unreliable both ways: with loss, a subset without duplicates or corruption.
    if loss:
        checks["unordered_echo"] = len(set(got)) == len(got) and set(got) <= set(msgs)
        checks["unordered_received"] = len(got)
    else:
        checks["unordered_echo"] = sorted(got) == sorted(msgs)
    # A reliable message after the unreliable ones still arrives (FORWARD TSN moved both ends on).
    after = RTCDataChannel(sctp, RTCDataChannelParameters(label="r", negotiated=True, id=5))
    checks["reliable_after_unreliable"] = await echo_round(after, ["still here"], timeout=60) == ["still here"]

    closed = asyncio.Event()
    ordered.on("close", closed.set)
    ordered.close()
    try:
        await asyncio.wait_for(closed.wait(), 60)
        checks["close_via_stream_reset"] = True
    except asyncio.TimeoutError:
        checks["close_via_stream_reset"] = False

    reopened = RTCDataChannel(sctp, RTCDataChannelParameters(label="o2", negotiated=True, id=1))
    got = await echo_round(reopened, ["again"], timeout=60)
    checks["reuse_after_reset"] = got == ["again"]

    await sctp.stop()
    await asyncio.sleep(0.3)
    proc.stdin.close()
    await proc.wait()
    pump_task.cancel()
    ok = all(v for k, v in checks.items() if k not in ("setup_ms", "unordered_received"))
    print(json.dumps({"role": role, "loss": loss, "ok": ok, "checks": checks}))
    return ok


if __name__ == "__main__":
    loss = float(sys.argv[sys.argv.index("--loss") + 1]) if "--loss" in sys.argv else 0.0
    random.seed(7)
    results = [asyncio.run(main(sys.argv[1], r, loss)) for r in ["client", "server"]]
    sys.exit(0 if all(results) else 1)
