#!/usr/bin/env bash
# Floods do not stop legitimate clients from booting. bench/flood sends, as
# fast as one thread of this machine can, forged PXE DISCOVERs, 4011 REQUESTs,
# TFTP read requests and junk to a running Stampede, first from one source,
# then from a thousand; meanwhile simulated PXE clients (bench/swarm) run the
# whole boot (DHCP, 4011, TFTP, iPXE, HTTP), every byte compared with the
# served files. The per-source limits of the XDP program, the session caps and
# the eviction of transfers nobody acknowledges must show in the counters, and
# the dataplane's memory must stay where it was.
source "$(dirname "$0")/lib.sh"
require_root

SWARM=$BUILD_DIR/bench/swarm
FLOOD=$BUILD_DIR/bench/flood
FLOOD_S=${FLOOD_S:-25} # each flood lasts this long at least, and until its clients are done
# FLOOD_RATE: frames a second, for a server slower than this machine's sender:
# scripts/asan.sh sets it for the sanitizer build, whose dataplane is two to
# three times slower (at the full rate its queue stays behind, and real
# clients' requests are shed with the forged ones until their retries run out).
FLOOD_RATE=${FLOOD_RATE:-}

net_setup || { echo "# topology set-up failed"; finish; }

boot_lab 300000 400000 2000000 1000000 "  max_sessions: 1024"

start_stampede --config "$LAB_CONF" --http-root "$HTTP_ROOT" ||
	{ echo "not ok - stampede starts"; FAILED=1; finish; }
check "the dataplane has a proxyDHCP policy" wait_policy
dp=$(pgrep -P "$SERVER_PID" -f stampede-dataplane | head -1)
srv_mac=$(in_srv cat "/sys/class/net/$SRV_IF/address")
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
rss_before=$(rss_kb "$dp")
control_rss_before=$(rss_kb "$SERVER_PID")

# flood_bg NAME SOURCES: the flood from the client namespace on core 0, in the
# background, until flood_end (120 s at most).
flood_bg() {
	# ip netns exec and taskset exec in place: $! is the flood's own PID.
	ip netns exec "$CLI_NS" taskset -c 0 "$FLOOD" --iface "$CLI_IF" --dst-mac "$srv_mac" --dst-ip "$SRV_IP" \
		--duration 120 --sources "$2" --src-net 10.201.128.0 ${FLOOD_RATE:+--rate "$FLOOD_RATE"} >"$WORK/$1.flood" 2>&1 &
	FLOOD_PID=$!
	FLOOD_START=$SECONDS
	EXTRA_PIDS+=("$FLOOD_PID")
}
# flood_end: once the flood has lasted FLOOD_S, stop it (it prints its figures).
flood_end() {
	local left=$((FLOOD_S - (SECONDS - FLOOD_START)))
	[ "$left" -gt 0 ] && sleep "$left"
	kill -TERM "$FLOOD_PID" 2>/dev/null
	timeout 10 tail --pid="$FLOOD_PID" -f /dev/null
}
# boot_during NAME CLIENTS: legitimate clients boot while the flood runs (at
# most 90 s). The swarm stands for machines with CPUs of their own: on this
# machine's two cores it would otherwise queue for one behind the flood and
# the polling dataplane, and its round trip, under a millisecond on a real
# network, could outlast the place of a transfer not yet acknowledged (about
# 10 ms in a flood of new requests): so it runs at real-time priority, mostly
# asleep. The flood and the server run as they are.
boot_during() {
	timeout 100 ip netns exec "$CLI_NS" chrt -f 1 "$SWARM" --server "$SRV_IP" --iface "$CLI_IF" --clients "$2" \
		--arch mix --tftp-root "$ROOT" --http-root "$HTTP_ROOT" --json "$WORK/$1.json" \
		--duration-limit 90 >"$WORK/$1.out" 2>&1
}
j() { jq -r "$2" "$WORK/$1.json" 2>/dev/null; }
report() { # NAME: what the flood sent and how long the boots took
	echo "# $1: flood $(cat "$WORK/$1.flood" 2>/dev/null); clients: $(j "$1" '"\(.booted) booted, \(.failed) failed, last done at \(.last_done_s) s"')"
	[ "$(j "$1" .failed)" = 0 ] || sed 's/^/#   /' "$WORK/$1.out" | tail -15
}

for phase in "one 1" "many 1000"; do
	set -- $phase
	name=$1 sources=$2
	limited_before=$(counter xdp_drop_rate_limited)
	requests_before=$(counter tftp_requests)
	flood_bg "$name" "$sources"
	sleep 2 # the flood is at full rate before the clients start
	boot_during "$name" 20
	status=$?
	check "$name source(s): the flood was still running when the clients were done" kill -0 "$FLOOD_PID"
	flood_end
	report "$name"
	expect_eq "$name source(s): every legitimate client booted, all bytes right (swarm exit 0)" 0 "$status"
	expect_eq "$name source(s): 20 booted, 0 failed" "20 0" "$(j "$name" '"\(.booted) \(.failed)"')"
	check "$name source(s): the flood sent at least 100,000 frames/s" \
		test "$(jq -r '.frames_per_s // 0 | floor' "$WORK/$name.flood" 2>/dev/null || echo 0)" -ge 100000
	limited=$(($(counter xdp_drop_rate_limited) - limited_before))
	echo "# $name source(s): $limited requests dropped by the XDP program's rate limits, $(($(counter tftp_requests) - requests_before)) TFTP requests reached the dataplane"
	check "$name source(s): the XDP program dropped requests over their source's rate" test "$limited" -gt 0
	check "$name source(s): the session table stayed within its cap (1024)" \
		test "$(counter tftp_active_sessions)" -le 1024
done

echo "# TFTP over both floods: $(counter tftp_requests) requests, $(counter tftp_transfers_started) transfers started, $(counter tftp_shed_overloaded) shed while behind, $(counter tftp_transfers_revived) evicted and revived by a late ACK, $(counter tftp_duplicate_requests) repeated requests, $(counter tftp_errors_sent) errors sent"
evicted=$(counter tftp_evicted_unacknowledged)
echo "# $evicted never-acknowledged transfers gave their place to new requests"
check "from a thousand sources the session table filled and unacknowledged transfers were evicted" \
	test "$evicted" -gt 0
rss_after=$(rss_kb "$dp")
echo "# dataplane resident memory: $((rss_before / 1024)) MiB before, $((rss_after / 1024)) MiB after the floods"
check "the dataplane's memory stayed bounded (within 32 MiB of where it started)" \
	test "$rss_after" -le $((rss_before + 32768))
control_rss_after=$(rss_kb "$SERVER_PID")
echo "# control plane resident memory: $((control_rss_before / 1024)) MiB before, $((control_rss_after / 1024)) MiB after (its machine table is bounded by timeline.machines)"
check "the control plane's memory stayed bounded (within 64 MiB of where it started)" \
	test "$control_rss_after" -le $((control_rss_before + 65536))
check "the same dataplane serves on (no crash, no restart)" kill -0 "$dp"
check "the control plane serves on" kill -0 "$SERVER_PID"
finish
