#!/usr/bin/env bash
# Every TFTP error case as a client sees it: not found (1), access violation for
# writes and for names outside the root (2), illegal operation (4), unknown
# transfer ID (5), option negotiation refused (8), busy (0), retransmission and
# time-out; and nothing outside the root is ever served.
source "$(dirname "$0")/lib.sh"
require_root
net_setup || { echo "# topology set-up failed"; finish; }

make_file boot.bin 3000
echo "secret outside the root" >"$WORK/secret.txt"
ln -s "$WORK/secret.txt" "$ROOT/escape-absolute"
ln -s ../secret.txt "$ROOT/escape-relative"
ln -s boot.bin "$ROOT/alias.bin"
start_stampede --max-sessions-per-client 3 --retransmit-ms 200 --max-retries 2 ||
	{ echo "not ok - stampede starts"; FAILED=1; finish; }
probe() { in_cli $PROBE "$@"; }

expect_eq "missing file: error 1" "ERROR 1 file not found" "$(probe first-reply "$SRV_IP" nothing.bin)"
out=$(in_cli curl -s --max-time 10 -o /dev/null "tftp://$SRV_IP/nothing.bin" 2>&1; echo "rc=$?")
expect_eq "curl reports file not found (exit 68)" "rc=68" "$out"
expect_eq "write request: error 2" "ERROR 2 access violation: this server does not accept writes" \
	"$(probe first-reply --write "$SRV_IP" upload.bin)"
in_cli curl -s --max-time 10 -T "$ROOT/boot.bin" "tftp://$SRV_IP/upload.bin" >/dev/null 2>&1
expect_eq "curl upload refused (exit 69: permission problem)" 69 "$?"
expect_eq "\"..\" traversal: error 2" "ERROR 2 access violation: \"..\" leads outside the TFTP root" \
	"$(probe first-reply "$SRV_IP" ../secret.txt)"
expect_eq "backslash traversal: error 2" "ERROR 2 access violation: \"..\" leads outside the TFTP root" \
	"$(probe first-reply "$SRV_IP" 'boot\..\..\secret.txt')"
expect_eq "absolute path is taken relative to the root: not found" "ERROR 1 file not found" \
	"$(probe first-reply "$SRV_IP" /etc/passwd)"
expect_eq "absolute symlink out of the root: not served" "ERROR 1 file not found" \
	"$(probe first-reply "$SRV_IP" escape-absolute)"
expect_eq "relative symlink out of the root: not served" "ERROR 1 file not found" \
	"$(probe first-reply "$SRV_IP" escape-relative)"
expect_eq "symlink inside the root is served" "DATA 1 512" "$(probe first-reply "$SRV_IP" alias.bin)"
expect_eq "control character in the name: error 2" "ERROR 2 access violation: control character in file name" \
	"$(probe first-reply "$SRV_IP" "$(printf 'boot\001.bin')")"
expect_eq "unknown mode: error 4" "ERROR 4 unsupported transfer mode (use octet or netascii)" \
	"$(probe first-reply --mode mail "$SRV_IP" boot.bin)"
expect_eq "blksize 4: error 8" "ERROR 8 blksize must be a number from 8 to 65464" \
	"$(probe first-reply "$SRV_IP" boot.bin blksize 4)"
expect_eq "timeout 0: error 8" "ERROR 8 timeout must be a number of seconds from 1 to 255" \
	"$(probe first-reply "$SRV_IP" boot.bin timeout 0)"
expect_eq "windowsize 70000: error 8" "ERROR 8 windowsize must be a number from 1 to 65535" \
	"$(probe first-reply "$SRV_IP" boot.bin windowsize 70000)"
expect_eq "non-numeric blksize: error 8" "ERROR 8 blksize must be a number from 8 to 65464" \
	"$(probe first-reply "$SRV_IP" boot.bin blksize 1k)"
expect_eq "an unknown option alone: no OACK, data at once" "DATA 1 512" \
	"$(probe first-reply "$SRV_IP" boot.bin multicast 1)"
expect_eq "timeout 1 is echoed exactly" "OACK timeout=1" "$(probe first-reply "$SRV_IP" boot.bin timeout 1)"

unknown=$(probe unknown-tid "$SRV_IP" boot.bin)
expect_eq "a stranger on a live session port gets error 5" "stranger: ERROR 5 unknown transfer ID" \
	"$(sed -n 1p <<<"$unknown")"
expect_eq "the real transfer is unaffected" "transfer: 3000 bytes sha256 $(sha "$ROOT/boot.bin")" \
	"$(sed -n 2p <<<"$unknown")"
expect_eq "a packet to the session port after the end gets error 5" "after end: ERROR 5 unknown transfer ID" \
	"$(sed -n 3p <<<"$unknown")"

# The earlier first-reply probes left sessions open; wait until they time out
# (the one that negotiated timeout 1 takes 3 x 1 s) so that the per-client
# limit below starts from zero.
for _ in $(seq 1 50); do [ "$(counter tftp_active_sessions)" = 0 ] && break; sleep 0.1; done
expect_eq "sessions abandoned by the probes timed out" 0 "$(counter tftp_active_sessions)"
held=$(probe hold "$SRV_IP" boot.bin 4)
expect_eq "per-client limit of 3: the 4th request gets error 0 busy" \
	"DATA 1 512|DATA 1 512|DATA 1 512|ERROR 0 server busy: too many transfers from this address" \
	"$(tr '\n' '|' <<<"$held" | sed 's/|$//')"

for _ in $(seq 1 30); do [ "$(counter tftp_active_sessions)" = 0 ] && break; sleep 0.1; done
noack=$(probe no-ack "$SRV_IP" boot.bin 1.5)
expect_eq "a silent client gets block 1, 2 retransmissions, then error 0 timed out" \
	"DATA 1 512|DATA 1 512|DATA 1 512|ERROR 0 transfer timed out" "$(tr '\n' '|' <<<"$noack" | sed 's/|$//')"
expect_ge "time-outs counted" 1 "$(counter tftp_transfers_timed_out)"
expect_ge "retransmissions counted" 2 "$(counter tftp_retransmits)"

expect_eq "both symlinks leading out of the root were skipped when loading" 2 \
	"$(counter cache_skipped_outside_root)"
expect_eq "access violations counted (2 traversals, 1 control character)" 3 "$(counter tftp_refused_access)"
expect_ge "option refusals counted" 4 "$(counter tftp_refused_options)"
expect_ge "write requests counted" 2 "$(counter tftp_write_requests_refused)"
finish
