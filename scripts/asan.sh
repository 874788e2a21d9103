#!/usr/bin/env bash
# The unit and network tests again, on a build with AddressSanitizer and
# UndefinedBehaviorSanitizer (gcc, -Db_sanitize=address,undefined):
#
#   scripts/asan.sh           the unit suite and the whole net suite
#   scripts/asan.sh --ci      the same without the net tests of CI_SKIP_NET
#                             below, if any (what the meson suite `sanitize` runs)
#   scripts/asan.sh TEST...   those meson tests only (e.g. test_dhcp malformed)
#
# Build directory BUILD/asan (BUILD: $BUILD_DIR, else $STAMPEDE_BUILD_DIR,
# else build/). Every sanitizer report of every process (tests, stampede,
# stampede-dataplane) goes to a file of BUILD/asan-reports/ (log_path), so
# that one in a server a test stopped, or a leak found at exit, is not lost
# in a log the test deletes: any report fails the run and is printed.
#
# What the sanitizers need here:
# - gcc's warnings are not errors in this build (-Dwerror=false): the
#   instrumentation makes gcc's flow analysis report what cannot happen
#   (GCC's manual advises against -Werror with sanitizers); the main build
#   keeps -Werror.
# - DPDK is Debian's, not built with ASan: memory from rte_malloc and
#   mempools (the image cache, mbufs) is not checked, everything malloc'd is.
#   EAL runs as it is, with hugepages and with --no-huge (EAL reserves its
#   virtual areas with mmap hints, which ASan's shadow does not collide with).
# - LeakSanitizer reports what uninstrumented libraries keep until exit
#   (libxdp's AF_XDP umem in DPDK's af_xdp PMD, libbpf's object, Criterion's
#   assertion records): tests/sanitize/lsan.supp names those libraries, and
#   nothing of Stampede's own.
# Prints "N passed, N failed, N skipped" last (scripts/test_summary.py).
set -uo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

# Left out in CI: nothing (test_flood was, until its swarm got the real-time
# priority that stands for clients with CPUs of their own: see
# tests/net/test_flood.sh).
CI_SKIP_NET=()
# test_flood floods at most this fast under the sanitizers: the instrumented
# dataplane serves two to three times fewer requests, and the property the
# normal build shows at the sender's full rate (real clients boot through a
# flood) needs a flood the server can keep up with; the forged requests still
# fill the session table and are evicted, now with every access checked.
export FLOOD_RATE=${FLOOD_RATE:-300000}

build=${BUILD_DIR:-${STAMPEDE_BUILD_DIR:-build}}
mkdir -p "$build" && build=$(cd "$build" && pwd)
asan=$build/asan
reports=$build/asan-reports

units=(--suite unit)
nets=(--suite net)
case "${1:-}" in
'' | --ci) ;;
*) units=("$@") nets=() ;;
esac

log=$build/asan-build.log
if [ ! -f "$asan/build.ninja" ]; then
	meson setup "$asan" "$src" -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false >"$log" 2>&1 ||
		{ echo "# meson setup failed ($log):"; tail -n 30 "$log" | sed 's/^/#   /'; echo "0 passed, 1 failed"; exit 1; }
fi
ninja -C "$asan" -j "$(nproc)" >>"$log" 2>&1 ||
	{ echo "# the ASan build failed ($log):"; tail -n 30 "$log" | sed 's/^/#   /'; echo "0 passed, 1 failed"; exit 1; }

if [ "${1:-}" = --ci ]; then
	mapfile -t nets < <(meson test -C "$asan" --list --suite net 2>/dev/null | sed -n 's#^[^ ]*:net / ##p' |
		grep -vxF -e "__none__" "${CI_SKIP_NET[@]/#/-e}")
fi

rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS=log_path=$reports/asan:detect_leaks=1
export LSAN_OPTIONS=suppressions=$src/tests/sanitize/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=log_path=$reports/ubsan:print_stacktrace=1

status=0
summaries=()
run() { # LOGBASE ARGS...: one meson test run, its summary line kept
	local base=$1
	shift
	meson test -C "$asan" --print-errorlogs --timeout-multiplier 2 --logbase "$base" "$@" || status=1
	summaries+=("$(python3 scripts/test_summary.py "$asan/meson-logs/$base.json")")
}
run asan-unit "${units[@]}"
[ ${#nets[@]} -gt 0 ] && run asan-net "${nets[@]}"

found=0
for f in "$reports"/*; do
	[ -e "$f" ] || continue
	echo "# sanitizer report $f:"
	head -n 60 "$f" | sed 's/^/#   /'
	found=$((found + 1))
done
read -r passed failed skipped < <(printf '%s\n' "${summaries[@]}" |
	awk '{ p += $1; f += $3; s += $5 } END { print p + 0, f + 0, s + 0 }')
failed=$((failed + found))
[ $found -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
