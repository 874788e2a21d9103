#!/usr/bin/env bash
# The load client's own ceiling: build/bench/swarm (and dhcp-rate) against
# bench/trivial_responder.c (trivial-responder), a server that does almost no
# work, so that whatever limit shows is the client's (and the veth's), not a
# server's. Run as root.
#
# The responder runs in the server namespace pinned to SERVER_CPU (where
# Stampede's dataplane polls); its TFTP goes through AF_XDP on IF_S (--xdp:
# the transmit path Stampede's dataplane uses, so the kernel's UDP transmit
# path does not cap the figures), DHCP through kernel sockets. The swarm runs
# as bench/run.sh runs it: in the client namespace, pinned to CLIENT_CPU,
# with --xdp (AF_XDP receive, threaded NAPI for IF_C pinned to its core):
#
#   swarm --server SRV_IP --iface IF_C --clients N --xdp --mode dhcp --arch ARCH
#   swarm --server SRV_IP --iface IF_C --clients N --xdp --mode tftp --file boot.img
#         --tftp-root DIR          (every byte compared with the served file)
#
# for N in SIZES, REPEAT runs each (median by the time until the last client
# was done), then dhcp-rate (open-loop DISCOVERs as a relay) at DHCP_RATES.
#
# Topology: with NS_S, NS_C, IF_S, IF_C, SRV_IP and CLI_IP all set in the
# environment (bench/run.sh's), the script runs in those namespaces over that
# veth: it creates and deletes nothing there, stops only the processes it
# started (by pid), and on exit removes XDP programs left by them and puts
# IF_S's and IF_C's threaded-NAPI setting back. Nothing else may run in the
# server namespace meanwhile (port 67/69 must be free) and no XDP program may
# be attached. Without them it creates two namespaces (prefix sc<pid>,
# 10.84.0.0/24 only inside them) and removes them on exit, even on failure.
#
# Environment (all optional):
#   OUT=/tmp/swarm_ceiling.md  Markdown report (one JSON line goes to stdout)
#   SIZES="16 256 1000" REPEAT=3 NBP_MB=1 (TFTP file size, MiB) ARCH=mix
#   DHCP_RATES="20000 50000 100000 200000" PERIOD=3 (seconds per rate)
#   CLIENT_CPU=0 SERVER_CPU=last core RTO_MS=50 (the responder's TFTP timeout)
#   RESPONDER_TFTP=xdp|socket  KEEP_TMP=1
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
OUT="${OUT:-/tmp/swarm_ceiling.md}"
SIZES="${SIZES:-16 256 1000}"
REPEAT="${REPEAT:-3}"
NBP_MB="${NBP_MB:-1}"
ARCH="${ARCH:-mix}"
DHCP_RATES="${DHCP_RATES:-20000 50000 100000 200000}"
PERIOD="${PERIOD:-3}"
CLIENT_CPU="${CLIENT_CPU:-0}"
SERVER_CPU="${SERVER_CPU:-$(($(nproc) - 1))}"
RTO_MS="${RTO_MS:-50}"
RESPONDER_TFTP="${RESPONDER_TFTP:-xdp}"
WORK=""
CLEANED=0
RESP_PID=""
PIDS=()

log() { printf '[swarm_ceiling] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
[[ $EUID -eq 0 ]] || die "run as root"

bench_topology_names sc 10.84.0

stop_pid() {   # TERM, then KILL after 5 s
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    [[ $CLEANED -eq 1 ]] && return 0
    CLEANED=1
    set +e
    local pid ns pids
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    [[ -n "$RESP_PID" ]] && stop_pid "$RESP_PID"
    if [[ $REUSE -eq 1 ]]; then
        # Threaded NAPI first (settable only while XDP gives the veth a NAPI),
        # then whatever XDP program a killed process of ours left behind.
        [[ -n "${THR_S0:-}" ]] && threaded_set "$NS_S" "$IF_S" "$THR_S0"
        [[ -n "${THR_C0:-}" ]] && threaded_set "$NS_C" "$IF_C" "$THR_C0"
        for pair in "$NS_S $IF_S" "$NS_C $IF_C"; do
            # shellcheck disable=SC2086
            if [[ "$(xdp_attached $pair)" == 1 ]]; then
                set -- $pair
                ip -n "$1" link set dev "$2" xdpdrv off 2>/dev/null
                ip -n "$1" link set dev "$2" xdpgeneric off 2>/dev/null
            fi
        done
    else
        for ns in "$NS_S" "$NS_C"; do
            ns_exists "$ns" || continue
            pids="$(ip netns pids "$ns" 2>/dev/null)"
            # shellcheck disable=SC2086
            [[ -n "$pids" ]] && kill -KILL $pids 2>/dev/null
            ip netns del "$ns"
        done
    fi
    if [[ -n "$WORK" && -d "$WORK" ]]; then
        if [[ "${KEEP_TMP:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    fi
}
trap cleanup EXIT
trap 'log interrupted; cleanup; exit 130' INT TERM

SWARM="$REPO/build/bench/swarm"
TR="$REPO/build/bench/trivial-responder"
DR="$REPO/build/bench/dhcp-rate"
for b in "$SWARM" "$TR" "$DR"; do [[ -x "$b" ]] || die "$b not built (meson compile -C build)"; done
command -v jq >/dev/null || die "jq is not installed"
WORK="$(mktemp -d /tmp/swarm-ceiling.XXXXXX)"
chmod 755 "$WORK"
mkdir -p "$WORK/tftp" "$WORK/res"

# --- topology ----------------------------------------------------------------
if [[ $REUSE -eq 1 ]]; then
    ns_exists "$NS_S" && ns_exists "$NS_C" || die "namespace $NS_S or $NS_C does not exist"
    ip -n "$NS_S" -4 addr show dev "$IF_S" 2>/dev/null | grep -q "inet $SRV_IP/" || die "$IF_S in $NS_S does not hold $SRV_IP"
    ip -n "$NS_C" -4 addr show dev "$IF_C" 2>/dev/null | grep -q "inet $CLI_IP/" || die "$IF_C in $NS_C does not hold $CLI_IP"
    [[ "$(xdp_attached "$NS_S" "$IF_S")" == 0 && "$(xdp_attached "$NS_C" "$IF_C")" == 0 ]] ||
        die "an XDP program is attached to $IF_S or $IF_C: is something still running there?"
    [[ -z "$(ip netns pids "$NS_S")" ]] || log "warning: processes are running in $NS_S"
    log "reusing $NS_S/$IF_S ($SRV_IP) and $NS_C/$IF_C ($CLI_IP)"
else
    bench_topology_up server-tx-off
fi
THR_S0="$(threaded_get "$NS_S" "$IF_S")"
THR_C0="$(threaded_get "$NS_C" "$IF_C")"

# --- the responder -------------------------------------------------------------
RESP_ARGS=(--addr "$SRV_IP" --size "$((NBP_MB << 20))" --dump "$WORK/tftp/boot.img" --boot-file boot.img
    --rto-ms "$RTO_MS")
[[ "$RESPONDER_TFTP" == xdp ]] && RESP_ARGS+=(--xdp "$IF_S" --peer "$CLI_IP")
ip netns exec "$NS_S" taskset -c "$SERVER_CPU" "$TR" "${RESP_ARGS[@]}" >"$WORK/responder.log" 2>&1 </dev/null &
RESP_PID=$!
RESP_CMD="ip netns exec $NS_S taskset -c $SERVER_CPU build/bench/trivial-responder ${RESP_ARGS[*]}"
RESP_CMD="${RESP_CMD//$WORK/WORK}"

# swarm_run NAME N ARGS...: one swarm run in the background (stoppable by pid); JSON in res/NAME.json.
swarm_run() {
    local name=$1 n=$2 rc=0
    shift 2
    timeout 300 ip netns exec "$NS_C" taskset -c "$CLIENT_CPU" "$SWARM" --server "$SRV_IP" --iface "$IF_C" \
        --clients "$n" --xdp --json "$WORK/res/$name.json" --duration-limit 120 "$@" \
        >"$WORK/res/$name.out" 2>&1 </dev/null &
    PIDS+=($!)
    wait $! || rc=$?
    unset 'PIDS[-1]'
    return $rc
}

for ((i = 0; i < 300; i++)); do   # at most 30 s (it resolves the client's MAC first)
    grep -q '^trivial-responder: .*TFTP' "$WORK/responder.log" && break
    kill -0 "$RESP_PID" 2>/dev/null || break
    sleep 0.1
done
grep -q '^trivial-responder: .*TFTP' "$WORK/responder.log" || { cat "$WORK/responder.log" >&2; die "trivial-responder did not start"; }
swarm_run probe 1 --mode tftp --file boot.img --tftp-root "$WORK/tftp" ||
    { cat "$WORK/res/probe.out" "$WORK/responder.log" >&2; die "trivial-responder did not serve a first client"; }
log "trivial-responder up: $(head -1 "$WORK/responder.log")"

# --- runs ----------------------------------------------------------------------
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load before the runs: $(uptime)"
: >"$WORK/runs.jsonl"
for n in $SIZES; do
    for mode in dhcp tftp; do
        for ((r = 1; r <= REPEAT; r++)); do
            name="$mode-$n-$r"
            if [[ $mode == dhcp ]]; then
                swarm_run "$name" "$n" --mode dhcp --arch "$ARCH" || log "$name: some clients failed"
            else
                swarm_run "$name" "$n" --mode tftp --file boot.img --tftp-root "$WORK/tftp" || log "$name: some clients failed"
            fi
            if [[ -s "$WORK/res/$name.json" ]]; then
                jq -c --arg mode "$mode" --argjson rep "$r" '{mode: $mode, rep: $rep, clients, booted, failed,
                    last_done_s, mb_per_s, cpu_pct, pkts_rx, pkts_tx}' "$WORK/res/$name.json" >>"$WORK/runs.jsonl"
                log "$mode N=$n #$r: $(tail -n 1 "$WORK/runs.jsonl")"
            else
                log "$name: no JSON (see $WORK/res/$name.out)"
            fi
        done
    done
done
: >"$WORK/rates.jsonl"
for rate in $DHCP_RATES; do
    ip netns exec "$NS_C" taskset -c "$CLIENT_CPU" "$DR" --server "$SRV_IP" --bind "$CLI_IP" --rate "$rate" \
        --duration "$PERIOD" --clients 65000 --wait-ms 500 >"$WORK/res/rate-$rate.json" 2>"$WORK/res/rate-$rate.err" </dev/null &
    PIDS+=($!)
    wait $! || log "dhcp-rate $rate failed: $(cat "$WORK/res/rate-$rate.err")"
    unset 'PIDS[-1]'
    [[ -s "$WORK/res/rate-$rate.json" ]] && jq -c '{offered_rate, sent_per_s, answered_per_s, drops, lat_us}' \
        "$WORK/res/rate-$rate.json" >>"$WORK/rates.jsonl"
    log "dhcp-rate $rate/s: $(tail -n 1 "$WORK/rates.jsonl")"
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
DATAPLANES="$(pgrep -x stampede-datapl | wc -l || true)"
stop_pid "$RESP_PID"
RESP_PID=""
RESP_SUMMARY="$( (grep -E 'DISCOVERs,|^af_xdp socket' "$WORK/responder.log" || true) | tr -s ' ' | tr '\n' ' ')"

python3 - "$WORK/runs.jsonl" "$WORK/rates.jsonl" "$OUT" "$SIZES" "$REPEAT" "$NBP_MB" "$ARCH" "$CLIENT_CPU" \
    "$SERVER_CPU" "$RESP_CMD" "$RESP_SUMMARY" "$LOAD_BEFORE" "$LOAD_AFTER" "$DATAPLANES" "$REUSE" \
    "$NS_S" "$IF_S" "$SRV_IP" "$NS_C" "$IF_C" "$CLI_IP" "$PERIOD" "$RESPONDER_TFTP" <<'PY'
import json, os, sys
(runs_f, rates_f, out, sizes, rep, nbp, arch, ccpu, scpu, resp_cmd, resp_sum, load0, load1, dataplanes, reuse,
 ns_s, if_s, srv, ns_c, if_c, cli, period, rtftp) = sys.argv[1:24]
runs = [json.loads(l) for l in open(runs_f) if l.strip()]
rates = [json.loads(l) for l in open(rates_f) if l.strip()]
sizes = [int(x) for x in sizes.split()]
def med(mode, n):
    r = sorted((x for x in runs if x["mode"] == mode and x["clients"] == n), key=lambda x: x["last_done_s"])
    return (r[(len(r) - 1) // 2] if r else None), r
L = ["## The load client's own ceiling (swarm against a trivial responder)", ""]
L.append("Written by `bench/swarm_ceiling.sh`. The server is `bench/trivial_responder.c` (`trivial-responder`): "
         "canned proxyDHCP answers, and TFTP straight out of one in-memory image with no per-transfer work beyond "
         "the protocol (no cache, no policy, no logging, no events)"
         + (", sending through an AF_XDP socket on the server veth, Stampede's own transmit path (DPDK's "
            "net_af_xdp, copy mode), so the kernel's UDP transmit path does not cap it" if rtftp == "xdp" else
            ", over kernel UDP sockets")
         + f". It runs pinned to core {scpu}, where Stampede's dataplane polls. The client is run exactly as "
         f"`bench/run.sh` runs it: `build/bench/swarm` pinned to core {ccpu}, `--xdp` (AF_XDP receive, threaded "
         f"NAPI for the client veth pinned to core {ccpu}), TFTP with blksize 1468, tsize and windowsize 64, every "
         f"byte compared with the served file ({nbp} MiB). "
         + ("The caller's namespaces and veth (from the environment, as bench/run.sh passes its own)" if reuse == "1" else "A veth pair of its own")
         + f" (`{if_s}` {srv} in `{ns_s}` → `{if_c}` {cli} in `{ns_c}`, MTU 1500). Each figure is the median of "
         f"{rep} runs (by the time until the last client was done).")
L.append("")
L.append("**What the ceiling means.** With a server that costs (almost) nothing, the time the swarm needs is "
         "what the client side can absorb: the swarm's own work (parsing, verifying, its state machines), the "
         "client veth's receive processing on the client's core, and the veth between the namespaces. A server "
         "measured with this client cannot look faster than these figures; a server that comes close to them is "
         "limited by the client and the topology rather than by itself, and only the gap below them is the "
         "server's. On this 2-core machine the responder (core "
         f"{scpu}) and the client (core {ccpu}) each have a core, as Stampede and the client have in the "
         "benchmark; the responder is cheaper than Stampede per datagram, so the same core gives it more headroom.")
L.append("")
L.append("```")
L.append(resp_cmd)
L.append(f"ip netns exec {ns_c} taskset -c {ccpu} build/bench/swarm --server {srv} --iface {if_c} --clients N --xdp "
         f"--mode dhcp --arch {arch}")
L.append(f"ip netns exec {ns_c} taskset -c {ccpu} build/bench/swarm --server {srv} --iface {if_c} --clients N --xdp "
         "--mode tftp --file boot.img --tftp-root WORK/tftp")
L.append(f"ip netns exec {ns_c} taskset -c {ccpu} build/bench/dhcp-rate --server {srv} --bind {cli} --rate RATE "
         f"--duration {period} --clients 65000 --wait-ms 500")
L.append("```")
L.append("")
L.append("| stage | N | done / failed | last done s | MB/s | DISCOVERs/s | swarm CPU % | datagrams rx / tx | runs (last done s) |")
L.append("|---|---|---|---|---|---|---|---|---|")
summary = {"dhcp": {}, "tftp": {}}
for mode in ("dhcp", "tftp"):
    for n in sizes:
        m, allr = med(mode, n)
        if not m:
            continue
        dps = m["clients"] / m["last_done_s"] if m["last_done_s"] > 0 else 0
        L.append(f"| {mode} | {n} | {m['booted']} / {m['failed']} | {m['last_done_s']:.3f} | "
                 f"{'%.0f' % m['mb_per_s'] if mode == 'tftp' else '—'} | {'%.0f' % dps if mode == 'dhcp' else '—'} | {m['cpu_pct']} | "
                 f"{m['pkts_rx']} / {m['pkts_tx']} | " + ", ".join("%.3f" % x["last_done_s"] for x in allr) + " |")
        summary[mode][str(n)] = {"booted": m["booted"], "failed": m["failed"], "last_done_s": m["last_done_s"],
                                 "mb_per_s": m["mb_per_s"], "cpu_pct": m["cpu_pct"]}
        if mode == "dhcp":
            summary[mode][str(n)]["discovers_per_s"] = round(dps)
L.append("")
L.append("DISCOVERs/s = N / last done s (all clients start at once; with `--arch mix` the UEFI half also "
         "asks port 4011). MB/s is TFTP payload over the whole run (10^6 bytes/s). Swarm CPU % is the swarm "
         "process's user + system time over its run, in % of one core; the client veth's receive work runs in "
         "its NAPI thread on the same core and is not included.")
if rates:
    L.append("")
    L.append(f"dhcp-rate (open loop, {period} s per rate, relay mode) against the same responder:")
    L.append("")
    L.append("| offered/s | sent/s | answered/s | drops | p50 µs | p99 µs |")
    L.append("|---|---|---|---|---|---|")
    for r in rates:
        L.append(f"| {r['offered_rate']} | {r['sent_per_s']:.0f} | {r['answered_per_s']:.0f} | {r['drops']} | "
                 f"{r['lat_us']['p50']:.0f} | {r['lat_us']['p99']:.0f} |")
    summary["dhcp_rate_max_answered_per_s"] = round(max(r["answered_per_s"] for r in rates))
    summary["dhcp_rate"] = [{k: r[k] for k in ("offered_rate", "answered_per_s", "drops")} | {"p99_us": r["lat_us"]["p99"]}
                            for r in rates]
L.append("")
L.append(f"Responder at the end: {resp_sum.strip()}")
L.append("")
L.append(f"Machine load (1/5/15-minute averages) {load0} before, {load1} after the runs; {dataplanes} Stampede "
         "dataplane(s) of other runs were busy-polling at the end. On a shared 2-core VM, other work on either "
         "core lowers these figures (see the spread in the runs column).")
with open(out + ".tmp", "w") as f:
    f.write("\n".join(L).rstrip() + "\n")
os.replace(out + ".tmp", out)
print(json.dumps({"bench": "swarm_ceiling", **summary, "load": load0}))
PY
log "wrote $OUT"
