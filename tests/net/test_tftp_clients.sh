#!/usr/bin/env bash
# Real TFTP clients against the dataplane: curl (lock-step, default and 1468-byte
# blocks), atftp (blksize + RFC 7440 windowsize), tftp-hpa (plain RFC 1350, and
# netascii), Windows-style backslash names; each download checked by sha256.
source "$(dirname "$0")/lib.sh"
require_root
net_setup || { echo "# topology set-up failed"; finish; }

make_file boot/ipxe.efi 1048576
make_file pxelinux.0 42000
make_file exact512.bin 2048  # a multiple of 512: the transfer ends with an empty block
: >"$ROOT/empty.bin"
chmod 644 "$ROOT/empty.bin"
printf 'default menu\r\nlabel one\n  kernel vmlinuz\rend\n' >"$ROOT/menu.cfg"
chmod 644 "$ROOT/menu.cfg"
start_stampede || { echo "not ok - stampede starts"; FAILED=1; finish; }
OUT=$WORK/out
mkdir -p "$OUT"

in_cli curl -s --max-time 60 -o "$OUT/c512" "tftp://$SRV_IP/boot/ipxe.efi"
expect_eq "curl, default 512-byte blocks: sha256 matches" "$(sha "$ROOT/boot/ipxe.efi")" "$(sha "$OUT/c512")"
in_cli curl -s --max-time 60 --tftp-blksize 1468 -o "$OUT/c1468" "tftp://$SRV_IP/boot/ipxe.efi"
expect_eq "curl --tftp-blksize 1468: sha256 matches" "$(sha "$ROOT/boot/ipxe.efi")" "$(sha "$OUT/c1468")"
in_cli curl -s --max-time 60 --tftp-blksize 65464 -o "$OUT/cmax" "tftp://$SRV_IP/pxelinux.0"
expect_eq "curl asking blksize 65464 gets the MTU-capped size and the right bytes" \
	"$(sha "$ROOT/pxelinux.0")" "$(sha "$OUT/cmax")"
in_cli curl -s --max-time 60 -o "$OUT/exact" "tftp://$SRV_IP/exact512.bin"
expect_eq "file of exactly 4 blocks (ends with an empty block)" "$(sha "$ROOT/exact512.bin")" "$(sha "$OUT/exact")"
# (curl refuses an OACK whose tsize is 0, so the empty file goes through tftp-hpa)
in_cli tftp "$SRV_IP" -m binary -c get empty.bin "$OUT/empty" >/dev/null 2>&1
expect_eq "empty file: one empty DATA block" 0 "$(stat -c %s "$OUT/empty" 2>/dev/null)"

expect_eq "OACK grants blksize 1468, the file size and windowsize 16" \
	"OACK blksize=1468,tsize=1048576,windowsize=16" \
	"$(in_cli $PROBE first-reply "$SRV_IP" boot/ipxe.efi blksize 1468 tsize 0 windowsize 16)"
expect_eq "OACK lowers blksize to the MTU and windowsize to the server's limit" \
	"OACK blksize=1468,windowsize=64" \
	"$(in_cli $PROBE first-reply "$SRV_IP" pxelinux.0 blksize 65464 windowsize 1000)"
acks_before=$(counter rx_packets)
in_cli atftp --option "blksize 1468" --option "windowsize 16" --option "tsize 0" \
	-g -r boot/ipxe.efi -l "$OUT/a16" "$SRV_IP" >"$WORK/atftp.log" 2>&1
expect_eq "atftp blksize 1468 windowsize 16: sha256 matches" "$(sha "$ROOT/boot/ipxe.efi")" "$(sha "$OUT/a16")"
# 1 MiB in 1468-byte blocks is 715 blocks: lock-step would take 715 ACKs, a
# window of 16 about 45 (plus the RRQ and ACK 0).
acks=$(($(counter rx_packets) - acks_before))
check "atftp acknowledged once per window of 16 ($acks datagrams for 715 blocks)" test "$acks" -le 60
in_cli atftp --option "windowsize 1000" -g -r pxelinux.0 -l "$OUT/a1000" "$SRV_IP" >/dev/null 2>&1
expect_eq "atftp asking windowsize 1000 gets 64 and the right bytes" "$(sha "$ROOT/pxelinux.0")" "$(sha "$OUT/a1000")"

in_cli tftp "$SRV_IP" -m binary -c get boot/ipxe.efi "$OUT/h" >/dev/null 2>&1
expect_eq "tftp-hpa, plain RFC 1350 without options: sha256 matches" "$(sha "$ROOT/boot/ipxe.efi")" "$(sha "$OUT/h")"
in_cli tftp "$SRV_IP" -m binary -c get 'boot\ipxe.efi' "$OUT/bs" >/dev/null 2>&1
expect_eq "backslash-separated name (as Windows boot files send)" "$(sha "$ROOT/boot/ipxe.efi")" "$(sha "$OUT/bs")"
in_cli tftp "$SRV_IP" -m binary -c get '/BOOT/IPXE.EFI' "$OUT/case" >/dev/null 2>&1
expect_eq "leading slash and other letter case find the file" "$(sha "$ROOT/boot/ipxe.efi")" "$(sha "$OUT/case")"
in_cli tftp "$SRV_IP" -m netascii -c get menu.cfg "$OUT/menu" >/dev/null 2>&1
# tftp-hpa turns netascii back into local text: CR LF -> LF and CR NUL -> CR.
expect_eq "netascii round trip through tftp-hpa gives the original text" "$(sha "$ROOT/menu.cfg")" "$(sha "$OUT/menu")"

# 11 client downloads complete; the two OACK probes above never ACK and are still open.
expect_eq "the 11 client downloads completed" 11 "$(counter tftp_transfers_completed)"
expect_eq "13 transfers started" 13 "$(counter tftp_transfers_started)"
expect_eq "no transfer timed out" 0 "$(counter tftp_transfers_timed_out)"
expect_eq "no malformed frame was seen" 0 "$(counter drop_bad_udp_checksum)"
finish
