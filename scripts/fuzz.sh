#!/usr/bin/env bash
# Fuzzes Stampede's parsers with libFuzzer (the targets of tests/fuzz/):
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]
#
# TARGET: net, dhcp, tftp_packet, tftp_server, proxy_policy, config_message,
# config or http (tests/fuzz/fuzz_TARGET.c says what each feeds and asserts);
# all (the default) runs each in turn. SECONDS per target, default 600. The
# meson suite `fuzz` runs this script for 15 s per target with FUZZ_JOBS=1.
#
# Where things are (BUILD: $BUILD_DIR, else $STAMPEDE_BUILD_DIR, else build/):
#   BUILD/fuzz/                  the clang build (-Dfuzzing=true, ASan + UBSan),
#                                configured on first use
#   BUILD/fuzz/seeds/TARGET/     seeds made from the repository (make_seeds.c:
#                                the pcapng captures, configs/, requests), and
#                                TARGET.dict beside them (libFuzzer's -dict)
#   BUILD/fuzz-corpus/TARGET/    the persistent corpus: inputs libFuzzer found
#                                interesting, kept from run to run (the suite's too)
#   BUILD/fuzz-crashes/TARGET/   reproducers: crash-*, leak-*, timeout-*, oom-*
#   BUILD/fuzz-logs/TARGET/      fuzz-N.log of each job when FUZZ_JOBS > 1
# Reproduce one: BUILD/fuzz/tests/fuzz/fuzz_TARGET FILE (prints the report again).
#
# Environment: FUZZ_JOBS parallel processes per target (default: the number
# of CPUs; libFuzzer's -jobs and -workers), FUZZ_ARGS more libFuzzer flags
# (e.g. "-max_len=4096 -dict=FILE"). Needs clang and libclang-rt-14-dev
# (scripts/setup.sh installs them); without them it exits 77 (skip).
# Prints "N passed, N failed" last (scripts/test_summary.py counts it).
set -uo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

build=${BUILD_DIR:-${STAMPEDE_BUILD_DIR:-build}}
mkdir -p "$build" && build=$(cd "$build" && pwd)
fuzz_build=$build/fuzz
all_targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
target=${1:-all}
seconds=${2:-600}
jobs=${FUZZ_JOBS:-$(nproc)}

if [ "$target" = all ]; then
	targets=$all_targets
elif grep -qx "$target" <<<"$all_targets"; then
	targets=$target
else
	echo "fuzz.sh: no target $target; one of:" $all_targets >&2
	exit 2
fi

if ! command -v clang >/dev/null ||
	! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
	clang -fsanitize=fuzzer,address,undefined -x c - -o /dev/null 2>/dev/null; then
	echo "# SKIP: clang with libFuzzer and the sanitizers is needed (Debian: clang libclang-rt-14-dev)"
	exit 77
fi

# Configure and build under a lock: the suite's tests and a long run may
# share the build directory.
build_targets() {
	local log=$build/fuzz-build.log ninja_targets=(tests/fuzz/make_seeds) t
	for t in $targets; do
		ninja_targets+=("tests/fuzz/fuzz_$t")
	done
	(
		flock 9
		: >"$log"
		if [ ! -f "$fuzz_build/build.ninja" ]; then
			# Every library instrumented for libFuzzer's coverage; undefined
			# behaviour stops the run like a crash.
			CC=clang meson setup "$fuzz_build" "$src" -Dfuzzing=true \
				-Db_sanitize=address,undefined -Db_lundef=false \
				-Dc_args="-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" \
				-Dc_link_args=-fno-sanitize-recover=all >>"$log" 2>&1 || exit 1
		fi
		ninja -C "$fuzz_build" -j "$(nproc)" "${ninja_targets[@]}" >>"$log" 2>&1 || exit 1
		rm -rf "$fuzz_build/seeds"
		"$fuzz_build/tests/fuzz/make_seeds" "$fuzz_build/seeds" >>"$log" 2>&1
	) 9>"$build/fuzz.lock"
	local status=$?
	[ $status -eq 0 ] || { echo "# the fuzz build failed ($log):"; tail -n 40 "$log" | sed 's/^/#   /'; }
	return $status
}

# UBSan: a report is a crash (the build also says -fno-sanitize-recover).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

# fuzz_one TARGET: returns 0 when the run ended cleanly with no new reproducer.
fuzz_one() {
	local t=$1 exe=$fuzz_build/tests/fuzz/fuzz_$1
	local corpus=$build/fuzz-corpus/$1 crashes=$build/fuzz-crashes/$1 logs=$build/fuzz-logs/$1
	local marker status found=0 f
	local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
		-artifact_prefix="$crashes/")

	mkdir -p "$corpus" "$crashes" "$logs"
	marker=$(mktemp)
	[ -f "$fuzz_build/seeds/$t.dict" ] && args+=(-dict="$fuzz_build/seeds/$t.dict")
	[ "$jobs" -gt 1 ] && args+=(-jobs="$jobs" -workers="$jobs")
	echo "# fuzz_$t: $seconds s, $jobs job(s), corpus $corpus"
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
	(cd "$logs" && "$exe" "${args[@]}" ${FUZZ_ARGS:-} "$corpus" "$fuzz_build/seeds/$t") 2>&1 |
		grep -v -e '^#[0-9]' -e '^INFO: ' -e '^MS: ' -e '^[[:space:]]*$' -e '^base unit:' -e '^0x' -e '^"' -e '^######' -e 'NEW_FUNC'
	status=${PIPESTATUS[0]}
	for f in $(find "$crashes" -type f -newer "$marker" \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) 2>/dev/null); do
		echo "# reproducer: $f"
		echo "#   run it again: $exe $f"
		found=1
	done
	rm -f "$marker"
	if [ "$status" -ne 0 ] || [ $found -ne 0 ]; then
		[ "$jobs" -gt 1 ] && echo "# job logs: $logs/fuzz-*.log"
		echo "not ok - fuzz_$t (exit $status)"
		return 1
	fi
	echo "ok - fuzz_$t"
	return 0
}

build_targets || { echo "0 passed, 1 failed"; exit 1; }
passed=0 failed=0
for t in $targets; do
	if fuzz_one "$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
