#!/usr/bin/env python3
"""Answer IPv6 Router Solicitations with a bare Router Advertisement.

Why: iPXE's "Configuring (net0 ...)" waits for every configurator, IPv6
autoconfiguration included, and with no router on the segment it keeps
soliciting for about 13 s before giving up: a lab with no IPv6 router costs
every iPXE run that long. An advertisement with router lifetime 0, no
prefixes and neither M nor O set ends iPXE's IPv6 configuration at once
without giving anyone an address or a route.

Usage: ra.py IFACE... (run as root in the namespace that holds the interfaces).
"""

import socket
import struct
import sys

ND_ROUTER_SOLICIT = 133
ND_ROUTER_ADVERT = 134
ALL_NODES = "ff02::1"
ALL_ROUTERS = "ff02::2"


def advertisement():
    # type, code, checksum (the kernel fills it in for raw ICMPv6 sockets),
    # cur hop limit 64, flags 0 (no M, no O), router lifetime 0 (not a
    # default router), reachable time 0, retrans timer 0: no options.
    return struct.pack("!BBHBBHII", ND_ROUTER_ADVERT, 0, 0, 64, 0, 0, 0, 0)


def main():
    names = sys.argv[1:]
    if not names:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    wanted = {socket.if_nametoindex(name): name for name in names}
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    # Neighbour discovery demands hop limit 255 (RFC 4861 section 6.1.2).
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
    # Solicitations go to all-routers, a group a host that does not forward
    # IPv6 has not joined: join it on each interface.
    for ifindex in wanted:
        mreq = socket.inet_pton(socket.AF_INET6, ALL_ROUTERS) + struct.pack("@I", ifindex)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    print(f"ra.py: answering router solicitations on {', '.join(names)}", flush=True)
    while True:
        data, ancdata, _flags, src = sock.recvmsg(1500, socket.CMSG_SPACE(20))
        if not data or data[0] != ND_ROUTER_SOLICIT:
            continue
        ifindex = None
        for level, kind, value in ancdata:
            if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
                ifindex = struct.unpack("16sI", value[:20])[1]
        if ifindex not in wanted:
            continue
        try:
            sock.sendto(advertisement(), (ALL_NODES, 0, 0, ifindex))
            print(f"ra.py: solicitation from {src[0]} on {wanted[ifindex]}: advertised", flush=True)
        except OSError as err:  # e.g. no link-local address yet
            print(f"ra.py: cannot advertise on {wanted[ifindex]}: {err}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
