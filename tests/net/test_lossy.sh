#!/usr/bin/env bash
# Stampede on a lossy link. Each direction of the link between the clients and
# the server loses 5 % of the frames, duplicates 2 %, sends 25 % at once ahead
# of the others and holds the rest 50 ms +- 50 ms (uniform jitter, which
# reorders them as well): netem's model, in tc-netem(8)'s words
#   loss 5% duplicate 2% reorder 25% delay 50ms 50ms
# Through it, at the same time:
#   - 200 concurrent TFTP transfers, four kinds of client (lock-step with
#     512-byte blocks, windows of 4, 16 and 64 blocks), each file checked by its
#     sha256 against the served file (bench/tftp-load --sha256);
#   - 50 simulated PXE clients booting all the way (bench/swarm: DHCP, 4011 for
#     UEFI, TFTP of the NBP, iPXE's DHCP, the script, kernel and initrd over
#     HTTP), the sha256 of every file each one received compared with the
#     served file's;
# and the server agrees: every transfer completed, none abandoned, none left
# behind. Retransmission adapts (tftp_rtt_*, tftp_rto_* counters): on a clean
# link the round trip is short and the timeout sits at tftp.min_retransmit_ms;
# a client that goes silent sees its block again after that, then after twice
# as long, and so on up to tftp.retransmit_ms, and an error after
# tftp.max_retries; on the lossy link the measured round trip follows the
# link's delay and the timeout sits above it.
#
# Where the impairment sits: this project's kernels have no sch_netem
# (CONFIG_NET_SCH_NETEM is not set, and there are no modules), so the link is
# tests/net/lossy-link, netem's model in user space, relaying frames between
# two veths in a third namespace (client ns - link ns - server ns); it counts
# what it did, and the test checks that what it asked for is what happened.
# LOSSY_LINK=netem puts the kernel's netem on both ports of a bridge in that
# namespace instead, where the kernel has it (not run here). netem on the
# server's own veth would not do in any case: the dataplane transmits through
# AF_XDP, whose frames leave by __dev_direct_xmit() and never meet a qdisc.
#
# Every wait is bounded; the figures (time, retransmissions, timeouts, round
# trips and timeouts) are printed as "# " lines.
source "$(dirname "$0")/lib.sh"
require_root

LOSS=5 DUPLICATE=2 REORDER=25 DELAY_MS=50 JITTER_MS=50 # per direction, netem's terms
MIN_RTO_MS=50 MAX_RTO_MS=1000 RETRIES=5                # tftp.min_retransmit_ms, retransmit_ms, max_retries
PER_GROUP=50                                           # TFTP transfers per kind of client (4 kinds)
BOOTS=50
MODE=${LOSSY_LINK:-relay}

SWARM=$BUILD_DIR/bench/swarm
TFTP_LOAD=$BUILD_DIR/bench/tftp-load
RELAY=$BUILD_DIR/tests/net/lossy-link
LINK_NS=${P}m
LINK_C=${P}m0 # the link's port facing the client (peer of $CLI_IF)
LINK_S=${P}m1 # facing the server (peer of $SRV_IF)
EXTRA_NS+=("$LINK_NS")
RELAY_PID=""
RELAY_LOG=""

in_link() { ip netns exec "$LINK_NS" "$@"; }

# No offloads anywhere: frames cross the link whole, as on a wire, with their
# checksums complete (a relayed frame loses the kernel's offload metadata).
offloads_off() {
	ip netns exec "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null 2>&1 ||
		ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
}

lossy_setup() {
	mkdir -p "$ROOT"
	chmod 755 "$WORK" "$ROOT"
	ip netns add "$SRV_NS" && ip netns add "$CLI_NS" && ip netns add "$LINK_NS" || return 1
	in_link sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link add "$SRV_IF" mtu 1500 type veth peer name "$LINK_S" mtu 1500 || return 1
	ip link add "$CLI_IF" mtu 1500 type veth peer name "$LINK_C" mtu 1500 || return 1
	ip link set "$SRV_IF" netns "$SRV_NS" && ip link set "$LINK_S" netns "$LINK_NS" &&
		ip link set "$CLI_IF" netns "$CLI_NS" && ip link set "$LINK_C" netns "$LINK_NS" || return 1
	in_srv ip addr add "$SRV_IP/24" dev "$SRV_IF"
	in_cli ip addr add "$CLI_IP/24" dev "$CLI_IF"
	local ns
	for ns in "$SRV_NS" "$CLI_NS" "$LINK_NS"; do
		ip netns exec "$ns" ip link set lo up
	done
	in_srv ip link set "$SRV_IF" up && in_cli ip link set "$CLI_IF" up &&
		in_link ip link set "$LINK_C" up && in_link ip link set "$LINK_S" up || return 1
	offloads_off "$SRV_NS" "$SRV_IF" && offloads_off "$CLI_NS" "$CLI_IF" &&
		offloads_off "$LINK_NS" "$LINK_C" && offloads_off "$LINK_NS" "$LINK_S" || return 1
	if [ "$MODE" = netem ]; then
		in_link ip link add "${P}br" type bridge stp_state 0 forward_delay 0 &&
			in_link ip link set "$LINK_C" master "${P}br" && in_link ip link set "$LINK_S" master "${P}br" &&
			in_link ip link set "${P}br" up || return 1
	fi
}

# link_set NAME [lossy]: the link clean, or impaired; lossy-link's report of
# the previous setting goes to $WORK/link-NAME.log.
link_set() {
	local name=$1 lossy=${2:-}
	if [ "$MODE" = netem ]; then
		local dev
		for dev in "$LINK_C" "$LINK_S"; do
			if [ -n "$lossy" ]; then
				in_link tc qdisc replace dev "$dev" root netem limit 100000 delay "${DELAY_MS}ms" "${JITTER_MS}ms" \
					loss "${LOSS}%" duplicate "${DUPLICATE}%" reorder "${REORDER}%" || return 1
			else
				in_link tc qdisc del dev "$dev" root 2>/dev/null
			fi
		done
		return 0
	fi
	link_stop
	RELAY_LOG=$WORK/link-$name.log
	# ip netns exec itself in the background (not a shell function), so that $!
	# is the relay's own PID: ip netns exec execs in place.
	if [ -n "$lossy" ]; then
		ip netns exec "$LINK_NS" "$RELAY" "$LINK_C" "$LINK_S" --loss "$LOSS" --duplicate "$DUPLICATE" \
			--reorder "$REORDER" --delay-ms "$DELAY_MS" --jitter-ms "$JITTER_MS" --duration-limit 900 \
			>"$RELAY_LOG" 2>&1 &
	else
		ip netns exec "$LINK_NS" "$RELAY" "$LINK_C" "$LINK_S" --duration-limit 900 >"$RELAY_LOG" 2>&1 &
	fi
	RELAY_PID=$!
	EXTRA_PIDS+=("$RELAY_PID")
	local i
	for i in $(seq 1 50); do # it prints its settings once both sockets are open
		grep -q '^lossy-link ' "$RELAY_LOG" 2>/dev/null && return 0
		kill -0 "$RELAY_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# lossy-link did not start:"; sed 's/^/#   /' "$RELAY_LOG"
	return 1
}

# link_stop: lossy-link prints what it did when told to stop (at most 10 s).
link_stop() {
	[ -n "$RELAY_PID" ] || return 0
	kill -TERM "$RELAY_PID" 2>/dev/null
	timeout 10 tail --pid="$RELAY_PID" -f /dev/null
	wait "$RELAY_PID" 2>/dev/null
	RELAY_PID=""
}

# ---- counters ---------------------------------------------------------------------------
# snap NAME: every dataplane counter now; val NAME COUNTER; delta FROM TO COUNTER.
snap() { "$BUILD_DIR/stampede" stats --socket "$CTL" >"$WORK/$1.stats"; }
val() { awk -v n="$2" '$1 == n { print $2 }' "$WORK/$1.stats"; }
delta() {
	local a b
	a=$(val "$1" "$3")
	b=$(val "$2" "$3")
	echo $((${b:-0} - ${a:-0}))
}
# mean_ms FROM TO SUM_COUNTER: the sum's growth over the samples', in ms.
mean_ms() {
	local n
	n=$(delta "$1" "$2" tftp_rtt_samples)
	awk -v s="$(delta "$1" "$2" "$3")" -v n="$n" 'BEGIN { if (n > 0) printf "%.1f", s / n / 1000; else print "nan" }'
}
# fcheck DESCRIPTION AWK_CONDITION: a check on decimal numbers.
fcheck() { check "$1" awk "BEGIN { exit !($2) }"; }

# wait_idle SECONDS: until no transfer is active.
wait_idle() {
	local i v
	for i in $(seq 1 $(($1 * 10))); do
		v=$(counter tftp_active_sessions)
		[ "$v" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

T0=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

lossy_setup || { echo "# topology set-up failed"; finish; }
link_set clean || { echo "not ok - the link starts"; FAILED=1; finish; }

# ---- files --------------------------------------------------------------------------------
# The boot (lib.sh's boot_lab: NBPs, kernel and initrd, and the configuration)
# and the files of the TFTP clients.
boot_lab 98304 262144 1048576 524288 "  max_sessions_per_client: 4096
  rate_per_source: 0  # every client here sends from one address
  min_retransmit_ms: $MIN_RTO_MS
  retransmit_ms: $MAX_RTO_MS
  max_retries: $RETRIES"
make_file lock.bin 49152               # lock-step, 512-byte blocks: 96 blocks and an empty one
make_file w4.bin 131072                # blksize 1024, windows of 4
make_file w16.bin 262144               # blksize 1468, windows of 16
make_file w64.bin $((1468 * 64 * 3))   # windows of 64, a multiple of the block: ends with an empty block
make_file stall.bin 65536

start_stampede --config "$LAB_CONF" --http-root "$HTTP_ROOT" ||
	{ echo "not ok - stampede starts"; FAILED=1; finish; }
check "the dataplane has a proxyDHCP policy" wait_policy

# load NAME FILE ARGS...: tftp-load, PER_GROUP transfers of FILE, each checked
# by its sha256 and size; output in $WORK/NAME.out, exit status in NAME.rc.
load() {
	local name=$1 file=$2
	shift 2
	timeout 300 ip netns exec "$CLI_NS" "$TFTP_LOAD" --server "$SRV_IP" --file "$file" --clients "$PER_GROUP" \
		--sha256 "$(sha "$ROOT/$file")" --expect-size "$(stat -c %s "$ROOT/$file")" --duration-limit 240 \
		--json "$WORK/$name.json" "$@" >"$WORK/$name.out" 2>&1
	echo $? >"$WORK/$name.rc"
}
jv() { jq -r "$2" "$WORK/$1.json" 2>/dev/null; }

# ---- the clean link: round trips, and the timeout at its floor --------------------------------
# A light load (10 transfers), so that the round trip is the link's, not a
# busy machine's.
snap clean0
PER_GROUP=10 load clean w16.bin --windowsize 16
expect_eq "clean link: 10 transfers complete, sha256 right" "0 10 0" \
	"$(cat "$WORK/clean.rc") $(jv clean .completed) $(jv clean .failed)" || sed 's/^/#   /' "$WORK/clean.out"
snap clean1
CLEAN_RTT=$(mean_ms clean0 clean1 tftp_rtt_sum_us)
CLEAN_RTO=$(mean_ms clean0 clean1 tftp_rto_sum_us)
echo "# clean link: $(delta clean0 clean1 tftp_rtt_samples) round trips measured, mean $CLEAN_RTT ms; mean timeout $CLEAN_RTO ms (floor $MIN_RTO_MS ms)"
fcheck "clean link: the round trip is well under the floor" "$CLEAN_RTT < $MIN_RTO_MS / 2"
fcheck "clean link: the timeout sits at the floor" "$CLEAN_RTO >= $MIN_RTO_MS && $CLEAN_RTO <= $MIN_RTO_MS * 1.5"

# ---- a client that goes silent: the backoff, the cap, the end -----------------------------------
# It ACKs 3 blocks (lock-step) and no more: block 4 comes again after the
# timeout, then after twice that... up to retransmit_ms, RETRIES times, then
# the server gives up with an error.
snap stall0
in_cli $PROBE stall "$SRV_IP" stall.bin 3 15 >"$WORK/stall.out" 2>&1
awk '$2 == "DATA" && $3 == 4 { print $1 }' "$WORK/stall.out" >"$WORK/stall.times"
awk '$2 == "ERROR" { print $1 }' "$WORK/stall.out" >>"$WORK/stall.times"
STALL_WANT=$(awk -v min="$MIN_RTO_MS" -v max="$MAX_RTO_MS" -v r="$RETRIES" \
	'BEGIN { t = min; for (k = 0; k <= r; k++) { printf "%s%d", k ? " " : "", t; t = t * 2 > max ? max : t * 2 } }')
STALL_GOT=$(awk 'NR > 1 { printf "%s%.1f", (NR > 2 ? " " : ""), $1 - prev } { prev = $1 }' "$WORK/stall.times")
echo "# silent client: block 4 sent again after (ms) $STALL_GOT; expected $STALL_WANT (the last: the error)"
expect_eq "silent client: block 4, then $RETRIES resends of it, then the error" \
	"$((RETRIES + 2)) ERROR 0 transfer timed out" \
	"$(wc -l <"$WORK/stall.times") $(tail -1 "$WORK/stall.out" | cut -d' ' -f2-)" || sed 's/^/#   /' "$WORK/stall.out"
check "silent client: block 4 came at once after ACK 3" awk 'NR == 1 { exit !($1 < 20) }' "$WORK/stall.times"
check "silent client: each wait doubles from the floor and is held at retransmit_ms (within 10 % + 25 ms)" \
	awk -v got="$STALL_GOT" -v want="$STALL_WANT" 'BEGIN { n = split(got, g, " "); m = split(want, w, " ");
		if (n != m) exit 1; for (k = 1; k <= n; k++) { d = g[k] - w[k]; if (d < 0) d = -d; if (d > 25 + w[k] / 10) exit 1 } }'
wait_idle 5
snap stall1
expect_eq "silent client: counted as timed out, after $RETRIES backoffs" "1 $RETRIES" \
	"$(delta stall0 stall1 tftp_transfers_timed_out) $(delta stall0 stall1 tftp_rto_backoffs)"
expect_eq "silent client: the backoffs held at retransmit_ms are those the cap cut" \
	"$(awk -v min="$MIN_RTO_MS" -v max="$MAX_RTO_MS" -v r="$RETRIES" \
		'BEGIN { t = min; for (k = 0; k < r; k++) { c += t * 2 > max; t = t * 2 > max ? max : t * 2 }; print c + 0 }')" \
	"$(delta stall0 stall1 tftp_rto_backoffs_capped)"

# ---- the lossy link: 200 TFTP transfers and 50 boots at once --------------------------------------
link_set lossy lossy || { echo "not ok - the lossy link starts"; FAILED=$((FAILED + 1)); finish; }
echo "# link, each direction: loss ${LOSS}% duplicate ${DUPLICATE}% reorder ${REORDER}% delay ${DELAY_MS}ms ${JITTER_MS}ms ($MODE)"
snap lossy0
T_LOSSY=$(date +%s.%N)
timeout 300 ip netns exec "$CLI_NS" "$SWARM" --server "$SRV_IP" --iface "$CLI_IF" --clients "$BOOTS" --arch mix \
	--tftp-root "$ROOT" --http-root "$HTTP_ROOT" --sha256 --dhcp-retries 6 --duration-limit 240 \
	--json "$WORK/boot.json" --csv "$WORK/boot.csv" >"$WORK/boot.out" 2>&1 &
SWARM_PID=$!
# Every finished transfer dallies (re-ACKs a repeated last block) while the
# others run; the last ones for 5 s after (the server's give-up time here).
load lock lock.bin --blksize 512 --dally-ms 5000 &
PIDS=($!)
load w4 w4.bin --blksize 1024 --windowsize 4 --dally-ms 5000 &
PIDS+=($!)
load w16 w16.bin --windowsize 16 --dally-ms 5000 &
PIDS+=($!)
load w64 w64.bin --windowsize 64 --dally-ms 5000 &
PIDS+=($!)
wait "${PIDS[@]}"
T_TFTP=$(elapsed "$T_LOSSY")
wait "$SWARM_PID"
SWARM_RC=$?
T_BOTH=$(elapsed "$T_LOSSY")
check "lossy link: no transfer left behind (at most 20 s)" wait_idle 20
snap lossy1
link_stop

for g in lock w4 w16 w64; do
	expect_eq "lossy link: $g: $PER_GROUP transfers complete, each sha256 right" "0 $PER_GROUP 0" \
		"$(cat "$WORK/$g.rc") $(jv $g .completed) $(jv $g .failed)" || sed 's/^/#   /' "$WORK/$g.out"
	echo "# $g: $(jv $g '"\(.blksize_negotiated) bytes, window \(.windowsize_negotiated): \(.completed) in \(.wall_s | floor) s, p50 \(.p50_ms / 1000 | floor) s, max \(.max_ms / 1000 | floor) s"')"
done
expect_eq "lossy link: the swarm exits 0, all $BOOTS booted" "0 $BOOTS 0" \
	"$SWARM_RC $(jv boot .booted) $(jv boot .failed)" || sed 's/^/#   /' "$WORK/boot.out"
expect_eq "lossy link: every client went through DHCP, TFTP, iPXE, script, kernel, initrd" \
	"$BOOTS $BOOTS $BOOTS $BOOTS $BOOTS $BOOTS" \
	"$(jv boot '[.stages | .dhcp, .tftp, .ipxe_dhcp, .script, .kernel, .initrd | .count] | map(tostring) | join(" ")')"
expect_eq "lossy link: the UEFI half asked the boot server on 4011" $((BOOTS / 2)) "$(jv boot .stages.boot_server.count)"
# boot.csv: arch (3rd column) and the digests, named by the header.
SHA_BIOS=$(sha "$ROOT/undionly.kpxe") SHA_EFI=$(sha "$ROOT/ipxe.efi")
SHA_KERNEL=$(sha "$HTTP_ROOT/lab/vmlinuz") SHA_INITRD=$(sha "$HTTP_ROOT/lab/initrd.img")
expect_eq "lossy link: every boot's NBP, kernel and initrd have the served files' sha256" "$BOOTS" \
	"$(awk -F, -v bios="$SHA_BIOS" -v efi="$SHA_EFI" -v k="$SHA_KERNEL" -v i="$SHA_INITRD" '
		NR == 1 { for (c = 1; c <= NF; c++) col[$c] = c; next }
		$col["result"] == "booted" && $col["tftp_sha256"] == ($col["arch"] == 0 ? bios : efi) &&
		$col["kernel_sha256"] == k && $col["initrd_sha256"] == i { ok++ }
		END { print ok + 0 }' "$WORK/boot.csv")"
echo "# boots: $(jv boot '"\(.booted) booted, the last after \(.last_done_s | floor) s; per stage p50/max (s): tftp \(.stages.tftp.p50_ms / 1000 | floor)/\(.stages.tftp.max_ms / 1000 | floor), kernel \(.stages.kernel.p50_ms / 1000 | floor)/\(.stages.kernel.max_ms / 1000 | floor), boot \(.stages.boot.p50_ms / 1000 | floor)/\(.stages.boot.max_ms / 1000 | floor); DHCP sends \(.dhcp_sends)"')"

# The server's side: every transfer completed, none abandoned, none leaked.
TRANSFERS=$((4 * PER_GROUP + BOOTS))
STARTED=$(delta lossy0 lossy1 tftp_transfers_started)
COMPLETED=$(delta lossy0 lossy1 tftp_transfers_completed)
TIMED_OUT=$(delta lossy0 lossy1 tftp_transfers_timed_out)
ABORTED=$(delta lossy0 lossy1 tftp_transfers_aborted)
expect_eq "lossy link: the server completed each of the $TRANSFERS transfers" "$TRANSFERS" "$COMPLETED"
expect_eq "lossy link: none timed out (the clients answer a repeated last block)" 0 "$TIMED_OUT"
expect_eq "lossy link: started = completed + timed out + aborted, none active" "$STARTED 0" \
	"$((COMPLETED + TIMED_OUT + ABORTED)) $(val lossy1 tftp_active_sessions)"
RETRANSMITS=$(delta lossy0 lossy1 tftp_retransmits)
BACKOFFS=$(delta lossy0 lossy1 tftp_rto_backoffs)
expect_ge "lossy link: the server retransmitted" 1 "$RETRANSMITS"
expect_ge "lossy link: and its timers fired (backoffs)" 1 "$BACKOFFS"
LOSSY_RTT=$(mean_ms lossy0 lossy1 tftp_rtt_sum_us)
LOSSY_RTO=$(mean_ms lossy0 lossy1 tftp_rto_sum_us)
# The link adds 2 x (1 - reorder) x delay to a round trip on average (25 % of
# the frames leave at once), 75 ms here, and more to a window's (its ACK waits
# for the last block); queueing on a busy machine adds to that, so only half
# of it is required on top of the clean link's round trip.
fcheck "lossy link: the round trip measured follows the link's delay ($LOSSY_RTT ms)" \
	"$LOSSY_RTT >= $CLEAN_RTT + (1 - $REORDER / 100) * $DELAY_MS"
fcheck "lossy link: the timeout sits above the round trip, well above the floor ($LOSSY_RTO ms)" \
	"$LOSSY_RTO > $LOSSY_RTT && $LOSSY_RTO > 2 * $MIN_RTO_MS && $LOSSY_RTO <= $MAX_RTO_MS"

# The link did what it was asked, and nothing more.
if [ "$MODE" = relay ]; then
	sed 's/^/# link: /' "$RELAY_LOG"
	check "link: both directions within 20 % of the loss, duplication and reordering asked for" \
		awk -v loss="$LOSS" -v dup="$DUPLICATE" -v re="$REORDER" '
			$2 == "received" { n++; for (i = 2; i < NF; i += 2) v[$i] = $(i + 1)
				copies = v["received"] + v["duplicated"]
				if (v["received"] < 1000) exit 1
				if (v["lost"] / copies < 0.8 * loss / 100 || v["lost"] / copies > 1.2 * loss / 100) exit 1
				if (v["duplicated"] / v["received"] < 0.8 * dup / 100 || v["duplicated"] / v["received"] > 1.2 * dup / 100) exit 1
				kept = v["immediate"] + v["delayed"]
				if (v["immediate"] / kept < 0.8 * re / 100 || v["immediate"] / kept > 1.2 * re / 100) exit 1 }
			END { exit n != 2 }' "$RELAY_LOG"
	check "link: no frame lost but those (queue, size, send errors, socket overruns all 0)" \
		awk '$2 == "received" { for (i = 2; i < NF; i += 2) v[$i] = $(i + 1)
			if (v["overflow"] + v["oversize"] + v["tx_errors"] + v["socket_drops"] > 0) bad = 1 }
			END { exit bad }' "$RELAY_LOG"
	# A frame the relay sends that the far end does not take (its backlog or
	# XDP ring full) is the sending veth's tx_dropped.
	LINK_DROPS=$(( $(in_link cat "/sys/class/net/$LINK_C/statistics/tx_dropped") +
		$(in_link cat "/sys/class/net/$LINK_S/statistics/tx_dropped") ))
	expect_eq "link: the veths took every frame the link sent (tx_dropped)" 0 "$LINK_DROPS"
else
	in_link tc -s qdisc show | sed 's/^/# link: /'
fi

DATA=$(delta lossy0 lossy1 tftp_data_packets)
echo "# figures: lossy phase $T_BOTH s (TFTP clients $T_TFTP s); $TRANSFERS transfers, $DATA DATA packets, $RETRANSMITS of them (and OACKs) sent again;" \
	"$BACKOFFS timeouts (backoffs), $(delta lossy0 lossy1 tftp_rto_backoffs_capped) held at ${MAX_RTO_MS} ms; $TIMED_OUT transfers timed out;" \
	"mean round trip $CLEAN_RTT ms clean, $LOSSY_RTT ms lossy; mean timeout $CLEAN_RTO ms clean, $LOSSY_RTO ms lossy; whole test $(elapsed "$T0") s"
finish
