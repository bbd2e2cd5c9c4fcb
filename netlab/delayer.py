#!/usr/bin/env python3
"""Holds every packet of an NFQUEUE for DELAY +/- JITTER ms, then accepts it.

netlab's replacement for netem delay on kernels without sch_netem. Python standard library only: it
speaks nfnetlink_queue directly (linux/netfilter/nfnetlink_queue.h), asks for packet metadata only
(no payload copies) and keeps the held packet ids in a heap ordered by release time, so a jitter
wider than the packet spacing reorders packets as a real path would (--keep-order prevents it).
Fail-open: if the kernel queue overflows, packets pass undelayed instead of being dropped.
"""
import argparse
import heapq
import random
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
SUBSYS_QUEUE = 3 << 8
MSG_PACKET, MSG_VERDICT, MSG_CONFIG = 0, 1, 2
CFG_CMD, CFG_PARAMS, CFG_QUEUE_MAXLEN, CFG_MASK, CFG_FLAGS = 1, 2, 3, 4, 5
CMD_BIND = 1
CFG_F_FAIL_OPEN = 1
ATTR_PACKET_HDR, ATTR_VERDICT_HDR = 1, 2
COPY_META = 1
F_REQUEST, F_ACK = 1, 4
NLMSG_ERROR = 2
ACCEPT = 1


def attr(kind, payload):
    """One netlink attribute, padded to 4 bytes."""
    size = 4 + len(payload)
    return struct.pack("=HH", size, kind) + payload + bytes(-size % 4)


class NfQueue:
    def __init__(self, number):
        self.number = number
        self.seq = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((0, 0))

    def send(self, msg, attrs, flags=F_REQUEST):
        self.seq += 1
        # nfgenmsg: family, version, resource id (the queue number, big endian)
        body = struct.pack("=BB", socket.AF_UNSPEC, 0) + struct.pack("!H", self.number) + attrs
        header = struct.pack("=IHHII", 16 + len(body), SUBSYS_QUEUE | msg, flags, self.seq, 0)
        self.sock.send(header + body)

    def configure(self, attrs):
        self.send(MSG_CONFIG, attrs, F_REQUEST | F_ACK)
        reply = self.sock.recv(8192)
        _, kind = struct.unpack_from("=IH", reply)
        if kind == NLMSG_ERROR:
            (errno,) = struct.unpack_from("=i", reply, 16)
            if errno:
                raise OSError(-errno, "NFQUEUE configuration refused")

    def bind(self, maxlen):
        self.configure(attr(CFG_CMD, struct.pack("!BBH", CMD_BIND, 0, socket.AF_INET)))
        self.configure(attr(CFG_PARAMS, struct.pack("!IB", 0, COPY_META)))
        self.configure(attr(CFG_QUEUE_MAXLEN, struct.pack("!I", maxlen)))
        flag = struct.pack("!I", CFG_F_FAIL_OPEN)
        self.configure(attr(CFG_FLAGS, flag) + attr(CFG_MASK, flag))

    def accept(self, packet_id):
        self.send(MSG_VERDICT, attr(ATTR_VERDICT_HDR, struct.pack("!II", ACCEPT, packet_id)))

    @staticmethod
    def packet_ids(data):
        """Ids of the packets announced in one netlink read (several messages may share it)."""
        at = 0
        while at + 16 <= len(data):
            size, kind = struct.unpack_from("=IH", data, at)
            if size < 16:
                return
            if kind == SUBSYS_QUEUE | MSG_PACKET:
                a = at + 20  # netlink header (16) + nfgenmsg (4)
                while a + 4 <= at + size:
                    alen, akind = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    if akind & 0x7FFF == ATTR_PACKET_HDR:
                        yield struct.unpack_from("!I", data, a + 4)[0]
                    a += (alen + 3) & ~3
            at += (size + 3) & ~3


def run(args):
    rng = random.Random(args.seed)
    queue = NfQueue(args.queue)
    queue.bind(args.maxlen)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    print(f"ready queue={args.queue} delay={args.delay}ms jitter={args.jitter}ms", flush=True)
    held = []  # (release time, arrival number, packet id)
    arrivals = 0
    last = 0.0
    while not stopping:
        now = time.monotonic()
        while held and held[0][0] <= now:
            queue.accept(heapq.heappop(held)[2])
        wait = held[0][0] - now if held else 1.0
        try:
            readable, _, _ = select.select([queue.sock], [], [], max(wait, 0.0))
        except InterruptedError:
            continue
        if not readable:
            continue
        try:
            data = queue.sock.recv(1 << 20)
        except OSError as e:  # ENOBUFS: the kernel dropped notifications (fail-open passes them)
            print(f"recv: {e}", file=sys.stderr, flush=True)
            continue
        now = time.monotonic()
        for packet_id in NfQueue.packet_ids(data):
            ms = args.delay + rng.uniform(-args.jitter, args.jitter)
            release = now + max(ms, 0.0) / 1000.0
            if args.keep_order:
                release = last = max(release, last)
            arrivals += 1
            heapq.heappush(held, (release, arrivals, packet_id))
    for _, _, packet_id in held:
        queue.accept(packet_id)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queue", type=int, required=True, help="NFQUEUE number")
    p.add_argument("--delay", type=float, default=0.0, help="ms")
    p.add_argument("--jitter", type=float, default=0.0, help="ms, uniform +/-")
    p.add_argument("--keep-order", action="store_true", help="release in arrival order")
    p.add_argument("--seed", type=int, default=None, help="seed of the jitter sequence")
    p.add_argument("--maxlen", type=int, default=10000, help="kernel queue length")
    run(p.parse_args())


if __name__ == "__main__":
    main()
