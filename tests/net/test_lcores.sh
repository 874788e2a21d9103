#!/usr/bin/env bash
# Several polling loops (--lcores 2) on a two-queue veth: concurrent transfers
# spread over both loops, packets that reach the wrong loop are handed to their
# owner, every byte arrives, a reload mid-transfer changes nothing for them,
# and the server stops cleanly. With af_xdp on a veth (no combined channels in
# DPDK 22.11's net_af_xdp) two loops are refused with the reason.
source "$(dirname "$0")/lib.sh"
require_root

TL=$BUILD_DIR/bench/tftp-load
N=64

# net_setup with two queues each way on the veth.
mkdir -p "$ROOT"
chmod 755 "$WORK" "$ROOT"
ip netns add "$SRV_NS" && ip netns add "$CLI_NS" || { echo "# namespaces"; finish; }
ip link add "$SRV_IF" mtu 1500 numrxqueues 2 numtxqueues 2 type veth peer name "$CLI_IF" mtu 1500 \
	numrxqueues 2 numtxqueues 2 || { echo "# veth"; finish; }
ip link set "$SRV_IF" netns "$SRV_NS"
ip link set "$CLI_IF" netns "$CLI_NS"
in_srv ip addr add "$SRV_IP/24" dev "$SRV_IF"
in_cli ip addr add "$CLI_IP/24" dev "$CLI_IF"
in_srv ip link set lo up
in_cli ip link set lo up
in_srv ip link set "$SRV_IF" up
in_cli ip link set "$CLI_IF" up
in_cli ethtool -K "$CLI_IF" tx off >/dev/null

make_file boot.img $((2 * 1024 * 1024))

# The configuration's keys (dataplane.lcores, tftp.min_retransmit_ms) reach the dataplane.
printf 'tftp:\n  max_sessions_per_client: 4096\n  min_retransmit_ms: 100\ndataplane:\n  pmd: af_packet\n  lcores: 2\n' \
	>"$WORK/lcores.yaml"
start_stampede --config "$WORK/lcores.yaml" ||
	{ echo "not ok - stampede starts with dataplane.lcores 2"; FAILED=1; finish; }
expect_eq "two polling loops" 2 "$(counter lcores)"

# The transfers, in the background; a reload while they run.
in_cli timeout 120 "$TL" --server "$SRV_IP" --file boot.img --clients $N --blksize 1468 --windowsize 16 \
	--verify "$ROOT/boot.img" --duration-limit 100 --json "$WORK/load.json" >"$WORK/load.out" 2>&1 &
LOAD=$!
sleep 0.3
"$BUILD_DIR/stampede" reload --socket "$CTL" >/dev/null 2>&1
check "reload accepted while transfers run" test $? -eq 0
wait $LOAD
expect_eq "tftp-load: every transfer complete and byte for byte" "$N 0" \
	"$(jq -r '"\(.completed) \(.failed)"' "$WORK/load.json" 2>/dev/null)" || sed 's/^/#   /' "$WORK/load.out"
expect_ge "loop 0 started transfers" 1 "$(counter lcore0_tftp_transfers_started)"
expect_ge "loop 1 started transfers" 1 "$(counter lcore1_tftp_transfers_started)"
expect_eq "the loops' transfers add up to the total" "$(counter tftp_transfers_started)" \
	$(($(counter lcore0_tftp_transfers_started) + $(counter lcore1_tftp_transfers_started)))
expect_ge "packets that reached the other loop were handed over" 1 "$(counter handoff_packets)"
expect_eq "no hand-off was dropped" 0 "$(counter handoff_dropped)"
check "SIGTERM: stampede exits 0" stop_stampede

# af_xdp cannot give a veth's queues to two loops: refused, with the reason.
in_srv "$BUILD_DIR/stampede" serve --iface "$SRV_IF" --tftp-root "$ROOT" --lcores 2 >"$WORK/xdp2.log" 2>&1
check "--lcores 2 with af_xdp on a veth: serve exits non-zero" test $? -ne 0
check "... and says why (combined channels)" grep -q "combined" "$WORK/xdp2.log"
check "... and leaves no XDP program on the interface" sh -c "! ip -n '$SRV_NS' link show '$SRV_IF' | grep -q xdp"

finish
