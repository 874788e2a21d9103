#!/usr/bin/env python3
"""Helpers for test_dashboard.sh: a TFTP client that stops answering, and
readers for what headless Chromium left behind (the DOM and a screenshot).

  rrq-frame IFACE SRC_MAC SRC_IP DST_MAC DST_IP NAME
      Sends one TFTP read request as a hand-made Ethernet frame from SRC_MAC /
      SRC_IP (a machine other than the namespace's own interface), then never
      acknowledges anything: the server retransmits, gives up and reports the
      transfer as timed out. Prints "sent".

  dom FILE
      Reads Chromium's --dump-dom output and prints one line per machine row,
      "row MAC STATE" (the page's data-mac and data-state), then
      "canvas X,Y,W,H" (the graph's data-rect, CSS pixels) and
      "banner hidden|shown" (the disconnected banner).

  shot PNG [--canvas X,Y,W,H] [--scale S]
      Prints "name value" lines measured on the screenshot:
        size WxH            the image's size;
        colours N           distinct colours (a blank page has one or two);
        dominant_pct P      share of the most common colour, in percent;
        failed_px N         pixels of exactly the failure highlight (#f8d0d0);
        failed_box X,Y,W,H  their bounding box (0,0,0,0 when none);
        canvas_ink_px N     pixels inside the canvas that are not its white;
        tftp_px N, http_px N        pixels of exactly the two series' colours
                                    inside the canvas;
        tftp_span N, http_span N    rows those pixels cover: a flat line at
                                    zero covers 2, a rate shown as a step
                                    covers many more.
Exit status 0 unless the input cannot be read: the shell test decides.
"""
import argparse
import html.parser
import socket
import struct
import sys

FAILED_ROW = (0xF8, 0xD0, 0xD0)   # index.html: --row-failed
CANVAS_BG = (0xFF, 0xFF, 0xFF)    # index.html: drawGraph's fill
TFTP = (0x1F, 0x6F, 0xD1)         # index.html: COLOR_TFTP
HTTP = (0xD9, 0x73, 0x0D)         # index.html: COLOR_HTTP


# ---- a client that stops ------------------------------------------------------

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.replace("-", ":").split(":"))


def cmd_rrq_frame(args):
    payload = struct.pack("!H", 1) + args.name.encode() + b"\0octet\0"
    src_ip, dst_ip = socket.inet_aton(args.src_ip), socket.inet_aton(args.dst_ip)
    udp_len = 8 + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 1, 0, 64, 17, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", 2070, 69, udp_len, 0) + payload
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, udp_len)
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    frame = mac_bytes(args.dst_mac) + mac_bytes(args.src_mac) + b"\x08\x00" + ip + udp
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args.iface, 0))
    s.send(frame)
    print("sent")


# ---- the DOM ------------------------------------------------------------------

class DomReader(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows = []
        self.canvas = None
        self.banner = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-mac" in a:
            self.rows.append((a["data-mac"], a.get("data-state", "")))
        elif tag == "canvas" and a.get("id") == "graph":
            self.canvas = a.get("data-rect")
        elif a.get("id") == "banner":
            self.banner = "hidden" if "hidden" in a else "shown"


def cmd_dom(args):
    reader = DomReader()
    with open(args.file, encoding="utf-8", errors="replace") as f:
        reader.feed(f.read())
    for mac, state in reader.rows:
        print("row %s %s" % (mac, state))
    print("canvas %s" % (reader.canvas or "none"))
    print("banner %s" % (reader.banner or "none"))


# ---- the screenshot -----------------------------------------------------------

def cmd_shot(args):
    from PIL import Image  # python3-pil; imported here so rrq-frame works without it

    im = Image.open(args.png).convert("RGB")
    w, h = im.size
    px = im.load()
    print("size %dx%d" % (w, h))
    colours = im.getcolors(maxcolors=w * h)
    colours.sort(reverse=True)
    print("colours %d" % len(colours))
    print("dominant_pct %d" % (100 * colours[0][0] // (w * h)))

    n, x0, y0, x1, y1 = 0, w, h, -1, -1
    for y in range(h):
        for x in range(w):
            if px[x, y] == FAILED_ROW:
                n += 1
                x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
    print("failed_px %d" % n)
    print("failed_box %s" % ("%d,%d,%d,%d" % (x0, y0, x1 - x0 + 1, y1 - y0 + 1) if n else "0,0,0,0"))

    ink = tftp = http = 0
    tftp_rows, http_rows = set(), set()
    if args.canvas and args.canvas != "none":
        cx, cy, cw, ch = (int(round(float(v) * args.scale)) for v in args.canvas.split(","))
        for y in range(max(0, cy), min(h, cy + ch)):
            for x in range(max(0, cx), min(w, cx + cw)):
                p = px[x, y]
                if p != CANVAS_BG:
                    ink += 1
                if p == TFTP:
                    tftp += 1
                    tftp_rows.add(y)
                elif p == HTTP:
                    http += 1
                    http_rows.add(y)
    print("canvas_ink_px %d" % ink)
    print("tftp_px %d" % tftp)
    print("http_px %d" % http)
    print("tftp_span %d" % (max(tftp_rows) - min(tftp_rows) + 1 if tftp_rows else 0))
    print("http_span %d" % (max(http_rows) - min(http_rows) + 1 if http_rows else 0))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("rrq-frame")
    for name in ("iface", "src_mac", "src_ip", "dst_mac", "dst_ip", "name"):
        p.add_argument(name)
    p.set_defaults(func=cmd_rrq_frame)

    p = sub.add_parser("dom")
    p.add_argument("file")
    p.set_defaults(func=cmd_dom)

    p = sub.add_parser("shot")
    p.add_argument("png")
    p.add_argument("--canvas", help="X,Y,W,H in CSS pixels (the canvas's data-rect)")
    p.add_argument("--scale", type=float, default=1.0, help="device pixels per CSS pixel")
    p.set_defaults(func=cmd_shot)

    args = parser.parse_args()
    try:
        args.func(args)
    except OSError as e:
        print("FAILED %s" % e)
        sys.exit(1)


if __name__ == "__main__":
    main()
