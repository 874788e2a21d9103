#!/usr/bin/env bash
# The control plane's HTTP API (/tmp/spec/api.md) against a real server: one
# machine boots from the client namespace as far as its initrd (PXE DISCOVER,
# the NBP over TFTP, iPXE's DISCOVER, /boot.ipxe, kernel and initrd from the
# HTTP root), and the API must tell that story: /api/v1/machines (handed off,
# stage by stage), /api/v1/machines/{mac} (the timeline in order),
# /api/v1/profiles, /api/v1/counters (the dataplane's counters), /metrics (a
# well-formed exposition, dataplane up). Then the write call: POST
# /api/v1/reload needs the bearer token (api.token), reloads a good file,
# refuses a bad one with its FILE:LINE errors while the running configuration
# keeps serving, and SIGHUP takes a new profile. Every wait is bounded.
source "$(dirname "$0")/lib.sh"
require_root

net_setup || { echo "# topology set-up failed"; finish; }

MAC=52:54:00:a1:b2:c3
MAC_DASH_UPPER=52-54-00-A1-B2-C3
BIOS_VC=PXEClient:Arch:00000:UNDI:002001
TOKEN=api-test-token-0123456789abcdef
BASE=http://$SRV_IP:8080
API=$BASE/api/v1
CONF=$WORK/api.yaml

# The client's frames carry the machine's MAC: the dataplane names a TFTP
# transfer's machine by the frame's source address.
in_cli ip link set "$CLI_IF" address "$MAC"

HTTP_ROOT=$WORK/http
mkdir -p "$HTTP_ROOT/lab"
head -c 600000 /dev/urandom >"$ROOT/undionly.kpxe"
head -c 2000000 /dev/urandom >"$HTTP_ROOT/lab/vmlinuz"
head -c 3000000 /dev/urandom >"$HTTP_ROOT/lab/initrd.img"
chmod -R a+rX "$ROOT" "$HTTP_ROOT"

# write_config [EXTRA_PROFILE_YAML]: the test's configuration, with an
# optional further profile.
write_config() {
	cat >"$CONF.new" <<EOF
http:
  port: 8080
  root: $HTTP_ROOT
proxydhcp:
  boot_files:
    bios: undionly.kpxe
api:
  token: $TOKEN
profiles:
  lab:
    description: API test kernel
    kernel: lab/vmlinuz
    initrd: [lab/initrd.img]
    cmdline: console=ttyS0 hostname=\${hostname}
$1
machines:
  - {mac: $MAC, hostname: node-api, profile: lab}
default_profile: menu
EOF
	mv "$CONF.new" "$CONF"
}
write_config ""

T0=$(date +%s.%N)
start_stampede --config "$CONF" --http-root "$HTTP_ROOT" ||
	{ echo "not ok - stampede starts"; FAILED=1; finish; }
check "the dataplane has a proxyDHCP policy" wait_policy
T_START=$(date +%s.%N)

# jqe JQ FILE...: jq -e, quietly (a check's own "ok" line must not be silenced).
jqe() { jq -e "$@" >/dev/null 2>&1; }
# get PATH JQ: JQ applied to GET $BASE/PATH from the client ("" when it fails).
get() { in_cli curl -s --max-time 5 "$BASE/$1" | jq -r "$2" 2>/dev/null; }
# machine JQ: JQ applied to our machine in GET /api/v1/machines ("absent" when not listed).
machine() {
	get api/v1/machines "[.machines[] | select(.mac == \"$MAC\")] | if length == 0 then \"absent\" else (.[0] | $1) end"
}
# wait_stage STAGE: until the API shows our machine at STAGE (at most 10 s).
# Dataplane events reach the control plane asynchronously; waiting for each
# stage keeps the timeline's order the order of the boot.
wait_stage() {
	local deadline=$((SECONDS + 10))
	while [ "$(machine .stage)" != "$1" ] && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	[ "$(machine .stage)" = "$1" ]
}

# ---- one boot ------------------------------------------------------------------
dhcp_probe --mac "$MAC" --vendor-class "$BIOS_VC" --arch 0 --wait 1 >"$WORK/dhcp-pxe" 2>&1
check "PXE DISCOVER: Stampede offers undionly.kpxe" grep -q '"file": "undionly.kpxe"' "$WORK/dhcp-pxe"
check "API: stage offer after the proxy offer" wait_stage offer
in_cli curl -s --max-time 30 -o "$WORK/nbp" "tftp://$SRV_IP/undionly.kpxe"
expect_eq "the NBP downloads over TFTP" "$(sha "$ROOT/undionly.kpxe")" "$(sha "$WORK/nbp" 2>/dev/null)"
check "API: stage nbp_loaded after the TFTP transfer" wait_stage nbp_loaded
dhcp_probe --mac "$MAC" --vendor-class "$BIOS_VC" --arch 0 --ipxe --wait 1 >"$WORK/dhcp-ipxe" 2>&1
check "iPXE DISCOVER: Stampede offers the script URL" grep -q 'boot.ipxe' "$WORK/dhcp-ipxe"
check "API: stage ipxe after iPXE's DISCOVER" wait_stage ipxe
in_cli curl -s --max-time 10 -o "$WORK/script" "$BASE/boot.ipxe?mac=$MAC&arch=pcbios-i386"
check "the script names the lab kernel" grep -q 'lab/vmlinuz' "$WORK/script"
expect_eq "API: stage script after /boot.ipxe" script "$(machine .stage)"
in_cli curl -s --max-time 30 -o "$WORK/kernel" "$BASE/lab/vmlinuz"
expect_eq "the kernel downloads over HTTP" "$(sha "$HTTP_ROOT/lab/vmlinuz")" "$(sha "$WORK/kernel" 2>/dev/null)"
expect_eq "API: stage kernel, still booting" "kernel booting" "$(machine '"\(.stage) \(.state)"')"
in_cli curl -s --max-time 30 -o "$WORK/initrd" "$BASE/lab/initrd.img"
expect_eq "the initrd downloads over HTTP" "$(sha "$HTTP_ROOT/lab/initrd.img")" "$(sha "$WORK/initrd" 2>/dev/null)"
T_BOOT=$(date +%s.%N)

# ---- GET /api/v1/machines ----------------------------------------------------------
in_cli curl -s --max-time 5 -D "$WORK/machines.h" -o "$WORK/machines.json" "$API/machines"
check "machines: Content-Type application/json" grep -qi '^content-type: application/json' "$WORK/machines.h"
check "machines: valid JSON" jqe . "$WORK/machines.json"
expect_eq "machines: top-level keys" '["capacity","evicted","machines","now"]' "$(jq -c 'keys' "$WORK/machines.json")"
expect_eq "machines: exactly one machine" 1 "$(jq '.machines | length' "$WORK/machines.json")"
expect_eq "machines: capacity is the default (1024)" 1024 "$(jq .capacity "$WORK/machines.json")"
expect_eq "machines: every MACHINE key" \
	'["arch","decision","elapsed_s","failures","first_seen","hostname","ip","last_error","last_seen","mac","profile","progress","stage","state"]' \
	"$(jq -c '.machines[0] | keys' "$WORK/machines.json")"
expect_eq "machines: handed off after the initrd" "handed_off initrd" \
	"$(jq -r '.machines[0] | "\(.state) \(.stage)"' "$WORK/machines.json")"
expect_eq "machines: its address, architecture, hostname and profile" "$CLI_IP bios node-api lab" \
	"$(jq -r '.machines[0] | "\(.ip) \(.arch) \(.hostname) \(.profile)"' "$WORK/machines.json")"
expect_eq "machines: last decision offer, no failures, no error" "offer 0 null" \
	"$(jq -r '.machines[0] | "\(.decision) \(.failures) \(.last_error)"' "$WORK/machines.json")"
expect_eq "machines: progress is the initrd, complete" "lab/initrd.img 3000000 3000000" \
	"$(jq -r '.machines[0].progress | "\(.file) \(.bytes) \(.total)"' "$WORK/machines.json")"
check "machines: elapsed_s = last_seen - first_seen >= 0" \
	jqe '.machines[0] | (.elapsed_s >= 0) and ((.last_seen - .first_seen - .elapsed_s) | fabs < 0.001)' \
	"$WORK/machines.json"
check "machines: now is after last_seen" jqe '.now >= .machines[0].last_seen' "$WORK/machines.json"

# ---- GET /api/v1/machines/{mac} -----------------------------------------------------
in_cli curl -s --max-time 5 -o "$WORK/one.json" "$API/machines/$MAC_DASH_UPPER"
expect_eq "machine by MAC (dashes, upper case): the same machine" "$MAC handed_off" \
	"$(jq -r '"\(.mac) \(.state)"' "$WORK/one.json" 2>/dev/null)"
expect_eq "machine: the timeline's stages in boot order" \
	"offer tftp nbp_loaded ipxe script kernel initrd" "$(jq -r '[.timeline[].stage] | join(" ")' "$WORK/one.json")"
expect_eq "machine: the timeline's events" \
	"dhcp discover offer|tftp started|tftp completed|dhcp discover offer|http script|http file|http file" \
	"$(jq -r '[.timeline[].event] | join("|")' "$WORK/one.json")"
expect_eq "machine: the timeline's details (iPXE's is the script URL)" \
	"undionly.kpxe|undionly.kpxe|undionly.kpxe|SCRIPT-URL|lab|lab/vmlinuz|lab/initrd.img" \
	"$(jq -r '[.timeline[] | if .stage == "ipxe" and (.detail | startswith("http://'"$SRV_IP"':8080/boot.ipxe?")) then "SCRIPT-URL" else .detail end] | join("|")' "$WORK/one.json")"
check "machine: timeline times never go back" jqe '[.timeline[].t] | . == sort' "$WORK/one.json"
check "machine: timeline entries have t, stage, event, detail" \
	jqe '[.timeline[] | keys == ["detail","event","stage","t"]] | all' "$WORK/one.json"
status=$(in_cli curl -s --max-time 5 -o "$WORK/nomac.json" -w '%{http_code}' "$API/machines/52:54:00:00:00:99")
expect_eq "an unknown MAC: 404" 404 "$status"
expect_eq "an unknown MAC: {\"error\": \"no such machine\"}" '{"error":"no such machine"}' "$(jq -c . "$WORK/nomac.json")"

# ---- GET /api/v1/profiles -------------------------------------------------------------
in_cli curl -s --max-time 5 -o "$WORK/profiles.json" "$API/profiles"
expect_eq "profiles: default_profile" menu "$(jq -r .default_profile "$WORK/profiles.json")"
expect_eq "profiles: the configured profile" \
	'{"cmdline":"console=ttyS0 hostname=${hostname}","description":"API test kernel","initrds":["lab/initrd.img"],"kernel":"lab/vmlinuz","kind":"linux","name":"lab"}' \
	"$(jq -cS '.profiles[] | select(.name == "lab")' "$WORK/profiles.json")"
PROFILES_BEFORE=$(jq -c '[.profiles[].name] | sort' "$WORK/profiles.json")
expect_eq "profiles: only lab" '["lab"]' "$PROFILES_BEFORE"

# ---- GET /api/v1/counters ----------------------------------------------------------------
in_cli curl -s --max-time 5 -o "$WORK/counters.json" "$API/counters"
expect_ge "counters: dataplane.dhcp_offer >= 2 (PXE and iPXE)" 2 "$(jq .dataplane.dhcp_offer "$WORK/counters.json")"
expect_ge "counters: dataplane.tftp_transfers_completed >= 1" 1 \
	"$(jq '.dataplane | to_entries[] | select(.key | test("^tftp_.*completed")) | .value' "$WORK/counters.json" | head -1)"
expect_ge "counters: dataplane.rx_packets > 0" 1 "$(jq .dataplane.rx_packets "$WORK/counters.json")"
check "counters: every dataplane counter is an integer" \
	jqe '.dataplane | to_entries | length > 20 and all(.value | type == "number" and floor == .)' \
	"$WORK/counters.json"
"$BUILD_DIR/stampede" stats --socket "$CTL" | awk '$1 != "." { print $1 }' | sort >"$WORK/stat-names"
jq -r '.dataplane | keys[]' "$WORK/counters.json" | sort >"$WORK/api-names"
check "counters: the dataplane object has every 'stampede stats' line" cmp -s "$WORK/stat-names" "$WORK/api-names"
expect_ge "counters: http.requests >= 3" 3 "$(jq .http.requests "$WORK/counters.json")"
expect_ge "counters: http.bytes_sent >= kernel + initrd" 5000000 "$(jq .http.bytes_sent "$WORK/counters.json")"
expect_eq "counters: http.scripts" 1 "$(jq .http.scripts "$WORK/counters.json")"
expect_eq "counters: machines" "1 1 0 0 0" \
	"$(jq -r '.machines | "\(.total) \(.handed_off) \(.booting) \(.failed) \(.ignored)"' "$WORK/counters.json")"

# ---- GET /api/v1/throughput ------------------------------------------------------------
deadline=$((SECONDS + 5))
until [ "$(get api/v1/throughput '.samples | length')" -ge 2 ] 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; do
	sleep 0.2
done
in_cli curl -s --max-time 5 -o "$WORK/throughput.json" "$API/throughput"
expect_eq "throughput: interval_s 1" 1 "$(jq .interval_s "$WORK/throughput.json")"
check "throughput: samples with t, tftp_bytes_per_s, http_bytes_per_s" \
	jqe '(.samples | length) >= 2 and all(.samples[]; keys == ["http_bytes_per_s","t","tftp_bytes_per_s"])' \
	"$WORK/throughput.json"
check "throughput: the boot's HTTP traffic shows" jqe '[.samples[].http_bytes_per_s] | max > 0' \
	"$WORK/throughput.json"

# ---- GET /metrics -----------------------------------------------------------------------
in_cli curl -s --max-time 5 -D "$WORK/metrics.h" -o "$WORK/metrics.txt" "$BASE/metrics"
check "metrics: Content-Type text/plain; version=0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$WORK/metrics.h"
python3 - "$WORK/metrics.txt" >"$WORK/metrics.check" 2>&1 <<'EOF'
# Prometheus text format 0.0.4: every family has one HELP and one TYPE before
# its samples, its samples are together, labels are name="value", values are
# numbers. Prints the problems, one a line; nothing when it is well-formed.
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
problems = []
if not text.endswith("\n"):
    problems.append("no final newline")
help_, type_, done, current = {}, {}, set(), None
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$')
for n, line in enumerate(text.split("\n")[:-1], 1):
    m = re.match(r"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$", line)
    if m:
        kind, name, rest = m.groups()
        seen = help_ if kind == "HELP" else type_
        if name in seen:
            problems.append(f"{n}: second {kind} for {name}")
        if kind == "TYPE" and rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
            problems.append(f"{n}: bad type {rest}")
        if name in done:
            problems.append(f"{n}: {kind} for {name} after its samples")
        seen[name] = rest
        continue
    if line.startswith("#"):
        problems.append(f"{n}: stray comment: {line}")
        continue
    m = sample.match(line)
    if not m:
        problems.append(f"{n}: malformed sample: {line}")
        continue
    name, value = m.group(1), m.group(3)
    family = name
    if family not in type_:
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and type_.get(name[: -len(suffix)]) == "histogram":
                family = name[: -len(suffix)]
    if family not in help_ or family not in type_:
        problems.append(f"{n}: {name} without HELP and TYPE before it")
    if family in done:
        problems.append(f"{n}: samples of {family} are not together")
    if current is not None and current != family:
        done.add(current)
    current = family
    try:
        float(value)
    except ValueError:
        problems.append(f"{n}: value not numeric: {line}")
for name in set(help_) ^ set(type_):
    problems.append(f"{name}: HELP without TYPE or TYPE without HELP")
print("\n".join(problems))
EOF
expect_eq "metrics: the exposition is well-formed (HELP+TYPE per family, numeric values)" "" \
	"$(head -5 "$WORK/metrics.check")"
check "metrics: stampede_dataplane_up 1" grep -qx 'stampede_dataplane_up 1' "$WORK/metrics.txt"
check "metrics: one machine handed off" grep -qx 'stampede_machines{state="handed_off"} 1' "$WORK/metrics.txt"
check "metrics: the proxy offers are counted" grep -qE '^stampede_dhcp_decisions_total\{decision="offer"\} [1-9]' "$WORK/metrics.txt"
check "metrics: the TFTP transfer's duration is observed" \
	grep -qE '^stampede_tftp_transfer_duration_seconds_count [1-9]' "$WORK/metrics.txt"
T_READ=$(date +%s.%N)

# ---- POST /api/v1/reload --------------------------------------------------------------------
# post [CURL ARGS...]: POST /api/v1/reload; the body goes to $WORK/reload.json, prints the status.
post() {
	in_cli curl -s --max-time 10 -X POST -D "$WORK/reload.h" -o "$WORK/reload.json" -w '%{http_code}' "$@" "$API/reload"
}
reloads() { grep -c 'configuration reloaded from' "$WORK/stampede.log"; }
# wait_reloads N: until the log shows N reloads (at most 10 s).
wait_reloads() {
	local deadline=$((SECONDS + 10))
	while [ "$(reloads)" -lt "$1" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
	[ "$(reloads)" -ge "$1" ]
}

expect_eq "reload without a token: 401" 401 "$(post)"
check "reload without a token: WWW-Authenticate: Bearer" grep -qi '^www-authenticate: bearer' "$WORK/reload.h"
check "reload without a token: a JSON error" jqe '.error | type == "string"' "$WORK/reload.json"
expect_eq "reload with a wrong token: 401" 401 "$(post -H "Authorization: Bearer wrong-$TOKEN")"
expect_eq "GET /api/v1/reload: 405" 405 \
	"$(in_cli curl -s --max-time 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$API/reload")"
expect_eq "POST /api/v1/machines: 405" 405 \
	"$(in_cli curl -s --max-time 5 -X POST -o /dev/null -w '%{http_code}' "$API/machines")"
expect_eq "GET /api/v1/nothing: 404" 404 "$(in_cli curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$API/nothing")"
expect_eq "no reload so far" 0 "$(reloads)"

expect_eq "reload with the token: 200" 200 "$(post -H "Authorization: Bearer $TOKEN")"
expect_eq "reload with the token: ok true" true "$(jq .ok "$WORK/reload.json")"
check "the log shows the reload" wait_reloads 1
check "the reload names the file and its profiles" grep -q "configuration reloaded from $CONF: 1 profiles, 1 machine selectors" "$WORK/stampede.log"

# A configuration with errors: refused with FILE:LINE, the running one stays.
cat >"$CONF" <<EOF
http:
  port: 8080
  root: $HTTP_ROOT
api:
  token: $TOKEN
profiles:
  lab:
    kernel: lab/vmlinuz
    initrd: [lab/initrd.img]
    bogus_key: 1
machines:
  - {mac: $MAC, profile: no-such-profile}
EOF
expect_eq "reload of a bad file: 400" 400 "$(post -H "Authorization: Bearer $TOKEN")"
expect_eq "reload of a bad file: ok false" false "$(jq .ok "$WORK/reload.json")"
check "reload of a bad file: errors are FILE:LINE:COL: ... (got $(jq -c .errors "$WORK/reload.json" | head -c 300))" \
	jqe --arg f "$CONF" '(.errors | length) >= 1 and all(.errors[]; startswith($f + ":") and test("^[^:]+:[0-9]+:[0-9]+: "))' \
	"$WORK/reload.json"
check "reload of a bad file: the unknown key is named at line 10" \
	jqe --arg f "$CONF" 'any(.errors[]; startswith($f + ":10:") and contains("bogus_key"))' "$WORK/reload.json"
# References between sections are checked once the file has no other error.
sed -i '/bogus_key/d' "$CONF"
expect_eq "reload of a file naming a missing profile: 400" 400 "$(post -H "Authorization: Bearer $TOKEN")"
check "reload of a file naming a missing profile: named at line 11 ($(jq -c .errors "$WORK/reload.json" | head -c 300))" \
	jqe --arg f "$CONF" 'any(.errors[]; startswith($f + ":11:") and contains("no-such-profile"))' "$WORK/reload.json"
sleep 0.5
expect_eq "reload of a bad file: no reload happened" 1 "$(reloads)"
expect_eq "the running configuration still answers: profiles unchanged" "$PROFILES_BEFORE" \
	"$(get api/v1/profiles '[.profiles[].name] | sort | tostring')"
expect_eq "the running configuration still answers: default_profile" menu "$(get api/v1/profiles .default_profile)"
in_cli curl -s --max-time 10 -o "$WORK/script2" "$BASE/boot.ipxe?mac=$MAC"
check "the running configuration still renders the lab script" grep -q 'lab/vmlinuz' "$WORK/script2"
expect_eq "the token still guards reloads" 401 "$(post)"

# SIGHUP with a good file holding a new profile.
write_config "  rescue:
    description: a new profile
    action: shell"
kill -HUP "$SERVER_PID"
check "SIGHUP: the log shows the reload" wait_reloads 2
deadline=$((SECONDS + 10))
until [ "$(get api/v1/profiles '[.profiles[].name] | sort | tostring')" = '["lab","rescue"]' ] ||
	[ "$SECONDS" -ge "$deadline" ]; do
	sleep 0.1
done
expect_eq "SIGHUP: /api/v1/profiles shows the new profile" '["lab","rescue"]' \
	"$(get api/v1/profiles '[.profiles[].name] | sort | tostring')"
expect_eq "SIGHUP: the new profile's kind and description" "shell a new profile" \
	"$(get api/v1/profiles '.profiles[] | select(.name == "rescue") | "\(.kind) \(.description)"')"
expect_eq "the machine table survives reloads" "lab node-api 0" "$(machine '"\(.profile) \(.hostname) \(.failures)"')"
check "stampede is still running" kill -0 "$SERVER_PID"
T_END=$(date +%s.%N)

echo "# timings: start $(echo "$T_START - $T0" | bc) s, boot $(echo "$T_BOOT - $T_START" | bc) s," \
	"reads $(echo "$T_READ - $T_BOOT" | bc) s, reloads $(echo "$T_END - $T_READ" | bc) s"
finish
