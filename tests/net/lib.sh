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
PASSED=0
FAILED=0

cleanup() {
	local pid
	for pid in $SERVER_PID "${EXTRA_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $SERVER_PID "${EXTRA_PIDS[@]}"; do
		timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done
	ip netns del "$SRV_NS" 2>/dev/null
	ip netns del "$CLI_NS" 2>/dev/null
	rm -rf "$WORK"
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
