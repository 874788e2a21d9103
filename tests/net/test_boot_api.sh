#!/usr/bin/env bash
# The external boot API (config boot_api): /boot.ipxe asks an HTTP service
# which profile a machine boots. A stand-in service in the server namespace
# (boot_api_service.py) answers per MAC: a profile name, an ad-hoc kernel, an
# action, 404 ("not mine"), a slow answer (past the timeout) and garbage; each
# must give the expected script, every failure the configuration's own choice.
source "$(dirname "$0")/lib.sh"
require_root
net_setup || { echo "# topology set-up failed"; finish; }
mkdir -p "$ROOT/lab" && echo kernel >"$ROOT/lab/vmlinuz"

bg_srv python3 "$TESTS_DIR/boot_api_service.py" 9099 "$WORK/service.log" 2>"$WORK/service.err"
# The first request must find it listening (a busy machine starts Python slowly).
for _ in $(seq 1 100); do in_srv ss -Hltn 'sport = :9099' | grep -q . && break; sleep 0.1; done
check "the stand-in service listens" bash -c 'ip netns exec "$1" ss -Hltn "sport = :9099" | grep -q .' _ "$SRV_NS"
cat >"$WORK/stampede.yaml" <<CONFIG
boot_api:
  url: http://127.0.0.1:9099
  token: s3cret-token-for-the-service
  timeout_ms: 500
  cache_ttl_s: 60
profiles:
  lab: {kernel: lab/vmlinuz, cmdline: from=config}
  fallback: {kernel: lab/vmlinuz, cmdline: from=default}
default_profile: fallback
CONFIG
start_stampede --config "$WORK/stampede.yaml" --http-root "$ROOT" || finish
script() { in_cli curl -s --max-time 10 "http://$SRV_IP:8080/boot.ipxe?mac=$1&arch=efi-x86_64"; }

check "a profile name from the service" grep -q 'from=config' <<<"$(script 52:54:00:00:00:01)"
out=$(script 52:54:00:00:00:02)
check "an ad-hoc kernel from the service" grep -q 'kernel http://images.example/vmlinuz initrd=initrd from=api' <<<"$out"
check "its initrd" grep -q 'initrd http://images.example/initrd' <<<"$out"
check "an action from the service (local disk)" grep -q 'exit' <<<"$(script 52:54:00:00:00:03)"
check "404 from the service: the configuration's default" grep -q 'from=default' <<<"$(script 52:54:00:00:00:04)"
start=$(date +%s.%N)
out=$(script 52:54:00:00:00:05)
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
check "a slow service: the default" grep -q 'from=default' <<<"$out"
check "a slow service costs about its timeout, not more (${took}s)" awk -v t="$took" 'BEGIN { exit !(t < 2.5) }'
sleep 6 # past the hold-off that follows a timeout
check "garbage from the service: the default" grep -q 'from=default' <<<"$(script 52:54:00:00:00:06)"
requests=$(grep -c '/v1/boot/52:54:00:00:00:01' "$WORK/service.log")
script 52:54:00:00:00:01 >/dev/null
expect_eq "answers are cached (no second request)" "$requests" \
	"$(grep -c '/v1/boot/52:54:00:00:00:01' "$WORK/service.log")"
check "the bearer token is sent" grep -q 'Bearer s3cret-token-for-the-service' "$WORK/service.log"
check "the fallback is logged with its reason" grep -q 'boot API for 52:54:00:00:00:05' "$WORK/stampede.log"
check "stampede stops cleanly" stop_stampede
finish
