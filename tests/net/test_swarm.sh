#!/usr/bin/env bash
# The boot-storm harness (bench/swarm) against a real Stampede: simulated PXE
# clients of two architectures run the whole boot (DISCOVER, 4011 for UEFI,
# TFTP of the NBP, iPXE's DISCOVER, the script, kernel and initrd over HTTP),
# every byte compared with the served files, through kernel sockets and through
# AF_XDP. Its reports must agree with themselves and with the server's counters,
# its plots must be drawn, and failures must be reported with their reasons and
# a non-zero exit. Every wait is bounded.
source "$(dirname "$0")/lib.sh"
require_root

SWARM=$BUILD_DIR/bench/swarm
PLOT=$(cd "$TESTS_DIR/../../bench" && pwd)/swarm_plot.sh
N=24

net_setup || { echo "# topology set-up failed"; finish; }

boot_lab 300000 400000 2000000 1000000 "  max_sessions_per_client: 4096"

start_stampede --config "$LAB_CONF" --http-root "$HTTP_ROOT" ||
	{ echo "not ok - stampede starts"; FAILED=1; finish; }
check "the dataplane has a proxyDHCP policy" wait_policy

# swarm NAME ARGS...: run the swarm in the client namespace (at most 120 s);
# its output in $WORK/NAME.out, reports in $WORK/NAME.{json,csv,timeline.csv}.
swarm() {
	local name=$1
	shift
	timeout 120 ip netns exec "$CLI_NS" "$SWARM" --server "$SRV_IP" --iface "$CLI_IF" \
		--json "$WORK/$name.json" --csv "$WORK/$name.csv" --timeline "$WORK/$name.timeline.csv" \
		--duration-limit 100 "$@" >"$WORK/$name.out" 2>&1
}
# jqe FILTER FILE: jq -e, quietly.
jqe() { jq -e "$@" >/dev/null 2>&1; }
# j NAME FILTER: jq on NAME's JSON report.
j() { jq -r "$2" "$WORK/$1.json" 2>/dev/null; }
show() { sed 's/^/#   /' "$WORK/$1.out"; }

# ---- the whole boot, kernel sockets -------------------------------------------------
offers_before=$(counter dhcp_offer)
acks_before=$(counter dhcp_ack)
swarm storm --clients $N --arch mix --tftp-root "$ROOT" --http-root "$HTTP_ROOT"
status=$?
expect_eq "storm: the swarm exits 0" 0 "$status" || show storm
expect_eq "storm: every client booted" "$N 0" "$(j storm '"\(.booted) \(.failed)"')"
expect_eq "storm: every client went through DHCP, TFTP, iPXE, script, kernel, initrd" \
	"$N $N $N $N $N $N" \
	"$(j storm '[.stages | .dhcp, .tftp, .ipxe_dhcp, .script, .kernel, .initrd | .count] | map(tostring) | join(" ")')"
expect_eq "storm: the UEFI half asked the boot server on 4011 (the BIOS half did not)" $((N / 2)) \
	"$(j storm .stages.boot_server.count)"
expect_eq "storm: TFTP bytes are the NBPs' sizes times the clients" "$(((300000 + 400000) * N / 2))" \
	"$(j storm .tftp_bytes)"
# HTTP: kernel and initrd, plus one script (a few hundred bytes) per client.
check "storm: HTTP bytes are kernel + initrd + a script per client" \
	jqe ".http_bytes > $((3000000 * N)) and .http_bytes < $((3000000 * N + 1000 * N))" "$WORK/storm.json"
check "storm: percentiles are ordered (p50 <= p90 <= p99 <= max, max > 0)" \
	jqe '[.stages[] | select(.count > 0) | (.p50_ms >= 0 and .p50_ms <= .p90_ms and .p90_ms <= .p99_ms and .p99_ms <= .max_ms and .max_ms > 0)] | all' \
	"$WORK/storm.json" || jq -c .stages "$WORK/storm.json" | sed 's/^/#   /'
# (to the microsecond both are printed with: the boot's maximum with 3
# decimals in ms, the last client's end with 6 in s, and a double's product)
check "storm: the last client was done after the slowest boot" \
	jqe '.last_done_s * 1000 + 0.002 >= .stages.boot.max_ms' "$WORK/storm.json"
check "storm: the swarm reports its own CPU" jqe '.cpu_s > 0 and .cpu_pct > 0' "$WORK/storm.json"
expect_eq "storm: one CSV row per client, all booted" "$N" \
	"$(tail -n +2 "$WORK/storm.csv" | cut -d, -f4 | grep -c '^booted$')"
expect_eq "storm: the time series ends with every client booted" "$N" \
	"$(tail -1 "$WORK/storm.timeline.csv" | awk -F, '{ print $(NF-1) }')"
expect_ge "storm: Stampede counted an offer for every DISCOVER of both stages" \
	$((offers_before + 2 * N)) "$(counter dhcp_offer)"
expect_ge "storm: and an ACK for every 4011 REQUEST" $((acks_before + N / 2)) "$(counter dhcp_ack)"
expect_eq "storm: the text report says so" "booted:          $N" "$(grep '^booted:' "$WORK/storm.out")"

# ---- plots ----------------------------------------------------------------------------
bash "$PLOT" "$WORK/storm" >"$WORK/plot.out" 2>&1
expect_eq "plot: exits 0" 0 "$?" || sed 's/^/#   /' "$WORK/plot.out"
# is_png FILE: starts with the PNG signature and is more than a header.
is_png() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] && [ "$(stat -c %s "$1")" -gt 2000 ]; }
check "plot: completion curve is a PNG" is_png "$WORK/storm-stages.png"
check "plot: throughput curve is a PNG" is_png "$WORK/storm-throughput.png"

# ---- the whole boot, TFTP over AF_XDP, on a ramp -----------------------------------
swarm xdp --clients $N --arch efi64 --xdp --ramp-ms 500 --tftp-root "$ROOT" --http-root "$HTTP_ROOT" \
	--mac-base 02:5b:01:00:00:00
expect_eq "xdp: the swarm exits 0" 0 "$?" || show xdp
expect_eq "xdp: every client booted" "$N 0" "$(j xdp '"\(.booted) \(.failed)"')"
check "xdp: the ramp spread the starts over about 500 ms" \
	sh -c "tail -n +2 '$WORK/xdp.csv' | cut -d, -f5 | sort -n | tail -1 | awk '{ exit !(\$1 >= 400 && \$1 < 1500) }'"

# ---- one stage alone -------------------------------------------------------------------
swarm dhcp --clients $N --mode dhcp --arch bios --mac-base 02:5b:02:00:00:00
expect_eq "mode dhcp: every DISCOVER answered" "$N 0" "$(j dhcp '"\(.booted) \(.failed)"')"
expect_eq "mode dhcp: no TFTP, no HTTP" "0 0 0" "$(j dhcp '"\(.stages.tftp.count) \(.tftp_bytes) \(.http_bytes)"')"
swarm tftp --clients $N --mode tftp --file undionly.kpxe --tftp-root "$ROOT"
expect_eq "mode tftp: every transfer complete and verified" "$N 0 $((300000 * N))" \
	"$(j tftp '"\(.booted) \(.failed) \(.tftp_bytes)"')"
swarm http --clients $N --mode http --url "http://$SRV_IP:8080/lab/vmlinuz" --url "http://$SRV_IP:8080/lab/initrd.img" \
	--http-root "$HTTP_ROOT"
expect_eq "mode http: every GET complete and verified" "$N 0 $((3000000 * N))" \
	"$(j http '"\(.booted) \(.failed) \(.http_bytes)"')"

# ---- failures are reported, with reasons ---------------------------------------------------
swarm missing --clients 4 --mode tftp --file no-such-file --tftp-retries 1
expect_eq "missing TFTP file: the swarm exits 1" 1 "$?"
expect_eq "missing TFTP file: 4 failures, one reason naming the TFTP error" "4 1" \
	"$(j missing '"\(.failed) \(.failures | length)"')"
check "missing TFTP file: the reason is the server's error" \
	jqe '.failures | keys[0] | test("^tftp: error 1")' "$WORK/missing.json"
swarm badhttp --clients 4 --mode http --url "http://$SRV_IP:8080/lab/none"
expect_eq "HTTP 404: counted as failures with the status" 4 \
	"$(j badhttp '[.failures | to_entries[] | select(.key | test("HTTP status 404"))][0].value')"
head -c 300000 /dev/zero >"$WORK/wrong.kpxe"
mkdir -p "$WORK/wrongroot" && cp "$WORK/wrong.kpxe" "$WORK/wrongroot/undionly.kpxe"
swarm corrupt --clients 4 --mode tftp --file undionly.kpxe --tftp-root "$WORK/wrongroot"
check "content check: different bytes fail the transfer" \
	jqe '.failed == 4 and (.failures | keys[0] | test("content differs"))' "$WORK/corrupt.json"
stop_stampede
swarm silent --clients 4 --mode dhcp --dhcp-timeout-ms 100 --dhcp-retries 2 --mac-base 02:5b:03:00:00:00
check "no server: DISCOVERs time out after the retries, reported per client" \
	jqe '.failed == 4 and (.failures | keys[0] == "dhcp: no reply after 3 tries")' "$WORK/silent.json"
expect_eq "no server: each client sent its DISCOVER 3 times" 12 "$(j silent .dhcp_sends)"

# ---- bad usage ---------------------------------------------------------------------------------
"$SWARM" --server 10.201.0.1 --iface x --clients 0 >/dev/null 2>&1
expect_eq "usage: --clients 0 is refused (exit 2)" 2 "$?"
"$SWARM" --server nowhere --iface x --clients 1 >/dev/null 2>&1
expect_eq "usage: a bad address is refused (exit 2)" 2 "$?"
"$SWARM" --server 10.201.0.1 --iface x --clients 1 --mode tftp >/dev/null 2>&1
expect_eq "usage: --mode tftp without --file is refused (exit 2)" 2 "$?"

finish
