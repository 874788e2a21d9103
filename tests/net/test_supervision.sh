#!/usr/bin/env bash
# The control plane supervises the dataplane: killed (SIGKILL) in the middle of
# a windowed TFTP transfer, it comes back within seconds with a new PID and its
# XDP program, answers DHCP again, and a new download completes intact; SIGTERM
# stops serve with exit 0 and no XDP program left. A dataplane that cannot
# start is not restarted in a loop: serve exits non-zero at once with the
# dataplane's own message. One that keeps dying is given up on, cleanly.
source "$(dirname "$0")/lib.sh"
require_root
net_setup || { echo "# topology set-up failed"; finish; }

make_file big.img 100000000
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
check "the transfer is under way when the dataplane is killed ($size_at_kill of 100000000 bytes)" \
	test "$size_at_kill" -ge 2000000 -a "$size_at_kill" -lt 100000000
kill -KILL "$first"
killed_at=$(date +%s.%N)
second=$(wait_new_dataplane "$first" 10)
check "a new dataplane runs within 10 s (pid '$second', was $first)" test -n "$second"
echo "# restarted in $(echo "$(date +%s.%N) - $killed_at" | bc) s"
check "the killed dataplane is gone" bash -c '! kill -0 "$1" 2>/dev/null' _ "$first"
check "serve logged the crash and the restart" grep -q "the dataplane died of signal 9.*restarting it" "$WORK/stampede.log"
check "the new dataplane's XDP program is attached" has_xdp
check "DHCP is answered again" offer_from_server
timeout 70 tail --pid="$atftp_pid" -f /dev/null
wait "$atftp_pid"
interrupted_rc=$?
echo "# the interrupted atftp ended with status $interrupted_rc after $(file_size "$WORK/interrupted") bytes:"
sed 's/^/#   /' "$WORK/atftp.log" | tail -3
check "the interrupted client ended (not still hanging at 60 s)" test "$interrupted_rc" -ne 124
if [ "$interrupted_rc" -eq 0 ]; then
	expect_eq "the interrupted client, since it says it finished, has the right bytes" "$big_sha" "$(sha "$WORK/interrupted")"
fi
atftp_get big.img "$WORK/after"
expect_eq "a new windowed download after the restart completes" 0 "$?"
expect_eq "and has the right sha256" "$big_sha" "$(sha "$WORK/after" 2>/dev/null)"
in_cli curl -s --max-time 60 -o "$WORK/after-curl" "tftp://$SRV_IP/undionly.kpxe"
expect_eq "a lock-step download (curl) after the restart is intact" "$(sha "$ROOT/undionly.kpxe")" "$(sha "$WORK/after-curl" 2>/dev/null)"
expect_eq "serve is still the same process" 0 "$(kill -0 "$SERVER_PID" 2>/dev/null; echo $?)"

# ---- SIGTERM: a clean stop ---------------------------------------------------------
serve_pid=$SERVER_PID
stop_stampede
expect_eq "serve exits 0 on SIGTERM" 0 "$?"
check "serve is gone" bash -c '! kill -0 "$1" 2>/dev/null' _ "$serve_pid"
check "the dataplane is gone" bash -c '! kill -0 "$1" 2>/dev/null' _ "$second"
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
