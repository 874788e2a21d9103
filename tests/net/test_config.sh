#!/usr/bin/env bash
# The configuration checker: `stampede check` accepts a good file and the
# embedded default (--print-default), and refuses each kind of mistake with
# FILE:LINE naming the offending line and what is wrong; `stampede serve` with
# a bad file exits with the same error before it touches the interface.
source "$(dirname "$0")/lib.sh"
require_root
STAMPEDE=$BUILD_DIR/stampede
mkdir -p "$ROOT"
for f in undionly.kpxe ipxe.efi; do echo "$f" >"$ROOT/$f"; done

# run_check NAME: `stampede check $WORK/NAME.yaml`; sets RC, OUT, ERR.
run_check() {
	OUT=$(timeout 10 "$STAMPEDE" check "$WORK/$1.yaml" 2>"$WORK/$1.err")
	RC=$?
	ERR=$(cat "$WORK/$1.err")
}

# config_error NAME LINE PATTERN DESCRIPTION < YAML: the file is refused, and
# an error names NAME.yaml at exactly LINE and matches PATTERN (grep -E).
config_error() {
	local name=$1 line=$2 pattern=$3 what=$4 at
	cat >"$WORK/$name.yaml"
	run_check "$name"
	check "$what: refused (exit $RC)" test "$RC" -ne 0 -a "$RC" -ne 124
	at=$(grep -oE "$WORK/$name\.yaml:[0-9]+(:[0-9]+)?:" <<<"$ERR" | head -1)
	expect_eq "$what: the error names $name.yaml:$line" "$WORK/$name.yaml:$line:" "$(grep -oE "$WORK/$name\.yaml:[0-9]+:" <<<"$at")"
	check "$what: the error says what is wrong (/$pattern/): $(head -1 <<<"$ERR")" grep -qE "$pattern" <<<"$ERR"
}

# ---- a good file ---------------------------------------------------------------
cat >"$WORK/good.yaml" <<EOF
# A lab: two profiles, per-MAC selectors, a boot server for UEFI.
tftp:
  root: $ROOT
  cache_mb: 64
  port_range: 62000-63000
  max_sessions: 500
http:
  port: 8081
  root: $ROOT
  url: http://10.201.0.1:8081/
proxydhcp:
  boot_files:
    bios: undionly.kpxe
    efi-x64: ipxe.efi
    efi-x64-http: ipxe.efi
  boot_server: [efi-x64]
  prompt:
    text: Press F8
    timeout: 5
  pxelinux:
    config_file: pxelinux.cfg/default
    path_prefix: http://10.201.0.1:8081/
  allow_subnets: [10.201.0.0/24]
  deny_macs: ["52:54:00:00:00:ff"]
  unmatched: default
profiles:
  debian:
    kernel: debian/vmlinuz
    initrd: debian/initrd.img
    cmdline: console=ttyS0
  disk:
    action: local
machines:
  - mac: "52:54:00:00:00:01"
    profile: debian
    hostname: node1
  - uuid: 1b4e28ba-2dfe-41a8-9c6d-2a3f5b6c7d8e
    profile: disk
default_profile: menu
menu_timeout: 10
EOF
run_check good
expect_eq "a good file: exit 0" 0 "$RC"
check "a good file: says ok with its contents ($OUT)" \
	grep -q "^$WORK/good.yaml: ok: 2 profiles, 2 machine selectors, default profile menu" <<<"$OUT"
expect_eq "a good file: no error or warning" "" "$ERR"

# ---- the embedded default ------------------------------------------------------------
"$STAMPEDE" check --print-default >"$WORK/default.yaml"
expect_eq "--print-default: exit 0" 0 "$?"
check "--print-default: prints YAML naming the boot files" grep -q "^  boot_files:" "$WORK/default.yaml"
run_check default
expect_eq "--print-default's output passes check" 0 "$RC"
check "--print-default's output: ok" grep -q "^$WORK/default.yaml: ok:" <<<"$OUT"

# ---- each kind of mistake -----------------------------------------------------------
config_error syntax 3 'YAML syntax' "YAML syntax error" <<'EOF'
# a value with a colon in it
tftp:
  root: /srv/tftp: boot
EOF
config_error unknown-key 4 'unknown key "rooot" in tftp' "unknown key" <<EOF
# a typo
tftp:
  root: $ROOT
  rooot: /srv
EOF
config_error bad-mac 7 '"52:54:00:zz:00:01" is not a MAC address' "bad MAC" <<EOF
# the second MAC
tftp:
  root: $ROOT
proxydhcp:
  deny_macs:
    - "52:54:00:00:00:01"
    - "52:54:00:zz:00:01"
EOF
config_error bad-subnet 6 '"10.1.0.0/33" is not a subnet' "bad subnet" <<EOF
# a list over two lines
tftp:
  root: $ROOT
proxydhcp:
  allow_subnets: [10.0.0.0/8,
    10.1.0.0/33]
EOF
config_error unknown-arch 7 'unknown architecture "efi-x65"' "unknown architecture (boot_files)" <<EOF
# a typo in an architecture
tftp:
  root: $ROOT
proxydhcp:
  boot_files:
    bios: undionly.kpxe
    efi-x65: ipxe.efi
EOF
config_error unknown-arch-selector 8 'unknown architecture "arm"' "unknown architecture (machine selector)" <<EOF
# a selector by architecture
tftp:
  root: $ROOT
machines:
  - mac: "52:54:00:00:00:01"
    profile: menu
  - profile: local
    arch: arm
EOF
config_error unknown-profile 6 'no profile named "nosuch"' "unknown profile (machine)" <<EOF
# a machine naming a profile that does not exist
tftp:
  root: $ROOT
machines:
  - {mac: "52:54:00:00:00:01", profile: menu}
  - {mac: "52:54:00:00:00:02", profile: nosuch}
EOF
config_error unknown-default-profile 5 'no profile named "nosuch"' "unknown profile (default_profile)" <<EOF
# default_profile naming a profile that does not exist
tftp:
  root: $ROOT
menu_timeout: 5
default_profile: nosuch
EOF
config_error duplicate-key 4 '"root" appears twice in tftp' "duplicate key" <<EOF
# the same key twice
tftp:
  root: $ROOT
  root: /srv
EOF
config_error duplicate-profile 7 'profile "a" is defined twice' "duplicate profile" <<EOF
# the same profile twice
tftp:
  root: $ROOT
profiles:
  a:
    kernel: a/vmlinuz
  a:
    kernel: b/vmlinuz
EOF
config_error out-of-range 6 'http.port must be a whole number from 1 to 65535, not "70000"' "number out of range" <<EOF
# a port that does not exist
tftp:
  root: $ROOT
http:
  root: $ROOT
  port: 70000
EOF
config_error url-for-pxe 7 'give a file name, not a URL' "URL for a PXE architecture" <<EOF
# PXE firmware fetch by TFTP: a URL is for the -http architectures only
tftp:
  root: $ROOT
proxydhcp:
  boot_files:
    efi-x64: ipxe.efi
    bios: http://10.201.0.1:8080/undionly.kpxe
EOF

cat >"$WORK/two-errors.yaml" <<EOF
tftp:
  root: $ROOT
  max_windowsize: 0
http:
  colour: blue
EOF
run_check two-errors
check "two mistakes: both reported in one pass" \
	bash -c 'grep -q "two-errors.yaml:3:.*max_windowsize" <<<"$1" && grep -q "two-errors.yaml:5:.*unknown key \"colour\"" <<<"$1"' _ "$ERR"

timeout 10 "$STAMPEDE" check "$WORK/does-not-exist.yaml" 2>"$WORK/missing.err" >/dev/null
expect_eq "a missing file: exit 1" 1 "$?"
check "a missing file: says it cannot read it" grep -q "does-not-exist.yaml: cannot read" "$WORK/missing.err"

# ---- serve with a bad file ---------------------------------------------------------------
# An interface of its own, in a namespace, to show it is left alone.
ip netns add "$SRV_NS" && in_srv ip link add "$SRV_IF" type veth peer name "$CLI_IF" && in_srv ip addr add "$SRV_IP/24" dev "$SRV_IF" &&
	in_srv ip link set "$SRV_IF" up || { echo "# namespace set-up failed"; finish; }
link_before=$(in_srv ip -d link show "$SRV_IF")
addr_before=$(in_srv ip -o addr show "$SRV_IF")
start=$(date +%s)
in_srv timeout 20 "$STAMPEDE" serve --iface "$SRV_IF" --config "$WORK/url-for-pxe.yaml" --tftp-root "$ROOT" \
	--stats-socket "$CTL" >"$WORK/serve.out" 2>&1
rc=$?
elapsed=$(($(date +%s) - start))
check "serve --config BAD: exits non-zero (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "serve --config BAD: exits at once (${elapsed} s)" test "$elapsed" -le 3
check "serve --config BAD: prints the file's error" grep -q "url-for-pxe.yaml:.*give a file name, not a URL" "$WORK/serve.out"
check "serve --config BAD: no dataplane was started" bash -c '! grep -q "dataplane" "$1"' _ "$WORK/serve.out"
check "serve --config BAD: no control socket was created" test ! -e "$CTL"
expect_eq "serve --config BAD: the interface is untouched (no XDP program, same state)" "$link_before" "$(in_srv ip -d link show "$SRV_IF")"
expect_eq "serve --config BAD: the interface's addresses are untouched" "$addr_before" "$(in_srv ip -o addr show "$SRV_IF")"
check "serve --config BAD: nothing listens on the HTTP port" bash -c '! ip netns exec "$1" ss -Hltn "sport = :8080" | grep -q .' _ "$SRV_NS"

# ---- serve --addr that cannot be the boot server's ----------------------------------------
for bad in 0.0.0.0 255.255.255.255 10.201.0 not-an-address; do
	in_srv timeout 20 "$STAMPEDE" serve --iface "$SRV_IF" --tftp-root "$ROOT" --addr "$bad" --stats-socket "$CTL" \
		>"$WORK/addr.out" 2>&1
	rc=$?
	check "serve --addr $bad: refused (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
	check "serve --addr $bad: says why" grep -q -- "--addr $bad: expected the server's IPv4 address" "$WORK/addr.out"
	expect_eq "serve --addr $bad: the interface is untouched" "$link_before" "$(in_srv ip -d link show "$SRV_IF")"
done
finish
