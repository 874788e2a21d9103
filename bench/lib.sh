# Shared by the benchmark scripts (run.sh, storm.sh): namespaces, built
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
