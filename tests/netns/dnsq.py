#!/usr/bin/env python3
"""DNS over UDP for the tests, with nothing but the standard library.

  dnsq.py SERVER NAME [TYPE]   one query: "RCODE addr|name ..." (A or PTR)
  dnsq.py SERVER --malformed   datagrams that are not queries; none answered
  dnsq.py SERVER --rate NAME SECONDS   queries in flight, answers a second
"""
import random
import socket
import struct
import sys
import time

TYPES = {"A": 1, "PTR": 12, "AAAA": 28}
RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}


def query(name, qtype, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", qtype, 1)


def read_name(pkt, at):
    labels, jumped, end = [], False, at
    while True:
        n = pkt[at]
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = at + 2
            at, jumped = ((n & 0x3F) << 8) | pkt[at + 1], True
            continue
        if n == 0:
            return ".".join(labels), (end if jumped else at + 1)
        labels.append(pkt[at + 1:at + 1 + n].decode())
        at += 1 + n


def answers(pkt):
    qd, an = struct.unpack(">HH", pkt[4:8])
    at = 12
    for _ in range(qd):
        _, at = read_name(pkt, at)
        at += 4
    out = []
    for _ in range(an):
        _, at = read_name(pkt, at)
        rtype, _, _, rdlen = struct.unpack(">HHIH", pkt[at:at + 10])
        at += 10
        if rtype == 1:
            out.append(socket.inet_ntoa(pkt[at:at + 4]))
        elif rtype == 12:
            out.append(read_name(pkt, at)[0])
        at += rdlen
    return out


def one(server, name, qtype):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    qid = random.randrange(65536)
    s.sendto(query(name, TYPES[qtype], qid), (server, 53))
    t0 = time.monotonic()
    try:
        pkt = s.recv(4096)
    except socket.timeout:
        print("TIMEOUT")
        return 1
    ms = (time.monotonic() - t0) * 1e3
    if struct.unpack(">H", pkt[:2])[0] != qid:
        print("BADID")
        return 1
    rcode = RCODES.get(pkt[3] & 0x0F, str(pkt[3] & 0x0F))
    print(" ".join([rcode] + answers(pkt)), file=sys.stdout)
    print("%.1f ms" % ms, file=sys.stderr)
    return 0


def malformed(server):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    bad = [
        b"",                                             # nothing
        b"\x12\x34\x01",                                # a header cut short
        struct.pack(">HHHHHH", 1, 0x8100, 1, 0, 0, 0) + b"\x01a\x00\x00\x01\x00\x01",  # an answer
        struct.pack(">HHHHHH", 2, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01",   # a pointer loop
        struct.pack(">HHHHHH", 3, 0x0100, 1, 0, 0, 0) + b"\x3fabc",                     # a label past the end
        struct.pack(">HHHHHH", 4, 0x0100, 2, 0, 0, 0) + b"\x01a\x00\x00\x01\x00\x01",  # two questions
    ]
    for b in bad:
        s.sendto(b, (server, 53))
    try:
        s.recv(4096)
        print("ANSWERED")
        return 1
    except socket.timeout:
        print("%d ignored" % len(bad))
        return 0


def rate(server, name, seconds):
    """WINDOW queries in flight, each answered one replaced at once; when
    none comes for 50 ms (lost, or over the server's limit), the window
    is filled again."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.05)
    pkt = query(name, 1, 7)
    window, got = 16, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(window):
            s.sendto(pkt, (server, 53))
        inflight = window
        while inflight and time.monotonic() < end:
            try:
                s.recv(4096)
            except socket.timeout:
                break
            got += 1
            s.sendto(pkt, (server, 53))
    print("%d answers in %.0f s: %.0f a second" % (got, seconds, got / seconds))
    return 0


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[1] == "--malformed":
        return malformed(a[0])
    if len(a) == 4 and a[1] == "--rate":
        return rate(a[0], a[2], float(a[3]))
    if len(a) in (2, 3):
        return one(a[0], a[1], a[2] if len(a) == 3 else "A")
    print(__doc__, file=sys.stderr)
    return 2


sys.exit(main())
