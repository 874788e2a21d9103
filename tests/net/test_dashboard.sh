#!/usr/bin/env bash
# The boot dashboard in a real browser. Three machines boot as far as the test
# lets them, from the client namespace:
#   A  PXE DISCOVER, the NBP over TFTP (curl), iPXE's DISCOVER, its script
#      (/boot.ipxe), kernel and initrd over HTTP: handed off;
#   B  a PXE DISCOVER and nothing more: still booting;
#   C  a PXE DISCOVER, then a TFTP read request it never acknowledges: the
#      server retransmits once after 100 ms, gives up, and C has failed.
# The API must say so; then headless Chromium, in the client namespace, loads
# GET / (the page embedded from control/dashboard/index.html), runs its
# JavaScript for 5 s of virtual time, and leaves the DOM and a screenshot: one
# row per MAC with its state, and in the picture the failed row's red, the
# throughput graph's two series, no disconnected banner.
source "$(dirname "$0")/lib.sh"
require_root

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
CHECK="$TESTS_DIR/dashboard_check.py"
PIL_PY=""
for py in python3 /usr/bin/python3; do
	if "$py" -c 'import PIL' 2>/dev/null; then PIL_PY=$py; break; fi
done
if [ -z "$CHROMIUM" ] || [ -z "$PIL_PY" ]; then
	echo "# needs chromium and python3-pil (scripts/setup.sh installs them)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi

net_setup || { echo "# topology set-up failed"; finish; }

MAC_A=52:54:00:da:5b:0a
MAC_B=52:54:00:da:5b:0b
MAC_C=52:54:00:da:5b:0c
IP_C=10.201.0.12            # C's TFTP comes from a hand-made frame; nothing owns this address
BIOS_VC=PXEClient:Arch:00000:UNDI:002001
EFI_VC=PXEClient:Arch:00007:UNDI:003000
API=http://$SRV_IP:8080/api/v1

# A's own traffic (TFTP, HTTP) must carry A's MAC: the dataplane names a TFTP
# transfer's machine by the frame's source address.
in_cli ip link set "$CLI_IF" address "$MAC_A"

HTTP_ROOT=$WORK/http
mkdir -p "$HTTP_ROOT/lab"
head -c 3000000 /dev/urandom >"$ROOT/undionly.kpxe"
head -c 1048576 /dev/urandom >"$ROOT/ipxe.efi"
head -c 4000000 /dev/urandom >"$HTTP_ROOT/lab/vmlinuz"
head -c 8000000 /dev/urandom >"$HTTP_ROOT/lab/initrd.img"
chmod -R a+rX "$ROOT" "$HTTP_ROOT"
cat >"$WORK/dashboard.yaml" <<EOF
http:
  port: 8080
  root: $HTTP_ROOT
proxydhcp:
  boot_files:
    bios: undionly.kpxe
    efi-x64: ipxe.efi
profiles:
  lab:
    description: dashboard test kernel
    kernel: lab/vmlinuz
    initrd: [lab/initrd.img]
    cmdline: console=ttyS0 hostname=\${hostname}
machines:
  - {mac: $MAC_A, hostname: node-a, profile: lab}
default_profile: menu
EOF

T0=$(date +%s.%N)
start_stampede --config "$WORK/dashboard.yaml" --http-root "$HTTP_ROOT" --retransmit-ms 100 --max-retries 1 ||
	{ echo "not ok - stampede starts"; FAILED=1; finish; }
check "the dataplane has a proxyDHCP policy" wait_policy

# ---- the three machines ------------------------------------------------------
dhcp_probe --mac "$MAC_A" --vendor-class "$BIOS_VC" --arch 0 --wait 1 >"$WORK/dhcp-a" 2>&1
in_cli curl -s --max-time 30 -o "$WORK/a.nbp" "tftp://$SRV_IP/undionly.kpxe"
expect_eq "A: the NBP downloads over TFTP" "$(sha "$ROOT/undionly.kpxe")" "$(sha "$WORK/a.nbp" 2>/dev/null)"
dhcp_probe --mac "$MAC_A" --vendor-class "$BIOS_VC" --arch 0 --ipxe --wait 1 >>"$WORK/dhcp-a" 2>&1
in_cli curl -s --max-time 10 -o "$WORK/a.ipxe" "http://$SRV_IP:8080/boot.ipxe?mac=$MAC_A"
check "A: its script names the lab kernel" grep -q 'lab/vmlinuz' "$WORK/a.ipxe"
in_cli curl -s --max-time 30 -o "$WORK/a.kernel" "http://$SRV_IP:8080/lab/vmlinuz"
in_cli curl -s --max-time 30 -o "$WORK/a.initrd" "http://$SRV_IP:8080/lab/initrd.img"
expect_eq "A: the initrd downloads over HTTP" "$(sha "$HTTP_ROOT/lab/initrd.img")" "$(sha "$WORK/a.initrd" 2>/dev/null)"

dhcp_probe --mac "$MAC_B" --vendor-class "$EFI_VC" --arch 7 --wait 1 >"$WORK/dhcp-b" 2>&1
check "B: Stampede offers it a boot file" grep -q '"file": "ipxe.efi"' "$WORK/dhcp-b"

dhcp_probe --mac "$MAC_C" --vendor-class "$EFI_VC" --arch 7 --wait 1 >"$WORK/dhcp-c" 2>&1
SRV_MAC=$(in_srv cat "/sys/class/net/$SRV_IF/address")
in_cli python3 "$CHECK" rrq-frame "$CLI_IF" "$MAC_C" "$IP_C" "$SRV_MAC" "$SRV_IP" ipxe.efi >/dev/null
check "C: its transfer times out (retransmitted once, after 100 ms)" wait_counter tftp_transfers_timed_out 1 10

# api PATH JQ: JQ applied to GET /api/v1/PATH, from the client ("" when it fails).
api() { in_cli curl -s --max-time 5 "$API/$1" | jq -r "$2" 2>/dev/null; }
# state MAC: the machine's state in the API ("absent" if not listed).
state() {
	api machines "[.machines[] | select(.mac == \"$1\")] | if length == 0 then \"absent\" else .[0].state end"
}
# The events reach the control plane asynchronously: wait (at most 10 s) until
# all three machines are where the test took them.
deadline=$((SECONDS + 10))
while [ "$(state "$MAC_A") $(state "$MAC_B") $(state "$MAC_C")" != "handed_off booting failed" ] &&
	[ "$SECONDS" -lt "$deadline" ]; do
	sleep 0.2
done
expect_eq "API: A is handed off" handed_off "$(state "$MAC_A")"
expect_eq "API: B is booting" booting "$(state "$MAC_B")"
expect_eq "API: C has failed" failed "$(state "$MAC_C")"
expect_eq "API: C's last error names the timed-out transfer" "tftp ipxe.efi timed_out" \
	"$(api "machines/${MAC_C//:/-}" .last_error)"
expect_eq "API: A's hostname and profile come from the configuration" "node-a lab" \
	"$(api "machines/$MAC_A" '"\(.hostname) \(.profile)"')"
expect_eq "API: A's timeline reaches the initrd" initrd "$(api "machines/$MAC_A" '.timeline[-1].stage')"
expect_eq "API: the throughput samples show TFTP and HTTP traffic" "true true" \
	"$(api throughput '"\([.samples[].tftp_bytes_per_s] | max > 0) \([.samples[].http_bytes_per_s] | max > 0)"')"

in_cli curl -s --max-time 5 -D "$WORK/page.headers" -o "$WORK/page.html" "http://$SRV_IP:8080/"
check "GET / serves control/dashboard/index.html byte for byte" \
	cmp -s "$WORK/page.html" "$TESTS_DIR/../../control/dashboard/index.html"
check "GET / says text/html" grep -qi '^content-type: text/html' "$WORK/page.headers"
T_BOOTS=$(date +%s.%N)

# ---- the page in Chromium ------------------------------------------------------
# New headless mode (the old one is gone from Chromium 132 on); as root it needs
# --no-sandbox. 5 s of virtual time: the page polls at once and then every
# second; network waits do not use up the budget. The profile and HOME stay in
# $WORK, so nothing is left behind.
mkdir -p "$WORK/chromium"
in_cli env HOME="$WORK" timeout -k 5 60 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu \
	--no-first-run --no-default-browser-check --disable-extensions --disable-sync \
	--disable-background-networking --disable-component-update --hide-scrollbars \
	--force-device-scale-factor=1 --window-size=1280,900 --user-data-dir="$WORK/chromium" \
	--virtual-time-budget=5000 --screenshot="$WORK/shot.png" --dump-dom "http://$SRV_IP:8080/" \
	>"$WORK/dom.html" 2>"$WORK/chromium.log"
rc=$?
T_BROWSER=$(date +%s.%N)
expect_eq "chromium exits 0" 0 "$rc"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$WORK/chromium.log" | grep -v dbus | tail -20

python3 "$CHECK" dom "$WORK/dom.html" >"$WORK/dom.txt"
row() { awk -v m="$1" '$1 == "row" && $2 == m { print $3 }' "$WORK/dom.txt"; }
expect_eq "page: one row per machine (3)" 3 "$(grep -c '^row ' "$WORK/dom.txt")"
expect_eq "page: A's row is handed_off" handed_off "$(row "$MAC_A")"
expect_eq "page: B's row is booting" booting "$(row "$MAC_B")"
expect_eq "page: C's row is failed" failed "$(row "$MAC_C")"
expect_eq "page: the disconnected banner is hidden" "banner hidden" "$(grep '^banner ' "$WORK/dom.txt")"
check "page: C's last error is shown in its row" grep -q 'tftp ipxe.efi timed_out' "$WORK/dom.html"
check "page: A's hostname and profile are shown" grep -q '>node-a<' "$WORK/dom.html"
CANVAS=$(awk '$1 == "canvas" { print $2 }' "$WORK/dom.txt")
check "page: the graph was drawn (canvas data-rect $CANVAS)" test "${CANVAS:-none}" != none

"$PIL_PY" "$CHECK" shot "$WORK/shot.png" --canvas "${CANVAS:-none}" >"$WORK/shot.txt"
metric() { awk -v n="$1" '$1 == n { print $2 }' "$WORK/shot.txt"; }
sed 's/^/# screenshot: /' "$WORK/shot.txt"
expect_eq "screenshot: the window's size" 1280x900 "$(metric size)"
expect_ge "screenshot: not blank (distinct colours)" 100 "$(metric colours)"
check "screenshot: no colour covers 90% of it ($(metric dominant_pct)%)" test "$(metric dominant_pct)" -lt 90
# A table row is about 1200 x 35 pixels; text and the badge cover a few
# thousand of them.
expect_ge "screenshot: the failed row's red (#f8d0d0) fills a row" 20000 "$(metric failed_px)"
box_w=$(metric failed_box | cut -d, -f3)
expect_ge "screenshot: the red region spans the table's width ($(metric failed_box))" 1000 "${box_w:-0}"
expect_ge "screenshot: the graph canvas is not empty (non-white pixels)" 2000 "$(metric canvas_ink_px)"
expect_ge "screenshot: the TFTP series rises above zero (rows covered)" 10 "$(metric tftp_span)"
expect_ge "screenshot: the HTTP series rises above zero (rows covered)" 10 "$(metric http_span)"

echo "# timings: boots and API $(echo "$T_BOOTS - $T0" | bc) s, chromium $(echo "$T_BROWSER - $T_BOOTS" | bc) s"
finish
