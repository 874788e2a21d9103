#!/usr/bin/env bash
# The security properties of issue 6, attacked over the wire against a running
# `stampede serve`, one counted check each. Where a property is also tested in
# more depth elsewhere, its section says where:
#
#   1. TFTP: no byte from outside the root, whatever the name (.., %2e%2e,
#      backslashes, absolute paths, symlinks, NUL and control bytes, overlong
#      names); WRQ refused, nothing written.   Also: test_tftp_errors.sh (error
#      codes with stock clients), tests/unit/test_cache.c (name normalisation,
#      the loader's symlink rules), tests/unit/test_tftp_packet.c (the parser).
#   2. HTTP: the same spellings, raw (percent- and double-encoded, backslashes,
#      absolute-form targets): 4xx, never the canary.   Also:
#      tests/unit/test_http_server.c (every spelling, in-process, with counters).
#   3. The API's write calls need the token.   Also: test_api.sh (reload's
#      errors, SIGHUP).
#   4. proxyDHCP answers PXE clients only and never offers an address.   Also:
#      test_proxydhcp.sh (every mode, relays, policies, beside a real site
#      server), tests/unit/test_proxy_dhcp.c (random corruption never yields one).
#   5. Privileges: a dataplane under serve keeps no capability at all, with
#      no_new_privs, in every thread (serve's launcher detaches its XDP program
#      after it exits); alone it keeps CAP_NET_ADMIN to do that itself. serve
#      keeps nothing in any thread; its launcher, one thread, keeps what
#      starting a dataplane needs; none of the three can be traced or read by
#      a process of its uid without capabilities. With `user:` all run as
#      that user, and serving, a hot reload and a kill -9 of the dataplane
#      (restarted through the launcher) still work.
#      Also: tests/unit/test_launcher.c (what the launcher refuses to start).
#      Also: tests/unit/test_privileges.c.
#
# The canary is a file beside the roots with a random string: no reply may
# ever carry it. Everything runs in namespaces on 10.201.0.0/24; the part that
# runs as a user gets a private /run/stampede, so the host's is left alone.
source "$(dirname "$0")/lib.sh"
require_root
net_setup_segment || { echo "# topology set-up failed"; finish; }

SECURITY_PROBE="python3 $TESTS_DIR/security_probe.py"
TOKEN=security-test-token-0123456789
CONF=$WORK/stampede.yaml
CANARY=STAMPEDE-CANARY-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
SECRET=STAMPEDE-ROOT-ONLY-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
BIOS_VC=PXEClient:Arch:00000:UNDI:002001
# Capability masks as /proc shows them (linux/capability.h: setpcap 8,
# net_admin 12, net_raw 13, ipc_lock 14, sys_admin 21).
NET_ADMIN=0000000000001000
LAUNCHER=0000000000201000     # net_admin, sys_admin
DP_START=0000000000207100     # setpcap, net_admin, net_raw, ipc_lock, sys_admin
NONE=0000000000000000

echo "$CANARY" >"$WORK/canary.txt"
chmod 644 "$WORK/canary.txt"
canary_sha=$(sha "$WORK/canary.txt")
make_file boot.bin 3000
mkdir -p "$ROOT/sub"
ln -s "$WORK/canary.txt" "$ROOT/escape-abs"    # out of the root: never served
ln -s ../canary.txt "$ROOT/escape-rel"
ln -s /etc "$ROOT/etc-link"
ln -s boot.bin "$ROOT/inside-rel"              # relative, inside: served
ln -s "$ROOT/boot.bin" "$ROOT/inside-abs"      # absolute: refused even inside (RESOLVE_BENEATH)
ln -s .. "$ROOT/sub/up"                        # a directory link inside: HTTP follows, TFTP skips
echo "$SECRET" >"$ROOT/root-only.bin"          # readable by root alone: served only while root reads
chmod 600 "$ROOT/root-only.bin"
chmod -R a+rX "$ROOT/sub"
boot_sha=$(sha "$ROOT/boot.bin")
cat >"$CONF" <<EOF
proxydhcp:
  boot_files:
    bios: boot.bin
api:
  token: $TOKEN
EOF

# tftp REQUEST: a raw request (text with Python escapes), the first reply or
# the whole file, " canary" if the canary or the root-only secret came back.
LOOK_FOR=$CANARY
tftp() { in_cli $SECURITY_PROBE tftp "$SRV_IP" "$1" --canary "$LOOK_FOR"; }
rrq() { tftp "\\x00\\x01$1\\x00octet\\x00"; }
# http TARGET [METHOD]: a raw request; "STATUS BODY_BYTES[ canary]".
http() {
	in_cli $SECURITY_PROBE http "$SRV_IP" "${2:-GET} $1 HTTP/1.1\\r\\nHost: $SRV_IP\\r\\nConnection: close\\r\\n\\r\\n" \
		--canary "$LOOK_FOR"
}
repeat() { head -c "$2" /dev/zero | tr '\0' "$1"; }
# thread_states PID: one line per thread, "UID CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs",
# the process's main thread first.
thread_states() {
	local t
	for t in "/proc/$1/task/$1" $(ls -d /proc/"$1"/task/* 2>/dev/null | grep -v "/task/$1\$"); do
		awk '/^Uid:/ {u = $2} /^CapInh:/ {i = $2} /^CapPrm:/ {p = $2} /^CapEff:/ {e = $2}
		     /^CapBnd:/ {b = $2} /^CapAmb:/ {a = $2} /^NoNewPrivs:/ {n = $2}
		     END {print u, i, p, e, b, a, n}' "$t/status" 2>/dev/null
	done
}
dataplane_pid() { pgrep -P "$SERVER_PID" -f stampede-dataplane | head -1; }
# expect_dataplane_threads WHAT PID UID [KEPT]: every thread holds KEPT (default
# nothing) as permitted, effective and bounding set, no inheritable or ambient
# capability, and no_new_privs.
expect_dataplane_threads() {
	local states kept=${4:-$NONE}
	states=$(thread_states "$2")
	expect_ge "$1: the dataplane has its threads (main, EAL, control)" 3 "$(grep -c . <<<"$states")"
	expect_eq "$1: every dataplane thread: uid $3, permitted = effective = bounding = $([ "$kept" = "$NONE" ] && echo nothing || echo net_admin), no_new_privs" \
		"$3 $NONE $kept $kept $kept $NONE 1" "$(sort -u <<<"$states" | tr '\n' '|' | sed 's/|$//')"
}
# expect_serve_threads WHAT UID: serve holds nothing in any thread, bounding set empty.
expect_serve_threads() {
	local states
	states=$(thread_states "$SERVER_PID")
	expect_ge "$1: serve has its main thread and HTTP threads" 2 "$(grep -c . <<<"$states")"
	expect_eq "$1: every thread of serve: uid $2, no capability, bounding set empty, no_new_privs" \
		"$2 $NONE $NONE $NONE $NONE $NONE 1" "$(sort -u <<<"$states" | tr '\n' '|' | sed 's/|$//')"
}
launcher_pid() { pgrep -P "$SERVER_PID" -x stampede-launch | head -1; }
# expect_launcher WHAT UID INHERITABLE_AND_AMBIENT: one thread, effective
# net_admin+sys_admin, permitted and bounding the dataplane's start set.
expect_launcher() {
	local pid states
	pid=$(launcher_pid)
	states=$(thread_states "$pid")
	expect_eq "$1: serve's launcher (pid '$pid'): one thread, uid $2, effective net_admin+sys_admin, permitted and bounding the dataplane's start set, no_new_privs" \
		"$2 $3 $DP_START $LAUNCHER $DP_START $3 1" "$states"
}
# out_of_reach WHAT UID GID: a process of that uid without any capability (what
# a subverted serve or dataplane is) can read nothing of the launcher's, the
# dataplane's or serve's /proc (memory, descriptors, environment): none is dumpable.
out_of_reach() {
	local pid name
	for name in launcher dataplane serve; do
		case $name in
		launcher) pid=$(launcher_pid) ;;
		dataplane) pid=$(dataplane_pid) ;;
		serve) pid=$SERVER_PID ;;
		esac
		check "$1: a process of uid $2 without capabilities cannot read the $name's descriptors or environment" \
			bash -c '! setpriv --reuid="$1" --regid="$2" --clear-groups --inh-caps=-all --ambient-caps=-all \
				--bounding-set=-all --no-new-privs sh -c "readlink /proc/$3/fd/0 || cat /proc/$3/environ" >/dev/null 2>&1 &&
				test -d /proc/$3' _ "$2" "$3" "$pid"
	done
}
no_xdp() { ! in_srv ip -d link show "$SRV_IF" | grep -qE '(^| )(xdp|xdpgeneric|xdpdrv)( |$)|prog/xdp'; }

start_stampede --http-root "$ROOT" --config "$CONF" || { echo "not ok - stampede starts"; FAILED=1; finish; }
check "the dataplane has a policy" wait_policy

# ---- 5a. privileges, serve started as root without user: ------------------------------------
dp=$(dataplane_pid)
expect_dataplane_threads "as root" "$dp" 0
expect_serve_threads "as root" 0
expect_launcher "as root" 0 "$NONE"
out_of_reach "as root" 0 0
check "the dataplane says what it kept" grep -q "stampede-dataplane: privileges: kept none in its" "$WORK/stampede.log"
check "serve says what it kept" grep -q "privileges: uid 0; serve keeps no capability in its" "$WORK/stampede.log"
check "and that without user: it runs as uid 0" grep -q "serve and its launcher run as uid 0 (no user:" "$WORK/stampede.log"
check "the launcher says what it kept" \
	grep -q "privileges: the launcher (pid $(launcher_pid), uid 0) keeps net_admin,sys_admin effective" "$WORK/stampede.log"
# A hot reload that needs more memory than the start took (new hugepages,
# found without /proc/self/pagemap: --iova-mode=va), read without privileges.
make_file grown.bin 4000000
"$BUILD_DIR/stampede" reload --socket "$CTL" >/dev/null
check "hot reload as root without capabilities, 4 MB more: accepted" wait_counter cache_reloads_ok 1 20
in_cli curl -s --max-time 60 --tftp-blksize 1428 -o "$WORK/grown.bin" "tftp://$SRV_IP/grown.bin"
expect_eq "  and the new file downloads whole" "$(sha "$ROOT/grown.bin")" "$(sha "$WORK/grown.bin" 2>/dev/null)"
expect_dataplane_threads "after the reload" "$dp" 0
rm -f "$ROOT/grown.bin"

# ---- 1. TFTP ------------------------------------------------------------------------------------------
T2_DOTDOT='ERROR 2 access violation: ".." leads outside the TFTP root'
T2_CTL='ERROR 2 access violation: control character in file name'
T1='ERROR 1 file not found'
expect_eq "TFTP ../canary.txt" "$T2_DOTDOT" "$(rrq ../canary.txt)"
expect_eq "TFTP ../../etc/passwd" "$T2_DOTDOT" "$(rrq ../../etc/passwd)"
expect_eq "TFTP sub/../../canary.txt" "$T2_DOTDOT" "$(rrq sub/../../canary.txt)"
expect_eq "TFTP .. alone" "$T2_DOTDOT" "$(rrq ..)"
expect_eq "TFTP ..\\canary.txt (backslashes are separators)" "$T2_DOTDOT" "$(rrq '..\\canary.txt')"
expect_eq "TFTP sub\\..\\..\\canary.txt" "$T2_DOTDOT" "$(rrq 'sub\\..\\..\\canary.txt')"
expect_eq "TFTP 300 x ../ then etc/passwd" "$T2_DOTDOT" "$(rrq "$(for _ in $(seq 1 300); do printf ../; done)etc/passwd")"
expect_eq "TFTP ../canary.txt in netascii" "$T2_DOTDOT" "$(tftp '\x00\x01../canary.txt\x00netascii\x00')"
expect_eq "TFTP %2e%2e/canary.txt (TFTP has no percent-encoding: a name like any other)" "$T1" "$(rrq %2e%2e/canary.txt)"
expect_eq "TFTP UTF-8 overlong dots (c0 ae)" "$T1" "$(rrq '\xc0\xae\xc0\xae/canary.txt')"
expect_eq "TFTP /etc/passwd (absolute names are taken under the root)" "$T1" "$(rrq /etc/passwd)"
expect_eq "TFTP \\etc\\passwd" "$T1" "$(rrq '\\etc\\passwd')"
expect_eq "TFTP the canary's absolute path" "$T1" "$(rrq "$WORK/canary.txt")"
expect_eq "TFTP absolute symlink out of the root" "$T1" "$(rrq escape-abs)"
expect_eq "TFTP relative symlink out of the root" "$T1" "$(rrq escape-rel)"
expect_eq "TFTP directory symlink out of the root (etc-link/passwd)" "$T1" "$(rrq etc-link/passwd)"
expect_eq "TFTP absolute symlink that lands inside: refused too (the cache's rule)" "$T1" "$(rrq inside-abs)"
expect_eq "TFTP directory symlinks are not followed (sub/up/boot.bin)" "$T1" "$(rrq sub/up/boot.bin)"
expect_eq "TFTP relative symlink inside the root: served" "DATA 3000 $boot_sha" "$(rrq inside-rel)"
expect_eq "TFTP a root-only file, served while the dataplane runs as root (5b: not as a user)" \
	"DATA $(stat -c %s "$ROOT/root-only.bin") $(sha "$ROOT/root-only.bin")" "$(rrq root-only.bin)"
expect_eq "TFTP control byte 0x01 in the name" "$T2_CTL" "$(rrq 'boot\x01.bin')"
expect_eq "TFTP newline in the name" "$T2_CTL" "$(rrq 'boot.bin\n')"
expect_eq "TFTP DEL (0x7f) in the name" "$T2_CTL" "$(rrq 'boot\x7f.bin')"
expect_eq "TFTP an escape sequence as the name" "$T2_CTL" "$(rrq '\x1b[2J')"
expect_eq "TFTP NUL inside the name: the rest is the mode" "ERROR 4 unsupported transfer mode (use octet or netascii)" \
	"$(tftp '\x00\x01boot.bin\x00../../etc/passwd\x00')"
expect_eq "TFTP NUL inside the name: the rest is an option without a value" \
	"ERROR 4 malformed request: option without a value" "$(tftp '\x00\x01boot.bin\x00octet\x00../canary.txt\x00')"
expect_eq "TFTP a path as an unknown option name is ignored, the file itself served" "DATA 3000 $boot_sha" \
	"$(tftp '\x00\x01boot.bin\x00octet\x00../canary.txt\x001\x00')"
expect_eq "TFTP empty name" "ERROR 4 malformed request: empty file name" "$(tftp '\x00\x01\x00octet\x00')"
expect_eq "TFTP unterminated name" "ERROR 4 malformed request: file name not terminated" "$(tftp '\x00\x01../canary.txt')"
expect_eq "TFTP a 1024-byte name (the limit): looked up" "$T1" "$(rrq "$(repeat a 1024)")"
expect_eq "TFTP a 1025-byte name" "ERROR 1 file not found: name too long" "$(rrq "$(repeat a 1025)")"
frag_before=$(counter drop_ip_fragment)
expect_eq "TFTP a 4 KiB name (an IP-fragmented request): no answer" TIMEOUT "$(rrq "$(repeat a 4096)")"
expect_eq "  and the fragments are dropped and counted" $((frag_before + 1)) "$(counter drop_ip_fragment)"
expect_eq "TFTP WRQ" "ERROR 2 access violation: this server does not accept writes" "$(tftp '\x00\x02upload.bin\x00octet\x00')"
expect_eq "TFTP WRQ over the canary" "ERROR 2 access violation: this server does not accept writes" \
	"$(tftp '\x00\x02../canary.txt\x00octet\x00')"
expect_eq "TFTP DATA for block 1 to port 69 (a write without its WRQ)" "ERROR 4 illegal TFTP operation: expected a request" \
	"$(tftp '\x00\x03\x00\x01STAMPEDE-WRITTEN')"
expect_eq "no file was written under the root or beside it" "" \
	"$(find "$WORK" -newer "$CONF" -type f \( -name 'upload*' -o -path "$ROOT/*" \))"
expect_eq "the canary is unchanged" "$canary_sha" "$(sha "$WORK/canary.txt")"
expect_ge "writes counted (tftp_write_requests_refused)" 2 "$(counter tftp_write_requests_refused)"

# ---- 2. HTTP ------------------------------------------------------------------------------------------
# http_refused TARGET STATUS WHAT: the target shown cut to 80 bytes.
http_refused() {
	local shown=$1
	[ ${#1} -gt 80 ] && shown="${1:0:60}... (${#1} bytes)"
	expect_eq "HTTP $3: $shown" "$2" "$(http "$1" | cut -d' ' -f1,3)"
}
for target in /../canary.txt /../../../../etc/passwd /%2e%2e/canary.txt /%2E%2E/canary.txt /..%2fcanary.txt \
	/%2e%2e%2fcanary.txt '/..\\canary.txt' /..%5ccanary.txt /sub/../../canary.txt /boot.bin%00.txt \
	"/$(for _ in $(seq 1 200); do printf %%2e%%2e/; done)etc/passwd" \
	"http://$SRV_IP:8080/../canary.txt" http://elsewhere.example/%2e%2e/%2e%2e/etc/passwd; do
	http_refused "$target" 400 "traversal refused"
done
http_refused ../canary.txt 400 "not origin-form"
for target in /%252e%252e/canary.txt /%252e%252e%252fcanary.txt /%c0%ae%c0%ae/canary.txt /..%3b/canary.txt \
	/etc/passwd //etc/passwd "$WORK/canary.txt" /escape-abs /escape-rel /etc-link/passwd /inside-abs; do
	http_refused "$target" 404 "no such file under the root"
done
http_refused "/$(repeat a 5000)" 414 "overlong path"
expect_eq "HTTP relative symlink inside the root: served" "200 3000" "$(http /inside-rel)"
expect_eq "HTTP a directory link that stays inside is followed (sub/up/boot.bin)" "200 3000" "$(http /sub/up/boot.bin)"
expect_eq "HTTP absolute-form target for another host: the path, under the root" "200 3000" \
	"$(http http://elsewhere.example/boot.bin)"
expect_eq "HTTP a traversal in the query is only a query" "200 3000" "$(http '/boot.bin?../../canary.txt')"
expect_eq "HTTP PUT of a file" "405" "$(http /boot.bin PUT | cut -d' ' -f1)"
expect_eq "HTTP DELETE of a file" "405" "$(http /boot.bin DELETE | cut -d' ' -f1)"
expect_eq "HTTP POST to a file" "405" "$(http /boot.bin POST | cut -d' ' -f1)"
expect_eq "the files are all still there" "$boot_sha" "$(sha "$ROOT/boot.bin")"

# ---- 3. the API's write calls -------------------------------------------------------------------------
API=http://$SRV_IP:8080/api/v1
call() { in_cli curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@"; }
reloads() { grep -c 'configuration reloaded from' "$WORK/stampede.log"; }
expect_eq "POST /api/v1/reload without a token" 401 "$(call -X POST "$API/reload")"
expect_eq "POST /api/v1/reload with a wrong token" 401 "$(call -X POST -H "Authorization: Bearer wrong-$TOKEN" "$API/reload")"
expect_eq "POST /api/v1/reload with the token and one byte more" 401 \
	"$(call -X POST -H "Authorization: Bearer ${TOKEN}x" "$API/reload")"
expect_eq "POST /api/v1/reload with the token's prefix" 401 \
	"$(call -X POST -H "Authorization: Bearer ${TOKEN%?}" "$API/reload")"
expect_eq "POST /api/v1/reload with the token as Basic" 401 \
	"$(call -X POST -H "Authorization: Basic $TOKEN" "$API/reload")"
expect_eq "PUT /api/v1/reload" 405 "$(call -X PUT "$API/reload")"
expect_eq "DELETE /api/v1/reload" 405 "$(call -X DELETE "$API/reload")"
expect_eq "DELETE /api/v1/machines" 405 "$(call -X DELETE "$API/machines")"
expect_eq "POST /api/v1/machines" 405 "$(call -X POST "$API/machines")"
sleep 0.3
expect_eq "none of them reloaded anything" 0 "$(reloads)"
expect_eq "POST /api/v1/reload with the token" 200 "$(call -X POST -H "Authorization: Bearer $TOKEN" "$API/reload")"
for _ in $(seq 1 50); do [ "$(reloads)" -ge 1 ] && break; sleep 0.1; done
expect_eq "and that one reloads" 1 "$(reloads)"
expect_eq "reads need no token" 200 "$(call "$API/machines")"

# ---- 4. proxyDHCP ---------------------------------------------------------------------------------------
ALL=$WORK/dhcp-replies.jsonl
: >"$ALL"
# dhcp OUT ARGS...: a request from the client; replies to OUT and to $ALL.
dhcp() { local out=$WORK/dhcp-$1; shift; dhcp_probe "$@" >"$out"; cat "$out" >>"$ALL"; }
from_us() { jq -c --arg f "$SRV_IP:$2" 'select(.from == $f)' "$WORK/dhcp-$1" | wc -l; }
from_site() { jq -c --arg f "$SITE_IP:67" 'select(.from == $f)' "$WORK/dhcp-$1" | wc -l; }
dhcp plain --broadcast --mac 52:54:00:5e:c0:01 --vendor-class '' --arch -1 --wait 2
expect_eq "plain DHCP DISCOVER: the site answers" 1 "$(from_site plain)"
expect_eq "plain DHCP DISCOVER: Stampede does not" 0 "$(from_us plain 67)"
dhcp msft --broadcast --mac 52:54:00:5e:c0:02 --vendor-class 'MSFT 5.0' --arch -1 --wait 2
expect_eq "DISCOVER with another vendor class: Stampede does not answer" 0 "$(from_us msft 67)"
dhcp pxelike --broadcast --mac 52:54:00:5e:c0:03 --vendor-class 'PXEClien' --arch 0 --wait 2
expect_eq "DISCOVER with a vendor class one byte short of PXEClient: no answer" 0 "$(from_us pxelike 67)"
dhcp plainreq --to "$SRV_IP" --type 3 --server-id "$SRV_IP" --ciaddr "$CLI_IP" --vendor-class '' --arch -1 --wait 2
expect_eq "plain REQUEST naming Stampede as its server: no answer" 0 "$(from_us plainreq 67)"
dhcp plain4011 --to "$SRV_IP" --port 4011 --src-port 4011 --type 3 --ciaddr "$CLI_IP" --vendor-class '' --arch -1 --wait 2
expect_eq "plain REQUEST to 4011: no answer" 0 "$(from_us plain4011 4011)"
dhcp pxe --broadcast --mac 52:54:00:5e:c0:04 --vendor-class "$BIOS_VC" --arch 0 --wait 2
expect_eq "PXE DISCOVER: one proxy offer" 1 "$(from_us pxe 67)"
dhcp ipxe --broadcast --mac 52:54:00:5e:c0:05 --vendor-class "$BIOS_VC" --arch 0 --ipxe --wait 2
expect_eq "iPXE DISCOVER: one proxy offer" 1 "$(from_us ipxe 67)"
dhcp req67 --broadcast --mac 52:54:00:5e:c0:06 --type 3 --server-id "$SRV_IP" --vendor-class "$BIOS_VC" --arch 0 --wait 2
expect_eq "PXE REQUEST naming Stampede: one ACK" 1 "$(from_us req67 67)"
dhcp req4011 --to "$SRV_IP" --port 4011 --src-port 4011 --type 3 --ciaddr "$CLI_IP" --vendor-class "$BIOS_VC" --arch 0
expect_eq "PXE REQUEST on 4011: one ACK" 1 "$(from_us req4011 4011)"
# Relayed: the answer goes to the relay (giaddr = the client's address) on 67, where the probe listens.
dhcp relay --to "$SRV_IP" --src-port 67 --giaddr "$CLI_IP" --mac 52:54:00:5e:c0:07 --vendor-class "$BIOS_VC" --arch 0
expect_eq "relayed PXE DISCOVER: one offer to the relay" 1 "$(from_us relay 67)"
expect_eq "Stampede's replies in this section" 5 "$(jq -c --arg ip "$SRV_IP" 'select(.from | startswith($ip + ":"))' "$ALL" | wc -l)"
expect_eq "none carries an address (yiaddr)" 0 \
	"$(jq -c --arg ip "$SRV_IP" 'select((.from | startswith($ip + ":")) and .yiaddr != "0.0.0.0")' "$ALL" | wc -l)"
expect_eq "none carries a lease time, renewal times, netmask, router or DNS (51, 58, 59, 1, 3, 6)" 0 \
	"$(jq -c --arg ip "$SRV_IP" 'select((.from | startswith($ip + ":")) and (.options | has("51") or has("58") or
		has("59") or has("1") or has("3") or has("6")))' "$ALL" | wc -l)"

# ---- 5b. as a user: `user: nobody` ------------------------------------------------------------------------
# Root-only files are no longer served; everything else is, and keeps working
# across a hot reload and a dataplane restart.
check "serve stops" stop_stampede
check "serve detached the dataplane's XDP program" no_xdp

# ---- 5c. a dataplane alone keeps CAP_NET_ADMIN, and with it detaches its program -----
ip netns exec "$SRV_NS" "$BUILD_DIR/stampede-dataplane" --iface "$SRV_IF" --tftp-root "$ROOT" --stats-socket "$CTL" \
	>"$WORK/alone.log" 2>&1 &
alone=$!
EXTRA_PIDS+=("$alone")
for _ in $(seq 1 300); do grep -q 'privileges: kept' "$WORK/alone.log" && break; sleep 0.1; done
expect_dataplane_threads "alone" "$alone" 0 "$NET_ADMIN"
check "it says why" grep -q "privileges: kept net_admin (to detach the XDP program when it stops)" "$WORK/alone.log"
expect_eq "it serves" "DATA 3000 $boot_sha" "$(rrq boot.bin)"
kill -TERM "$alone"
timeout 10 tail --pid="$alone" -f /dev/null
wait "$alone"
expect_eq "it stops with exit 0" 0 "$?"
check "and has detached its XDP program" no_xdp
NOBODY_UID=$(id -u nobody)
SOCK_DIR=$WORK/sock # the dataplane, running as the user, creates its socket there
mkdir -p "$SOCK_DIR"
chown nobody "$SOCK_DIR"
CTL=$SOCK_DIR/control.sock
printf 'user: nobody\n' >>"$CONF"
mkdir -p /run/stampede
host_run_owner=$(stat -c %U /run/stampede)
# serve in a mount namespace of its own with a fresh /run/stampede, which it
# gives to the user (exec all the way down: $! is serve's PID).
ip netns exec "$SRV_NS" unshare -m --propagation private sh -c \
	'mount -t tmpfs -o mode=755 tmpfs /run/stampede && exec "$0" "$@"' "$BUILD_DIR/stampede" serve --iface "$SRV_IF" \
	--tftp-root "$ROOT" --http-root "$ROOT" --config "$CONF" --stats-socket "$CTL" >"$WORK/stampede.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
	"$BUILD_DIR/stampede" stats --socket "$CTL" >/dev/null 2>&1 && break
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.1
done
check "serve runs as nobody" wait_policy
first=$(dataplane_pid)
expect_dataplane_threads "as nobody" "$first" "$NOBODY_UID"
expect_serve_threads "as nobody" "$NOBODY_UID"
expect_launcher "as nobody" "$NOBODY_UID" "$DP_START"
out_of_reach "as nobody" "$NOBODY_UID" "$(id -g nobody)"
check "serve says it became nobody" grep -q "privileges: uid $NOBODY_UID (nobody); serve keeps no capability" "$WORK/stampede.log"
check "and does not warn of uid 0" bash -c '! grep -q "run as uid 0" "$1"' _ "$WORK/stampede.log"
expect_eq "the dataplane's socket belongs to nobody" nobody "$(stat -c %U "$CTL")"
expect_eq "the host's /run/stampede is left as it was" "$host_run_owner" "$(stat -c %U /run/stampede)"
expect_eq "TFTP as nobody: a file" "DATA 3000 $boot_sha" "$(rrq boot.bin)"
LOOK_FOR=$SECRET
expect_eq "TFTP as nobody: a root-only file is not served" "$T1" "$(rrq root-only.bin)"
expect_ge "  (skipped as unreadable when the root was read)" 1 "$(counter cache_skipped_unreadable)"
expect_eq "HTTP as nobody: a file" "200 3000" "$(http /boot.bin)"
expect_eq "HTTP as nobody: a root-only file is forbidden" "403" "$(http /root-only.bin | cut -d' ' -f1,3)"
LOOK_FOR=$CANARY
expect_eq "HTTP as nobody: traversal still refused" "400" "$(http /%2e%2e/canary.txt | cut -d' ' -f1,3)"

# A hot reload: a new file, read by the dataplane without its start-up privileges.
make_file new.bin 5000
kill -HUP "$SERVER_PID"
check "hot reload as nobody: the new file is cached" wait_counter cache_reloads_ok 1 10
expect_eq "hot reload as nobody: the new file downloads" "DATA 5000 $(sha "$ROOT/new.bin")" "$(rrq new.bin)"
expect_dataplane_threads "after the reload" "$first" "$NOBODY_UID"

# kill -9 of the dataplane: serve, as nobody, restarts it with the same start-up set.
kill -KILL "$first"
second=""
for _ in $(seq 1 100); do
	second=$(dataplane_pid)
	[ -n "$second" ] && [ "$second" != "$first" ] && [ "$(counter dhcp_policy_loaded 2>/dev/null)" = 1 ] && break
	second=""
	sleep 0.1
done
check "kill -9: serve restarted the dataplane (pid '$second', was $first)" test -n "$second"
check "serve removed the dead dataplane's XDP program" grep -q "removed the XDP program the dataplane left" "$WORK/stampede.log"
expect_dataplane_threads "restarted" "$second" "$NOBODY_UID"
expect_serve_threads "after the restart" "$NOBODY_UID"
expect_launcher "after the restart" "$NOBODY_UID" "$DP_START"
expect_eq "TFTP after the restart" "DATA 5000 $(sha "$ROOT/new.bin")" "$(rrq new.bin)"
expect_eq "HTTP after the restart" "200 3000" "$(http /boot.bin)"
serve_pid=$SERVER_PID
stop_stampede
expect_eq "serve as nobody stops with exit 0" 0 "$?"
check "and leaves no XDP program" no_xdp
check "serve is gone" bash -c '! kill -0 "$1" 2>/dev/null' _ "$serve_pid"

# ---- user: in the configuration -------------------------------------------------------------------------------
printf 'tftp:\n  root: %s\nuser: no-such-stampede-user\n' "$ROOT" >"$WORK/bad-user.yaml"
out=$("$BUILD_DIR/stampede" check "$WORK/bad-user.yaml" 2>&1)
expect_eq "stampede check: an unknown user is an error" 1 "$?"
check "  at its line and column ($out)" grep -q "$WORK/bad-user.yaml:3:7: user \"no-such-stampede-user\": no such user" <<<"$out"
printf 'user: "../root"\n' >"$WORK/bad-user.yaml"
out=$("$BUILD_DIR/stampede" check --no-host "$WORK/bad-user.yaml" 2>&1)
check "stampede check: a user name with a slash is refused ($out)" grep -q ':1:7: user "../root" is not a user name' <<<"$out"
expect_eq "the canary is unchanged at the end" "$canary_sha" "$(sha "$WORK/canary.txt")"
finish
