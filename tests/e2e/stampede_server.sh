# Stampede as the lab's boot server (lab.sh's plug-in contract): source after
# lab.sh and set LAB_BOOT_SERVER=stampede.
#
# It writes a configuration that boots every machine into the lab's kernel
# and initramfs (profile "lab", the default), starts `stampede serve` in the
# server namespace on the lab's veth, and waits until the dataplane has the
# proxyDHCP policy. TFTP serves Debian's iPXE binaries from /usr/lib/ipxe;
# HTTP serves a copy of the kernel and initrd (copies: the HTTP server refuses
# symlinks that leave its root).

LAB_STAMPEDE_SOCKET=$LAB_WORK/stampede.sock
LAB_STAMPEDE_CONFIG=$LAB_WORK/stampede.yaml
LAB_STAMPEDE_EXTRA=${LAB_STAMPEDE_EXTRA:-} # more `stampede serve` arguments, e.g. --no-huge

lab_stampede_config() {
	cat <<CONFIG
tftp:
  root: /usr/lib/ipxe
  cache_mb: 64
http:
  port: $LAB_HTTP_PORT
  root: $LAB_WORK/stampede-http
proxydhcp:
  boot_files:
    bios: undionly.kpxe
    efi-x64: ipxe.efi
profiles:
  lab:
    description: the e2e lab's kernel and busybox initramfs
    kernel: vmlinuz
    initrd: initrd.img
    cmdline: $LAB_KERNEL_ARGS
default_profile: lab
CONFIG
}

lab_stampede_counter() {
	"$BUILD_DIR/stampede" stats --socket "$LAB_STAMPEDE_SOCKET" 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'
}

lab_start_boot_server_stampede() {
	local http=$LAB_WORK/stampede-http
	mkdir -p "$http"
	cp "$LAB_ASSETS/vmlinuz" "$LAB_ASSETS/initrd.img" "$http/"
	chmod -R a+rX "$http"
	lab_stampede_config >"$LAB_STAMPEDE_CONFIG"
	# shellcheck disable=SC2086 # LAB_STAMPEDE_EXTRA is a list of words
	lab_bg "$LAB_SRV_NS" "$LAB_WORK/stampede.log" "$BUILD_DIR/stampede" serve --iface "$LAB_SRV_IF" \
		--config "$LAB_STAMPEDE_CONFIG" --stats-socket "$LAB_STAMPEDE_SOCKET" $LAB_STAMPEDE_EXTRA
	LAB_STAMPEDE_PID=$LAB_LAST_PID
	lab_wait 60 "Stampede's proxyDHCP policy" bash -c \
		"'$BUILD_DIR/stampede' stats --socket '$LAB_STAMPEDE_SOCKET' | grep -qx 'dhcp_policy_loaded 1'" || {
		sed 's/^/#   /' "$LAB_WORK/stampede.log" | tail -30
		return 1
	}
	lab_wait 10 "Stampede's HTTP server" lab_in "$LAB_SRV_NS" curl -sf -o /dev/null "$LAB_HTTP_BASE/boot.ipxe"
}
