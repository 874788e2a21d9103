#!/usr/bin/env bash
# The boot-storm benchmark: Stampede against the peers, side by side, with the
# same client (build/bench/swarm), in the same two namespaces over the same veth,
# in one run. Writes bench/RESULTS.md (and PNG plots under bench/plots/).
#
#   full storm   Stampede  vs  dnsmasq (proxyDHCP + its TFTP) + nginx
#   TFTP stage   Stampede  vs  dnsmasq, tftpd-hpa, atftpd     (swarm --mode tftp)
#   HTTP stage   Stampede  vs  nginx                           (swarm --mode http)
#   DHCP stage   Stampede  vs  dnsmasq proxy mode: swarm --mode dhcp, and Kea's
#                perfdhcp (bench/dhcp_bench.sh) on the same veth
#   raw veth     the topology's own packet and byte limit (bench/veth_limit.sh)
#   ceiling      the swarm's own ceiling against trivial-responder (bench/swarm_ceiling.sh)
#   memory       RSS (peak) and hugepages of each server after the 1,000-client runs
#
# each for N = 1, 16, 64, 256 and 1,000 clients. Run as root. Everything lives
# in two network namespaces this script creates (10.78.0.0/24 exists only
# there) and removes on exit, however it exits.
#
# Environment (all optional):
#   SIZES="1 16 64 256 1000"  client counts
#   REPEAT=3                  runs per figure; the median is reported
#   NBP_MB=1 KERNEL_MB=8 INITRD_MB=24   the files (1 MiB over TFTP, 32 MiB over HTTP)
#   PARTS="storm tftp http dhcp veth ceiling"   what to run
#   OUT=bench/RESULTS.md PLOTS=bench/plots KEEP_TMP=1
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
log() { printf '[run.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$REPO/bench/lib.sh"

SIZES="${SIZES:-1 16 64 256 1000}"
REPEAT="${REPEAT:-3}"
NBP_MB="${NBP_MB:-1}"
KERNEL_MB="${KERNEL_MB:-8}"
INITRD_MB="${INITRD_MB:-24}"
PARTS="${PARTS:-storm tftp http dhcp veth ceiling}"
OUT="${OUT:-$REPO/bench/RESULTS.md}"
PLOTS="${PLOTS:-$REPO/bench/plots}"
SRV_IP=10.78.0.1
CLI_IP=10.78.0.2
HTTP_PORT=8080
CLIENT_CPU=0

P="sw$$"
P="${P:0:11}"
NS_S="${P}s"
NS_C="${P}c"
IF_S="${P}s0"
IF_C="${P}c0"
WORK=""
CLEANED=0

[[ $EUID -eq 0 ]] || die "run as root"
has_part() { [[ " $PARTS " == *" $1 "* ]]; }

cleanup() {
	[[ $CLEANED -eq 1 ]] && return 0
	CLEANED=1
	set +e
	kill_ns_procs "$NS_C"
	kill_ns_procs "$NS_S"
	ns_exists "$NS_S" && ip netns del "$NS_S"
	ns_exists "$NS_C" && ip netns del "$NS_C"
	rm -f /run/stampede/"$IF_S".lock
	if [[ -n "$WORK" && -d "$WORK" ]]; then
		if [[ "${KEEP_TMP:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
	fi
}
trap cleanup EXIT
trap 'log interrupted; cleanup; exit 130' INT TERM

# --- build, files, topology ----------------------------------------------------------

if ! find_built swarm >/dev/null || ! find_built stampede >/dev/null; then
	log "building"
	[[ -d build ]] || meson setup build >&2
	ninja -C build >&2
fi
SWARM="$(find_built swarm)"
STAMPEDE="$(find_built stampede)"
for tool in nginx dnsmasq jq gnuplot; do
	command -v "$tool" >/dev/null || die "$tool is not installed (scripts/setup.sh installs it)"
done

WORK="$(mktemp -d /tmp/stampede-storm.XXXXXX)"
chmod 755 "$WORK"
TFTP_ROOT="$WORK/tftp"
HTTP_ROOT="$WORK/http"
RES="$WORK/res"
mkdir -p "$TFTP_ROOT" "$HTTP_ROOT/lab" "$RES" "$PLOTS"
head -c $((NBP_MB << 20)) /dev/urandom >"$TFTP_ROOT/undionly.kpxe"
head -c $((NBP_MB << 20)) /dev/urandom >"$TFTP_ROOT/ipxe.efi"
cp "$TFTP_ROOT/undionly.kpxe" "$TFTP_ROOT/undionly.0" # dnsmasq asks BIOS clients for NAME.0
head -c $((KERNEL_MB << 20)) /dev/urandom >"$HTTP_ROOT/lab/vmlinuz"
head -c $((INITRD_MB << 20)) /dev/urandom >"$HTTP_ROOT/lab/initrd.img"
# The peers' iPXE script: what Stampede's /boot.ipxe renders for the profile.
cat >"$HTTP_ROOT/boot.ipxe" <<EOF
#!ipxe
kernel http://$SRV_IP:$HTTP_PORT/lab/vmlinuz initrd=initrd.img console=ttyS0
initrd http://$SRV_IP:$HTTP_PORT/lab/initrd.img
boot
EOF
chmod -R a+rX "$TFTP_ROOT" "$HTTP_ROOT"

bench_topology_up # the server keeps its offloads: see bench_topology_up
log "work dir $WORK, namespaces $NS_S/$NS_C"

# --- servers ----------------------------------------------------------------------------

SERVER_PIDS=()
CTL="$WORK/stampede.sock"

start_bg() { # LOG CMD...: a server in the server namespace
	local logf=$1
	shift
	ip netns exec "$NS_S" "$@" >"$logf" 2>&1 &
	SERVER_PIDS+=($!)
}

start_stampede() {
	cat >"$WORK/stampede.yaml" <<EOF
tftp:
  max_sessions: 4096
  max_sessions_per_client: 4096
  rate_per_source: 0  # every swarm client sends from one address; the peers have no such limit
http:
  port: $HTTP_PORT
  root: $HTTP_ROOT
proxydhcp:
  boot_files:
    bios: undionly.kpxe
    efi-x64: ipxe.efi
profiles:
  lab:
    kernel: lab/vmlinuz
    initrd: [lab/initrd.img]
    cmdline: console=ttyS0
default_profile: lab
EOF
	start_bg "$WORK/stampede.log" "$STAMPEDE" serve --iface "$IF_S" --config "$WORK/stampede.yaml" \
		--tftp-root "$TFTP_ROOT" --http-root "$HTTP_ROOT" --stats-socket "$CTL"
	local i
	for ((i = 0; i < 300; i++)); do
		"$STAMPEDE" stats --socket "$CTL" 2>/dev/null | grep -q '^dhcp_policy_loaded 1' && return 0
		sleep 0.1
	done
	cat "$WORK/stampede.log" >&2
	die "Stampede did not start"
}

start_nginx() {
	cat >"$WORK/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
daemon off;
events { worker_connections 8192; }
http {
  access_log $WORK/nginx-access.log;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  default_type application/octet-stream;
  # The same bounded send buffer per connection as Stampede's HTTP server.
  server { listen $SRV_IP:$HTTP_PORT backlog=4096 sndbuf=512k; root $HTTP_ROOT; }
}
EOF
	start_bg "$WORK/nginx.out" nginx -c "$WORK/nginx.conf"
}

start_dnsmasq() { # the proxyDHCP and TFTP peer, configured as the lab's stand-in
	cat >"$WORK/dnsmasq.conf" <<EOF
port=0
user=root
group=root
interface=$IF_S
bind-interfaces
pid-file=$WORK/dnsmasq.pid
dhcp-leasefile=$WORK/dnsmasq.leases
dhcp-range=$SRV_IP,proxy,255.255.255.0
dhcp-match=set:ipxe,175
dhcp-userclass=set:ipxe,iPXE
dhcp-boot=tag:ipxe,http://$SRV_IP:$HTTP_PORT/boot.ipxe,,$SRV_IP
pxe-service=tag:!ipxe,X86-64_EFI,"storm",ipxe.efi
pxe-service=tag:!ipxe,BC_EFI,"storm",ipxe.efi
pxe-service=tag:!ipxe,x86PC,"storm",undionly
enable-tftp
tftp-root=$TFTP_ROOT
tftp-max=4096
tftp-no-fail
EOF
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	start_bg "$WORK/dnsmasq.out" dnsmasq --keep-in-foreground --conf-file="$WORK/dnsmasq.conf" --log-facility=-
}

start_tftpd_hpa() {
	start_bg "$WORK/tftpd-hpa.out" /usr/sbin/in.tftpd --foreground --listen --address "$SRV_IP:69" \
		--secure --user nobody "$TFTP_ROOT"
}

start_atftpd() {
	ensure_atftpd >&2 || die "could not unpack atftpd"
	start_bg "$WORK/atftpd.out" "$ATFTPD_BIN" --daemon --no-fork --bind-address "$SRV_IP" --port 69 \
		--user nobody --group nogroup --maxthread 2048 --logfile - "$TFTP_ROOT"
}

# start SERVER: one of stampede, dnsmasq+nginx, nginx, dnsmasq, tftpd-hpa, atftpd
start() {
	SERVER_PIDS=()
	case "$1" in
	stampede) start_stampede ;;
	dnsmasq+nginx) start_dnsmasq; start_nginx ;;
	nginx) start_nginx ;;
	dnsmasq) start_dnsmasq ;;
	tftpd-hpa) start_tftpd_hpa ;;
	atftpd) start_atftpd ;;
	esac
	sleep 1
	# Ready when one client gets through the part this server serves.
	local probe=(--mode tftp --file undionly.kpxe)
	[[ $1 == nginx ]] && probe=(--mode http --url "http://$SRV_IP:$HTTP_PORT/boot.ipxe")
	[[ $1 == stampede || $1 == dnsmasq+nginx ]] && probe=(--mode boot)
	swarm_run probe 1 "${probe[@]}" >/dev/null || die "$1 did not serve a first client (see $WORK)"
}

# Peak RSS (VmHWM) and hugetlb pages of the server processes, in MiB.
server_memory() {
	local pid rss=0 huge=0 v
	for pid in $(ip netns pids "$NS_S"); do
		v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) && rss=$((rss + ${v:-0}))
		v=$(awk '/^HugetlbPages:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) && huge=$((huge + ${v:-0}))
	done
	echo "$((rss / 1024)) $((huge / 1024))"
}

stop() {
	kill_ns_procs "$NS_S"
	SERVER_PIDS=()
	rm -f /run/stampede/"$IF_S".lock
}

# --- the client ---------------------------------------------------------------------------

# swarm_run NAME CLIENTS ARGS...: one swarm run; its JSON in $RES/NAME.json.
swarm_run() {
	local name=$1 n=$2
	shift 2
	timeout 600 ip netns exec "$NS_C" taskset -c "$CLIENT_CPU" "$SWARM" --server "$SRV_IP" --iface "$IF_C" \
		--clients "$n" --json "$RES/$name.json" --csv "$RES/$name.csv" --timeline "$RES/$name.timeline.csv" \
		--duration-limit 500 "$@" >"$RES/$name.out" 2>&1
}

# measure SERVER STAGE N ARGS...: REPEAT runs; prints the JSON path of the median run
# by the stage's time until the last client was done.
measure() {
	local server=$1 stage=$2 n=$3 r runs=()
	shift 3
	for ((r = 1; r <= REPEAT; r++)); do
		local name="$stage-$server-$n-$r"
		swarm_run "$name" "$n" "$@" || log "$name: some clients failed (see $RES/$name.out)"
		runs+=("$(jq -r .last_done_s "$RES/$name.json") $RES/$name.json")
	done
	printf '%s\n' "${runs[@]}" | sort -n | sed -n "$(((REPEAT + 1) / 2))p" | cut -d' ' -f2
}

# --- runs -------------------------------------------------------------------------------

declare -A FIG   # FIG[stage,server,n] = median JSON
declare -A MEM   # MEM[stage,server] = "rss_mib huge_mib"
MAX_N=$(tr ' ' '\n' <<<"$SIZES" | sort -n | tail -1)

run_stage() { # STAGE "SERVERS" ARGS...
	local stage=$1 servers=$2 server n
	shift 2
	for server in $servers; do
		log "$stage: $server"
		start "$server"
		for n in $SIZES; do
			FIG[$stage,$server,$n]=$(measure "$server" "$stage" "$n" "$@")
			log "  N=$n: $(jq -r '"\(.booted)/\(.clients) in \(.last_done_s) s, \(.mb_per_s) MB/s"' "${FIG[$stage,$server,$n]}")"
		done
		MEM[$stage,$server]=$(server_memory)
		stop
	done
}

has_part storm && run_stage storm "stampede dnsmasq+nginx" --mode boot --arch mix \
	--tftp-root "$TFTP_ROOT" --http-root "$HTTP_ROOT"
# Only the TFTP stage receives through AF_XDP: an XDP program on the client's
# veth moves its receive path to a 256-entry ring that hundreds of TCP
# connections overflow (the server's veth counts the drops, TCP times out), so
# the stages with HTTP use kernel sockets (one UDP socket per TFTP transfer).
has_part tftp && run_stage tftp "stampede dnsmasq tftpd-hpa atftpd" --mode tftp --file undionly.kpxe \
	--tftp-root "$TFTP_ROOT" --xdp
has_part http && run_stage http "stampede nginx" --mode http --http-root "$HTTP_ROOT" \
	--url "http://$SRV_IP:$HTTP_PORT/lab/vmlinuz" --url "http://$SRV_IP:$HTTP_PORT/lab/initrd.img"
has_part dhcp && run_stage dhcp "stampede dnsmasq" --mode dhcp --arch mix

PERFDHCP_MD="" VETH_MD=""
if has_part dhcp && [[ -x bench/dhcp_bench.sh ]]; then
	log "perfdhcp"
	NS_S="$NS_S" NS_C="$NS_C" IF_S="$IF_S" IF_C="$IF_C" SRV_IP="$SRV_IP" CLI_IP="$CLI_IP" \
		OUT="$WORK/perfdhcp.md" bash bench/dhcp_bench.sh >"$WORK/perfdhcp.json" 2>"$WORK/perfdhcp.log" ||
		log "dhcp_bench.sh failed (see $WORK/perfdhcp.log)"
	[[ -s "$WORK/perfdhcp.md" ]] && PERFDHCP_MD="$WORK/perfdhcp.md"
	grep '^{' "$WORK/perfdhcp.json" | tail -1 >"$WORK/perfdhcp.line" || true
fi
if has_part veth && [[ -x bench/veth_limit.sh ]]; then
	log "raw veth limit"
	NS_S="$NS_S" NS_C="$NS_C" IF_S="$IF_S" IF_C="$IF_C" SRV_IP="$SRV_IP" CLI_IP="$CLI_IP" \
		OUT="$WORK/veth.md" bash bench/veth_limit.sh >"$WORK/veth.json" 2>"$WORK/veth.log" ||
		log "veth_limit.sh failed (see $WORK/veth.log)"
	[[ -s "$WORK/veth.md" ]] && VETH_MD="$WORK/veth.md"
	grep '^{' "$WORK/veth.json" | tail -1 >"$WORK/veth.line" || true
fi

CEILING_MD=""
if has_part ceiling && [[ -x bench/swarm_ceiling.sh ]]; then
	log "the swarm's ceiling"
	NS_S="$NS_S" NS_C="$NS_C" IF_S="$IF_S" IF_C="$IF_C" SRV_IP="$SRV_IP" CLI_IP="$CLI_IP" SIZES="$SIZES" \
		OUT="$WORK/ceiling.md" bash bench/swarm_ceiling.sh >"$WORK/ceiling.json" 2>"$WORK/ceiling.log" ||
		log "swarm_ceiling.sh failed (see $WORK/ceiling.log)"
	[[ -s "$WORK/ceiling.md" ]] && CEILING_MD="$WORK/ceiling.md"
fi

# --- plots ----------------------------------------------------------------------------------

for server in stampede dnsmasq+nginx; do
	[[ -n "${FIG[storm,$server,$MAX_N]:-}" ]] || continue
	json=${FIG[storm,$server,$MAX_N]}
	bash bench/swarm_plot.sh "${json%.json}" "$server, $MAX_N clients" >/dev/null
	cp "${json%.json}-stages.png" "$PLOTS/storm-$server-stages.png"
	cp "${json%.json}-throughput.png" "$PLOTS/storm-$server-throughput.png"
done

# --- report -----------------------------------------------------------------------------------

j() { jq -r "$2" "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
fig() { echo "${FIG[$1,$2,$3]:-}"; }

stage_table() { # STAGE "SERVERS" REFERENCE METRIC(last|mbps|rate)
	local stage=$1 servers=$2 ref=$3 server n f rf
	echo "| N | server | done/failed | last done s | MB/s | per-client p50 / p99 ms | datagrams rx by client | swarm CPU % | vs $ref |"
	echo "|---|---|---|---|---|---|---|---|---|"
	for n in $SIZES; do
		rf=$(fig "$stage" "$ref" "$n")
		for server in $servers; do
			f=$(fig "$stage" "$server" "$n")
			[[ -n $f ]] || continue
			local cmp
			if [[ $stage == dhcp ]]; then
				cmp="$(ratio "$(j "$f" '.clients / .last_done_s')" "$(j "$rf" '.clients / .last_done_s')")× DISCOVERs/s"
			else
				cmp="$(ratio "$(j "$rf" .last_done_s)" "$(j "$f" .last_done_s)")× sooner"
			fi
			echo "| $n | $server | $(j "$f" '"\(.booted)/\(.failed)"') | $(j "$f" '.last_done_s * 1000 | round / 1000') | $(j "$f" '.mb_per_s | round') | $(j "$f" '"\(.stages.boot.p50_ms | round) / \(.stages.boot.p99_ms | round)"') | $(j "$f" .pkts_rx) | $(j "$f" .cpu_pct) | $cmp |"
		done
	done
}

storm_stage_table() { # per-stage percentiles of the biggest storm
	local server f s
	echo "| server | stage | clients | p50 ms | p90 ms | p99 ms | max ms |"
	echo "|---|---|---|---|---|---|---|"
	for server in stampede dnsmasq+nginx; do
		f=$(fig storm "$server" "$MAX_N")
		[[ -n $f ]] || continue
		for s in dhcp boot_server tftp ipxe_dhcp script kernel initrd boot; do
			echo "| $server | $s | $(j "$f" ".stages.$s | \"\(.count) | \(.p50_ms) | \(.p90_ms) | \(.p99_ms) | \(.max_ms)\"") |"
		done
	done
}


# targets: one row per target of issue 5, from this run's figures.
targets() {
	local n256=256 f g r
	echo "| target | measured | met |"
	echo "|---|---|---|"
	f=$(fig storm stampede "$MAX_N") g=$(fig storm dnsmasq+nginx "$MAX_N")
	if [[ -n $f && -n $g ]]; then
		r=$(ratio "$(j "$g" .last_done_s)" "$(j "$f" .last_done_s)")
		echo "| storm of $MAX_N: all boot, no failures | $(j "$f" '"\(.booted) booted, \(.failed) failed"') | $(j "$f" 'if .failed == 0 then "yes" else "no" end') |"
		echo "| storm of $MAX_N: last client done ≥ 5× sooner than dnsmasq + nginx | $(j "$f" .last_done_s) s vs $(j "$g" .last_done_s) s: ${r}× | $(awk -v r="$r" 'BEGIN { print (r >= 5 ? "yes" : "no") }') |"
	fi
	f=$(fig tftp stampede $n256)
	for peer in tftpd-hpa dnsmasq; do
		g=$(fig tftp "$peer" $n256)
		[[ -n $f && -n $g ]] || continue
		local want=20
		[[ $peer == dnsmasq ]] && want=5
		r=$(ratio "$(j "$f" .mb_per_s)" "$(j "$g" .mb_per_s)")
		echo "| TFTP, 256 clients: ≥ ${want}× $peer's aggregate | $(j "$f" '.mb_per_s | round') vs $(j "$g" '.mb_per_s | round') MB/s: ${r}× | $(awk -v r="$r" -v w="$want" 'BEGIN { print (r >= w ? "yes" : "no") }') |"
	done
	if [[ -n $f && -s $WORK/veth.line ]]; then
		local pps ceiling
		pps=$(j "$f" '.pkts_rx / .last_done_s | round')
		ceiling=$(jq -r '.tftp_ceiling.pps // empty' "$WORK/veth.line")
		[[ -n $ceiling ]] && echo "| TFTP, 256 clients: packet rate within 2× of the raw veth limit (AF_XDP → AF_XDP, 1514-byte frames) | $pps vs $ceiling packets/s: $(ratio "$ceiling" "$pps")× below | $(awk -v a="$pps" -v c="$ceiling" 'BEGIN { print (a * 2 >= c ? "yes" : "no") }') |"
	fi
	if [[ -s $WORK/perfdhcp.line ]]; then
		jq -r '"| proxyDHCP: ≥ 5× dnsmasq'"'"'s answered PXE DISCOVERs/s (dhcp-rate, at saturation) | \(.servers.stampede.max_per_s) vs \(.servers.dnsmasq.max_per_s)/s: \(.ratio)× | \(if .ratio >= 5 then "yes" else "no" end) |",
		       "| proxyDHCP: p99 latency under 1 ms (at the highest drop-free rate) | \(.servers.stampede.nodrop_p99_us) µs at \(.servers.stampede.nodrop_rate)/s | \(if .servers.stampede.nodrop_p99_us < 1000 then "yes" else "no" end) |"' \
			"$WORK/perfdhcp.line"
	fi
	for n in $SIZES; do
		f=$(fig http stampede "$n") g=$(fig http nginx "$n")
		[[ -n $f && -n $g ]] || continue
		r=$(ratio "$(j "$f" .mb_per_s)" "$(j "$g" .mb_per_s)")
		echo "| HTTP, $n clients: ≥ 0.9× nginx's throughput | $(j "$f" '.mb_per_s | round') vs $(j "$g" '.mb_per_s | round') MB/s: ${r}× | $(awk -v r="$r" 'BEGIN { print (r >= 0.9 ? "yes" : "no") }') |"
	done
}

limits() {
	cat <<'TEXT'
- **One 2-core machine.** The client is pinned to core 0; Stampede's dataplane polls
  core 1; everything else (the control plane, the HTTP servers' threads, the peers, the
  kernel's veth work) shares the two. A real deployment has the clients on other machines.
- **XDP on a veth and TCP.** An XDP program on a veth moves its receive path to a
  256-entry ring (the veth's own NAPI); hundreds of TCP connections overflow it (the
  sending side counts the drops) and time out. The swarm therefore receives through
  AF_XDP only in the TFTP stage; where HTTP runs, it uses one kernel UDP socket per TFTP
  transfer, and its receive work then runs on the sending core (the server's). The same
  ring holds the server's side: a burst of a thousand DISCOVERs all at once overflows it,
  and firmware's retransmission (1 s, 2 s, ...) shows in the DHCP percentiles.
- **HTTP dominates the storm.** 32 MiB per client over TCP on one veth: the full storm's
  time is mostly the HTTP stage, where both servers send with sendfile and the veth and
  the kernel's TCP are the limit; the storm's ratio cannot exceed what the HTTP stage
  allows.
TEXT
}
{
	echo "# Boot-storm benchmark"
	echo
	echo "Written by \`bench/run.sh\` (do not edit by hand; re-run it). One run, one client"
	echo "(\`build/bench/swarm\`, pinned to core $CLIENT_CPU; TFTP through AF_XDP in the TFTP stage, through"
	echo "kernel sockets where HTTP runs too: see \"What limits the figures\"), one pair of namespaces"
	echo "joined by one veth (MTU 1500), every server in turn. Each figure is the median of $REPEAT runs"
	echo "(by the time until the last client was done). Every byte each client receives over TFTP"
	echo "and HTTP is compared with the served files; a proxy reply that offers an address fails"
	echo "the client."
	echo
	echo "Reproduce with \`sudo bench/run.sh\` (environment: SIZES, REPEAT, PARTS, NBP_MB, KERNEL_MB,"
	echo "INITRD_MB; see its header). The TFTP deep dive with 8 MiB files is \`bench/tftp_deep.sh\` →"
	echo "[RESULTS-tftp.md](RESULTS-tftp.md)."
	echo
	echo "## Targets (issue 5), from this run"
	echo
	targets
	echo
	echo "## What limits the figures"
	echo
	limits
	echo
	echo "## Machine"
	echo
	echo "- $(nproc) cores: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "- kernel $(uname -r), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "- date $(date -u '+%Y-%m-%d %H:%M UTC'), Stampede $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- dataplane control bpf || echo -dirty)"
	echo "- peers: $(dnsmasq --version | head -1 | cut -d' ' -f1-3), nginx $(nginx -v 2>&1 | cut -d/ -f2), tftpd-hpa $(dpkg-query -W -f='${Version}' tftpd-hpa 2>/dev/null), atftpd $(dpkg-deb -f "$REPO"/build/peers/atftpd_*.deb Version 2>/dev/null || echo '?')"
	echo
	echo "## Files and commands"
	echo
	echo "- NBP: ${NBP_MB} MiB (\`undionly.kpxe\`, \`ipxe.efi\`) over TFTP; kernel ${KERNEL_MB} MiB + initrd ${INITRD_MB} MiB over HTTP."
	echo "- Clients: \`--arch mix\` (even clients BIOS, odd UEFI x64: the UEFI ones go through the 4011 boot server), all started at once."
	echo
	echo '```'
	echo "swarm: ip netns exec $NS_C taskset -c $CLIENT_CPU $SWARM --server $SRV_IP --iface $IF_C --clients N --mode boot --arch mix --tftp-root TFTP_ROOT --http-root HTTP_ROOT"
	echo "       (--mode tftp --file undionly.kpxe --xdp | --mode http --url .../lab/vmlinuz --url .../lab/initrd.img | --mode dhcp)"
	echo "stampede: $STAMPEDE serve --iface $IF_S --config stampede.yaml --tftp-root TFTP_ROOT --http-root HTTP_ROOT"
	sed 's/^/  /' "$WORK/stampede.yaml"
	echo "dnsmasq --keep-in-foreground --conf-file=dnsmasq.conf"
	sed 's/^/  /' "$WORK/dnsmasq.conf" 2>/dev/null || true
	echo "nginx -c nginx.conf"
	sed 's/^/  /' "$WORK/nginx.conf" 2>/dev/null || true
	echo "in.tftpd --foreground --listen --address $SRV_IP:69 --secure --user nobody TFTP_ROOT"
	echo "atftpd --daemon --no-fork --bind-address $SRV_IP --port 69 --user nobody --group nogroup --maxthread 2048 --logfile - TFTP_ROOT"
	echo '```'
	if has_part storm; then
		echo
		echo "## Full storm: Stampede vs dnsmasq + nginx"
		echo
		stage_table storm "stampede dnsmasq+nginx" dnsmasq+nginx
		echo
		echo "Per stage, $MAX_N clients (median run):"
		echo
		storm_stage_table
		echo
		echo "![stages](plots/storm-stampede-stages.png) ![stages](plots/storm-dnsmasq+nginx-stages.png)"
		echo
		echo "![throughput](plots/storm-stampede-throughput.png) ![throughput](plots/storm-dnsmasq+nginx-throughput.png)"
	fi
	if has_part tftp; then
		echo
		echo "## TFTP stage (${NBP_MB} MiB each, blksize 1468, windowsize 64 asked)"
		echo
		stage_table tftp "stampede dnsmasq tftpd-hpa atftpd" tftpd-hpa
	fi
	if has_part http; then
		echo
		echo "## HTTP stage (kernel + initrd, $((KERNEL_MB + INITRD_MB)) MiB per client)"
		echo
		stage_table http "stampede nginx" nginx
	fi
	if has_part dhcp; then
		echo
		echo "## proxyDHCP stage (swarm --mode dhcp: DISCOVER, and 4011 for the UEFI half, all clients at once)"
		echo
		stage_table dhcp "stampede dnsmasq" dnsmasq
		[[ -n $PERFDHCP_MD ]] && { echo; cat "$PERFDHCP_MD"; }
	fi
	[[ -n $VETH_MD ]] && { echo; cat "$VETH_MD"; }
	[[ -n $CEILING_MD ]] && { echo; cat "$CEILING_MD"; }
	echo
	echo "## Memory after the $MAX_N-client runs"
	echo
	echo "Peak resident set (VmHWM, summed over the server's processes) and hugetlb pages mapped."
	echo
	echo "| stage | server | peak RSS MiB | hugepages MiB |"
	echo "|---|---|---|---|"
	for key in "${!MEM[@]}"; do
		read -r rss huge <<<"${MEM[$key]}"
		echo "| ${key%%,*} | ${key#*,} | $rss | $huge |"
	done | sort
} >"$OUT"
log "wrote $OUT"
