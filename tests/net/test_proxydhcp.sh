#!/usr/bin/env bash
# proxyDHCP on a real segment: a client, Stampede and the site's DHCP server
# (dnsmasq, in a namespace of its own) on one bridge. The site leases the
# address; Stampede only adds boot information (yiaddr 0, no lease options),
# per architecture, for iPXE (the script URL: the loop breaker), on 4011, through
# a relay, and stays silent for clients that are not PXE or that its policy
# (deny/allow lists, unmatched: ignore) excludes. The boot file it names
# downloads over TFTP.
source "$(dirname "$0")/lib.sh"
require_root
net_setup_segment || { echo "# topology set-up failed"; finish; }

IPXE_DIR=/usr/lib/ipxe
HTTP_ROOT=$WORK/http
mkdir -p "$HTTP_ROOT"
chmod 755 "$HTTP_ROOT"
# The embedded default names undionly.kpxe (BIOS) and ipxe.efi (UEFI, also over
# HTTP for HTTP Boot). Debian's ipxe package when present, stand-ins otherwise.
for f in undionly.kpxe ipxe.efi; do
	if [ -r "$IPXE_DIR/$f" ]; then cp "$IPXE_DIR/$f" "$ROOT/$f"; else head -c 300000 /dev/urandom >"$ROOT/$f"; fi
	chmod 644 "$ROOT/$f"
done
cp "$ROOT/ipxe.efi" "$HTTP_ROOT/ipxe.efi"

ALL=$WORK/all-replies.jsonl # every reply seen in the whole test
: >"$ALL"
UUID=1b4e28ba-2dfe-41a8-9c6d-2a3f5b6c7d8e
MAC=52:54:00:12:34:56
BIOS_VC=PXEClient:Arch:00000:UNDI:002001
EFI_VC=PXEClient:Arch:00007:UNDI:003000
HTTP_VC=HTTPClient:Arch:00016:UNDI:003000

hex() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
# probe OUT ARGS...: one request from the client; its replies go to OUT and $ALL.
probe() {
	local out=$WORK/reply-$1
	shift
	dhcp_probe --uuid "$UUID" "$@" >"$out"
	cat "$out" >>"$ALL"
}
# replies OUT FROM: how many replies in OUT came from FROM (ip:port).
replies() { jq -c --arg f "$2" 'select(.from == $f)' "$WORK/reply-$1" | wc -l; }
# get OUT FROM JQ: JQ applied to the first reply from FROM ("none" if none).
get() { jq -rs --arg f "$2" "[.[] | select(.from == \$f)] | if length == 0 then \"none\" else (.[0] | $3) end" "$WORK/reply-$1"; }
opt() { get "$1" "$2" ".options[\"$3\"] // \"absent\""; }
# Lease options a proxy must never send (1 netmask, 3 router, 6 DNS, 51 lease time).
lease_opts() { get "$1" "$2" '[.options | keys[] | select(. == "1" or . == "3" or . == "6" or . == "51")] | join(",")'; }
in_pool() { # A.B.C.D: within the site's range 10.201.0.100-150
	local last=${1##*.}
	[ "${1%.*}" = 10.201.0 ] && [ "$last" -ge 100 ] && [ "$last" -le 150 ]
}
# address_offers OUT: the offers that lease an address (yiaddr set), as "from yiaddr" lines.
address_offers() { jq -r 'select(.options["53"] == "02" and .yiaddr != "0.0.0.0") | "\(.from) \(.yiaddr)"' "$WORK/reply-$1"; }

S67=$SRV_IP:67
S4011=$SRV_IP:4011

start_stampede --http-root "$HTTP_ROOT" || { echo "not ok - stampede starts"; FAILED=1; finish; }
check "the dataplane has a proxyDHCP policy" wait_policy

# ---- BIOS PXE firmware ------------------------------------------------------
probe bios --broadcast --mac "$MAC" --vendor-class "$BIOS_VC" --arch 0 --wait 3
site_offers=$(address_offers bios)
expect_eq "BIOS DISCOVER: exactly one address offer" 1 "$(grep -c . <<<"$site_offers")"
expect_eq "BIOS DISCOVER: the address offer comes from the site" "$SITE_IP:67" "$(cut -d' ' -f1 <<<"$site_offers" | head -1)"
check "BIOS DISCOVER: the site's address is in its pool" in_pool "$(cut -d' ' -f2 <<<"$site_offers" | head -1)"
expect_eq "BIOS DISCOVER: exactly one proxy offer from Stampede" 1 "$(replies bios "$S67")"
expect_eq "proxy offer: DHCPOFFER" 02 "$(opt bios "$S67" 53)"
expect_eq "proxy offer: yiaddr 0.0.0.0" 0.0.0.0 "$(get bios "$S67" .yiaddr)"
expect_eq "proxy offer: siaddr is the server" "$SRV_IP" "$(get bios "$S67" .siaddr)"
expect_eq "proxy offer: file undionly.kpxe" undionly.kpxe "$(get bios "$S67" .file)"
expect_eq "proxy offer: option 60 PXEClient" "$(hex PXEClient)" "$(opt bios "$S67" 60)"
expect_eq "proxy offer: option 54 is the server" 0ac90001 "$(opt bios "$S67" 54)"
expect_eq "proxy offer: option 97 echoed" "00${UUID//-/}" "$(opt bios "$S67" 97)"
expect_eq "proxy offer: option 43 says 'use the boot file' (060108ff)" 060108ff "$(opt bios "$S67" 43)"
expect_eq "proxy offer: no lease options (1, 3, 6, 51)" "" "$(lease_opts bios "$S67")"
expect_eq "proxy offer: same xid as the site's offer" "$(get bios "$SITE_IP:67" .xid)" "$(get bios "$S67" .xid)"

# ---- UEFI x64 PXE and UEFI HTTP Boot ------------------------------------------
probe efi --broadcast --vendor-class "$EFI_VC" --arch 7 --wait 2
expect_eq "UEFI x64: one proxy offer" 1 "$(replies efi "$S67")"
expect_eq "UEFI x64: file ipxe.efi" ipxe.efi "$(get efi "$S67" .file)"
expect_eq "UEFI x64: no option 43" absent "$(opt efi "$S67" 43)"
expect_eq "UEFI x64: option 60 PXEClient" "$(hex PXEClient)" "$(opt efi "$S67" 60)"
expect_eq "UEFI x64: no lease options" "" "$(lease_opts efi "$S67")"

probe httpboot --broadcast --vendor-class "$HTTP_VC" --arch 16 --wait 2
expect_eq "HTTP Boot: one proxy offer" 1 "$(replies httpboot "$S67")"
expect_eq "HTTP Boot: option 60 HTTPClient" "$(hex HTTPClient)" "$(opt httpboot "$S67" 60)"
http_url=$(get httpboot "$S67" .file)
check "HTTP Boot: the file is an http:// URL ending /ipxe.efi (got '$http_url')" \
	bash -c '[[ $1 == http://* && $1 == */ipxe.efi ]]' _ "$http_url"
in_cli curl -s --max-time 20 -o "$WORK/http-ipxe.efi" "$http_url"
expect_eq "HTTP Boot: the URL serves the HTTP root's ipxe.efi" "$(sha "$HTTP_ROOT/ipxe.efi")" "$(sha "$WORK/http-ipxe.efi" 2>/dev/null)"

# ---- iPXE: the script URL, not iPXE again ------------------------------------
probe ipxe --broadcast --mac "$MAC" --vendor-class "$BIOS_VC" --arch 0 --ipxe --wait 2
expect_eq "iPXE: one proxy offer" 1 "$(replies ipxe "$S67")"
script_url=$(get ipxe "$S67" .file)
check "iPXE: the file is the boot.ipxe script URL (got '$script_url')" \
	bash -c '[[ $1 == "http://10.201.0.1:8080/boot.ipxe?"* ]]' _ "$script_url"
filled=$(sed -e 's|\${net0/mac}|'"$MAC"'|; s|\${uuid}|'"$UUID"'|; s|\${platform}-\${buildarch}|pcbios-i386|; s|\${buildarch}|i386|' <<<"$script_url")
check "iPXE: the URL asks for mac and arch ($filled)" bash -c '[[ $1 == *"mac=$2"* && $1 == *arch=* ]]' _ "$filled" "$MAC"
status=$(in_cli curl -s --max-time 10 -o "$WORK/script.ipxe" -w '%{http_code}' "$filled")
expect_eq "iPXE: the script URL answers 200" 200 "$status"
expect_eq "iPXE: the script starts with #!ipxe" '#!ipxe' "$(head -1 "$WORK/script.ipxe" 2>/dev/null)"

# ---- not PXE: the site's business only ---------------------------------------
not_pxe_before=$(counter dhcp_not_pxe)
probe plain --broadcast --mac 52:54:00:aa:bb:cc --vendor-class '' --arch -1 --wait 2
expect_eq "plain DHCP DISCOVER: the site offers an address" 1 "$(address_offers plain | grep -c "^$SITE_IP:67 ")"
expect_eq "plain DHCP DISCOVER: nothing from Stampede" 0 "$(replies plain "$S67")"
expect_eq "plain DHCP DISCOVER: counted as dhcp_not_pxe" $((not_pxe_before + 1)) "$(counter dhcp_not_pxe)"

# ---- the 4011 boot server -----------------------------------------------------
probe req4011 --to "$SRV_IP" --port 4011 --src-port 4011 --type 3 --ciaddr "$CLI_IP" --vendor-class "$BIOS_VC" --arch 0
expect_eq "4011 REQUEST: one reply from $S4011" 1 "$(replies req4011 "$S4011")"
expect_eq "4011 REQUEST: DHCPACK" 05 "$(opt req4011 "$S4011" 53)"
expect_eq "4011 REQUEST: the boot file" undionly.kpxe "$(get req4011 "$S4011" .file)"
expect_eq "4011 REQUEST: yiaddr 0.0.0.0" 0.0.0.0 "$(get req4011 "$S4011" .yiaddr)"
expect_eq "4011 REQUEST: no lease options" "" "$(lease_opts req4011 "$S4011")"
probe inf4011 --to "$SRV_IP" --port 4011 --src-port 4011 --type 8 --ciaddr "$CLI_IP" --vendor-class "$BIOS_VC" --arch 0
expect_eq "4011 INFORM: one reply from $S4011" 1 "$(replies inf4011 "$S4011")"
expect_eq "4011 INFORM: DHCPACK" 05 "$(opt inf4011 "$S4011" 53)"
expect_eq "4011 INFORM: the boot file" undionly.kpxe "$(get inf4011 "$S4011" .file)"

# ---- through a relay: giaddr set, answered to the relay on 67 -----------------
# A socket bound to the relay's own address (and device, to outrank the probe's
# wildcard socket) receives only what is unicast to 10.201.0.2:67.
ip netns exec "$CLI_NS" python3 -c '
import json, socket, sys
sys.path.insert(0, sys.argv[1])
from dhcp_probe import decode
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, sys.argv[3].encode())
s.bind((sys.argv[2], 67))
open(sys.argv[4] + ".ready", "w").close()
s.settimeout(4)
out = open(sys.argv[4], "w")
try:
    while True:
        data, peer = s.recvfrom(4096)
        out.write(json.dumps(decode(data, "%s:%d" % peer)) + "\n"); out.flush()
except socket.timeout:
    pass
' "$TESTS_DIR" "$CLI_IP" "$CLI_DEV" "$WORK/reply-relay-unicast" &
relay_listener=$!
EXTRA_PIDS+=("$relay_listener")
for _ in $(seq 1 50); do [ -e "$WORK/reply-relay-unicast.ready" ] && break; sleep 0.1; done
probe relay --to "$SRV_IP" --port 67 --src-port 67 --giaddr "$CLI_IP" --vendor-class "$BIOS_VC" --arch 0
timeout 10 tail --pid="$relay_listener" -f /dev/null
cat "$WORK/reply-relay-unicast" >>"$ALL"
expect_eq "relayed DISCOVER: one reply unicast to the relay $CLI_IP:67" 1 "$(replies relay-unicast "$S67")"
expect_eq "relayed DISCOVER: nothing broadcast" 0 "$(replies relay "$S67")"
expect_eq "relayed DISCOVER: the reply keeps giaddr" "$CLI_IP" "$(get relay-unicast "$S67" .giaddr)"
expect_eq "relayed DISCOVER: the reply names the boot file" undionly.kpxe "$(get relay-unicast "$S67" .file)"

# ---- the boot file downloads over TFTP ---------------------------------------
in_cli curl -s --max-time 30 -o "$WORK/tftp-undionly.kpxe" "tftp://$SRV_IP/$(get bios "$S67" .file)"
expect_eq "the offered boot file downloads over TFTP intact" "$(sha "$ROOT/undionly.kpxe")" "$(sha "$WORK/tftp-undionly.kpxe" 2>/dev/null)"

# ---- configurations ------------------------------------------------------------
# restart_with NAME: serve with the YAML on standard input as --config.
restart_with() {
	cat >"$WORK/$1.yaml"
	check "stampede stops before the $1 configuration" stop_stampede
	start_stampede --http-root "$HTTP_ROOT" --config "$WORK/$1.yaml" &&
		wait_policy || { echo "not ok - stampede starts with $1"; FAILED=$((FAILED + 1)); finish; }
}

restart_with boot-server <<'EOF'
proxydhcp:
  boot_server: [efi-x64]
  pxelinux:
    config_file: pxelinux.cfg/default
    path_prefix: http://10.201.0.1:8080/
EOF
probe bs-efi --broadcast --vendor-class "$EFI_VC" --arch 7 --wait 2
expect_eq "boot_server: one proxy offer to UEFI" 1 "$(replies bs-efi "$S67")"
o43=$(opt bs-efi "$S67" 43)
check "boot_server: option 43 starts with discovery control 07 (got $o43)" bash -c '[[ $1 == 060107* ]]' _ "$o43"
check "boot_server: option 43 lists boot server type 8000 at $SRV_IP (08 07 8000 01 0ac90001)" \
	bash -c '[[ $1 == *08078000010ac90001* ]]' _ "$o43"
expect_eq "boot_server: no boot file in the offer" "" "$(get bs-efi "$S67" .file)"
expect_eq "boot_server: no option 67 in the offer" absent "$(opt bs-efi "$S67" 67)"
probe bs-req --to "$SRV_IP" --port 4011 --src-port 4011 --type 3 --ciaddr "$CLI_IP" --vendor-class "$EFI_VC" \
	--arch 7 --boot-item 0x8000
expect_eq "boot_server: the 4011 REQUEST for item 8000 gets one ACK" 1 "$(replies bs-req "$S4011")"
expect_eq "boot_server: the ACK is a DHCPACK" 05 "$(opt bs-req "$S4011" 53)"
expect_eq "boot_server: the ACK names ipxe.efi" ipxe.efi "$(get bs-req "$S4011" .file)"
check "boot_server: the ACK's option 43 carries boot item 71 (470480000000)" \
	bash -c '[[ $1 == *470480000000* ]]' _ "$(opt bs-req "$S4011" 43)"
probe pxl --broadcast --vendor-class "$BIOS_VC" --arch 0 --wait 2
expect_eq "pxelinux: option 209 is config_file" "$(hex pxelinux.cfg/default)" "$(opt pxl "$S67" 209)"
expect_eq "pxelinux: option 210 is path_prefix" "$(hex http://10.201.0.1:8080/)" "$(opt pxl "$S67" 210)"

DENIED=52:54:00:00:00:0d
restart_with deny <<EOF
proxydhcp:
  deny_macs: ["$DENIED"]
EOF
probe deny --broadcast --mac "$DENIED" --vendor-class "$BIOS_VC" --arch 0 --wait 2
expect_eq "deny_macs: the site still offers to the denied MAC" 1 "$(address_offers deny | grep -c "^$SITE_IP:67 ")"
expect_eq "deny_macs: silence for the denied MAC" 0 "$(replies deny "$S67")"
expect_eq "deny_macs: counted as dhcp_denied_mac" 1 "$(counter dhcp_denied_mac)"
probe deny-other --broadcast --mac 52:54:00:00:00:0e --vendor-class "$BIOS_VC" --arch 0 --wait 2
expect_eq "deny_macs: another MAC is still answered" 1 "$(replies deny-other "$S67")"

restart_with allow-subnets <<'EOF'
proxydhcp:
  allow_subnets: [10.99.0.0/16]
EOF
probe allow --broadcast --vendor-class "$BIOS_VC" --arch 0 --wait 2
expect_eq "allow_subnets elsewhere: the site still offers" 1 "$(address_offers allow | grep -c "^$SITE_IP:67 ")"
expect_eq "allow_subnets elsewhere: silence" 0 "$(replies allow "$S67")"
expect_eq "allow_subnets elsewhere: counted as dhcp_not_allowed" 1 "$(counter dhcp_not_allowed)"

KNOWN=52:54:00:00:00:0a
restart_with unmatched <<EOF
proxydhcp:
  unmatched: ignore
machines:
  - mac: "$KNOWN"
    profile: menu
EOF
probe known --broadcast --mac "$KNOWN" --vendor-class "$BIOS_VC" --arch 0 --wait 2
expect_eq "unmatched ignore: the selected MAC is answered" 1 "$(replies known "$S67")"
expect_eq "unmatched ignore: with its boot file" undionly.kpxe "$(get known "$S67" .file)"
probe unknown --broadcast --mac 52:54:00:00:00:0b --vendor-class "$BIOS_VC" --arch 0 --wait 2
expect_eq "unmatched ignore: another MAC gets silence" 0 "$(replies unknown "$S67")"
expect_eq "unmatched ignore: counted as dhcp_unmatched" 1 "$(counter dhcp_unmatched)"

# ---- over the whole test ---------------------------------------------------------
expect_ge "the whole test saw Stampede's 12 replies" 12 "$(jq -c --arg ip "$SRV_IP" 'select(.from | startswith($ip + ":"))' "$ALL" | wc -l)"
expect_eq "no reply from Stampede ever set yiaddr" 0 \
	"$(jq -c --arg ip "$SRV_IP" 'select((.from | startswith($ip + ":")) and .yiaddr != "0.0.0.0")' "$ALL" | wc -l)"
expect_eq "no reply from Stampede ever carried a lease option" 0 \
	"$(jq -c --arg ip "$SRV_IP" 'select((.from | startswith($ip + ":")) and (.options | has("1") or has("3") or has("6") or has("51")))' "$ALL" | wc -l)"
check "stampede stops cleanly" stop_stampede
finish
