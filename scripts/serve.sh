#!/usr/bin/env bash
# The one command that starts serving: set-up (packages, hugepages, build), then
#   build/stampede serve "$@"
# e.g. scripts/serve.sh --iface eth1   (serves Debian's iPXE binaries by default)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
exec "${STAMPEDE_BUILD_DIR:-build}/stampede" serve "$@"
