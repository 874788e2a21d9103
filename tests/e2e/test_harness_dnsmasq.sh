#!/bin/bash
# Proves the end-to-end boot lab (lab.sh) with dnsmasq standing in for the
# boot server: real firmware under QEMU (SeaBIOS + QEMU's iPXE ROM, and OVMF
# with EDK2's own PXE) boots Debian's kernel and a busybox initramfs over
# proxyDHCP -> TFTP -> HTTP, on the PXE segment and through a DHCP relay.
#
# E2E_KINDS selects the boots (default: bios uefi bios-relay uefi-relay).
# LAB_CAPTURE_DIR=DIR keeps one pcapng of the DHCP exchanges per boot.
# Exit 77 (skipped) without root or the needed packages.

LAB_BOOT_SERVER=dnsmasq
. "$(dirname "${BASH_SOURCE[0]}")/lab.sh"

KINDS=${E2E_KINDS:-bios uefi bios-relay uefi-relay}
PASSED=0
FAILED=0
TIMES=()

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

finish() {
	if [ ${#TIMES[@]} -gt 0 ]; then
		echo "# boot times under TCG (QEMU start to marker): ${TIMES[*]}"
	fi
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit
}

if ! lab_require; then
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi

if lab_setup && lab_start_boot_server; then
	ok "lab set up with the dnsmasq stand-in boot server"
else
	not_ok "lab set up with the dnsmasq stand-in boot server"
	lab_dump_logs
	finish
fi

for kind in $KINDS; do
	# UEFI under emulation needs more room (OVMF start-up, two DHCP rounds).
	case $kind in
	uefi*) limit=300 ;;
	*) limit=180 ;;
	esac
	if lab_boot "$kind" "$limit"; then
		ok "$kind: booted to the initramfs marker in ${LAB_BOOT_SECONDS}s"
		TIMES+=("$kind=${LAB_BOOT_SECONDS}s")
		# The command line proves the kernel came with this lab's script.
		case $LAB_BOOT_MARKER_LINE in
		*"stampede.lab=$LAB_P"*) ok "$kind: kernel command line from the lab's iPXE script" ;;
		*) not_ok "$kind: kernel command line from the lab's iPXE script (got: $LAB_BOOT_MARKER_LINE)" ;;
		esac
	else
		not_ok "$kind: booted to the initramfs marker (gave up after ${LAB_BOOT_SECONDS}s)"
		TIMES+=("$kind=FAILED")
	fi
done

finish
