# Shared by the benchmark scripts (run.sh, tftp_deep.sh, ...): namespaces, built
# binaries, the atftpd peer, and waiting for a quiet machine. Source it after
# defining REPO and log().

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

# Kill every process still inside namespace $1 (only processes this script
# started can be there), by pid, TERM then KILL, bounded.
kill_ns_procs() {
    local ns="$1" pids i
    ns_exists "$ns" || return 0
    pids="$(ip netns pids "$ns" 2>/dev/null || true)"
    [[ -n "$pids" ]] || return 0
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
        pids="$(ip netns pids "$ns" 2>/dev/null || true)"
        [[ -z "$pids" ]] && return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
}

find_built() {   # $1 = name; prints the path of an executable in build/, if any
    local c
    for c in "build/$1" "build/bench/$1"; do
        [[ -x "$c" && -f "$c" ]] && { echo "$REPO/$c"; return 0; }
    done
    return 1
}

# atftpd conflicts with tftpd-hpa as a package: fetch and unpack it into a
# cache dir instead of installing it.  Idempotent.
ATFTPD_DIR="$REPO/build/peers/atftpd"
ATFTPD_BIN="$ATFTPD_DIR/usr/sbin/atftpd"
ensure_atftpd() {
    local lib missing=()
    for lib in libwrap0 libpcre2-8-0; do
        dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$lib")
    done
    if ((${#missing[@]})); then
        apt-get install -y "${missing[@]}" >&2 ||
            { apt-get update >&2 && apt-get install -y "${missing[@]}" >&2; } || return 1
    fi
    [[ -x "$ATFTPD_BIN" ]] && return 0
    mkdir -p "$REPO/build/peers"
    (
        cd "$REPO/build/peers"
        rm -f atftpd_*.deb
        apt-get download atftpd >&2 || { apt-get update >&2 && apt-get download atftpd >&2; }
        rm -rf atftpd
        dpkg -x atftpd_*.deb atftpd
    ) || return 1
    [[ -x "$ATFTPD_BIN" ]]
}

# Machine-wide: "total busy softirq" ticks from /proc/stat.
machine_ticks() {
    awk '$1 == "cpu" { t = $2+$3+$4+$5+$6+$7+$8+$9; printf "%.0f %.0f %.0f\n", t, t-$5-$6, $8; exit }' /proc/stat
}

# Busy % of the whole machine (100 % = one core) over the next second.
machine_busy_1s() {
    local t0 b0 t1 b1
    read -r t0 b0 _ < <(machine_ticks)
    sleep 1
    read -r t1 b1 _ < <(machine_ticks)
    echo $(( (b1 - b0) * 100 * $(nproc) / (t1 - t0 > 0 ? t1 - t0 : 1) ))
}
# Before a measurement, wait (at most 30 s) for other work on the machine to
# calm down, so that a build running alongside does not skew the figures.
QUIET_PCT="${QUIET_PCT:-25}"
BG_PCT=0
wait_quiet() {
    local i
    for ((i = 0; i < 30; i++)); do
        BG_PCT="$(machine_busy_1s)"
        ((BG_PCT <= QUIET_PCT)) && return 0
    done
    log "machine still ${BG_PCT}% busy before the run; measuring anyway"
}

# --- the two-namespace topology --------------------------------------------

xdp_attached() { ip -n "$1" -j link show "$2" 2>/dev/null | python3 -c 'import json,sys; print(1 if "xdp" in json.load(sys.stdin)[0] else 0)' 2>/dev/null || echo 0; }
threaded_get() { ip netns exec "$1" cat "/sys/class/net/$2/threaded" 2>/dev/null || echo 0; }
threaded_set() { ip netns exec "$1" sh -c "echo $3 >/sys/class/net/$2/threaded" 2>/dev/null; }

# bench_topology_names PREFIX SUBNET: REUSE=1 when NS_S NS_C IF_S IF_C SRV_IP
# CLI_IP are all set (a caller's topology, as run.sh passes its own), else
# REUSE=0 with names of our own (PREFIX and this process's id) and SUBNET.1 /
# SUBNET.2; dies when only some are set.
bench_topology_names() {
    local v n_set=0
    for v in NS_S NS_C IF_S IF_C SRV_IP CLI_IP; do [[ -n "${!v:-}" ]] && n_set=$((n_set + 1)); done
    if ((n_set == 6)); then
        REUSE=1
    elif ((n_set == 0)); then
        REUSE=0
        SRV_IP="$2.1"
        CLI_IP="$2.2"
        P="$1$$"
        P="${P:0:11}"   # "${P}s0" stays within 15 characters
        NS_S="${P}s"; NS_C="${P}c"; IF_S="${P}s0"; IF_C="${P}c0"
    else
        die "set all of NS_S NS_C IF_S IF_C SRV_IP CLI_IP (to reuse a topology) or none"
    fi
}

# bench_topology_check: the caller's topology holds what we were told.
bench_topology_check() {
    ns_exists "$NS_S" && ns_exists "$NS_C" || die "namespace $NS_S or $NS_C does not exist"
    ip -n "$NS_S" -4 addr show dev "$IF_S" 2>/dev/null | grep -q "inet $SRV_IP/" || die "$IF_S in $NS_S does not hold $SRV_IP"
    ip -n "$NS_C" -4 addr show dev "$IF_C" 2>/dev/null | grep -q "inet $CLI_IP/" || die "$IF_C in $NS_C does not hold $CLI_IP"
    log "reusing $NS_S/$IF_S ($SRV_IP) and $NS_C/$IF_C ($CLI_IP)"
}

# bench_topology_up [server-tx-off]: namespaces NS_S and NS_C joined by one veth
# (IF_S SRV_IP/24, IF_C CLI_IP/24, MTU 1500, no IPv6). Kernel-sent UDP on a veth
# carries an unfinished checksum; Stampede checks the client's as on a real
# wire, so the client's kernel finishes them (transmit offload off). With
# server-tx-off the server's kernel does too (for receivers that check UDP
# checksums); else the server keeps its offloads (TSO for HTTP).
bench_topology_up() {
    local ns
    ip netns add "$NS_S"
    ip netns add "$NS_C"
    ip link add "$IF_S" type veth peer name "$IF_C"
    ip link set "$IF_S" netns "$NS_S"
    ip link set "$IF_C" netns "$NS_C"
    ip -n "$NS_S" addr add "$SRV_IP/24" dev "$IF_S"
    ip -n "$NS_C" addr add "$CLI_IP/24" dev "$IF_C"
    for ns in "$NS_S" "$NS_C"; do
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
    done
    ip -n "$NS_S" link set "$IF_S" mtu 1500 up
    ip -n "$NS_C" link set "$IF_C" mtu 1500 up
    ip netns exec "$NS_C" ethtool -K "$IF_C" tx off >/dev/null
    [[ "${1:-}" != server-tx-off ]] || ip netns exec "$NS_S" ethtool -K "$IF_S" tx off >/dev/null
}
