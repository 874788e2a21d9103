#!/usr/bin/env bash
# The raw limit of the benchmark's veth topology: server namespace -> client
# namespace, MTU 1500, packets/s and bytes/s for full-size (1514-byte frames,
# UDP payload 1472) and minimum-size (60-byte frames, UDP payload 18) frames.
# Run as root.
#
# Sender: bench/veth_blast.c (veth-blast), one thread in the server namespace,
# pinned to the core Stampede's dataplane polls (SENDER_CPU, default the last
# core), DURATION seconds per run:
#   xsk     AF_XDP on IF_S through bench/xsk_transport.c: Stampede's own
#           transmit path (DPDK's net_af_xdp PMD, copy mode on a veth);
#           datagrams queued 64 at a time, then kicked until the kernel
#           has taken them, as fast as the TX ring takes them;
#   packet  AF_PACKET, PACKET_QDISC_BYPASS, sendmmsg of prebuilt frames;
#   udp     a UDP socket, sendmmsg (the kernel's UDP/IP transmit path).
# Receivers, on IF_C in the client namespace, under the benchmark client's
# receive conditions (threaded NAPI for IF_C, its thread pinned to CLIENT_CPU,
# where the client runs too):
#   AF_XDP  veth-blast --mode xsk-rx: the load clients' AF_XDP receive path
#           (xsk_transport.c with Stampede's XDP program, UDP checksums
#           verified), pinned to CLIENT_CPU, counting datagrams and bytes;
#   XDP_DROP an XDP program that counts every IPv4 frame in a per-CPU map and
#           drops it (ARP passes), so nothing above the driver costs anything.
# "AF_XDP -> AF_XDP" at full size is the ceiling Stampede's TFTP throughput is
# to be compared with.
#
# Topology: with NS_S, NS_C, IF_S, IF_C, SRV_IP and CLI_IP all set in the
# environment (bench/run.sh passes its own), the script runs in those
# namespaces over that veth: it creates and deletes nothing there, stops only
# the processes it started, and on exit removes the XDP programs it attached
# and puts IF_S's and IF_C's threaded-NAPI setting back. Nothing else may run
# in those namespaces meanwhile, and no XDP program may be attached (it
# refuses to start otherwise). Without them it creates two namespaces (prefix
# vl<pid>, 10.82.0.0/24 only inside them) and removes them on exit, even on
# failure.
#
# Environment: OUT=/tmp/veth_limit.md, DURATION=5, REPEAT=3 (median),
#   SENDER_CPU=last core, CLIENT_CPU=0, VETH_BLAST=path, XDP_PROG=path,
#   MODES="xsk packet udp" (senders into XDP_DROP; xsk into AF_XDP always),
#   KEEP_TMP=1
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-/tmp/veth_limit.md}"
DURATION="${DURATION:-5}"
REPEAT="${REPEAT:-3}"
SENDER_CPU="${SENDER_CPU:-$(($(nproc) - 1))}"
CLIENT_CPU="${CLIENT_CPU:-0}"
MODES="${MODES:-xsk packet udp}"
WORK=""
CLEANED=0
PIDS=()          # background processes this script started
ATTACHED=()      # "ns if" where an XDP program of ours may be attached

log() { printf '[veth_limit] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"
[[ $EUID -eq 0 ]] || die "run as root"

bench_topology_names vl 10.82.0

xdp_off() {
    ip -n "$1" link set dev "$2" xdpdrv off 2>/dev/null || true
    ip -n "$1" link set dev "$2" xdpgeneric off 2>/dev/null || true
}
stop_pid() {   # TERM, then KILL after 3 s
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    [[ $CLEANED -eq 1 ]] && return 0
    CLEANED=1
    set +e
    local pid a
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [[ $REUSE -eq 1 ]]; then
        # Threaded NAPI first (it can only be set while XDP gives the veth a
        # NAPI), then our programs: the interfaces had none when we started.
        [[ -n "${THR_S0:-}" ]] && threaded_set "$NS_S" "$IF_S" "$THR_S0"
        [[ -n "${THR_C0:-}" ]] && threaded_set "$NS_C" "$IF_C" "$THR_C0"
        for a in "${ATTACHED[@]}"; do
            # shellcheck disable=SC2086
            [[ "$(xdp_attached $a)" == 1 ]] && xdp_off $a
        done
    else
        local ns pids
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

WORK="$(mktemp -d /tmp/veth-limit.XXXXXX)"
VB="${VETH_BLAST:-$REPO/build/bench/veth-blast}"
XDP_PROG="${XDP_PROG:-$REPO/build/bpf/stampede_xdp.bpf.o}"
[[ -x "$VB" ]] || die "$VB not built (meson compile -C build)"
[[ -r "$XDP_PROG" ]] || die "$XDP_PROG not built (meson compile -C build)"
pktgen="absent (CONFIG_NET_PKTGEN not set)"
if [[ -r /proc/config.gz ]] && zgrep -q '^CONFIG_NET_PKTGEN=[ym]' /proc/config.gz; then pktgen="configured in, not used"; fi

# The XDP counter: per-CPU packets and bytes of IPv4 frames, then XDP_DROP;
# anything else (ARP) goes on to the kernel, so addresses keep resolving.
cat >"$WORK/xdp_count.bpf.c" <<'EOF'
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} vl_count SEC(".maps");
SEC("xdp")
int xdp_count_drop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 k0 = 0, k1 = 1;
	__u64 *p, *b;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	p = bpf_map_lookup_elem(&vl_count, &k0);
	b = bpf_map_lookup_elem(&vl_count, &k1);
	if (p)
		*p += 1;
	if (b)
		*b += end - data;
	return XDP_DROP;
}
char _license[] SEC("license") = "GPL";
EOF
clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$WORK/xdp_count.bpf.c" -o "$WORK/xdp_count.o" ||
    die "cannot compile the XDP counter (clang)"

# --- topology ----------------------------------------------------------------
if [[ $REUSE -eq 1 ]]; then
    ns_exists "$NS_S" && ns_exists "$NS_C" || die "namespace $NS_S or $NS_C does not exist"
    ip -n "$NS_S" link show "$IF_S" >/dev/null 2>&1 || die "no $IF_S in $NS_S"
    ip -n "$NS_C" link show "$IF_C" >/dev/null 2>&1 || die "no $IF_C in $NS_C"
    [[ "$(xdp_attached "$NS_S" "$IF_S")" == 0 && "$(xdp_attached "$NS_C" "$IF_C")" == 0 ]] ||
        die "an XDP program is attached to $IF_S or $IF_C: is something still running there?"
    log "reusing $NS_S/$IF_S ($SRV_IP) and $NS_C/$IF_C ($CLI_IP)"
else
    bench_topology_up server-tx-off
fi
THR_S0="$(threaded_get "$NS_S" "$IF_S")"
THR_C0="$(threaded_get "$NS_C" "$IF_C")"
ATTACHED=("$NS_S $IF_S" "$NS_C $IF_C")
CLI_MAC="$(ip -n "$NS_C" -j link show "$IF_C" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')"

# --- helpers -----------------------------------------------------------------
MAP_ID=""
attach_counter() {   # XDP_DROP counter on IF_C, threaded NAPI pinned to CLIENT_CPU
    local prog_id
    ip -n "$NS_C" link set dev "$IF_C" xdpdrv obj "$WORK/xdp_count.o" sec xdp
    prog_id="$(ip -n "$NS_C" -j link show "$IF_C" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')"
    MAP_ID="$(bpftool -j prog show id "$prog_id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["map_ids"][0])')"
    threaded_set "$NS_C" "$IF_C" 1 || log "cannot turn on threaded NAPI for $IF_C"
    pin_napi
}
detach_counter() {   # threaded NAPI back first: without XDP, a veth has no NAPI to set
    threaded_set "$NS_C" "$IF_C" "$THR_C0" || true
    ip -n "$NS_C" link set dev "$IF_C" xdpdrv off
    MAP_ID=""
}
# Pins IF_C's NAPI thread(s) ("napi/IFNAME-ID", cut at 15 bytes) to CLIENT_CPU,
# as xsk_transport.c does for the load clients.
pin_napi() {
    local prefix="napi/$IF_C-" f c n=0
    prefix="${prefix:0:15}"
    for f in /proc/[0-9]*/comm; do
        read -r c <"$f" 2>/dev/null || continue
        [[ "$c" == "$prefix"* ]] || continue
        f="${f#/proc/}"
        taskset -pc "$CLIENT_CPU" "${f%/comm}" >/dev/null && n=$((n + 1))
    done
    ((n > 0)) || log "no NAPI thread for $IF_C found: receive work stays on the sender's core"
}
xdp_counts() {   # "pkts bytes cpu0pkts cpu1pkts ..."
    bpftool -j map dump id "$MAP_ID" | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = {e["formatted"]["key"]: [x["value"] for x in e["formatted"]["values"]] for e in d}
print(sum(v[0]), sum(v[1]), " ".join(str(x) for x in v[0]))'
}
rx_counts() { ip -n "$NS_C" -s -j link show "$IF_C" | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]["rx"]; print(s["packets"], s["bytes"], s.get("dropped", 0))'; }
tx_drops() { ip -n "$NS_S" -s -j link show "$IF_S" | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]["tx"]; print(s.get("dropped", 0))'; }
cpu_line() { awk '/^cpu[0-9]/ {printf "%s %s %s %s ", $1, $2+$3+$4+$5+$6+$7+$8+$9, $5+$6, $8} END {print ""}' /proc/stat; }

# send MODE PAYLOAD: the sender in the server namespace, in the background
# (so that an interruption stops it by pid); its JSON in $WORK/send.json.
send() {
    local mode=$1 payload=$2 rc=0
    ip netns exec "$NS_S" taskset -c "$SENDER_CPU" "$VB" --mode "$mode" --iface "$IF_S" --dst-mac "$CLI_MAC" \
        --src-ip "$SRV_IP" --dst-ip "$CLI_IP" --payload "$payload" --duration "$DURATION" --xdp-prog "$XDP_PROG" \
        >"$WORK/send.json" 2>"$WORK/send.err" &
    PIDS+=($!)
    wait $! || rc=$?
    unset 'PIDS[-1]'
    ((rc == 0)) || { cat "$WORK/send.err" >&2; die "veth-blast --mode $mode failed"; }
}

# record RECEIVER SENDER_JSON XDP0 XDP1 RX0 RX1 CPU0 CPU1 TXDROP0 TXDROP1 [RECEIVER_JSON]
record() {
    python3 - "$@" "$rep" >>"$WORK/runs.jsonl" <<'PY'
import json, sys
a = sys.argv[1:]
recv, j = a[0], json.loads(a[1])
x0, x1, r0, r1, c0, c1, t0, t1 = a[2:10]
rj = json.loads(a[10]) if len(a) > 11 else None
j.update(rep=int(a[-1]), receiver=recv)
r0, r1 = [int(v) for v in r0.split()], [int(v) for v in r1.split()]
j.update(rx_link_pkts=r1[0] - r0[0], rx_link_dropped=r1[2] - r0[2], tx_link_dropped=int(t1) - int(t0))
if recv == "xdp_drop":
    b, e = [int(v) for v in x0.split()], [int(v) for v in x1.split()]
    j.update(rx_pkts=e[0] - b[0], rx_frame_bytes=e[1] - b[1], rx_pkts_per_cpu=[y - x for x, y in zip(b[2:], e[2:])])
    j["rx_seconds"] = j["seconds"]
else:
    j.update(rx_pkts=rj["received"], rx_frame_bytes=rj["frame_bytes"], rx_seconds=rj["seconds"],
             xsk_rx_dropped=rj["rx_dropped"], xsk_rx_ring_full=rj["rx_ring_full"],
             xsk_fill_ring_empty=rj["fill_ring_empty"], rx_pps_first_last=rj["pps"])
# Rate over the sender's run (what arrived while it sent; the tail in flight is negligible).
j["rx_pps"] = j["rx_pkts"] / j["seconds"]
j["rx_frame_Bps"] = j["rx_frame_bytes"] / j["seconds"]
j["rx_payload_Bps"] = j["rx_pps"] * j["payload"]
def cpus(s):
    f = s.split(); return {f[i]: (int(f[i+1]), int(f[i+2]), int(f[i+3])) for i in range(0, len(f), 4)}
c0, c1 = cpus(c0), cpus(c1)
j["cpu"] = {}
for k in c0:
    tot = c1[k][0] - c0[k][0] or 1
    j["cpu"][k] = {"busy_pct": round(100 * (tot - (c1[k][1] - c0[k][1])) / tot), "softirq_pct": round(100 * (c1[k][2] - c0[k][2]) / tot)}
print(json.dumps(j))
PY
    log "$(tail -n 1 "$WORK/runs.jsonl" | cut -c1-400)"
}

# One run into the XDP_DROP counter.
run_drop() {
    local mode=$1 payload=$2 x0 x1 r0 r1 c0 c1 t0 t1 j
    x0="$(xdp_counts)"; r0="$(rx_counts)"; t0="$(tx_drops)"; c0="$(cpu_line)"
    send "$mode" "$payload"
    j="$(cat "$WORK/send.json")"
    sleep 0.2
    c1="$(cpu_line)"; x1="$(xdp_counts)"; r1="$(rx_counts)"; t1="$(tx_drops)"
    record xdp_drop "$j" "$x0" "$x1" "$r0" "$r1" "$c0" "$c1" "$t0" "$t1"
}

# One run AF_XDP -> AF_XDP: the receiver first, then the sender.
run_xsk() {
    local payload=$1 r0 r1 c0 c1 t0 t1 j rj i rpid rc=0
    rm -f "$WORK/rx.err" "$WORK/rx.json"
    ip netns exec "$NS_C" taskset -c "$CLIENT_CPU" "$VB" --mode xsk-rx --iface "$IF_C" --src-ip "$SRV_IP" \
        --duration "$(awk -v d="$DURATION" 'BEGIN { print d * 2 + 10 }')" --idle-ms 500 --xdp-prog "$XDP_PROG" \
        >"$WORK/rx.json" 2>"$WORK/rx.err" &
    rpid=$!
    PIDS+=("$rpid")
    for ((i = 0; i < 100; i++)); do
        grep -q 'receiving' "$WORK/rx.err" 2>/dev/null && break
        kill -0 "$rpid" 2>/dev/null || break
        sleep 0.1
    done
    grep -q 'receiving' "$WORK/rx.err" || { cat "$WORK/rx.err" >&2; die "the AF_XDP receiver did not start"; }
    r0="$(rx_counts)"; t0="$(tx_drops)"; c0="$(cpu_line)"
    send xsk "$payload"
    j="$(cat "$WORK/send.json")"
    c1="$(cpu_line)"
    wait "$rpid" || rc=$?
    unset 'PIDS[-1]'
    ((rc == 0)) || { cat "$WORK/rx.err" >&2; die "the AF_XDP receiver failed"; }
    r1="$(rx_counts)"; t1="$(tx_drops)"
    rj="$(cat "$WORK/rx.json")"
    record af_xdp "$j" "" "" "$r0" "$r1" "$c0" "$c1" "$t0" "$t1" "$rj"
}

# --- runs --------------------------------------------------------------------
: >"$WORK/runs.jsonl"
log "load before the runs: $(uptime)"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
for ((rep = 1; rep <= REPEAT; rep++)); do
    for payload in 1472 18; do run_xsk "$payload"; done
    attach_counter
    for mode in $MODES; do
        for payload in 1472 18; do run_drop "$mode" "$payload"; done
    done
    detach_counter
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
DATAPLANES="$(pgrep -x stampede-datapl | wc -l || true)"

python3 - "$WORK/runs.jsonl" "$OUT" "$SENDER_CPU" "$CLIENT_CPU" "$DURATION" "$REPEAT" "$pktgen" "$NS_S" "$IF_S" \
    "$NS_C" "$IF_C" "$SRV_IP" "$CLI_IP" "$REUSE" "$LOAD_BEFORE" "$LOAD_AFTER" "$DATAPLANES" <<'PY'
import json, os, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
(out, scpu, ccpu, dur, rep, pktgen, ns_s, if_s, ns_c, if_c, srv, cli, reuse, load0, load1,
 dataplanes) = sys.argv[2:18]
def med(recv, mode, payload):
    r = sorted((x for x in runs if x["receiver"] == recv and x["mode"] == mode and x["payload"] == payload),
               key=lambda x: x["rx_pps"])
    return (r[len(r) // 2] if r else None), r
L = ["## Raw veth limit (server namespace → client namespace)", ""]
L.append(f"Kernel {os.uname().release}, {os.cpu_count()} cores; pktgen: {pktgen}. "
         + ("The caller's namespaces and veth (from the environment, as bench/run.sh passes its own)" if reuse == "1" else "A veth pair of its own")
         + f" (`{if_s}` {srv} in `{ns_s}` → `{if_c}` {cli} in `{ns_c}`, MTU 1500). "
         f"Sender: `bench/veth_blast.c` in the server namespace pinned to core {scpu} (the core Stampede's "
         f"dataplane polls), one thread, {dur} s per run; median of {rep} runs (by received packets/s). "
         f"Receive conditions are the benchmark client's: threaded NAPI for `{if_c}`, its thread pinned to "
         f"core {ccpu}, the receiver on core {ccpu}.")
L.append("")
L.append("- **AF_XDP → AF_XDP** is Stampede's path on both ends: the sender transmits through an AF_XDP socket "
         "on the server veth (`--mode xsk`, `bench/xsk_transport.c`, copy mode, as DPDK's net_af_xdp PMD does "
         "on a veth), 64 datagrams queued at a time, then kicked until the kernel has taken them (a copy-mode "
         "kick sends at most 32 frames; DPDK's net_af_xdp loops the same way); the receiver "
         "(`--mode xsk-rx`) is the load clients' AF_XDP receive path (Stampede's XDP program steering to an "
         "AF_XDP socket, UDP checksums verified), counting datagrams. **This is the ceiling to compare "
         "Stampede's TFTP throughput with.**")
L.append("- **→ XDP_DROP**: an XDP program on the client veth counts every IPv4 frame and drops it, so nothing "
         "past the veth driver's XDP hook costs anything (no copy into a UMEM, no receiver process).")
L.append("")
L.append("```")
L.append(f"ip netns exec {ns_c} taskset -c {ccpu} build/bench/veth-blast --mode xsk-rx --iface {if_c} --src-ip {srv} --duration S")
L.append(f"ip netns exec {ns_s} taskset -c {scpu} build/bench/veth-blast --mode xsk|packet|udp --iface {if_s} "
         f"--dst-mac CLIENT_MAC --src-ip {srv} --dst-ip {cli} --payload 1472|18 --duration {dur}")
L.append("```")
L.append("")
L.append("| sender → receiver | frame | sent pkts/s | received pkts/s | received MB/s (frames) | UDP payload MB/s | "
         "lost on the way | runs (received pkts/s) | core busy % / softirq % |")
L.append("|---|---|---|---|---|---|---|---|---|")
labels = {"xsk": "AF_XDP", "packet": "AF_PACKET (qdisc bypass)", "udp": "UDP socket"}
summary = {}
for recv, mode in [("af_xdp", "xsk")] + [("xdp_drop", m) for m in ("xsk", "packet", "udp")]:
    for payload in (1472, 18):
        m, allr = med(recv, mode, payload)
        if not m:
            continue
        fb = 14 + 28 + payload
        cpus = "; ".join(f"{k} {v['busy_pct']}/{v['softirq_pct']}" for k, v in sorted(m["cpu"].items()))
        lost = m["sent"] - m["rx_pkts"]
        name = f"**{labels[mode]} → AF_XDP**" if recv == "af_xdp" else f"{labels[mode]} → XDP_DROP"
        L.append(f"| {name} | {fb} B | {m['pps']:.0f} | {m['rx_pps']:.0f} | {m['rx_frame_Bps']/1e6:.1f} | "
                 f"{m['rx_payload_Bps']/1e6:.1f} | {lost} ({100 * lost / max(m['sent'], 1):.1f} %) | "
                 + ", ".join("%.0f" % x["rx_pps"] for x in allr) + f" | {cpus} |")
        key = f"{mode}_{'xsk' if recv == 'af_xdp' else 'drop'}_{fb}"
        summary[key] = {"pps": round(m["rx_pps"]), "frame_MBps": round(m["rx_frame_Bps"] / 1e6, 1),
                        "payload_MBps": round(m["rx_payload_Bps"] / 1e6, 1), "sent_pps": round(m["pps"]),
                        "runs_pps": [round(x["rx_pps"]) for x in allr]}
L.append("")
L.append("MB = 10^6 bytes. *Frames* counts Ethernet bytes without FCS (1514 per full-size frame); *UDP payload* "
         "the 1472 (or 18) bytes a datagram carries, the unit of a TFTP block (Stampede sends 1468 + 4). "
         "*Sent* is what the sender handed to its socket; *lost on the way* is sent minus received, frames the "
         "veth dropped when the receiver's ring was full (an AF_XDP sender's completed descriptors include "
         "those: the copy-mode transmit completes a frame that `veth_xmit` dropped). Received packets/s is over "
         "the sender's run time.")
L.append("")
m, _ = med("af_xdp", "xsk", 1472)
if m:
    L.append(f"Where the work runs: the sender's core {scpu} pays the AF_XDP copy-mode transmit (the kick, "
             "an skb per frame and its copy, `veth_xmit`); the client's core " + ccpu + " pays the veth's "
             "receive (threaded NAPI: the frame into a page for XDP, Stampede's XDP program, the copy into the "
             "UMEM) and the receiver. Whichever core saturates first sets the ceiling (the busy column). "
             "On a veth without threaded NAPI the receive work would run on the sender's core instead.")
    L.append("")
L.append(f"Machine load (1/5/15-minute averages) {load0} before, {load1} after the runs; "
         f"{dataplanes} Stampede dataplane(s) of other runs were busy-polling at the end. This is a shared "
         "2-core VM: other work on either core lowers these figures (see the spread in the runs column).")
with open(out + ".tmp", "w") as f:
    f.write("\n".join(L).rstrip() + "\n")
os.replace(out + ".tmp", out)
res = {"bench": "veth_limit", "tftp_ceiling": summary.get("xsk_xsk_1514"), **summary,
       "load": load0, "duration_s": float(dur), "repeat": int(rep)}
print(json.dumps(res))
PY
log "wrote $OUT"
