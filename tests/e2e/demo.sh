#!/bin/bash
# `stampede demo`: a whole PXE network in namespaces on this machine, and one
# machine booting from Stampede, narrated as it happens.
#
#   site DHCP server (dnsmasq, addresses only)  ─┐
#   Stampede (proxyDHCP, TFTP, HTTP) on a veth  ─┼─ bridge ─ tap ─ QEMU machine
#                                                 (and a routed segment behind a DHCP relay)
#
# Usage: stampede demo [bios|uefi|bios-relay|uefi-relay]   (default bios)
# BIOS boots in about 15 s under software emulation, UEFI in one to two
# minutes. Everything is torn down at the end, or on Ctrl-C.

LAB_BOOT_SERVER=stampede
LAB_IPV6_RA=${LAB_IPV6_RA:-1}
. "$(dirname "${BASH_SOURCE[0]}")/lab.sh"
. "$(dirname "${BASH_SOURCE[0]}")/stampede_server.sh"

kind=${1:-bios}
case $kind in
bios | uefi | bios-relay | uefi-relay) ;;
*) echo "usage: stampede demo [bios|uefi|bios-relay|uefi-relay]" >&2; exit 2 ;;
esac
if ! lab_require; then
	echo "stampede demo: run scripts/setup.sh first (as root): it installs QEMU, OVMF, dnsmasq and the relay" >&2
	exit 1
fi
if [ ! -x "$BUILD_DIR/stampede-dataplane" ]; then
	echo "stampede demo: $BUILD_DIR has no build: run scripts/setup.sh first" >&2
	exit 1
fi

echo "== Stampede demo: a $kind machine PXE-boots beside an untouched site DHCP server"
echo "== 1. building the lab (namespaces $LAB_P*, addresses in 10.210.0.0/24 and 10.211.0.0/24)"
lab_setup || exit 1
echo "== 2. starting Stampede on $LAB_SRV_IF ($LAB_SERVER_IP): proxyDHCP + TFTP dataplane, HTTP on :$LAB_HTTP_PORT"
lab_start_boot_server || exit 1
# Stampede's side of the story, interleaved with the machine's console.
tail -n0 -F --pid=$$ "$LAB_WORK/stampede.log" 2>/dev/null |
	grep --line-buffered -E " (info|warn) (dhcp|tftp|http) " |
	sed -u -e 's/^[^ ]* [a-z]* /   [stampede] /' &
lab_track $!
echo "== 3. powering on the machine; its console and Stampede's events follow"
if lab_boot "$kind" 400; then
	echo "== 4. done: the machine booted Linux from Stampede in ${LAB_BOOT_SECONDS}s and printed:"
	echo "      $LAB_BOOT_MARKER_LINE"
	echo "== counters:"
	"$BUILD_DIR/stampede" stats --socket "$LAB_STAMPEDE_SOCKET" |
		grep -E '^(dhcp_(offer|ack|not_pxe) |tftp_transfers_completed |tftp_data_bytes )' | sed 's/^/   /'
	exit 0
fi
echo "== the machine did not boot; the logs are above"
exit 1
