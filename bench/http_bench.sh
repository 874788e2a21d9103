#!/usr/bin/env bash
# Stampede's HTTP server against nginx, side by side: same files, same client
# (wrk), same namespaces and veth, same CPUs. Run as root. Writes Markdown to
# $OUT (default /tmp/http_bench.md).
#
# Topology: two network namespaces joined by one veth (MTU 1500), addresses
# 10.78.0.1 (server) / 10.78.0.2 (client) that exist only inside them; torn
# down by a trap however the script ends. Stampede runs in the server namespace
# on the veth as in production (its dataplane attaches its XDP program there
# and serves DHCP/TFTP); nginx runs in the SAME namespace, on the same veth,
# beside the running Stampede (another port), so both servers see exactly the
# same path, XDP program included, and the same idle dataplane next to them.
#
# Files: vmlinuz (32 MiB of random bytes, a kernel) and script.ipxe (a small
# static iPXE script, 260 bytes) in one HTTP root served by both.
#
# For each concurrency and file, each server gets a wrk run of $DURATION s
# (after a warm-up of $WARMUP s); reported: MB/s (body+headers bytes wrk read,
# including responses still in flight at the end), requests/s (completed
# responses), p50/p99 latency, errors, the server's own CPU (utime+stime of its
# processes: Stampede's control process, which holds the HTTP threads, without
# its dataplane; nginx's master and workers) and the machine's busy CPU
# (everything, softirq included, from /proc/stat).
#
# Logging: Stampede writes one log line per request (a product feature, to
# its log file here); nginx is run twice, with an access log (buffer-less, one
# write() per request, like Stampede) and with access_log off.
#
# Pinning (PIN):
#   split (default): server on CPU 1, client on CPU 0. The two never compete
#          for a core, so the figures measure the server, not the scheduler;
#          each server runs one worker/thread per CPU it may use (nginx
#          worker_processes 1; Stampede sizes its pool from its affinity mask:
#          1), and Stampede's dataplane lcore is CPU 1 as well (its default, the
#          last CPU), idle but polling. Note the veth: the receiving side's
#          softirq runs on the sender's CPU, so part of the client's TCP receive
#          is paid on the server's CPU and vice versa, equally for both servers.
#   none:  no pinning; each server runs 2 workers/threads, wrk 2 threads; the
#          client and the server share both cores.
#
# Order: for each file and concurrency, the servers take turns (round robin,
# REPEAT rounds) and each cell reports its median round by throughput: load
# from elsewhere on the machine then falls on all of them alike.
#
# Throughput ratio: MB/s for vmlinuz, requests/s for script.ipxe (nginx's
# headers are longer, Server/Date/ETag..., so its MB/s for a small body says
# more about headers than about serving).
#
# Environment (all optional):
#   OUT=/tmp/http_bench.md  CONCURRENCY="1 16 64 256 1000"  DURATION=10
#   WARMUP=2  FILES="script.ipxe vmlinuz"  SERVERS="stampede nginx-log nginx"
#   (the script first: with libmicrohttpd 0.9.75's epoll loop, new keep-alive
#   connections can stall for seconds right after wrk has dropped hundreds of
#   unfinished 32 MiB transfers; see the report of issue 5)
#   PIN=split|none  REPEAT=3  BUILD_DIR=build
#   STAMPEDE=path  another stampede binary (with stampede-dataplane beside it),
#                  e.g. an older build for a before/after comparison
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
OUT=${OUT:-/tmp/http_bench.md}
CONCURRENCY=${CONCURRENCY:-1 16 64 256 1000}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
FILES=${FILES:-script.ipxe vmlinuz}
SERVERS=${SERVERS:-stampede nginx-log nginx}
PIN=${PIN:-split}
REPEAT=${REPEAT:-3}
STAMPEDE=${STAMPEDE:-$BUILD_DIR/stampede}
STAMPEDE_PORT=8080
NGINX_LOG_PORT=8081 # nginx with an access log
NGINX_PORT=8082     # nginx without
SRV_IP=10.78.0.1
CLI_IP=10.78.0.2

P="hb$(printf '%05d' $(($$ % 100000)))"
NS_S=${P}s
NS_C=${P}c
IF_S=${P}s0
IF_C=${P}c0
WORK=""
STAMPEDE_PID=""
NGINX_PID=""      # nginx-log's master
NGINX_NOLOG_PID=""

log() { printf '[http_bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
	local pid
	set +e
	for pid in $NGINX_PID $NGINX_NOLOG_PID $STAMPEDE_PID; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $NGINX_PID $NGINX_NOLOG_PID $STAMPEDE_PID; do
		timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	rm -f /run/stampede/"${P}"*.lock
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || die "run as root"
command -v wrk >/dev/null || die "wrk is missing: apt-get install -y wrk"
command -v nginx >/dev/null || die "nginx is missing: apt-get install -y nginx-light"
[ -x "$STAMPEDE" ] || die "$STAMPEDE is missing: meson compile -C build"
ulimit -n "$(ulimit -Hn)" # wrk: one descriptor per connection

case $PIN in
split)
	SRV_CPUS=1 CLI_CPUS=0 WORKERS=1 WRK_THREADS=1
	SRV_RUN=(taskset -c 1) CLI_RUN=(taskset -c 0)
	;;
none)
	SRV_CPUS=0-1 CLI_CPUS=0-1 WORKERS=$(nproc) WRK_THREADS=$(nproc)
	SRV_RUN=() CLI_RUN=()
	;;
*) die "PIN must be split or none" ;;
esac

WORK=$(mktemp -d /tmp/http_bench.XXXXXX)
chmod 755 "$WORK"
HTTP_ROOT=$WORK/http
TFTP_ROOT=$WORK/tftp
mkdir -p "$HTTP_ROOT" "$TFTP_ROOT"
head -c $((32 * 1024 * 1024)) /dev/urandom >"$HTTP_ROOT/vmlinuz"
cat >"$HTTP_ROOT/script.ipxe" <<'EOF'
#!ipxe
# A small static iPXE script, as a lab would keep per profile.
kernel http://10.78.0.1:8080/vmlinuz initrd=initrd.img console=ttyS0 ip=dhcp
initrd http://10.78.0.1:8080/initrd.img
boot || goto failed
:failed
echo Boot failed, dropping to the iPXE shell
shell
EOF
head -c 4096 /dev/urandom >"$TFTP_ROOT/undionly.kpxe"
chmod -R a+rX "$HTTP_ROOT" "$TFTP_ROOT"

# ---- topology ----------------------------------------------------------------
ip netns add "$NS_S"
ip netns add "$NS_C"
ip link add "$IF_S" mtu 1500 type veth peer name "$IF_C" mtu 1500
ip link set "$IF_S" netns "$NS_S"
ip link set "$IF_C" netns "$NS_C"
ip -n "$NS_S" addr add "$SRV_IP/24" dev "$IF_S"
ip -n "$NS_C" addr add "$CLI_IP/24" dev "$IF_C"
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set "$IF_S" up
ip -n "$NS_C" link set "$IF_C" up
# As the net tests do: the dataplane checks UDP checksums, which a veth leaves
# to the (absent) NIC; the client's kernel computes them instead.
ip netns exec "$NS_C" ethtool -K "$IF_C" tx off >/dev/null

# ---- servers -----------------------------------------------------------------
cat >"$WORK/stampede.yaml" <<EOF
http:
  port: $STAMPEDE_PORT
  root: $HTTP_ROOT
  discover_profiles: false
proxydhcp:
  boot_files:
    bios: undionly.kpxe
default_profile: menu
EOF

wait_http() { # URL: until it answers 200 (at most 30 s)
	local i
	for i in $(seq 1 300); do
		ip netns exec "$NS_C" curl -s -o /dev/null --max-time 1 -w '%{http_code}' "$1" 2>/dev/null | grep -q 200 && return 0
		sleep 0.1
	done
	return 1
}

log "starting Stampede (PIN=$PIN, server CPUs $SRV_CPUS)"
ip netns exec "$NS_S" "${SRV_RUN[@]}" "$STAMPEDE" serve --config "$WORK/stampede.yaml" --iface "$IF_S" \
	--tftp-root "$TFTP_ROOT" --http-root "$HTTP_ROOT" --stats-socket "$WORK/control.sock" \
	>"$WORK/stampede.log" 2>&1 &
STAMPEDE_PID=$!
wait_http "http://$SRV_IP:$STAMPEDE_PORT/script.ipxe" || { tail -20 "$WORK/stampede.log" >&2; die "Stampede did not start"; }

# nginx_conf NAME PORT ACCESS_LOG: a minimal nginx for static files.
nginx_conf() {
	cat >"$WORK/$1.conf" <<EOF
worker_processes $WORKERS;
pid $WORK/$1.pid;
error_log $WORK/$1-error.log warn;
daemon off;
events { worker_connections 4096; use epoll; multi_accept on; }
http {
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 30s;
    keepalive_requests 1000000;
    types { application/octet-stream vmlinuz; text/plain ipxe; }
    default_type application/octet-stream;
    $3
    server {
        listen $SRV_IP:$2 backlog=4096;
        root $HTTP_ROOT;
    }
}
EOF
}

start_nginx() { # NAME PORT ACCESS_LOG_DIRECTIVE: sets STARTED to the master's PID
	nginx_conf "$1" "$2" "$3"
	ip netns exec "$NS_S" "${SRV_RUN[@]}" nginx -e "$WORK/$1-error.log" -c "$WORK/$1.conf" </dev/null >/dev/null 2>&1 &
	STARTED=$!
	wait_http "http://$SRV_IP:$2/script.ipxe" || die "nginx did not start: $(cat "$WORK/$1-error.log")"
}

case " $SERVERS " in *" nginx-log "*)
	start_nginx nginx-log "$NGINX_LOG_PORT" "access_log $WORK/nginx-access.log;"
	NGINX_PID=$STARTED
	;;
esac
case " $SERVERS " in *" nginx "*)
	start_nginx nginx "$NGINX_PORT" "access_log off;"
	NGINX_NOLOG_PID=$STARTED
	;;
esac

# ---- measurement -------------------------------------------------------------
cat >"$WORK/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d bytes=%d duration_us=%d errors=%d timeouts=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.bytes, summary.duration, e.connect + e.read + e.write + e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
EOF

server_pids() { # SERVER: the processes whose CPU time is the server's
	case $1 in
	stampede) echo "$STAMPEDE_PID" ;;
	nginx-log) echo "$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')" ;;
	nginx) echo "$NGINX_NOLOG_PID $(pgrep -P "$NGINX_NOLOG_PID" | tr '\n' ' ')" ;;
	esac
}
server_port() {
	case $1 in
	stampede) echo $STAMPEDE_PORT ;;
	nginx-log) echo $NGINX_LOG_PORT ;;
	nginx) echo $NGINX_PORT ;;
	*) die "unknown server $1" ;;
	esac
}
cpu_ticks() { # PIDS...: utime+stime summed
	local t=0 pid
	for pid in "$@"; do
		[ -r "/proc/$pid/stat" ] && t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")))
	done
	echo "$t"
}
machine_ticks() { awk '/^cpu / { print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8 }' /proc/stat; } # busy total

# run_wrk PORT FILE CONC DURATION: prints wrk's RESULT line
run_wrk() {
	local threads=$WRK_THREADS
	[ "$3" -lt "$threads" ] && threads=$3
	ip netns exec "$NS_C" "${CLI_RUN[@]}" wrk -t "$threads" -c "$3" -d "${4}s" --timeout 60s \
		-s "$WORK/report.lua" "http://$SRV_IP:$1/$2" 2>&1 | grep '^RESULT' || echo "RESULT failed"
}

declare -A ROW RUNS
HZ=$(getconf CLK_TCK)
# one_run SERVER FILE CONC: "MB/s req/s p50ms p99ms errors serverCPU% machineCPU%"
one_run() {
	local server=$1 file=$2 conc=$3 port pids c0 c1 m0 m1 line
	port=$(server_port "$server")
	pids=$(server_pids "$server")
	[ "$WARMUP" -gt 0 ] && run_wrk "$port" "$file" "$conc" "$WARMUP" >/dev/null
	c0=$(cpu_ticks $pids)
	m0=$(machine_ticks)
	line=$(run_wrk "$port" "$file" "$conc" "$DURATION")
	c1=$(cpu_ticks $pids)
	m1=$(machine_ticks)
	echo "$line" | awk -v c="$((c1 - c0))" -v hz="$HZ" -v m0="$m0" -v m1="$m1" -v ncpu="$(nproc)" '
		{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		END {
			split(m0, a, " "); split(m1, b, " ")
			d = v["duration_us"] / 1e6
			if (d <= 0) { print "failed"; exit }
			printf "%.1f %.0f %.2f %.2f %d %.1f %.0f", v["bytes"] / d / 1e6, v["requests"] / d,
				v["p50_us"] / 1000, v["p99_us"] / 1000, v["errors"] + v["timeouts"],
				c / hz / d * 100, (b[1] - a[1]) / (b[2] - a[2]) * 100 * ncpu
		}'
}

# key FILE LINE: the figure a cell is ranked by (MB/s for big files, req/s for the script)
key() { case $1 in *.ipxe) echo "$2" | awk '{ print $2 }' ;; *) echo "$2" | awk '{ print $1 }' ;; esac; }

for file in $FILES; do
	for conc in $CONCURRENCY; do
		for r in $(seq 1 "$REPEAT"); do
			for server in $SERVERS; do
				line=$(one_run "$server" "$file" "$conc")
				log "$file c=$conc round $r $server: $line"
				[ "$line" = failed ] || RUNS[$server,$file,$conc]+="$(key "$file" "$line") $line"$'\n'
			done
		done
		for server in $SERVERS; do # the median round by the key
			ROW[$server,$file,$conc]=$(printf '%s' "${RUNS[$server,$file,$conc]:-}" | sort -n | awk 'NF { l[++n] = $0 } END { if (!n) print "failed"; else { split(l[int((n + 1) / 2)], f, " "); s = f[2]; for (i = 3; i <= 8; i++) s = s " " f[i]; print s } }')
			RUNS[$server,$file,$conc,all]=$(printf '%s' "${RUNS[$server,$file,$conc]:-}" | awk 'NF { printf "%s%s", sep, $1; sep = ", " }')
		done
	done
done
LOG_LINES=$(grep -c ' http ' "$WORK/stampede.log" || true)

# ---- report ------------------------------------------------------------------
field() { # SERVER FILE CONC N: the N-th figure of a cell (1: MB/s)
	local v=${ROW[$1,$2,$3]:-failed}
	[ "$v" = failed ] && { echo "-"; return; }
	echo "$v" | awk -v n="$4" '{ print $n }'
}
# efficiency FILE CONC NGINX N: nginx's CPU per unit of work over Stampede's
efficiency() {
	ratio "$(awk -v c="$(field "$3" "$1" "$2" 6)" -v t="$(field "$3" "$1" "$2" "$4")" 'BEGIN { if (c == "-" || t == "-" || t == 0) print "-"; else print c / t }')" \
		"$(awk -v c="$(field stampede "$1" "$2" 6)" -v t="$(field stampede "$1" "$2" "$4")" 'BEGIN { if (c == "-" || t == "-" || t == 0) print "-"; else print c / t }')"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
{
	echo "# Stampede HTTP vs nginx"
	echo
	echo "Generated by \`bench/http_bench.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo
	echo "- Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
	echo "- Stampede: $(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo '?'), libmicrohttpd $(dpkg-query -W -f '${Version}' libmicrohttpd12 2>/dev/null || echo '?')"
	echo "- nginx: $(nginx -v 2>&1 | sed 's/^nginx version: //'); wrk: $(wrk -v 2>&1 | head -1 | awk '{ print $2 }')"
	echo "- Topology: two network namespaces, one veth (MTU 1500), Stampede on it with its dataplane (XDP), nginx on the same veth beside it"
	echo "- PIN=$PIN: server CPUs $SRV_CPUS, client CPUs $CLI_CPUS; nginx worker_processes $WORKERS, Stampede HTTP threads = CPUs of its affinity mask; wrk threads $WRK_THREADS"
	echo "- Each cell: \`wrk -t T -c C -d ${DURATION}s --timeout 60s\` after a ${WARMUP} s warm-up; the servers take turns, $REPEAT rounds; the median round is shown (by MB/s for vmlinuz, by req/s for script.ipxe; every round's figure in the last column)"
	echo "- Stampede binary: $STAMPEDE"
	echo "- Stampede logged $LOG_LINES request lines (one per request); nginx-log: access_log to a file (one write per request), nginx: access_log off"
	echo "- MB/s: bytes wrk read per second (10^6 B), partial responses included; CPU: the server's processes (100 = one core); machine: both CPUs busy, softirq included (200 = both)"
	echo
	echo "Command: \`PIN=$PIN CONCURRENCY=\"$CONCURRENCY\" DURATION=$DURATION WARMUP=$WARMUP REPEAT=$REPEAT FILES=\"$FILES\" SERVERS=\"$SERVERS\" bench/http_bench.sh\`"
	echo
	echo "Client: \`ip netns exec CLIENT_NS ${CLI_RUN[*]} wrk -t T -c C -d ${DURATION}s --timeout 60s -s report.lua http://$SRV_IP:PORT/FILE\`;"
	echo "servers: \`ip netns exec SERVER_NS ${SRV_RUN[*]} stampede serve --config stampede.yaml --iface VETH ...\`, \`ip netns exec SERVER_NS ${SRV_RUN[*]} nginx -c nginx.conf\`"
	echo
	echo "nginx.conf (nginx-log; nginx has \`access_log off;\`):"
	echo
	echo '```nginx'
	sed "s|$WORK|WORK|g" "$WORK/nginx-log.conf" 2>/dev/null || true
	echo '```'
	echo
	echo "stampede.yaml:"
	echo
	echo '```yaml'
	sed "s|$WORK|WORK|g" "$WORK/stampede.yaml"
	echo '```' 
	echo
	for file in $FILES; do
		echo "## $file"
		echo
		unit="MB/s" n=1
		case $file in *.ipxe) unit="req/s" n=2 ;; esac
		cost="server CPU ms/GB" per=10000000
		case $file in *.ipxe) cost="server CPU µs/req" per=10000 ;; esac
		echo "| conns | server | MB/s | req/s | p50 ms | p99 ms | errors | server CPU % | machine CPU % | $cost | $unit, every round |"
		echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
		for conc in $CONCURRENCY; do
			for server in $SERVERS; do
				v=${ROW[$server,$file,$conc]:-failed}
				if [ "$v" = failed ]; then
					echo "| $conc | $server | failed | | | | | | | | |"
				else
					echo "$v" | awk -v c="$conc" -v s="$server" -v all="${RUNS[$server,$file,$conc,all]:-}" -v n="$n" -v per="$per" '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c, s, $1, $2, $3, $4, $5, $6, $7, ($n > 0 ? sprintf("%.1f", $6 * per / (n == 1 ? $1 * 1000 : $2)) : "-"), all }'
				fi
			done
		done
		echo
		echo "Ratio Stampede / nginx ($unit, medians):"
		echo
		echo "| conns | vs nginx with access log | vs nginx without | CPU efficiency vs nginx with access log | vs nginx without |"
		echo "|---:|---:|---:|---:|---:|"
		for conc in $CONCURRENCY; do
			echo "| $conc | $(ratio "$(field stampede "$file" "$conc" $n)" "$(field nginx-log "$file" "$conc" $n)") | $(ratio "$(field stampede "$file" "$conc" $n)" "$(field nginx "$file" "$conc" $n)") | $(efficiency "$file" "$conc" nginx-log $n) | $(efficiency "$file" "$conc" nginx $n) |"
		done
		echo
		echo "CPU efficiency: (nginx's server CPU per $( [ $n = 1 ] && echo GB || echo request )) / (Stampede's); above 1, Stampede spends less. Throughput swings with"
		echo "whatever else runs on the machine; the CPU a server spends per unit of work much less."
		echo
	done
} >"$OUT"
log "wrote $OUT"
cat "$OUT"
