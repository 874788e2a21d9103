#!/usr/bin/env bash
# 64 concurrent curl downloads of a multi-megabyte file, each checked by sha256;
# a file of more than 65535 blocks at blksize 512 (block numbers roll over) with
# curl and with atftp.
source "$(dirname "$0")/lib.sh"
require_root
net_setup || { echo "# topology set-up failed"; finish; }

make_file initrd.img $((4 * 1024 * 1024))
# 65536 blocks of 512 bytes and 1000 bytes more: block numbers wrap past 65535.
make_file big.img $((65536 * 512 + 1000))
start_stampede || { echo "not ok - stampede starts"; FAILED=1; finish; }
OUT=$WORK/out
mkdir -p "$OUT"
want=$(sha "$ROOT/initrd.img")

pids=()
for i in $(seq 1 64); do
	ip netns exec "$CLI_NS" curl -s --max-time 120 --tftp-blksize 1468 -o "$OUT/c$i" "tftp://$SRV_IP/initrd.img" &
	pids+=($!)
done
failed_clients=0
for pid in "${pids[@]}"; do wait "$pid" || failed_clients=$((failed_clients + 1)); done
good=0
for i in $(seq 1 64); do [ "$(sha "$OUT/c$i" 2>/dev/null)" = "$want" ] && good=$((good + 1)); done
expect_eq "64 concurrent curl clients exited successfully" 0 "$failed_clients"
expect_eq "64 concurrent downloads of 4 MiB all match sha256" 64 "$good"
expect_eq "64 transfers completed on the server" 64 "$(counter tftp_transfers_completed)"
expect_eq "the server has no session left" 0 "$(counter tftp_active_sessions)"

in_cli curl -s --max-time 300 -o "$OUT/big-curl" "tftp://$SRV_IP/big.img"
expect_eq "curl, 65537 blocks of 512 bytes (rollover): sha256 matches" "$(sha "$ROOT/big.img")" "$(sha "$OUT/big-curl")"
in_cli atftp --option "blksize 512" --option "windowsize 8" -g -r big.img -l "$OUT/big-atftp" "$SRV_IP" >/dev/null 2>&1
expect_eq "atftp windowsize 8, 65537 blocks (rollover inside a window): sha256 matches" \
	"$(sha "$ROOT/big.img")" "$(sha "$OUT/big-atftp")"
expect_eq "no transfer timed out" 0 "$(counter tftp_transfers_timed_out)"
finish
