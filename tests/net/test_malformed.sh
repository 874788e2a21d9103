#!/usr/bin/env bash
# Malformed frames to the TFTP port reach the dataplane (the XDP program steers by
# address and port only) and are dropped, each under its own counter; the server
# keeps serving.
source "$(dirname "$0")/lib.sh"
require_root
net_setup || { echo "# topology set-up failed"; finish; }
echo hello >"$ROOT/hello.txt"
start_stampede || { echo "not ok - stampede starts"; FAILED=1; finish; }
SRV_MAC=$(in_srv cat "/sys/class/net/$SRV_IF/address")

frame() { in_cli $PROBE frame "$CLI_IF" "$SRV_MAC" "$CLI_IP" "$SRV_IP" "$@" >/dev/null; }
frame bad_ip_checksum --count 7
frame bad_udp_checksum --count 5
frame ip_options --count 3
frame fragment --count 4
frame long_ip_length --count 6
sleep 0.5
expect_eq "bad IPv4 header checksums dropped and counted" 7 "$(counter drop_bad_ip_checksum)"
expect_eq "bad UDP checksums dropped and counted" 5 "$(counter drop_bad_udp_checksum)"
expect_eq "IPv4 options dropped and counted" 3 "$(counter drop_ip_options)"
expect_eq "fragments dropped and counted" 4 "$(counter drop_ip_fragment)"
expect_eq "IP length beyond the frame dropped and counted" 6 "$(counter drop_bad_ip_length)"
expect_eq "none of them reached the TFTP server" 0 "$(counter tftp_requests)"

frame good --count 1
sleep 0.3
expect_eq "a well-formed hand-made RRQ is accepted" 1 "$(counter tftp_requests)"
out=$(in_cli curl -s --max-time 10 "tftp://$SRV_IP/hello.txt")
expect_eq "the server still serves after the junk" hello "$out"
finish
