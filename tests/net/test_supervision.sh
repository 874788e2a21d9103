#!/usr/bin/env bash
# The control plane supervises the dataplane: killed (SIGKILL) in the middle of
# a windowed TFTP transfer, it comes back within a second with a new PID and its
# XDP program, answers DHCP again, and carries on the interrupted transfer from
# its journal when the client retransmits (the download completes intact); while
# no dataplane runs, its traffic reaches the kernel (never a black hole); SIGTERM
# stops serve with exit 0 and no XDP program left. A dataplane that cannot
# start is not restarted in a loop: serve exits non-zero at once with the
# dataplane's own message. One that keeps dying is given up on, cleanly.
source "$(dirname "$0")/lib.sh"
require_root
net_setup || { echo "# topology set-up failed"; finish; }

make_file big.img 40000000
make_file undionly.kpxe 70000
big_sha=$(sha "$ROOT/big.img")

# dataplane_pid: the serve process's stampede-dataplane child (empty if none).
dataplane_pid() { pgrep -P "$SERVER_PID" -f stampede-dataplane | head -1; }
# wait_new_dataplane OLD SECONDS: until a dataplane other than OLD runs and
# its control socket answers with a policy loaded; prints its PID.
wait_new_dataplane() {
	local i pid
	for i in $(seq 1 $(($2 * 10))); do
		pid=$(dataplane_pid)
		if [ -n "$pid" ] && [ "$pid" != "$1" ] && [ "$(counter dhcp_policy_loaded 2>/dev/null)" = 1 ]; then
			echo "$pid"
			return 0
		fi
		sleep 0.1
	done
	return 1
}
has_xdp() { in_srv ip -d link show "$SRV_IF" | grep -qE '(^| )(xdp|xdpgeneric|xdpdrv|xdpoffload)( |$)|prog/xdp'; }
no_xdp() { ! has_xdp; }
file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }
offer_from_server() { # a BIOS DISCOVER gets Stampede's proxy offer
	dhcp_probe --broadcast --wait 2 | jq -e --arg f "$SRV_IP:67" 'select(.from == $f and .options["53"] == "02")' >/dev/null
}
atftp_get() { # REMOTE LOCAL: windowed download from the client namespace, at most 60 s
	in_cli timeout 60 atftp --option "windowsize 16" --option "blksize 1428" --tftp-timeout 1 -g -r "$1" -l "$2" "$SRV_IP" \
		>>"$WORK/atftp.log" 2>&1
}

start_stampede || { echo "not ok - stampede starts"; FAILED=1; finish; }
check "the dataplane has a policy" wait_policy
first=$(dataplane_pid)
check "the dataplane runs as a child of serve (pid '$first')" test -n "$first"
check "its XDP program is attached" has_xdp
check "DHCP is answered before the crash" offer_from_server

# ---- SIGKILL in the middle of a transfer ----------------------------------------
atftp_get big.img "$WORK/interrupted" &
atftp_pid=$!
for _ in $(seq 1 200); do [ "$(file_size "$WORK/interrupted")" -ge 2000000 ] && break; sleep 0.05; done
size_at_kill=$(file_size "$WORK/interrupted")
check "the transfer is under way when the dataplane is killed ($size_at_kill of 40000000 bytes)" \
	test "$size_at_kill" -ge 2000000 -a "$size_at_kill" -lt 40000000
kill -KILL "$first"
killed_at=$(date +%s.%N)
second=$(wait_new_dataplane "$first" 10)
restart_s=$(echo "$(date +%s.%N) - $killed_at" | bc)
check "a new dataplane runs (pid '$second', was $first)" test -n "$second"
check "within a second (${restart_s} s, policy loaded)" test "$(echo "$restart_s < 1" | bc)" = 1
check "the killed dataplane is gone" bash -c '! kill -0 "$1" 2>/dev/null' _ "$first"
check "serve logged the crash and the restart" grep -q "the dataplane died of signal 9.*restarting it" "$WORK/stampede.log"
check "the new dataplane's XDP program is attached" has_xdp
check "DHCP is answered again" offer_from_server
timeout 70 tail --pid="$atftp_pid" -f /dev/null
wait "$atftp_pid"
interrupted_rc=$?
echo "# the interrupted atftp ended with status $interrupted_rc after $(file_size "$WORK/interrupted") bytes:"
sed 's/^/#   /' "$WORK/atftp.log" | tail -3
expect_eq "the interrupted transfer completes: the client's retransmitted ACK resumed it" 0 "$interrupted_rc"
expect_eq "with the right sha256" "$big_sha" "$(sha "$WORK/interrupted" 2>/dev/null)"
expect_eq "the new dataplane carried it on from the journal" 1 "$(counter tftp_transfers_resumed)"
atftp_get big.img "$WORK/after"
expect_eq "a new windowed download after the restart completes" 0 "$?"
expect_eq "and has the right sha256" "$big_sha" "$(sha "$WORK/after" 2>/dev/null)"
in_cli curl -s --max-time 60 -o "$WORK/after-curl" "tftp://$SRV_IP/undionly.kpxe"
expect_eq "a lock-step download (curl) after the restart is intact" "$(sha "$ROOT/undionly.kpxe")" "$(sha "$WORK/after-curl" 2>/dev/null)"
expect_eq "serve is still the same process" 0 "$(kill -0 "$SERVER_PID" 2>/dev/null; echo $?)"

# ---- no black hole while no dataplane runs ---------------------------------------------
# serve is held (SIGSTOP) so that it cannot restart the dataplane killed here:
# its XDP program stays, has no socket to redirect to, and passes the traffic to
# the kernel, which answers a TFTP request with ICMP port unreachable.
udp_refused() {
	in_cli python3 - "$SRV_IP" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.connect((sys.argv[1], 69))
for _ in range(3):
    s.send(b"\0\1undionly.kpxe\0octet\0")
    try:
        s.recv(2048)
    except ConnectionRefusedError:
        sys.exit(0)
    except socket.timeout:
        continue
sys.exit(1)
PY
}
kill -STOP "$SERVER_PID"
kill -KILL "$second"
for _ in $(seq 1 50); do grep -q '^State:.*Z' "/proc/$second/status" 2>/dev/null && break; sleep 0.1; done
check "with no dataplane the XDP program is still attached" has_xdp
check "and a TFTP request reaches the kernel (ICMP port unreachable), not a black hole" udp_refused
kill -CONT "$SERVER_PID"
third=$(wait_new_dataplane "$second" 10)
check "serve, resumed, restarts the dataplane (pid '$third')" test -n "$third"
check "which serves DHCP" offer_from_server

# ---- SIGTERM: a clean stop ---------------------------------------------------------
serve_pid=$SERVER_PID
stop_stampede
expect_eq "serve exits 0 on SIGTERM" 0 "$?"
check "serve is gone" bash -c '! kill -0 "$1" 2>/dev/null' _ "$serve_pid"
check "the dataplane is gone" bash -c '! kill -0 "$1" 2>/dev/null' _ "$third"
check "no XDP program is left on the interface" no_xdp

# ---- a dataplane that cannot start -------------------------------------------------
# --port-range below 1024 passes through serve untouched; the dataplane refuses it.
start=$(date +%s.%N)
in_srv timeout 30 "$BUILD_DIR/stampede" serve --iface "$SRV_IF" --tftp-root "$ROOT" --stats-socket "$CTL" \
	--port-range 1000-2000 >"$WORK/bad-start.log" 2>&1
rc=$?
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
check "serve with a dataplane that cannot start exits non-zero (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "it exits promptly (${elapsed} s)" test "$(echo "$elapsed < 5" | bc)" = 1
check "it prints the dataplane's own message" grep -q "stampede-dataplane: --port-range 1000-2000: expected LO-HI" "$WORK/bad-start.log"
check "it says the dataplane failed to start" grep -q "the dataplane failed to start" "$WORK/bad-start.log"
expect_eq "the dataplane was started once (no restart loop)" 1 "$(grep -c -- "--port-range 1000-2000" "$WORK/bad-start.log")"
check "nothing says it restarts" bash -c '! grep -q restarting "$1"' _ "$WORK/bad-start.log"
check "no XDP program is left after the failed start" no_xdp

# ---- a dataplane that keeps dying -----------------------------------------------------
# SUPERVISOR_MAX_CRASHES (5) deaths within a minute: serve gives up, exit 1, interface clean.
start_stampede || { echo "not ok - stampede starts again"; FAILED=$((FAILED + 1)); finish; }
pid=$(wait_new_dataplane "" 10)
kills=0
for i in 1 2 3 4 5; do
	[ -n "$pid" ] || break
	kill -KILL "$pid" && kills=$((kills + 1))
	[ "$i" -lt 5 ] && pid=$(wait_new_dataplane "$pid" 10)
done
expect_eq "the dataplane was killed 5 times" 5 "$kills"
timeout 20 tail --pid="$SERVER_PID" -f /dev/null
wait "$SERVER_PID"
rc=$?
SERVER_PID=""
expect_eq "after 5 deaths within a minute serve gives up with exit 1" 1 "$rc"
check "it says so" grep -q "stopped 5 times within 60 s: giving up" "$WORK/stampede.log"
check "no XDP program is left after giving up" no_xdp
finish
