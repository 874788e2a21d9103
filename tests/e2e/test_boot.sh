#!/bin/bash
# End to end: real firmware under QEMU (software emulation) boots a Linux
# kernel and a busybox initramfs from Stampede, beside an untouched site DHCP
# server (dnsmasq, DHCP only):
#   bios        SeaBIOS + QEMU's iPXE ROM: proxyDHCP -> HTTP script -> kernel
#   uefi        OVMF whose first stage is EDK2's own PXE (the NIC has no option
#               ROM): proxyDHCP -> TFTP ipxe.efi -> proxyDHCP (iPXE) -> HTTP
#   bios-relay, uefi-relay  clients on another subnet behind isc-dhcp-relay
# Each must print the initramfs marker, with the kernel command line of
# Stampede's profile, or the test fails; the dataplane's events must show the
# proxy offers and (UEFI) the TFTP transfer of ipxe.efi.
#
# E2E_KINDS selects the boots; LAB_CAPTURE_DIR=DIR keeps one pcapng of the
# DHCP exchanges per boot (how tests/unit's firmware fixtures were taken).

LAB_BOOT_SERVER=stampede
. "$(dirname "${BASH_SOURCE[0]}")/lab.sh"
. "$(dirname "${BASH_SOURCE[0]}")/stampede_server.sh"

KINDS=${E2E_KINDS:-bios uefi bios-relay uefi-relay}
PASSED=0
FAILED=0
TIMES=()

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
expect() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

finish() {
	[ ${#TIMES[@]} -gt 0 ] && echo "# boot times under TCG (QEMU start to marker): ${TIMES[*]}"
	if [ "$FAILED" -gt 0 ]; then
		echo "# stampede log (last 40 lines):"
		tail -40 "$LAB_WORK/stampede.log" 2>/dev/null | sed 's/^/#   /'
	fi
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit
}

if ! lab_require || [ ! -x "$BUILD_DIR/stampede" ]; then
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi

if lab_setup && lab_start_boot_server; then
	ok "lab set up with Stampede as the boot server"
else
	not_ok "lab set up with Stampede as the boot server"
	lab_dump_logs
	finish
fi

for kind in $KINDS; do
	case $kind in
	uefi*) limit=400 ;;
	*) limit=240 ;;
	esac
	offers_before=$(lab_stampede_counter dhcp_offer)
	if lab_boot "$kind" "$limit"; then
		ok "$kind: booted to the initramfs marker in ${LAB_BOOT_SECONDS}s"
		TIMES+=("$kind=${LAB_BOOT_SECONDS}s")
		case $LAB_BOOT_MARKER_LINE in
		*"stampede.lab=$LAB_P"*) ok "$kind: kernel command line from Stampede's profile" ;;
		*) not_ok "$kind: kernel command line from Stampede's profile (got: $LAB_BOOT_MARKER_LINE)" ;;
		esac
	else
		not_ok "$kind: booted to the initramfs marker (gave up after ${LAB_BOOT_SECONDS}s)"
		TIMES+=("$kind=FAILED")
	fi
	offers=$(lab_stampede_counter dhcp_offer)
	expect "$kind: Stampede sent proxy offers (${offers_before:-?} -> ${offers:-?})" \
		test "${offers:-0}" -gt "${offers_before:-0}"
	case $kind in
	uefi*)
		expect "$kind: EDK2 loaded ipxe.efi over Stampede's TFTP" \
			grep -q " tftp .*state=completed .*file=ipxe.efi" "$LAB_WORK/stampede.log" ;;
	esac
done

expect "iPXE fetched its script from Stampede's HTTP server" grep -q "http method=GET target=/boot.ipxe" "$LAB_WORK/stampede.log"
expect "the kernel and initrd came over Stampede's HTTP server" \
	grep -q "target=/initrd.img status=200" "$LAB_WORK/stampede.log"
expect "the site DHCP server leased the addresses" test -s "$LAB_WORK/site-dhcp.leases"
finish
