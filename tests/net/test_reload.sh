#!/usr/bin/env bash
# Reloading the image cache (control socket and SIGHUP) is atomic: a transfer in
# flight finishes with the bytes it started with, new requests get the new
# files, and a reload that fails (budget exceeded) keeps the running version.
# A dataplane restarted after a reload gets the reloaded TFTP limits but the
# first one's pinned settings (the dataplane: section; control/launcher.h).
source "$(dirname "$0")/lib.sh"
require_root
net_setup || { echo "# topology set-up failed"; finish; }

make_file kernel 200000
v1=$(sha "$ROOT/kernel")
start_stampede --cache-mb 2 || { echo "not ok - stampede starts"; FAILED=1; finish; }

replace() { # NAME SIZE: new random content, swapped in by rename as an operator's copy would
	head -c "$2" /dev/urandom >"$WORK/new" && chmod 644 "$WORK/new" && mv "$WORK/new" "$ROOT/$1"
}
wait_for_file() { for _ in $(seq 1 100); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

ip netns exec "$CLI_NS" $PROBE paused-download "$SRV_IP" kernel "$WORK/paused" "$WORK/resume" >"$WORK/paused.out" &
paused_pid=$!
check "a download is paused after its first block" wait_for_file "$WORK/paused"

replace kernel 300000
v2=$(sha "$ROOT/kernel")
echo fresh >"$ROOT/added.txt"
reply=$("$BUILD_DIR/stampede" reload --socket "$CTL")
check "reload over the control socket succeeds" grep -q '^ok 2 files' <<<"$reply"
in_cli curl -s --max-time 30 -o "$WORK/after" "tftp://$SRV_IP/kernel"
expect_eq "a new request gets the new file" "$v2" "$(sha "$WORK/after")"
expect_eq "a file added before the reload is served" fresh "$(in_cli curl -s --max-time 10 "tftp://$SRV_IP/added.txt")"
touch "$WORK/resume"
wait "$paused_pid"
expect_eq "the transfer in flight finished with the bytes it started with" "$v1" "$(cat "$WORK/paused.out")"
# Its end released the first version: freed by the control thread, not the polling core.
for _ in $(seq 1 30); do [ "$(counter cache_versions_freed)" -ge 1 ] && break; sleep 0.1; done
expect_ge "the retired version was freed off the polling core" 1 "$(counter cache_versions_freed)"

replace kernel 100000
v3=$(sha "$ROOT/kernel")
kill -HUP "$SERVER_PID"
for _ in $(seq 1 50); do [ "$(counter cache_reloads_ok)" = 2 ] && break; sleep 0.1; done
expect_eq "SIGHUP reloads" 2 "$(counter cache_reloads_ok)"
in_cli curl -s --max-time 30 -o "$WORK/after-hup" "tftp://$SRV_IP/kernel"
expect_eq "after SIGHUP the new file is served" "$v3" "$(sha "$WORK/after-hup")"

make_file huge.img 3000000
reply=$("$BUILD_DIR/stampede" reload --socket "$CTL")
expect_eq "a reload over the budget is refused" 1 "$?"
check "the refusal says why" grep -q 'error: image cache budget exceeded' <<<"$reply"
expect_eq "the failed reload is counted" 1 "$(counter cache_reloads_failed)"
in_cli curl -s --max-time 30 -o "$WORK/after-fail" "tftp://$SRV_IP/kernel"
expect_eq "the previous version is still served" "$v3" "$(sha "$WORK/after-fail")"
expect_eq "the over-budget file is not served" "ERROR 1 file not found" \
	"$(in_cli $PROBE first-reply "$SRV_IP" huge.img)"

# ---- a restart after a reload: new limits, the first dataplane's pinned settings ----
check "serve stops" stop_stampede
printf 'tftp:\n  max_sessions: 100\ndataplane:\n  pmd: af_xdp\n' >"$WORK/pins.yaml"
start_stampede --config "$WORK/pins.yaml" || { echo "not ok - stampede starts with a configuration"; FAILED=1; finish; }
check "the first dataplane serves 100 sessions with af_xdp" \
	grep -q 'af_xdp with XDP steering, .* 100 sessions' "$WORK/stampede.log"
printf 'tftp:\n  max_sessions: 200\ndataplane:\n  pmd: af_packet\n' >"$WORK/pins.yaml"
kill -HUP "$SERVER_PID"
for _ in $(seq 1 50); do grep -q 'configuration reloaded' "$WORK/stampede.log" && break; sleep 0.1; done
check "the reload says the dataplane section waits for serve's restart" \
	grep -q 'the TFTP port range and the dataplane section change only when stampede restarts (.*pmd af_packet.* where the first dataplane started with .*pmd af_xdp' \
	"$WORK/stampede.log"
check "and that the session limit waits for the dataplane's" \
	grep -q 'session limits take effect when the dataplane restarts' "$WORK/stampede.log"
first=$(pgrep -P "$SERVER_PID" -f stampede-dataplane | head -1)
kill -KILL "$first"
restarted=""
for _ in $(seq 1 100); do
	restarted=$(pgrep -P "$SERVER_PID" -f stampede-dataplane | head -1)
	[ -n "$restarted" ] && [ "$restarted" != "$first" ] && [ "$(counter dhcp_policy_loaded 2>/dev/null)" = 1 ] && break
	sleep 0.1
done
check "the dataplane is restarted after kill -9 (pid '$restarted', was $first)" test -n "$restarted"
check "the restarted one has the reloaded limit and the first one's PMD" \
	grep -q 'af_xdp with XDP steering, .* 200 sessions' "$WORK/stampede.log"
check "nothing was refused by the launcher" bash -c '! grep -q "launcher: refused" "$1"' _ "$WORK/stampede.log"
in_cli curl -s --max-time 30 -o "$WORK/after-restart" "tftp://$SRV_IP/kernel"
expect_eq "and serves" "$v3" "$(sha "$WORK/after-restart")"
finish
