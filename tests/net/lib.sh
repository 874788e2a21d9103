# Shared set-up for Stampede's network tests. Source it from a test script.
#
# Each test gets two network namespaces joined by a veth pair, named with a
# prefix unique to the test process, addresses from 10.201.0.0/24 that exist
# only inside those namespaces, and a trap that tears everything down however
# the test ends. Checks are counted; finish prints "N passed, N failed".

set -uo pipefail

BUILD_DIR=${BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROBE="python3 $TESTS_DIR/tftp_probe.py"

P="sp$(printf '%05d' $(($$ % 100000)))"     # interface names stay under 15 bytes
SRV_NS=${P}s
CLI_NS=${P}c
SRV_IF=${P}s0
CLI_IF=${P}c0
SRV_IP=10.201.0.1
CLI_IP=10.201.0.2
WORK=$(mktemp -d /tmp/stampede-test.XXXXXX)
ROOT=$WORK/root
CTL=$WORK/control.sock
SERVER_PID=""
EXTRA_PIDS=()
EXTRA_NS=()      # further namespaces (net_setup_segment's site), deleted at cleanup
PASSED=0
FAILED=0

cleanup() {
	local pid ns
	for pid in $SERVER_PID "${EXTRA_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $SERVER_PID "${EXTRA_PIDS[@]}"; do
		timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done
	ip netns del "$SRV_NS" 2>/dev/null
	ip netns del "$CLI_NS" 2>/dev/null
	for ns in "${EXTRA_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -f /run/stampede/"${P}"*.lock /run/stampede/"${P}"*.sessions # per-interface locks and transfer journals
	[ -n "${KEEP_WORK:-}" ] && echo "# kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_srv() { ip netns exec "$SRV_NS" "$@"; }
in_cli() { ip netns exec "$CLI_NS" "$@"; }
# bg_srv COMMAND...: run in the server namespace in the background, killed at cleanup.
bg_srv() {
	ip netns exec "$SRV_NS" "$@" &
	EXTRA_PIDS+=($!)
}

net_setup() {
	mkdir -p "$ROOT"
	chmod 755 "$WORK" "$ROOT"
	ip netns add "$SRV_NS" && ip netns add "$CLI_NS" || return 1
	ip link add "$SRV_IF" mtu 1500 type veth peer name "$CLI_IF" mtu 1500 || return 1
	ip link set "$SRV_IF" netns "$SRV_NS"
	ip link set "$CLI_IF" netns "$CLI_NS"
	in_srv ip addr add "$SRV_IP/24" dev "$SRV_IF"
	in_cli ip addr add "$CLI_IP/24" dev "$CLI_IF"
	in_srv ip link set lo up
	in_cli ip link set lo up
	in_srv ip link set "$SRV_IF" up
	in_cli ip link set "$CLI_IF" up
	# A veth leaves locally generated UDP checksums unfinished (CHECKSUM_PARTIAL);
	# a real NIC would complete them. The dataplane verifies checksums, so let
	# the client's kernel compute them in software, as it does for a real NIC.
	in_cli ethtool -K "$CLI_IF" tx off >/dev/null
}

# start_stampede [dataplane options...]: serve $ROOT on the server side, wait
# (at most 30 s) until the control socket answers.
start_stampede() {
	# Started by ip netns exec itself (not a shell function) so that $! is the
	# server's own PID: ip netns exec execs in place.
	ip netns exec "$SRV_NS" "$BUILD_DIR/stampede" serve --iface "$SRV_IF" --tftp-root "$ROOT" --stats-socket "$CTL" "$@" \
		>"$WORK/stampede.log" 2>&1 &
	SERVER_PID=$!
	local i
	for i in $(seq 1 300); do
		if "$BUILD_DIR/stampede" stats --socket "$CTL" >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "# stampede exited during start-up:"; sed 's/^/#   /' "$WORK/stampede.log"
			SERVER_PID=""
			return 1
		fi
		sleep 0.1
	done
	echo "# stampede did not answer within 30 s:"; sed 's/^/#   /' "$WORK/stampede.log"
	return 1
}

# stop_stampede: SIGTERM, wait at most 10 s; returns the exit status.
stop_stampede() {
	local pid=$SERVER_PID status
	[ -n "$pid" ] || return 0
	kill -TERM "$pid"
	timeout 10 tail --pid="$pid" -f /dev/null
	wait "$pid"
	status=$?
	SERVER_PID=""
	return $status
}

# counter NAME: the dataplane's counter value (empty if absent).
counter() {
	"$BUILD_DIR/stampede" stats --socket "$CTL" | awk -v n="$1" '$1 == n { print $2 }'
}

# check DESCRIPTION COMMAND...: run COMMAND, count and report the result.
check() {
	local what=$1
	shift
	if "$@"; then
		PASSED=$((PASSED + 1))
		echo "ok - $what"
	else
		FAILED=$((FAILED + 1))
		echo "not ok - $what"
	fi
}

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then
		PASSED=$((PASSED + 1))
		echo "ok - $1"
	else
		FAILED=$((FAILED + 1))
		echo "not ok - $1 (expected '$2', got '$3')"
	fi
}

# expect_ge DESCRIPTION MINIMUM ACTUAL
expect_ge() {
	if [ -n "$3" ] && [ "$3" -ge "$2" ]; then
		PASSED=$((PASSED + 1))
		echo "ok - $1"
	else
		FAILED=$((FAILED + 1))
		echo "not ok - $1 (expected >= $2, got '$3')"
	fi
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# make_file NAME SIZE_BYTES: random content in $ROOT.
make_file() {
	mkdir -p "$(dirname "$ROOT/$1")"
	head -c "$2" /dev/urandom >"$ROOT/$1"
	chmod 644 "$ROOT/$1"
}

finish() {
	if [ "$FAILED" -gt 0 ] && [ -f "$WORK/stampede.log" ]; then
		echo "# stampede log:"; sed 's/^/#   /' "$WORK/stampede.log" | tail -40
	fi
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit
}

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "# network tests need root (namespaces, XDP)"
		echo "0 passed, 0 failed, 1 skipped"
		exit 77
	fi
}

# ---- a PXE segment: client, Stampede and the site's DHCP server on one bridge ----
#
# net_setup_segment builds, instead of net_setup's point-to-point link:
#
#   client ns: bridge $CLI_BR (10.201.0.2) with two ports,
#              $CLI_IF  <-veth->  $SRV_IF  (server ns, 10.201.0.1: Stampede)
#              $SITE_PEER <-veth-> $SITE_IF (site ns, 10.201.0.3: dnsmasq, DHCP only,
#                                             leases 10.201.0.100-150)
#
# The site's DHCP server sits in a namespace of its own: Stampede's XDP program
# steers every broadcast to UDP 67 on its interface to the dataplane, so a DHCP
# server beside it would never hear a DISCOVER. The client talks through
# $CLI_DEV (the bridge here, $CLI_IF after plain net_setup).
SITE_NS=${P}t
SITE_IF=${P}t0
SITE_PEER=${P}t1
SITE_IP=10.201.0.3
CLI_BR=${P}br
CLI_DEV=$CLI_IF
SITE_DHCP_PID=""

in_site() { ip netns exec "$SITE_NS" "$@"; }

net_setup_segment() {
	mkdir -p "$ROOT"
	chmod 755 "$WORK" "$ROOT"
	EXTRA_NS+=("$SITE_NS")
	ip netns add "$SRV_NS" && ip netns add "$CLI_NS" && ip netns add "$SITE_NS" || return 1
	ip link add "$SRV_IF" mtu 1500 type veth peer name "$CLI_IF" mtu 1500 || return 1
	ip link add "$SITE_IF" mtu 1500 type veth peer name "$SITE_PEER" mtu 1500 || return 1
	ip link set "$SRV_IF" netns "$SRV_NS" && ip link set "$CLI_IF" netns "$CLI_NS" &&
		ip link set "$SITE_IF" netns "$SITE_NS" && ip link set "$SITE_PEER" netns "$CLI_NS" || return 1
	in_cli ip link add "$CLI_BR" mtu 1500 type bridge stp_state 0 forward_delay 0 || return 1
	in_cli ip link set "$CLI_IF" master "$CLI_BR" && in_cli ip link set "$SITE_PEER" master "$CLI_BR" || return 1
	in_srv ip addr add "$SRV_IP/24" dev "$SRV_IF"
	in_cli ip addr add "$CLI_IP/24" dev "$CLI_BR"
	in_site ip addr add "$SITE_IP/24" dev "$SITE_IF"
	in_srv ip link set lo up
	in_cli ip link set lo up
	in_site ip link set lo up
	in_srv ip link set "$SRV_IF" up
	in_cli ip link set "$CLI_IF" up
	in_cli ip link set "$SITE_PEER" up
	in_cli ip link set "$CLI_BR" up
	in_site ip link set "$SITE_IF" up
	# Locally generated UDP leaves a veth or a bridge with its checksum
	# unfinished; the dataplane verifies checksums (see net_setup).
	local dev
	for dev in "$CLI_BR" "$CLI_IF" "$SITE_PEER"; do
		in_cli ethtool -K "$dev" tx off >/dev/null || return 1
	done
	in_site ethtool -K "$SITE_IF" tx off >/dev/null || return 1
	CLI_DEV=$CLI_BR
	start_site_dhcp
}

# start_site_dhcp: dnsmasq as the site's DHCP server (no DNS, no PXE) in the
# site namespace, killed at cleanup; waits (at most 10 s) until it listens.
start_site_dhcp() {
	ip netns exec "$SITE_NS" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 \
		--interface="$SITE_IF" --bind-interfaces \
		--dhcp-range=10.201.0.100,10.201.0.150,255.255.255.0,1h \
		--dhcp-leasefile="$WORK/site.leases" --pid-file="$WORK/site-dnsmasq.pid" \
		--user=root --group=root --no-ping --log-dhcp --log-facility="$WORK/site-dnsmasq.log" \
		>"$WORK/site-dnsmasq.out" 2>&1 &
	SITE_DHCP_PID=$!
	EXTRA_PIDS+=("$SITE_DHCP_PID")
	local i
	for i in $(seq 1 100); do
		if in_site ss -Hlun 'sport = :67' | grep -q .; then
			return 0
		fi
		if ! kill -0 "$SITE_DHCP_PID" 2>/dev/null; then
			echo "# the site's dnsmasq exited:"; sed 's/^/#   /' "$WORK/site-dnsmasq.out"
			return 1
		fi
		sleep 0.1
	done
	echo "# the site's dnsmasq does not listen on 67 after 10 s"
	return 1
}

# dhcp_probe ARGS...: tests/net/dhcp_probe.py from the client namespace on
# $CLI_DEV; prints the replies as JSON lines.
dhcp_probe() {
	in_cli python3 "$TESTS_DIR/dhcp_probe.py" --iface "$CLI_DEV" "$@"
}

# wait_counter NAME MINIMUM [SECONDS]: until the dataplane's counter reaches
# MINIMUM (default wait 10 s); returns non-zero if it never does.
wait_counter() {
	local i v
	for i in $(seq 1 $((${3:-10} * 10))); do
		v=$(counter "$1")
		[ -n "$v" ] && [ "$v" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_policy: until the dataplane runs with a proxyDHCP policy (at most 10 s).
wait_policy() { wait_counter dhcp_policy_loaded 1 10; }

# boot_lab BIOS_NBP EFI_NBP KERNEL INITRD [TFTP_YAML_LINES]: random boot files of
# these sizes in bytes (undionly.kpxe and ipxe.efi in $ROOT; lab/vmlinuz and
# lab/initrd.img in $HTTP_ROOT=$WORK/http) and $LAB_CONF, a configuration that
# boots every machine into them (profile "lab"); the optional last argument
# goes under its "tftp:" key, e.g. "  max_sessions: 1024".
boot_lab() {
	HTTP_ROOT=$WORK/http
	LAB_CONF=$WORK/lab.yaml
	mkdir -p "$HTTP_ROOT/lab"
	head -c "$1" /dev/urandom >"$ROOT/undionly.kpxe"
	head -c "$2" /dev/urandom >"$ROOT/ipxe.efi"
	head -c "$3" /dev/urandom >"$HTTP_ROOT/lab/vmlinuz"
	head -c "$4" /dev/urandom >"$HTTP_ROOT/lab/initrd.img"
	chmod -R a+rX "$ROOT" "$HTTP_ROOT"
	cat >"$LAB_CONF" <<LAB
http:
  port: 8080
  root: $HTTP_ROOT
tftp:
${5:-  max_windowsize: 64}
proxydhcp:
  boot_files:
    bios: undionly.kpxe
    efi-x64: ipxe.efi
profiles:
  lab:
    kernel: lab/vmlinuz
    initrd: [lab/initrd.img]
    cmdline: console=ttyS0
default_profile: lab
LAB
}
