#!/usr/bin/env python3
"""The TCP baseline of bench/lossy.sh: one connection moves N bytes, checked by SHA-256.

  lossy_tcp.py recv IP PORT          accept one connection, read to EOF, reply with the hex SHA-256
  lossy_tcp.py send IP PORT BYTES [CC]
                                     connect (with congestion control CC, e.g. cubic, if given), send BYTES pseudo-random bytes, shut down the write side,
                                     wait for the digest; prints {"bytes":..,"secs":..,"mb_per_s":..}

The clock runs from the established connection to the receiver's digest (its last byte plus one
round trip), as `oxirtc send` times a file from its first chunk to the receiver's `done`. Without CC
the namespace's default congestion control (net.ipv4.tcp_congestion_control) is used; buffer
autotuning is left alone.
"""
import hashlib
import json
import random
import socket
import sys
import time


def recv(ip, port):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((ip, int(port)))
    listener.listen(1)
    print("ready", flush=True)
    conn, _ = listener.accept()
    digest = hashlib.sha256()
    while True:
        data = conn.recv(1 << 20)
        if not data:
            break
        digest.update(data)
    conn.sendall(digest.hexdigest().encode())
    conn.close()


def send(ip, port, total, cc=None):
    total = int(total)
    block = random.Random(7).randbytes(1 << 20)
    digest = hashlib.sha256()
    conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if cc:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    conn.settimeout(600)
    conn.connect((ip, int(port)))
    cc = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()
    start = time.monotonic()
    left = total
    while left > 0:
        piece = block[: min(left, len(block))]
        conn.sendall(piece)
        digest.update(piece)
        left -= len(piece)
    conn.shutdown(socket.SHUT_WR)
    answer = b""
    while len(answer) < 64:
        data = conn.recv(64)
        if not data:
            break
        answer += data
    secs = time.monotonic() - start
    if answer.decode(errors="replace") != digest.hexdigest():
        sys.exit(f"lossy_tcp: digest mismatch: sent {digest.hexdigest()}, receiver has {answer!r}")
    print(json.dumps({"cc": cc, "bytes": total, "secs": round(secs, 3), "mb_per_s": round(total / secs / 1e6, 3)}))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "recv":
        recv(*sys.argv[2:])
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "send":
        send(*sys.argv[2:])
    else:
        sys.exit(__doc__)
