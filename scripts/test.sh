#!/usr/bin/env bash
# Runs every test: set-up (packages, hugepages, build), then every meson test
# suite (unit, net, and any named on the command line: scripts/test.sh --suite unit),
# then one summary line counting the individual checks of every suite.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "set-up failed"; echo "0 passed, 1 failed"; exit 1; }
dir=${STAMPEDE_BUILD_DIR:-build}
meson test -C "$dir" --print-errorlogs "$@"
status=$?
python3 scripts/test_summary.py "$dir/meson-logs/testlog.json" || status=1
exit $status
