#!/usr/bin/env python3
"""Raw TFTP and raw-frame probes for Stampede's network tests.

Stock clients (curl, atftp, tftp-hpa) cannot produce the protocol edge cases the
tests need: a stranger sending to a live session port, a client that never ACKs,
sessions held open to hit a limit, a download paused while the server reloads,
frames with bad checksums. Each sub-command prints one result line per event so
the shell test can compare it exactly. Every wait is bounded.
"""
import argparse
import hashlib
import os
import socket
import struct
import sys
import time

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6


def request(opcode, name, mode="octet", options=()):
    body = struct.pack("!H", opcode) + name.encode() + b"\0" + mode.encode() + b"\0"
    for key, value in options:
        body += key.encode() + b"\0" + str(value).encode() + b"\0"
    return body


def describe(packet):
    if len(packet) < 2:
        return "SHORT"
    opcode = struct.unpack("!H", packet[:2])[0]
    if opcode == ERROR and len(packet) >= 4:
        code = struct.unpack("!H", packet[2:4])[0]
        return "ERROR %d %s" % (code, packet[4:].split(b"\0")[0].decode(errors="replace"))
    if opcode == OACK:
        fields = packet[2:].split(b"\0")[:-1]
        pairs = ["%s=%s" % (fields[i].decode(), fields[i + 1].decode()) for i in range(0, len(fields) - 1, 2)]
        return "OACK " + ",".join(pairs)
    if opcode == DATA and len(packet) >= 4:
        return "DATA %d %d" % (struct.unpack("!H", packet[2:4])[0], len(packet) - 4)
    return "OPCODE %d" % opcode


def udp_socket(timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.bind(("0.0.0.0", 0))
    return s


def ack(block):
    return struct.pack("!HH", ACK, block & 0xFFFF)


def parse_options(pairs):
    return [(pairs[i], pairs[i + 1]) for i in range(0, len(pairs) - 1, 2)]


def cmd_first_reply(args):
    """Send one request, print the first reply."""
    s = udp_socket(args.timeout)
    opcode = WRQ if args.write else RRQ
    s.sendto(request(opcode, args.name, args.mode, parse_options(args.option)), (args.server, 69))
    try:
        packet, peer = s.recvfrom(70000)
        print(describe(packet))
    except socket.timeout:
        print("TIMEOUT")


def download(s, server_addr, first, name, blksize, on_block=None, deadline=60.0):
    """Completes a lock-step download whose first reply is `first`; returns bytes."""
    packet, peer = first
    data = bytearray()
    expected = 1
    end = time.monotonic() + deadline
    if packet[:2] == struct.pack("!H", OACK):
        s.sendto(ack(0), peer)
    else:
        s.settimeout(s.gettimeout())
    while time.monotonic() < end:
        if packet[:2] == struct.pack("!H", DATA):
            block = struct.unpack("!H", packet[2:4])[0]
            if block == expected & 0xFFFF:
                data += packet[4:]
                if on_block:
                    on_block(expected)
                s.sendto(ack(block), peer)
                if len(packet) - 4 < blksize:
                    return bytes(data)
                expected += 1
        elif packet[:2] == struct.pack("!H", ERROR):
            raise RuntimeError(describe(packet))
        packet, peer = s.recvfrom(70000)
    raise RuntimeError("download deadline")


def cmd_unknown_tid(args):
    """A stranger ACKs to a live session port: it gets error 5, the transfer goes on."""
    s = udp_socket(args.timeout)
    s.sendto(request(RRQ, args.name), (args.server, 69))
    first = s.recvfrom(70000)
    session = first[1]
    stranger = udp_socket(args.timeout)
    stranger.sendto(ack(1), session)
    try:
        print("stranger: " + describe(stranger.recvfrom(70000)[0]))
    except socket.timeout:
        print("stranger: TIMEOUT")
    data = download(s, args.server, first, args.name, 512)
    print("transfer: %d bytes sha256 %s" % (len(data), hashlib.sha256(data).hexdigest()))
    stranger.sendto(ack(1), session)  # the session has ended now
    try:
        print("after end: " + describe(stranger.recvfrom(70000)[0]))
    except socket.timeout:
        print("after end: TIMEOUT")


def cmd_hold(args):
    """Open COUNT transfers from one address and never ACK: prints each first reply."""
    sockets = []
    for _ in range(args.count):
        s = udp_socket(args.timeout)
        s.sendto(request(RRQ, args.name), (args.server, 69))
        try:
            print(describe(s.recvfrom(70000)[0]))
        except socket.timeout:
            print("TIMEOUT")
        sockets.append(s)


def cmd_no_ack(args):
    """Request and never ACK: print every packet received within SECONDS."""
    s = udp_socket(0.2)
    s.sendto(request(RRQ, args.name), (args.server, 69))
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        try:
            print(describe(s.recvfrom(70000)[0]))
        except socket.timeout:
            pass


def cmd_stall(args):
    """Lock-step download that ACKs the first ACKS blocks at once, then goes silent.
    Prints every packet that follows as "MS WHAT", MS the milliseconds since our
    last ACK, until an ERROR or SECONDS pass: the server's retransmission timeouts
    as the wire shows them."""
    s = udp_socket(0.05)
    s.sendto(request(RRQ, args.name), (args.server, 69))
    end = time.monotonic() + args.seconds
    acked, last_ack = 0, None
    while time.monotonic() < end:
        try:
            packet, peer = s.recvfrom(70000)
        except socket.timeout:
            continue
        now = time.monotonic()
        opcode = struct.unpack("!H", packet[:2])[0] if len(packet) >= 2 else None
        if opcode == DATA and acked < args.acks and struct.unpack("!H", packet[2:4])[0] == acked + 1:
            acked += 1
            s.sendto(ack(acked), peer)
            last_ack = time.monotonic()
            continue
        if last_ack is None:
            print("BEFORE %s" % describe(packet))
            continue
        print("%.1f %s" % ((now - last_ack) * 1000, describe(packet)))
        if opcode == ERROR:
            return
    print("DEADLINE")


def cmd_paused_download(args):
    """Download, pausing after the first block until RESUME_FILE exists (set by the test
    after it reloaded the server): the result shows which version was served."""
    s = udp_socket(args.timeout)
    s.sendto(request(RRQ, args.name), (args.server, 69))
    first = s.recvfrom(70000)

    def on_block(n):
        if n != 1:
            return
        open(args.paused_file, "w").close()
        end = time.monotonic() + 30
        while not os.path.exists(args.resume_file) and time.monotonic() < end:
            time.sleep(0.05)

    data = download(s, args.server, first, args.name, 512, on_block)
    print(hashlib.sha256(data).hexdigest())


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def cmd_frame(args):
    """Send one hand-made Ethernet frame carrying a TFTP RRQ, broken as KIND says."""
    iface_mac = open("/sys/class/net/%s/address" % args.iface).read().strip()
    src_mac = bytes.fromhex(iface_mac.replace(":", ""))
    dst_mac = bytes.fromhex(args.dst_mac.replace(":", ""))
    src_ip = socket.inet_aton(args.src_ip)
    dst_ip = socket.inet_aton(args.dst_ip)
    payload = request(RRQ, args.name)
    options = b"\x01\x01\x01\x00" if args.kind == "ip_options" else b""
    ihl = 5 + len(options) // 4
    udp_len = 8 + len(payload)
    total = ihl * 4 + udp_len
    frag = 0x2000 if args.kind == "fragment" else 0
    claimed = total + 100 if args.kind == "long_ip_length" else total
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, claimed, 1, frag, 64, 17, 0, src_ip, dst_ip) + options
    ip_ck = checksum(ip)
    if args.kind == "bad_ip_checksum":
        ip_ck ^= 0x00FF
    ip = ip[:10] + struct.pack("!H", ip_ck) + ip[12:]
    udp = struct.pack("!HHHH", 40000, args.port, udp_len, 0) + payload
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, udp_len)
    udp_ck = checksum(pseudo + udp) or 0xFFFF
    if args.kind == "bad_udp_checksum":
        udp_ck ^= 0x0F0F
    udp = udp[:6] + struct.pack("!H", udp_ck) + udp[8:]
    frame = dst_mac + src_mac + b"\x08\x00" + ip + udp
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args.iface, 0))
    for _ in range(args.count):
        s.send(frame)
    print("sent %d %s" % (args.count, args.kind))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=3.0)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("first-reply")
    p.add_argument("server")
    p.add_argument("name")
    p.add_argument("option", nargs="*")
    p.add_argument("--mode", default="octet")
    p.add_argument("--write", action="store_true")
    p.set_defaults(func=cmd_first_reply)

    p = sub.add_parser("unknown-tid")
    p.add_argument("server")
    p.add_argument("name")
    p.set_defaults(func=cmd_unknown_tid)

    p = sub.add_parser("hold")
    p.add_argument("server")
    p.add_argument("name")
    p.add_argument("count", type=int)
    p.set_defaults(func=cmd_hold)

    p = sub.add_parser("no-ack")
    p.add_argument("server")
    p.add_argument("name")
    p.add_argument("seconds", type=float)
    p.set_defaults(func=cmd_no_ack)

    p = sub.add_parser("stall")
    p.add_argument("server")
    p.add_argument("name")
    p.add_argument("acks", type=int)
    p.add_argument("seconds", type=float)
    p.set_defaults(func=cmd_stall)

    p = sub.add_parser("paused-download")
    p.add_argument("server")
    p.add_argument("name")
    p.add_argument("paused_file")
    p.add_argument("resume_file")
    p.set_defaults(func=cmd_paused_download)

    p = sub.add_parser("frame")
    p.add_argument("iface")
    p.add_argument("dst_mac")
    p.add_argument("src_ip")
    p.add_argument("dst_ip")
    p.add_argument("kind", choices=["good", "bad_ip_checksum", "bad_udp_checksum", "ip_options", "fragment", "long_ip_length"])
    p.add_argument("--port", type=int, default=69)
    p.add_argument("--name", default="hello.txt")
    p.add_argument("--count", type=int, default=1)
    p.set_defaults(func=cmd_frame)

    args = parser.parse_args()
    try:
        args.func(args)
    except (RuntimeError, socket.timeout) as error:
        print("FAILED %s" % error)
        sys.exit(1)


if __name__ == "__main__":
    main()
