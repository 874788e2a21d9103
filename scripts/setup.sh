#!/usr/bin/env bash
# Stampede's one set-up script: Debian packages, hugepages, build.
# Idempotent: re-running it changes nothing that is already in place.
# Needs root (apt-get, mount, /proc/sys). Environment:
#   STAMPEDE_HUGEPAGES  2 MiB pages to reserve (default 1024 = 2 GiB)
#   STAMPEDE_BUILD_DIR  build directory (default build/ in the repository)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
	# build
	meson ninja-build pkg-config gcc clang llvm libc6-dev linux-libc-dev
	dpdk-dev libdpdk-dev libbpf-dev libxdp-dev libelf-dev zlib1g-dev libpcap-dev
	libcriterion-dev libssl-dev
	# tests/fuzz: clang's libFuzzer and sanitizer runtimes (clang only recommends them)
	libclang-rt-14-dev
	# privileges: what each process keeps once it serves (dataplane/privileges.c)
	libcap-ng-dev
	# control plane: configuration (YAML), HTTP server, JSON API, boot API client
	libyaml-dev libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev
	# what `stampede serve` serves with no root given: Debian's iPXE binaries
	ipxe
	# tests: namespaces, real clients, probes
	iproute2 iputils-ping ethtool python3 curl atftp tftp-hpa
	# site DHCP server, relay and real firmware for the proxyDHCP and boot tests
	isc-dhcp-relay qemu-system-x86 ovmf ipxe-qemu busybox-static cpio
	# the dashboard's test: a headless browser and a look at its screenshot
	chromium python3-pil
	# benchmark peers (atftpd conflicts with tftpd-hpa: bench/tftp_deep.sh unpacks it),
	# Kea's perfdhcp, and gnuplot for the swarm's plots (bench/swarm_plot.sh)
	tftpd-hpa dnsmasq-base libwrap0 libpcre2-8-0 nginx-light kea-admin gnuplot-nox jq
)

say() { printf 'setup: %s\n' "$*"; }

install_packages() {
	local missing=()
	local p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && { say "Debian packages present"; return; }
	say "installing ${missing[*]}"
	# Packages such as tftpd-hpa start a daemon on install; a boot server host
	# must not grow one behind the operator's back, so forbid service starts.
	local policy=/usr/sbin/policy-rc.d created_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod +x "$policy"
		created_policy=1
	fi
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
	[ $created_policy -eq 1 ] && rm -f "$policy"
	return 0
}

reserve_hugepages() {
	local want=${STAMPEDE_HUGEPAGES:-1024}
	local have
	if ! grep -q ' hugetlbfs ' /proc/mounts; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs nodev /dev/hugepages
		say "mounted hugetlbfs on /dev/hugepages"
	fi
	have=$(cat /proc/sys/vm/nr_hugepages)
	if [ "$have" -lt "$want" ]; then
		echo "$want" >/proc/sys/vm/nr_hugepages
		have=$(cat /proc/sys/vm/nr_hugepages)
	fi
	if [ "$have" -lt "$want" ]; then
		say "only $have of $want hugepages could be reserved (memory fragmented?); stampede falls back to --no-huge when short"
	else
		say "$have hugepages of 2 MiB reserved"
	fi
}

build() {
	local dir=${STAMPEDE_BUILD_DIR:-build}
	[ -f "$dir/build.ninja" ] || meson setup "$dir"
	ninja -C "$dir"
}

if [ "$(id -u)" -ne 0 ]; then
	say "run me as root: I install packages and reserve hugepages"
	exit 1
fi
# The end-to-end tests' and the demo's kernel and initramfs, from Debian's
# packages (tests/e2e/assets.sh; cached, so this is quick after the first time).
e2e_assets() {
	bash tests/e2e/assets.sh "${STAMPEDE_BUILD_DIR:-build}/e2e-assets" | sed 's/^/setup: /'
}

install_packages
reserve_hugepages
build
e2e_assets
