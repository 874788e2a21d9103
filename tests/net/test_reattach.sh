#!/usr/bin/env bash
# The dataplane outlives its control plane. kill -9 of `stampede serve` in the
# middle of a windowed TFTP transfer: the dataplane keeps serving (the
# transfer completes intact, DHCP and new downloads are answered, its XDP
# program stays). A new `stampede serve` with the same settings re-attaches to
# that very dataplane (same PID, no gap), re-sends the policy, receives its
# events, and supervises it: killed, it is restarted as a child of the new
# control plane. A control plane with other settings replaces it instead. A
# second control plane cannot attach to a dataplane that has one. When serve's
# launcher dies, serve exits and leaves its dataplane to the next serve.
source "$(dirname "$0")/lib.sh"
require_root
net_setup || { echo "# topology set-up failed"; finish; }

make_file big.img 60000000
make_file undionly.kpxe 70000
big_sha=$(sha "$ROOT/big.img")

dataplane_of() { pgrep -P "$1" -f stampede-dataplane | head -1; }
# wait_child_dataplane SERVE_PID SECONDS: prints the PID of SERVE_PID's
# dataplane once one runs with a policy (its socket answers).
wait_child_dataplane() {
	local i pid
	for i in $(seq 1 $(($2 * 10))); do
		pid=$(dataplane_of "$1")
		[ -n "$pid" ] && [ "$(counter dhcp_policy_loaded 2>/dev/null)" = 1 ] && { echo "$pid"; return 0; }
		sleep 0.1
	done
}
# alive PID / gone PID: a zombie (exited, not yet reaped by its new parent, init) is gone.
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
gone() { ! alive "$1"; }
has_xdp() { in_srv ip -d link show "$SRV_IF" | grep -qE '(^| )(xdp|xdpgeneric|xdpdrv|xdpoffload)( |$)|prog/xdp'; }
file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }
offer_from_server() { # MAC: a BIOS DISCOVER gets Stampede's proxy offer
	dhcp_probe --broadcast --wait 2 --mac "$1" |
		jq -e --arg f "$SRV_IP:67" 'select(.from == $f and .options["53"] == "02")' >/dev/null
}
curl_get() { in_cli curl -s --max-time 60 -o "$2" "tftp://$SRV_IP/$1"; }
# serve_again LOG [ARGS...]: a new control plane on the same interface and socket.
serve_again() {
	local log=$1
	shift
	ip netns exec "$SRV_NS" "$BUILD_DIR/stampede" serve --iface "$SRV_IF" --tftp-root "$ROOT" \
		--config "$WORK/reattach.yaml" --stats-socket "$CTL" "$@" >"$log" 2>&1 &
	SERVER_PID=$!
}
# wait_log FILE PATTERN SECONDS
wait_log() {
	local i
	for i in $(seq 1 $(($3 * 10))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# attach_reply: what the dataplane's socket says to one more "attach".
attach_reply() {
	python3 - "$CTL" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
s.connect(sys.argv[1])
s.sendall(b"attach\n")
print(s.recv(4096).decode().split("\n")[0])
EOF
}

# A dataplane section, so that the config message has a pinned line after
# changeable ones (config_message.h): its canonical order matters to the tag.
printf 'dataplane:\n  pmd: af_xdp\n' >"$WORK/reattach.yaml"
start_stampede --config "$WORK/reattach.yaml" || { echo "not ok - stampede starts"; FAILED=1; finish; }
check "the dataplane has a policy" wait_policy
first_serve=$SERVER_PID
# A reload, then a restart of the dataplane with what the reload left for it:
# the settings tag must stay the one a new serve computes from the same file.
kill -HUP "$first_serve"
check "a reload" wait_log "$WORK/stampede.log" "configuration reloaded" 10
before_reload=$(dataplane_of "$first_serve")
kill -KILL "$before_reload"
check "the dataplane is restarted after it" wait_log "$WORK/stampede.log" "died of signal 9" 10
for _ in $(seq 1 100); do
	dp=$(wait_child_dataplane "$first_serve" 10)
	[ -n "$dp" ] && [ "$dp" != "$before_reload" ] && break
	sleep 0.1
done
check "the dataplane runs (pid '$dp', was $before_reload)" test -n "$dp" -a "$dp" != "$before_reload"
EXTRA_PIDS+=("$dp") # an orphan once its control plane is killed: cleanup must stop it
policies_before=$(counter policies_applied)

# ---- kill -9 of the control plane mid-transfer --------------------------------------
in_cli timeout 90 atftp --option "windowsize 16" --option "blksize 1428" --tftp-timeout 1 \
	-g -r big.img -l "$WORK/during" "$SRV_IP" >"$WORK/atftp.log" 2>&1 &
atftp_pid=$!
for _ in $(seq 1 200); do [ "$(file_size "$WORK/during")" -ge 2000000 ] && break; sleep 0.05; done
check "a transfer is under way when the control plane is killed ($(file_size "$WORK/during") bytes)" \
	test "$(file_size "$WORK/during")" -ge 2000000
kill -KILL "$first_serve"
timeout 5 tail --pid="$first_serve" -f /dev/null
SERVER_PID=""
check "the control plane is gone" gone "$first_serve"
check "the dataplane keeps running" alive "$dp"
check "its XDP program stays" has_xdp
check "DHCP is answered without a control plane" offer_from_server 52:54:00:aa:00:01
curl_get undionly.kpxe "$WORK/orphan.kpxe"
expect_eq "a new TFTP download is served without a control plane" "$(sha "$ROOT/undionly.kpxe")" \
	"$(sha "$WORK/orphan.kpxe" 2>/dev/null)"
timeout 90 tail --pid="$atftp_pid" -f /dev/null
wait "$atftp_pid"
expect_eq "the transfer under way when the control plane died completes" 0 "$?"
expect_eq "with the right sha256" "$big_sha" "$(sha "$WORK/during" 2>/dev/null)"

# ---- a new control plane, same settings: re-attached ---------------------------------
serve_again "$WORK/second.log"
second_serve=$SERVER_PID
check "the new control plane re-attaches" wait_log "$WORK/second.log" "re-attached to the dataplane already serving" 20
check "to the very same dataplane (pid $dp)" grep -q "(pid $dp)" "$WORK/second.log"
check "the dataplane was not restarted" alive "$dp"
check "the policy is sent again" wait_counter policies_applied $((policies_before + 1)) 10
check "DHCP is answered" offer_from_server 52:54:00:aa:00:02
check "the new control plane receives the dataplane's events" \
	wait_log "$WORK/second.log" "52:54:00:aa:00:02" 10
expect_eq "a second control plane cannot attach as well" "error: a control plane is attached already" \
	"$(attach_reply)"

# ---- the re-attached dataplane dies: the new control plane restarts it ----------------
kill -KILL "$dp"
killed_at=$(date +%s.%N)
check "the new control plane notices and restarts it" \
	wait_log "$WORK/second.log" "re-attached to (pid $dp) is gone; restarting it" 10
third=$(wait_child_dataplane "$second_serve" 10)
echo "# restarted in $(echo "$(date +%s.%N) - $killed_at" | bc) s"
check "a new dataplane runs as its child (pid '$third')" test -n "$third" -a "$third" != "$dp"
check "DHCP is answered by it" offer_from_server 52:54:00:aa:00:03

# ---- a control plane with other settings replaces the dataplane ----------------------
kill -KILL "$second_serve"
timeout 5 tail --pid="$second_serve" -f /dev/null
EXTRA_PIDS+=("$third")
check "its dataplane outlives it too" alive "$third"
serve_again "$WORK/third.log" --max-sessions 77
check "a control plane with other settings replaces the running dataplane" \
	wait_log "$WORK/third.log" "runs other settings: replacing it" 20
fourth=$(wait_child_dataplane "$SERVER_PID" 15)
check "the old dataplane is stopped" gone "$third"
check "its own dataplane runs (pid '$fourth')" test -n "$fourth" -a "$fourth" != "$third"
check "with the new settings" grep -q -- "--max-sessions 77" <(tr '\0' ' ' <"/proc/$fourth/cmdline" 2>/dev/null)
check "DHCP is answered" offer_from_server 52:54:00:aa:00:04

# ---- its launcher dies: serve can no longer start a dataplane, and hands over ----------
third_serve=$SERVER_PID
launcher=$(pgrep -P "$third_serve" -x stampede-launch | head -1)
check "serve has a launcher (pid '$launcher')" test -n "$launcher"
kill -KILL "$launcher"
timeout 5 tail --pid="$third_serve" -f /dev/null
wait "$third_serve"
expect_eq "serve exits 1 once its launcher is gone" 1 "$?"
SERVER_PID=""
EXTRA_PIDS+=("$fourth")
check "it says why" grep -q "the launcher (pid $launcher) is gone" "$WORK/third.log"
check "its dataplane keeps serving" alive "$fourth"
check "DHCP is answered" offer_from_server 52:54:00:aa:00:05
policies_before=$(counter policies_applied)
serve_again "$WORK/fourth.log" --max-sessions 77
check "a new serve re-attaches to it" wait_log "$WORK/fourth.log" "re-attached to the dataplane already serving" 20
check "to the very same dataplane (pid $fourth)" grep -q "(pid $fourth)" "$WORK/fourth.log"
check "the policy is sent again" wait_counter policies_applied $((policies_before + 1)) 10

stop_stampede
expect_eq "serve exits 0 on SIGTERM" 0 "$?"
grep -ho "the dataplane (pid [0-9]*) stopped in [0-9]* ms" "$WORK/fourth.log" | sed "s/^/# /"
check "its dataplane is gone" gone "$fourth" || {
	echo "# dataplane $fourth: $(grep -h '^State' "/proc/$fourth/status" 2>/dev/null)"
	sed 's/^/#   /' "$WORK/fourth.log"
}
check "no XDP program is left on the interface" bash -c '! ip netns exec "$1" ip -d link show "$2" | grep -q prog/xdp' _ "$SRV_NS" "$SRV_IF"
finish
