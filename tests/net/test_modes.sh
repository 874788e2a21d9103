#!/usr/bin/env bash
# The dataplane with hugepages and without (--no-huge), with the other DPDK
# drivers (af_packet, pcap), and the start-up errors an operator can meet.
source "$(dirname "$0")/lib.sh"
require_root
net_setup || { echo "# topology set-up failed"; finish; }
make_file pxe.bin 2000000
want=$(sha "$ROOT/pxe.bin")

download_ok() { # DESCRIPTION
	rm -f "$WORK/got"
	in_cli curl -s --max-time 60 --tftp-blksize 1468 -o "$WORK/got" "tftp://$SRV_IP/pxe.bin"
	expect_eq "$1" "$want" "$(sha "$WORK/got" 2>/dev/null)"
}

free_huge_mb=$(awk '/HugePages_Free/ {f=$2} /Hugepagesize/ {s=$2} END {print int(f*s/1024)}' /proc/meminfo)
if grep -q hugetlbfs /proc/mounts && [ "$free_huge_mb" -ge 600 ]; then
	start_stampede && download_ok "with hugepages (af_xdp): download matches"
	check "ran on hugepages" bash -c "! grep -q 'without hugepages' '$WORK/stampede.log'"
	stop_stampede
else
	echo "# skip - hugepages not reserved here ($free_huge_mb MiB free); scripts/setup.sh reserves them"
fi

start_stampede --no-huge && download_ok "--no-huge (af_xdp): download matches"
check "said it runs without hugepages" grep -q 'without hugepages' "$WORK/stampede.log"
stop_stampede

start_stampede --pmd af_packet && download_ok "--pmd af_packet: download matches"
check "no XDP program with af_packet" bash -c "! ip -n $SRV_NS link show $SRV_IF | grep -q xdp"
stop_stampede

start_stampede --pmd pcap && download_ok "--pmd pcap: download matches"
stop_stampede

# Start-up errors: non-zero exit and a message that says what to do.
startup_error() { # DESCRIPTION EXPECTED_TEXT ARGS...
	local what=$1 text=$2
	shift 2
	timeout 60 ip netns exec "$SRV_NS" "$BUILD_DIR/stampede" serve --stats-socket "$CTL" "$@" >"$WORK/err.log" 2>&1
	local status=$?
	if [ $status -ne 0 ] && [ $status -ne 124 ] && grep -qF -- "$text" "$WORK/err.log"; then
		PASSED=$((PASSED + 1)); echo "ok - $what"
	else
		FAILED=$((FAILED + 1)); echo "not ok - $what (exit $status)"; sed 's/^/#   /' "$WORK/err.log"
	fi
}
startup_error "cache budget exceeded at start" "image cache budget exceeded: $ROOT holds 1.9 MiB, the budget is 1.0 MiB" \
	--iface "$SRV_IF" --tftp-root "$ROOT" --cache-mb 1 --no-huge
startup_error "missing TFTP root" "TFTP root $WORK/nope: No such file or directory" \
	--iface "$SRV_IF" --tftp-root "$WORK/nope" --no-huge
in_srv ip link add "${P}d0" type veth peer name "${P}d1" && in_srv ip link set "${P}d0" up
startup_error "interface without an address" "interface ${P}d0 has no IPv4 address" --iface "${P}d0" --no-huge
startup_error "no such interface" "no such interface: ${P}zz" --iface "${P}zz" --no-huge
startup_error "absurd blksize limit option" "--max-windowsize 0: expected a number from 1 to 32767" \
	--iface "$SRV_IF" --max-windowsize 0
startup_error "more sessions than ports" "--max-sessions 100 exceeds the 10 ports of --port-range 50000-50009" \
	--iface "$SRV_IF" --port-range 50000-50009 --max-sessions 100
startup_error "--iface missing" "--iface IF is required"
startup_error "session ports inside the kernel's ephemeral range" \
	"session port 40000 is in the kernel's ephemeral range 32768-60999" \
	--iface "$SRV_IF" --port-range 40000-40100 --no-huge
check "no XDP program left behind by the failed starts" bash -c "! ip -n $SRV_NS link show $SRV_IF | grep -q xdp"
finish
