#!/usr/bin/env python3
"""A PXE client's DHCP side, for the network tests.

Sends one DHCP request the way PXE firmware or iPXE does (options 53, 55, 60,
93, 94, 97, and optionally 175 / user class "iPXE" / 43 sub-option 71), from
port 68 (or 4011 for boot-server requests), and prints every reply that
arrives within the wait as one JSON object per line, decoded field by field:

  {"from": "10.0.0.1:67", "op": 2, "xid": ..., "yiaddr": "0.0.0.0",
   "siaddr": ..., "file": ..., "options": {"53": "02", "54": "0a000001", ...}}

Option values are hex. Exit status 0 whatever arrives: the test decides.
"""
import argparse
import json
import os
import random
import socket
import struct
import time


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.replace("-", ":").split(":"))


def build(args):
    mac = mac_bytes(args.mac)
    flags = 0x8000 if args.broadcast else 0
    ciaddr = socket.inet_aton(args.ciaddr)
    giaddr = socket.inet_aton(args.giaddr)
    header = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 1 if args.giaddr != "0.0.0.0" else 0,
                         args.xid, 0, flags, ciaddr, b"\0" * 4, b"\0" * 4, giaddr,
                         mac + b"\0" * 10, b"", b"")
    opts = bytearray(b"\x63\x82\x53\x63")

    def opt(code, value):
        opts.extend(bytes([code, len(value)]) + value)

    opt(53, bytes([args.type]))
    if args.server_id:
        opt(54, socket.inet_aton(args.server_id))
    opt(55, bytes([1, 3, 43, 54, 60, 66, 67, 97, 128, 175, 208, 209, 210]))
    if args.vendor_class:
        opt(60, args.vendor_class.encode())
    if args.arch is not None:
        opt(93, struct.pack("!H", args.arch))
    opt(94, bytes([1, 3, 16]))
    if args.uuid:
        opt(97, b"\0" + bytes.fromhex(args.uuid.replace("-", "")))
    if args.ipxe:
        opt(175, bytes([0xb1, 1, 1]))  # iPXE's "bus id" encapsulated option, any content
        opt(77, b"iPXE")
    if args.boot_item is not None:
        opt(43, bytes([71, 4]) + struct.pack("!HH", args.boot_item, 0) + b"\xff")
    opts.append(255)
    return header + bytes(opts)


def decode(data, sender):
    if len(data) < 240:
        return {"from": sender, "short": len(data)}
    (op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr, sname,
     file_) = struct.unpack("!BBBBIHH4s4s4s4s16s64s128s", data[:236])
    options = {}
    pos = 240
    while pos < len(data):
        code = data[pos]
        if code == 255:
            break
        if code == 0:
            pos += 1
            continue
        length = data[pos + 1]
        options.setdefault(str(code), data[pos + 2:pos + 2 + length].hex())
        pos += 2 + length
    return {
        "from": sender, "op": op, "xid": xid, "flags": flags, "len": len(data),
        "ciaddr": socket.inet_ntoa(ciaddr), "yiaddr": socket.inet_ntoa(yiaddr),
        "siaddr": socket.inet_ntoa(siaddr), "giaddr": socket.inet_ntoa(giaddr),
        "chaddr": chaddr[:hlen].hex(":"), "file": file_.split(b"\0")[0].decode(errors="replace"),
        "options": options,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iface", required=True, help="interface to broadcast on")
    p.add_argument("--to", default="255.255.255.255", help="destination address")
    p.add_argument("--port", type=int, default=67, help="destination port (67 or 4011)")
    p.add_argument("--src-port", type=int, default=68)
    p.add_argument("--mac", default="52:54:00:12:34:56")
    p.add_argument("--type", type=int, default=1, help="option 53 (1 DISCOVER, 3 REQUEST, 8 INFORM)")
    p.add_argument("--vendor-class", default="PXEClient:Arch:00000:UNDI:002001", help="'' for none")
    p.add_argument("--arch", type=int, default=0, help="option 93; -1 for none")
    p.add_argument("--uuid", default="8a6b2e4c-1d3f-4a5b-9c7d-0e1f2a3b4c5d")
    p.add_argument("--ipxe", action="store_true", help="send options 175 and 77 'iPXE'")
    p.add_argument("--boot-item", type=lambda s: int(s, 0), help="43/71 boot item type (4011 requests)")
    p.add_argument("--server-id", help="option 54")
    p.add_argument("--ciaddr", default="0.0.0.0")
    p.add_argument("--giaddr", default="0.0.0.0")
    p.add_argument("--broadcast", action="store_true", help="set the broadcast flag")
    p.add_argument("--xid", type=lambda s: int(s, 0), default=random.getrandbits(32))
    p.add_argument("--wait", type=float, default=2.0, help="seconds to collect replies")
    p.add_argument("--count", type=int, default=1, help="requests to send (each with a new xid)")
    args = p.parse_args()
    if args.arch < 0:
        args.arch = None

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, args.iface.encode())
    s.bind(("0.0.0.0", args.src_port))
    for _ in range(args.count):
        s.sendto(build(args), (args.to, args.port))
        args.xid = (args.xid + 1) & 0xffffffff
    deadline = time.monotonic() + args.wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, sender = s.recvfrom(4096)
        except socket.timeout:
            break
        print(json.dumps(decode(data, "%s:%d" % sender)), flush=True)


if __name__ == "__main__":
    main()
