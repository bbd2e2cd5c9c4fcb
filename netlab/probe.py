#!/usr/bin/env python3
"""netlab's UDP probe: NAT type (RFC 4787) and round-trip loss/duplication/delay.

  probe.py serve IP1 IP2          on the public host: answers on IP1:4101, IP1:4102 and IP2:4101
  probe.py nattype IP1 IP2        on the private host: prints {"type": ..., ...}
  probe.py ping IP1 [N] [GAP_S]   on the private host: N echoes, prints counts and median RTT
  probe.py flush-conntrack        in the NAT's namespace: forget every mapping (a NAT reboot)

Requests are text: `who` (reply: the source address seen), `poke I HOST PORT` (socket I sends
`poked` to HOST:PORT, to test filtering), `echo SEQ` (echoed back).
"""
import json
import os
import select
import socket
import statistics
import struct
import sys
import time

PORTS = (4101, 4102)


def serve(ip1, ip2):
    socks = []
    for addr in ((ip1, PORTS[0]), (ip1, PORTS[1]), (ip2, PORTS[0])):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(addr)
        socks.append(s)
    print("ready", flush=True)
    while True:
        for s in select.select(socks, [], [])[0]:
            data, src = s.recvfrom(2048)
            words = data.decode(errors="replace").split()
            if words[:1] == ["who"]:
                s.sendto(f"{src[0]} {src[1]}".encode(), src)
            elif words[:1] == ["echo"]:
                s.sendto(data, src)
            elif words[:1] == ["poke"] and len(words) == 4 and words[1] in ("0", "1", "2"):
                socks[int(words[1])].sendto(b"poked", (words[2], int(words[3])))


def ask(sock, dest, tries=5):
    """The source address `dest` saw, or None."""
    for _ in range(tries):
        sock.sendto(b"who", dest)
        if select.select([sock], [], [], 0.3)[0]:
            ip, port = sock.recv(2048).decode().split()
            return ip, int(port)
    return None


def poked(sock, via, target, index):
    """Whether a packet from server socket `index` reaches `target` (our mapping)."""
    for _ in range(3):
        via_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        via_sock.sendto(f"poke {index} {target[0]} {target[1]}".encode(), via)
        via_sock.close()
        if select.select([sock], [], [], 0.3)[0]:
            return sock.recv(2048) == b"poked"
    return False


def own_ip(dest):
    """The local address the kernel picks towards `dest` (no packet is sent)."""
    t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t.connect(dest)
    return t.getsockname()[0]


def nattype(ip1, ip2):
    a, b, c = (ip1, PORTS[0]), (ip1, PORTS[1]), (ip2, PORTS[0])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    local = s.getsockname()
    # RFC 4787 §4.1: does the mapping depend on the destination?
    ma, mb, mc = ask(s, a), ask(s, b), ask(s, c)
    result = {"mapped": [ma, mb, mc]}
    if None in (ma, mb, mc):
        result["type"] = "unreachable"
    elif ma[0] == own_ip(a):
        result["type"] = "none"
    elif not (ma == mb == mc):
        result["type"] = "symmetric"
    else:
        # RFC 4787 §5: filtering, from a fresh socket that has talked to `a` only
        f = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        f.bind(("0.0.0.0", 0))
        mf = ask(f, a)
        if poked(f, a, mf, 2):
            result["type"] = "fullcone"
        elif poked(f, a, mf, 1):
            result["type"] = "arc"
        else:
            result["type"] = "prc"
    result["local"] = list(local)
    print(json.dumps(result))


def ping(ip, count=50, gap=0.01):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((ip, PORTS[0]))
    sent_at, rtts, dups = {}, {}, 0
    deadline = None
    seq = 0
    while True:
        now = time.monotonic()
        if seq < count and (not sent_at or now >= sent_at[seq - 1] + gap):
            sent_at[seq] = now
            s.send(f"echo {seq}".encode())
            seq += 1
            if seq == count:
                deadline = now + 1.0
        if deadline and now >= deadline:
            break
        if select.select([s], [], [], gap / 2)[0]:
            try:
                n = int(s.recv(2048).split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if n in rtts:
                dups += 1
            elif n in sent_at:
                rtts[n] = (time.monotonic() - sent_at[n]) * 1000
    out = {"sent": count, "received": len(rtts), "duplicates": dups,
           "rtt_ms_median": round(statistics.median(rtts.values()), 1) if rtts else None}
    print(json.dumps(out))


def flush_conntrack():
    """Deletes every conntrack entry of this namespace (ctnetlink DELETE without a tuple)."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
    s.bind((0, 0))
    body = struct.pack("=BBH", socket.AF_INET, 0, 0)  # nfgenmsg
    # subsystem CTNETLINK (1) << 8 | IPCTNL_MSG_CT_DELETE (2); NLM_F_REQUEST | NLM_F_ACK
    s.send(struct.pack("=IHHII", 16 + len(body), (1 << 8) | 2, 1 | 4, 1, 0) + body)
    (err,) = struct.unpack_from("=i", s.recv(4096), 16)
    if err:
        sys.exit(f"conntrack flush failed: {os.strerror(-err)}")


def main(argv):
    if len(argv) >= 3 and argv[0] == "serve":
        serve(argv[1], argv[2])
    elif len(argv) >= 3 and argv[0] == "nattype":
        nattype(argv[1], argv[2])
    elif argv[:1] == ["flush-conntrack"]:
        flush_conntrack()
    elif len(argv) >= 2 and argv[0] == "ping":
        ping(argv[1], *(int(argv[2]),) if len(argv) > 2 else (), *(float(argv[3]),) if len(argv) > 3 else ())
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
