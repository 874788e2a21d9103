#!/usr/bin/env bash
# While the XDP program is attached: ARP, ICMP echo and TCP to the server still
# work, UDP to a port the dataplane does not own reaches the kernel, and UDP to
# an owned port (67 and 4011 once the control plane sent a proxyDHCP policy, 69,
# the session range) never reaches a kernel socket bound to it. After a clean
# stop the program is gone and the kernel gets port 69 again. (That 67 and 4011
# stay with the kernel until a policy arrives is a unit test of the program.)
source "$(dirname "$0")/lib.sh"
require_root
net_setup || { echo "# topology set-up failed"; finish; }
echo hello >"$ROOT/hello.txt"

# Kernel UDP sockets on owned ports and one free port, logging what they receive.
listen_udp() {
	bg_srv python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(20)
out = open(sys.argv[3], "a")
try:
    while True:
        data, peer = s.recvfrom(2048)
        out.write("got\n"); out.flush()
except socket.timeout:
    pass
' "$SRV_IP" "$1" "$WORK/kernel-$1.log"
	touch "$WORK/kernel-$1.log"
}
for port in 67 69 4011 61450 5000; do listen_udp $port; done
# A TCP service beside the dataplane (Stampede's own HTTP server has 8080).
mkdir -p "$WORK/www" && echo "tcp ok" >"$WORK/www/index.txt"
bg_srv python3 -m http.server --bind "$SRV_IP" --directory "$WORK/www" 8081 >/dev/null 2>&1
sleep 0.5

start_stampede || { echo "not ok - stampede starts"; FAILED=1; finish; }
check "XDP program attached in native mode" bash -c "ip -n $SRV_NS link show $SRV_IF | grep -q 'xdp '"

send_udp() { # port count
	in_cli python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[3])):
    s.sendto(b"\x00\x05\x00\x00probe\x00", (sys.argv[1], int(sys.argv[2])))
' "$SRV_IP" "$1" "$2"
}

in_cli ip neigh flush dev "$CLI_IF"
check "ICMP echo to the server is answered" in_cli ping -q -c 3 -i 0.2 -W 2 "$SRV_IP"
check "ARP resolved the server's MAC" bash -c "ip -n $CLI_NS neigh show $SRV_IP | grep -qE 'REACHABLE|STALE|DELAY'"
expect_eq "TCP connection to a kernel service on the server" "tcp ok" \
	"$(in_cli curl -s --max-time 5 "http://$SRV_IP:8081/index.txt")"

redirect_before=$(counter xdp_redirect)
for port in 67 69 4011 61450 5000; do send_udp $port 20; done
sleep 1
expect_eq "no datagram to port 69 reached the kernel socket" 0 "$(grep -c got "$WORK/kernel-69.log")"
expect_eq "no datagram to 67 reached the kernel socket (the proxyDHCP responder has it)" 0 "$(grep -c got "$WORK/kernel-67.log")"
expect_eq "no datagram to 4011 reached the kernel socket" 0 "$(grep -c got "$WORK/kernel-4011.log")"
expect_ge "the 40 datagrams to 67 and 4011 were counted as malformed DHCP" 40 "$(counter dhcp_malformed)"
expect_eq "no datagram to session port 61450 reached the kernel socket" 0 "$(grep -c got "$WORK/kernel-61450.log")"
expect_eq "all 20 datagrams to the unowned port 5000 reached the kernel" 20 "$(grep -c got "$WORK/kernel-5000.log")"
expect_ge "the 80 owned datagrams were redirected to the dataplane" $((redirect_before + 80)) "$(counter xdp_redirect)"
expect_ge "XDP counted the unowned port 5000" 20 "$(counter xdp_pass_other_port)"
expect_ge "XDP counted ICMP/TCP as not UDP" 3 "$(counter xdp_pass_not_udp)"
expect_ge "XDP counted ARP as not IPv4" 1 "$(counter xdp_pass_not_ipv4)"
expect_eq "the session-port datagrams got error 5 and no frame was dropped as unhandled" 0 "$(counter drop_no_handler)"

check "stampede stops cleanly on SIGTERM" stop_stampede
check "the XDP program is removed on stop" bash -c "! ip -n $SRV_NS link show $SRV_IF | grep -q 'xdp'"
send_udp 69 5
sleep 0.5
expect_eq "after stop, port 69 reaches the kernel again" 5 "$(grep -c got "$WORK/kernel-69.log")"
finish
