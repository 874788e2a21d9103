#!/usr/bin/env python3
"""Hostile clients for test_security.sh: raw TFTP requests and raw HTTP requests.

Stock clients normalise what an attacker would not: curl collapses "..",
Python's http.client refuses control characters, and no TFTP client sends a
NUL inside a file name. These send the bytes as given (hex, or text with
Python escapes) and print one line per request:

  tftp: "ERROR 2 access violation: ..." or "DATA <bytes> <sha256>" (the whole
        file fetched lock-step), then " canary" if the canary string was in
        any byte received.
  http: "<status> <body bytes>", then " canary" likewise.

Every wait is bounded; exit status 0 whatever the server does: the test decides.
"""
import argparse
import codecs
import hashlib
import socket
import struct
import sys
import time

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6


def payload(text, is_hex):
    return bytes.fromhex(text) if is_hex else codecs.decode(text, "unicode_escape").encode("latin-1")


def tftp(args, canary):
    body = payload(args.request, args.hex)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(args.timeout)
    s.bind(("0.0.0.0", 0))
    s.sendto(body, (args.server, 69))
    seen = b""
    data = bytearray()
    expected = 1
    deadline = time.monotonic() + 30
    try:
        packet, peer = s.recvfrom(70000)
    except socket.timeout:
        return "TIMEOUT"
    while True:
        seen += packet
        opcode = struct.unpack("!H", packet[:2])[0] if len(packet) >= 2 else 0
        if opcode == ERROR and len(packet) >= 4:
            code = struct.unpack("!H", packet[2:4])[0]
            text = packet[4:].split(b"\0")[0].decode(errors="replace")
            line = "ERROR %d %s" % (code, text)
            break
        if opcode == OACK:
            s.sendto(struct.pack("!HH", ACK, 0), peer)
        elif opcode == DATA and len(packet) >= 4:
            block = struct.unpack("!H", packet[2:4])[0]
            if block == expected & 0xFFFF:
                data += packet[4:]
                s.sendto(struct.pack("!HH", ACK, block), peer)
                if len(packet) - 4 < 512:
                    line = "DATA %d %s" % (len(data), hashlib.sha256(data).hexdigest())
                    break
                expected += 1
        else:
            line = "OPCODE %d" % opcode
            break
        if time.monotonic() > deadline:
            line = "DEADLINE"
            break
        try:
            packet, peer = s.recvfrom(70000)
        except socket.timeout:
            line = "TIMEOUT after %d bytes" % len(data)
            break
    return line + (" canary" if canary and canary in seen else "")


def http(args, canary):
    request = payload(args.request, args.hex)
    s = socket.create_connection((args.server, args.port), timeout=args.timeout)
    s.sendall(request)
    reply = b""
    deadline = time.monotonic() + args.timeout
    try:
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    except socket.timeout:
        pass
    s.close()
    if not reply:
        return "NO REPLY"
    head, _, body = reply.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].split(b" ")
    code = status[1].decode(errors="replace") if len(status) > 1 else "?"
    return "%s %d" % (code, len(body)) + (" canary" if canary and canary in reply else "")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("kind", choices=["tftp", "http"])
    p.add_argument("server")
    p.add_argument("request", help="the bytes to send: text with Python escapes (\\x00, \\r\\n), or hex with --hex")
    p.add_argument("--hex", action="store_true")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--canary", default="", help="report whether this string was received")
    p.add_argument("--timeout", type=float, default=3.0)
    args = p.parse_args()
    canary = args.canary.encode()
    print(tftp(args, canary) if args.kind == "tftp" else http(args, canary))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
