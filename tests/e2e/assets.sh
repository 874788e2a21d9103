#!/bin/bash
# tests/e2e/assets.sh [DIR]: build the boot payload for the end-to-end tests.
#
# Produces, in DIR (default $BUILD_DIR/e2e-assets, BUILD_DIR defaulting to the
# repository's build/):
#   vmlinuz     Debian's stock x86-64 kernel, taken from the versioned package
#               that linux-image-amd64 depends on (apt-get download + dpkg -x)
#   initrd.img  a tiny busybox initramfs whose /init prints
#               "STAMPEDE-E2E-MARKER booted" and the kernel command line to the
#               serial console, then powers the machine off
#
# Idempotent: files already present and complete are kept. Delete DIR (or one
# of its files) to rebuild. Exit status non-zero, with a reason, on failure.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
DIR=${1:-$BUILD_DIR/e2e-assets}
MARKER="STAMPEDE-E2E-MARKER"
BUSYBOX=${BUSYBOX:-/bin/busybox}

say() { echo "assets: $*"; }
die() { echo "assets: error: $*" >&2; exit 1; }

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
TMP=$(mktemp -d /tmp/stampede-assets.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# kernel_package: the versioned image package behind the linux-image-amd64
# meta-package, e.g. linux-image-6.1.0-56-amd64.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# download PACKAGE: apt-get download into $TMP, output in $TMP/apt.log.
download() {
	say "kernel: downloading $1 with apt-get download"
	(cd "$TMP" && apt-get download -q "$1" >"$TMP/apt.log" 2>&1)
}

build_kernel() {
	if [ -s "$DIR/vmlinuz" ]; then
		say "kernel: $DIR/vmlinuz already built ($(cat "$DIR/vmlinuz.version" 2>/dev/null || echo unknown version))"
		return
	fi
	local pkg deb
	pkg=$(kernel_package)
	if [ -z "$pkg" ]; then
		# The package lists may simply be missing on a fresh machine.
		say "kernel: apt-cache knows no linux-image-amd64; running apt-get update"
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(kernel_package)
	fi
	[ -n "$pkg" ] || die "cannot find the kernel package linux-image-amd64 depends on (apt-cache depends linux-image-amd64)"
	# apt-get download writes into the current directory; as root, apt's
	# sandbox user _apt must be able to write there too.
	chmod 777 "$TMP"
	if ! download "$pkg"; then
		# Stale package lists name a version the mirror no longer has
		# (Debian replaces kernel packages with each security update).
		say "kernel: download failed; running apt-get update and retrying"
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(kernel_package)
		[ -n "$pkg" ] || die "cannot find the kernel package linux-image-amd64 depends on"
		if ! download "$pkg"; then
			sed 's/^/assets:   /' "$TMP/apt.log" >&2
			die "apt-get download $pkg failed (is a Debian mirror reachable?)"
		fi
	fi
	deb=$(find "$TMP" -maxdepth 1 -name "${pkg}_*.deb" | head -1)
	[ -n "$deb" ] || die "apt-get download $pkg produced no .deb"
	say "kernel: unpacking $(basename "$deb")"
	mkdir "$TMP/kpkg"
	dpkg -x "$deb" "$TMP/kpkg"
	local vmlinuz config
	vmlinuz=$(find "$TMP/kpkg/boot" -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | head -1)
	[ -n "$vmlinuz" ] || die "$pkg has no boot/vmlinuz-*"
	config=$(find "$TMP/kpkg/boot" -maxdepth 1 -name 'config-*' 2>/dev/null | head -1)
	check_kernel_config "$config"
	cp "$vmlinuz" "$DIR/vmlinuz.tmp"
	basename "$vmlinuz" | sed 's/^vmlinuz-//' >"$DIR/vmlinuz.version"
	mv "$DIR/vmlinuz.tmp" "$DIR/vmlinuz"   # rename last: a partial build is never "done"
	say "kernel: $DIR/vmlinuz ($(stat -c %s "$DIR/vmlinuz") bytes, $(cat "$DIR/vmlinuz.version"))"
}

# check_kernel_config CONFIG: the boot test needs, built in (=y, not modules,
# since the initramfs carries no modules): the 8250/16550 serial console for
# ttyS0, initramfs support with gzip, devtmpfs. The network is not needed:
# the kernel is loaded by the firmware / iPXE, not by itself.
check_kernel_config() {
	local config=$1 opt
	if [ -z "$config" ] || [ ! -f "$config" ]; then
		say "kernel: no config file in the package; skipping the built-in check"
		return
	fi
	for opt in CONFIG_SERIAL_8250 CONFIG_SERIAL_8250_CONSOLE CONFIG_BLK_DEV_INITRD CONFIG_RD_GZIP CONFIG_DEVTMPFS CONFIG_PROC_FS CONFIG_SYSFS; do
		grep -q "^$opt=y" "$config" || die "kernel config lacks $opt=y (needed to print the marker on ttyS0)"
	done
	say "kernel: 8250 serial console, gzip initramfs and devtmpfs are built in"
}

# write_init FILE: the initramfs' /init (busybox sh).
write_init() {
	cat >"$1" <<EOF
#!/bin/busybox sh
# Stampede e2e boot payload: prove the kernel and this initramfs arrived.
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
line="$MARKER booted: cmdline=\$(cat /proc/cmdline)"
# Both the serial port and the kernel console (the harness reads ttyS0).
echo "\$line" >/dev/ttyS0 2>/dev/null
echo "\$line" >/dev/console 2>/dev/null
echo "$MARKER poweroff" >/dev/ttyS0 2>/dev/null
sync
poweroff -f
# Should poweroff fail, do not let init exit (kernel panic): just wait.
while true; do sleep 60; done
EOF
	chmod 755 "$1"
}

build_initrd() {
	if [ -s "$DIR/initrd.img" ]; then
		say "initrd: $DIR/initrd.img already built"
		return
	fi
	[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (apt-get install busybox-static)"
	if ! file -L "$BUSYBOX" 2>/dev/null | grep -q "statically linked"; then
		die "$BUSYBOX is not statically linked (apt-get install busybox-static)"
	fi
	local root=$TMP/initrd
	say "initrd: busybox from $BUSYBOX, /init prints '$MARKER booted' and powers off"
	mkdir -p "$root"/{bin,dev,proc,sys}
	cp "$BUSYBOX" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	write_init "$root/init"
	# The kernel opens /dev/console from the initramfs to give /init its
	# stdio, before /init can mount devtmpfs: ship the node (needs root; the
	# marker is also written to /dev/ttyS0 after devtmpfs is mounted).
	mknod "$root/dev/console" c 5 1 2>/dev/null || say "initrd: cannot mknod /dev/console (not root?); /init will have no stdio"
	# Fixed timestamps and inode numbers: the same inputs give the same bytes.
	find "$root" -exec touch -h -d @0 {} +
	(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet --reproducible) >"$TMP/initrd.cpio"
	gzip -9 -n <"$TMP/initrd.cpio" >"$DIR/initrd.img.tmp"
	mv "$DIR/initrd.img.tmp" "$DIR/initrd.img"
	say "initrd: $DIR/initrd.img ($(stat -c %s "$DIR/initrd.img") bytes)"
}

say "building into $DIR"
build_kernel
build_initrd
say "done: $DIR/vmlinuz $DIR/initrd.img"
