# Stampede's end-to-end boot lab. Source it from a test script (bash).
#
# It builds, in network namespaces named with a prefix unique to this process:
#
#   lab namespace ($LAB_NS)
#     bridge $LAB_BR, 10.210.0.1/24  the PXE segment; the site DHCP server
#                                    (dnsmasq, DHCP only, no boot options)
#                                    leases 10.210.0.100-199 and, for relayed
#                                    clients, 10.211.0.100-199
#     bridge $LAB_BR_RELAY (no IP)   the relayed client segment
#     taps $LAB_P"t"N                one per QEMU machine, on either bridge
#   server namespace ($LAB_SRV_NS)
#     $LAB_SRV_IF, 10.210.0.2/24     veth to $LAB_BR: the boot server's interface
#   router namespace ($LAB_RTR_NS)
#     $LAB_RTR_UP, 10.210.0.254/24   veth to $LAB_BR
#     $LAB_RTR_DOWN, 10.211.0.1/24   veth to $LAB_BR_RELAY; dhcrelay relays
#                                    client DHCP to both the site DHCP server
#                                    and the boot server; IP forwarding on
#
# All addresses exist only inside the namespaces. A trap tears everything down
# (processes, QEMU, namespaces, the work directory) however the test ends, and
# every wait is bounded.
#
# The boot server is pluggable: lab_start_boot_server runs the function
# lab_start_boot_server_$LAB_BOOT_SERVER (default "dnsmasq", a stand-in that
# proves the harness). A replacement must, in $LAB_SRV_NS on $LAB_SRV_IF
# ($LAB_SERVER_IP/24):
#   - answer PXE firmware as a proxyDHCP server on UDP 67 (and 4011 if it
#     wants), for the local segment $LAB_SUBNET/24 and for requests relayed
#     from $LAB_RELAY_SUBNET/24 (giaddr $LAB_RELAY_GW; a route to that subnet
#     via $LAB_RTR_UP_IP already exists in $LAB_SRV_NS);
#   - serve by TFTP the first-stage NBPs: for EDK2 (arch 7) ipxe.efi or
#     snponly.efi from /usr/lib/ipxe; BIOS clients here are already iPXE
#     (QEMU's ROM), so they go straight to the script;
#   - point iPXE clients (option 175 / user class "iPXE") to an HTTP script
#     whose content is what lab_ipxe_script prints: it loads
#     $LAB_HTTP_BASE/vmlinuz and $LAB_HTTP_BASE/initrd.img, files found in
#     $LAB_ASSETS (the kernel line must say initrd=initrd.img and carry
#     $LAB_KERNEL_ARGS, which holds console=ttyS0);
#   - register its processes with lab_track PID (or start them with lab_bg)
#     so that the trap stops them, and return 0 only once it answers
#     (bounded wait, see lab_wait), non-zero otherwise. Whatever is left in
#     the lab's namespaces at the end is killed anyway.
# A test with its own EXIT trap must call lab_cleanup from it.
#
# tests/e2e/README.md has the topology, measured boot times and the firmware
# quirks met while building this.
#
# Typical use:
#   . tests/e2e/lab.sh
#   lab_require || exit 77
#   lab_setup && lab_start_boot_server || exit 1
#   lab_boot bios 180 && echo "booted in ${LAB_BOOT_SECONDS}s"
#
# Variables a caller may set before sourcing: BUILD_DIR, LAB_ASSETS,
# LAB_BOOT_SERVER, LAB_CAPTURE (a pcapng file: the DHCP/proxyDHCP traffic
# of the whole run on both bridges), LAB_CAPTURE_DIR (one pcapng per boot,
# DIR/KIND.pcapng), LAB_CAPTURE_FILTER (capture filter instead of UDP
# 67/68/4011), LAB_PREFIX, LAB_QEMU_MEM, LAB_VERBOSE=1 (copy every
# serial line to stdout), LAB_KEEP_WORK=1 (keep the logs in the work
# directory after the test), LAB_IPV6_RA=0 (no IPv6 router advertisements).

set -uo pipefail

LAB_E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD_DIR=${BUILD_DIR:-$(cd "$LAB_E2E_DIR/../.." && pwd)/build}
LAB_ASSETS=${LAB_ASSETS:-$BUILD_DIR/e2e-assets}
LAB_BOOT_SERVER=${LAB_BOOT_SERVER:-dnsmasq}
LAB_CAPTURE=${LAB_CAPTURE:-}
LAB_CAPTURE_DIR=${LAB_CAPTURE_DIR:-}
LAB_QEMU_MEM=${LAB_QEMU_MEM:-512}
LAB_VERBOSE=${LAB_VERBOSE:-0}
LAB_KEEP_WORK=${LAB_KEEP_WORK:-0}
LAB_IPV6_RA=${LAB_IPV6_RA:-1}

# Interface names must stay under 15 bytes: prefix (7) + suffix (<= 4).
LAB_P=${LAB_PREFIX:-e2$(printf '%05d' $(($$ % 100000)))}
LAB_NS=${LAB_P}lab
LAB_SRV_NS=${LAB_P}srv
LAB_RTR_NS=${LAB_P}rtr
LAB_BR=${LAB_P}br0
LAB_BR_RELAY=${LAB_P}br1
LAB_SRV_IF=${LAB_P}sv          # server end (in $LAB_SRV_NS)
LAB_SRV_PEER=${LAB_P}sb        # its peer, a port of $LAB_BR
LAB_RTR_UP=${LAB_P}ru          # router's upstream end (peer ${LAB_P}rb on $LAB_BR)
LAB_RTR_DOWN=${LAB_P}rd        # router's downstream end (peer ${LAB_P}rc on $LAB_BR_RELAY)

LAB_SUBNET=10.210.0.0
LAB_SITE_IP=10.210.0.1         # the bridge's address: the site DHCP server
LAB_SERVER_IP=10.210.0.2       # the boot server
LAB_RTR_UP_IP=10.210.0.254
LAB_RELAY_SUBNET=10.211.0.0
LAB_RELAY_GW=10.211.0.1        # router's downstream address, the relay's giaddr
LAB_HTTP_PORT=${LAB_HTTP_PORT:-8080}
LAB_HTTP_BASE=http://$LAB_SERVER_IP:$LAB_HTTP_PORT

LAB_MARKER=STAMPEDE-E2E-MARKER
# Kernel arguments every boot script must pass (the marker line echoes them).
LAB_KERNEL_ARGS="console=ttyS0,115200 panic=-1 stampede.lab=$LAB_P"

LAB_WORK=$(mktemp -d /tmp/stampede-e2e.XXXXXX)
chmod 755 "$LAB_WORK"
LAB_PIDS=()
LAB_CAPTURE_PIDS=()
LAB_QEMU_PID=""
LAB_BOOTS=0

# Results of the last lab_boot (for the caller).
# shellcheck disable=SC2034
LAB_BOOT_SECONDS=""
LAB_BOOT_LOG=""
LAB_BOOT_MARKER_LINE=""

lab_say() { echo "# lab: $*"; }

lab_in() { ip netns exec "$@"; }

# lab_elapsed START NOW: seconds between two `date +%s.%N` stamps, one decimal.
lab_elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# lab_track PID...: stop these processes at cleanup.
lab_track() { LAB_PIDS+=("$@"); }

# lab_bg NS LOG COMMAND...: run COMMAND in namespace NS in the background, its
# output in LOG, tracked for cleanup. ip netns exec execs in place, so $! is
# the command's own PID. Sets LAB_LAST_PID.
lab_bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
	LAB_LAST_PID=$!
	lab_track "$LAB_LAST_PID"
}

# lab_wait SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.2 s until it
# succeeds; complain and fail after SECONDS.
lab_wait() {
	local limit=$1 what=$2 end
	shift 2
	end=$((SECONDS + limit))
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	lab_say "timed out after ${limit}s waiting for $what"
	return 1
}

# lab_stop_pid PID: SIGTERM, at most 10 s, then SIGKILL.
lab_stop_pid() {
	local pid=$1
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# lab_kill_namespace_pids: SIGTERM every process in the lab's namespaces,
# wait at most 5 s, then SIGKILL the rest.
lab_kill_namespace_pids() {
	local ns pids=() more=() pid _
	for ns in "$LAB_NS" "$LAB_SRV_NS" "$LAB_RTR_NS"; do
		[ -e "/run/netns/$ns" ] || continue
		mapfile -t more < <(ip netns pids "$ns" 2>/dev/null)
		pids+=("${more[@]}")
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	kill -TERM "${pids[@]}" 2>/dev/null
	for _ in $(seq 1 25); do
		for pid in "${pids[@]}"; do
			kill -0 "$pid" 2>/dev/null && break
			pid=""
		done
		[ -z "$pid" ] && return 0
		sleep 0.2
	done
	kill -KILL "${pids[@]}" 2>/dev/null
	return 0
}

lab_cleanup() {
	local pid
	[ -n "$LAB_QEMU_PID" ] && lab_stop_qemu 0
	# Captures first, so that their files are complete.
	for pid in "${LAB_CAPTURE_PIDS[@]}"; do
		lab_capture_stop "$pid"
	done
	for pid in "${LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		lab_stop_pid "$pid"
	done
	# Anything still running inside the lab's namespaces (started by a boot
	# server plug-in without lab_track, or a child left behind) is ours too.
	lab_kill_namespace_pids
	# Deleting a namespace deletes its interfaces: bridges, veths, taps.
	ip netns del "$LAB_NS" 2>/dev/null
	ip netns del "$LAB_SRV_NS" 2>/dev/null
	ip netns del "$LAB_RTR_NS" 2>/dev/null
	# A dataplane's per-interface lock file (instance_lock.h) outlives it.
	rm -f /run/stampede/"$LAB_SRV_IF".lock /run/stampede/"$LAB_SRV_IF".sessions # its lock and transfer journal
	if [ "$LAB_KEEP_WORK" = 1 ]; then
		lab_say "kept the work directory $LAB_WORK (LAB_KEEP_WORK=1)"
	else
		rm -rf "$LAB_WORK"
	fi
}
trap lab_cleanup EXIT
trap 'exit 130' INT TERM

# lab_require: the tools and privileges a boot test needs; prints what is
# missing and fails (a test should then exit 77, "skipped").
lab_require() {
	local missing=() tool
	if [ "$(id -u)" -ne 0 ]; then
		lab_say "needs root (namespaces, taps)"
		return 1
	fi
	for tool in qemu-system-x86_64 dnsmasq dhcrelay ethtool python3 curl ip; do
		command -v "$tool" >/dev/null || missing+=("$tool")
	done
	if [ -n "$LAB_CAPTURE$LAB_CAPTURE_DIR" ]; then
		command -v dumpcap >/dev/null || missing+=("dumpcap")
	fi
	[ -f /usr/share/seabios/bios-256k.bin ] || missing+=("seabios")
	[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || missing+=("ovmf")
	[ -f /usr/lib/ipxe/ipxe.efi ] || missing+=("ipxe")
	[ -f /usr/lib/ipxe/qemu/efi-virtio.rom ] || missing+=("ipxe-qemu")
	if [ ${#missing[@]} -gt 0 ]; then
		lab_say "missing: ${missing[*]}"
		return 1
	fi
	return 0
}

# lab_assets: make sure $LAB_ASSETS has vmlinuz and initrd.img (builds them once).
lab_assets() {
	if [ -s "$LAB_ASSETS/vmlinuz" ] && [ -s "$LAB_ASSETS/initrd.img" ]; then
		return 0
	fi
	bash "$LAB_E2E_DIR/assets.sh" "$LAB_ASSETS" | sed 's/^/# /'
	[ -s "$LAB_ASSETS/vmlinuz" ] && [ -s "$LAB_ASSETS/initrd.img" ]
}

# lab_veth NS_A IF_A NS_B IF_B: a veth pair, MTU 1500, one end in each namespace.
lab_veth() {
	ip link add "$2" mtu 1500 type veth peer name "$4" mtu 1500 || return 1
	ip link set "$2" netns "$1" && ip link set "$4" netns "$3"
}

# lab_bridge_port NS IF BRIDGE: enslave, bring up, and disable tx checksum
# offload. A veth or tap leaves UDP checksums of locally generated packets
# unfinished (CHECKSUM_PARTIAL); the boot server's XDP dataplane verifies
# them, so every bridge port must finish checksums in software before
# forwarding, as a real NIC would. The one that matters is $LAB_SRV_PEER
# (everything the server receives leaves the bridge through it); the others
# are disabled too so that captures on them show final checksums.
lab_bridge_port() {
	lab_in "$1" ip link set "$2" master "$3" up || return 1
	lab_in "$1" ethtool -K "$2" tx off >/dev/null 2>&1 || lab_say "warning: ethtool -K $2 tx off failed"
}

lab_setup_network() {
	ip netns add "$LAB_NS" && ip netns add "$LAB_SRV_NS" && ip netns add "$LAB_RTR_NS" || return 1
	local ns
	for ns in "$LAB_NS" "$LAB_SRV_NS" "$LAB_RTR_NS"; do
		lab_in "$ns" ip link set lo up
	done

	# The PXE segment and the relayed client segment, both in the lab
	# namespace; STP off and no forward delay, so ports forward at once.
	lab_in "$LAB_NS" ip link add "$LAB_BR" type bridge stp_state 0 forward_delay 0 || return 1
	lab_in "$LAB_NS" ip link add "$LAB_BR_RELAY" type bridge stp_state 0 forward_delay 0 || return 1
	# No duplicate address detection on the bridges: ra.py can then answer
	# router solicitations from their link-local address right away.
	lab_in "$LAB_NS" sysctl -qw "net.ipv6.conf.$LAB_BR.accept_dad=0" "net.ipv6.conf.$LAB_BR_RELAY.accept_dad=0"
	lab_in "$LAB_NS" ip addr add "$LAB_SITE_IP/24" dev "$LAB_BR"
	lab_in "$LAB_NS" ip link set "$LAB_BR" up
	lab_in "$LAB_NS" ip link set "$LAB_BR_RELAY" up

	# Boot server.
	lab_veth "$LAB_SRV_NS" "$LAB_SRV_IF" "$LAB_NS" "$LAB_SRV_PEER" || return 1
	lab_in "$LAB_SRV_NS" ip addr add "$LAB_SERVER_IP/24" dev "$LAB_SRV_IF"
	lab_in "$LAB_SRV_NS" ip link set "$LAB_SRV_IF" up
	lab_in "$LAB_SRV_NS" ethtool -K "$LAB_SRV_IF" tx off >/dev/null 2>&1
	lab_bridge_port "$LAB_NS" "$LAB_SRV_PEER" "$LAB_BR" || return 1

	# Router between the PXE segment and the relayed segment.
	lab_veth "$LAB_RTR_NS" "$LAB_RTR_UP" "$LAB_NS" "${LAB_P}rb" || return 1
	lab_veth "$LAB_RTR_NS" "$LAB_RTR_DOWN" "$LAB_NS" "${LAB_P}rc" || return 1
	lab_in "$LAB_RTR_NS" ip addr add "$LAB_RTR_UP_IP/24" dev "$LAB_RTR_UP"
	lab_in "$LAB_RTR_NS" ip addr add "$LAB_RELAY_GW/24" dev "$LAB_RTR_DOWN"
	lab_in "$LAB_RTR_NS" ip link set "$LAB_RTR_UP" up
	lab_in "$LAB_RTR_NS" ip link set "$LAB_RTR_DOWN" up
	lab_in "$LAB_RTR_NS" ethtool -K "$LAB_RTR_UP" tx off >/dev/null 2>&1
	lab_in "$LAB_RTR_NS" ethtool -K "$LAB_RTR_DOWN" tx off >/dev/null 2>&1
	lab_in "$LAB_RTR_NS" sysctl -qw net.ipv4.ip_forward=1
	lab_bridge_port "$LAB_NS" "${LAB_P}rb" "$LAB_BR" || return 1
	lab_bridge_port "$LAB_NS" "${LAB_P}rc" "$LAB_BR_RELAY" || return 1

	# Replies to relayed clients (DHCP to the giaddr, TFTP, HTTP) go via the router.
	lab_in "$LAB_NS" ip route add "$LAB_RELAY_SUBNET/24" via "$LAB_RTR_UP_IP"
	lab_in "$LAB_SRV_NS" ip route add "$LAB_RELAY_SUBNET/24" via "$LAB_RTR_UP_IP"
	lab_wait 10 "the server to reach the router" lab_in "$LAB_SRV_NS" ping -c1 -W1 "$LAB_RTR_UP_IP"
}

# lab_start_site_dhcp: the site's own DHCP server: leases addresses on both
# segments (the relayed one by the relay's giaddr) and knows nothing about
# booting: no boot file, no PXE options. Like many site servers, dnsmasq still
# fills siaddr ("next server") with its own address, 10.210.0.1, in every
# offer and ACK: a boot server must not count on siaddr being zero there.
# dnsmasq pings an address before offering it (up to 3 s): the firmware sees
# the proxy offer seconds before the lease offer and retransmits its DISCOVER,
# as on a real network.
lab_start_site_dhcp() {
	lab_bg "$LAB_NS" "$LAB_WORK/site-dhcp.out" dnsmasq --keep-in-foreground \
		--conf-file=/dev/null --port=0 --user=root --group=root \
		--interface="$LAB_BR" --bind-interfaces \
		--pid-file="$LAB_WORK/site-dhcp.pid" \
		--dhcp-leasefile="$LAB_WORK/site-dhcp.leases" \
		--log-dhcp --log-facility="$LAB_WORK/site-dhcp.log" \
		--dhcp-range=set:seg,10.210.0.100,10.210.0.199,255.255.255.0,1h \
		--dhcp-range=set:rel,10.211.0.100,10.211.0.199,255.255.255.0,1h \
		--dhcp-option=tag:seg,option:router,"$LAB_SITE_IP" \
		--dhcp-option=tag:rel,option:router,"$LAB_RELAY_GW"
	lab_wait 10 "the site DHCP server" grep -q "DHCP, IP range 10.211" "$LAB_WORK/site-dhcp.log" || {
		cat "$LAB_WORK/site-dhcp.out" "$LAB_WORK/site-dhcp.log" 2>/dev/null | sed 's/^/#   /'
		return 1
	}
}

# lab_start_relay: dhcrelay in the router namespace, relaying client
# requests from the relayed segment to the site DHCP server and the boot server.
lab_start_relay() {
	lab_bg "$LAB_RTR_NS" "$LAB_WORK/relay.log" dhcrelay -4 -d \
		-pf "$LAB_WORK/dhcrelay.pid" \
		-iu "$LAB_RTR_UP" -id "$LAB_RTR_DOWN" "$LAB_SITE_IP" "$LAB_SERVER_IP"
	lab_wait 10 "the DHCP relay" grep -q "^Sending on" "$LAB_WORK/relay.log" || {
		sed 's/^/#   /' "$LAB_WORK/relay.log"
		return 1
	}
}

# lab_start_ra: answer IPv6 router solicitations on both segments (see
# ra.py): otherwise every iPXE run spends ~13 s in "Configuring" waiting for
# an IPv6 router. Set LAB_IPV6_RA=0 to see iPXE's behaviour without it.
lab_start_ra() {
	lab_bg "$LAB_NS" "$LAB_WORK/ra.log" python3 "$LAB_E2E_DIR/ra.py" "$LAB_BR" "$LAB_BR_RELAY"
	lab_wait 10 "the router advertisement responder" grep -q "answering" "$LAB_WORK/ra.log" || {
		sed 's/^/#   /' "$LAB_WORK/ra.log"
		return 1
	}
}

# lab_capture_start FILE: capture DHCP and proxyDHCP (UDP 67, 68, 4011) on
# both bridges into FILE (pcapng; each packet records its interface, and a
# routed or relayed packet shows on both). Sets LAB_LAST_CAPTURE_PID.
lab_capture_start() {
	local file=$1 pid
	mkdir -p "$(dirname "$file")"
	rm -f "$file"
	# -f before the first -i: the filter then applies to every interface.
	# ip netns exec itself (not lab_in, a function: that would fork a
	# subshell and $! would not be dumpcap).
	ip netns exec "$LAB_NS" dumpcap -q -f "${LAB_CAPTURE_FILTER:-udp port 67 or udp port 68 or udp port 4011}" \
		-i "$LAB_BR" -i "$LAB_BR_RELAY" -w "$file" >>"$LAB_WORK/capture.log" 2>&1 </dev/null &
	pid=$!
	LAB_LAST_CAPTURE_PID=$pid
	LAB_CAPTURE_PIDS+=("$pid")
	# dumpcap writes the file header once every interface is capturing.
	lab_wait 10 "the packet capture" test -s "$file" || {
		sed 's/^/#   /' "$LAB_WORK/capture.log"
		return 1
	}
}

# lab_capture_stop PID: end a capture cleanly (SIGTERM: a background job of a
# script ignores SIGINT), so that dumpcap completes its file; at most 10 s.
lab_capture_stop() {
	kill -TERM "$1" 2>/dev/null
	timeout 10 tail --pid="$1" -f /dev/null 2>/dev/null || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# lab_setup: network, site DHCP server, relay, optional capture. The boot
# server is started separately (lab_start_boot_server).
lab_setup() {
	lab_assets || { lab_say "cannot build the boot assets (tests/e2e/assets.sh)"; return 1; }
	lab_setup_network || { lab_say "network set-up failed"; return 1; }
	lab_start_site_dhcp || { lab_say "site DHCP server failed to start"; return 1; }
	lab_start_relay || { lab_say "DHCP relay failed to start"; return 1; }
	if [ "$LAB_IPV6_RA" = 1 ]; then
		lab_start_ra || { lab_say "router advertisement responder failed to start"; return 1; }
	fi
	if [ -n "$LAB_CAPTURE" ]; then
		lab_capture_start "$LAB_CAPTURE" || return 1
		lab_say "capturing DHCP on $LAB_BR and $LAB_BR_RELAY into $LAB_CAPTURE"
	fi
	lab_say "lab $LAB_P up: PXE segment $LAB_SUBNET/24 on $LAB_BR, relayed segment $LAB_RELAY_SUBNET/24 on $LAB_BR_RELAY, server $LAB_SERVER_IP on $LAB_SRV_IF in $LAB_SRV_NS"
}

# lab_ipxe_script: the iPXE script every boot server must hand to iPXE.
# iPXE 2019 EFI passes the initrd to the kernel only if the kernel line names
# it (initrd=initrd.img); BIOS iPXE accepts the same line.
lab_ipxe_script() {
	cat <<EOF
#!ipxe
echo Stampede e2e lab: \${net0/mac} (\${buildarch}) loading the kernel over HTTP
kernel $LAB_HTTP_BASE/vmlinuz initrd=initrd.img $LAB_KERNEL_ARGS
initrd $LAB_HTTP_BASE/initrd.img
boot
EOF
}

# lab_start_http DIR: python3 http.server on $LAB_SERVER_IP:$LAB_HTTP_PORT
# in the server namespace, serving DIR.
lab_start_http() {
	lab_bg "$LAB_SRV_NS" "$LAB_WORK/http.log" python3 -m http.server "$LAB_HTTP_PORT" \
		--bind "$LAB_SERVER_IP" --directory "$1"
	lab_wait 10 "the HTTP server" lab_in "$LAB_SRV_NS" curl -sf -o /dev/null "$LAB_HTTP_BASE/" || {
		sed 's/^/#   /' "$LAB_WORK/http.log"
		return 1
	}
}

# lab_start_boot_server: start the boot server named by $LAB_BOOT_SERVER.
lab_start_boot_server() {
	local fn=lab_start_boot_server_$LAB_BOOT_SERVER
	if ! declare -F "$fn" >/dev/null; then
		lab_say "no function $fn: define it, or set LAB_BOOT_SERVER"
		return 1
	fi
	lab_say "starting boot server: $LAB_BOOT_SERVER"
	"$fn"
}

# --- The dnsmasq stand-in --------------------------------------------------
# Proves the harness while Stampede is being finished: dnsmasq as proxyDHCP +
# TFTP in the server namespace, python3 http.server for the script and files.
# See lab_dnsmasq_conf for the iPXE quirks it has to live with.

lab_dnsmasq_conf() {
	cat <<EOF
port=0
user=root
group=root
interface=$LAB_SRV_IF
bind-interfaces
log-dhcp
log-facility=$LAB_WORK/bootsrv-dnsmasq.log
pid-file=$LAB_WORK/bootsrv-dnsmasq.pid
dhcp-leasefile=$LAB_WORK/bootsrv-dnsmasq.leases

# proxyDHCP only: the site server leases the addresses.
dhcp-range=$LAB_SUBNET,proxy,255.255.255.0
dhcp-range=$LAB_RELAY_SUBNET,proxy,255.255.255.0

# Clients that already run iPXE (option 175, user class "iPXE") get the
# script's URL as boot file; the others get a PXE service that loads iPXE.
dhcp-match=set:ipxe,175
dhcp-userclass=set:ipxe,iPXE
dhcp-boot=tag:ipxe,$LAB_HTTP_BASE/boot.ipxe,,$LAB_SERVER_IP
pxe-service=tag:!ipxe,X86-64_EFI,"Stampede lab (stand-in)",ipxe.efi
pxe-service=tag:!ipxe,BC_EFI,"Stampede lab (stand-in)",ipxe.efi
pxe-service=tag:!ipxe,x86PC,"Stampede lab (stand-in)",undionly

enable-tftp
tftp-root=$LAB_WORK/tftp
EOF
}

lab_start_boot_server_dnsmasq() {
	local tftp=$LAB_WORK/tftp http=$LAB_WORK/http f
	mkdir -p "$tftp" "$http"
	# TFTP: the iPXE binaries (dnsmasq asks BIOS clients for "<name>.0").
	for f in ipxe.efi snponly.efi undionly.kpxe; do
		ln -sf "/usr/lib/ipxe/$f" "$tftp/$f"
	done
	ln -sf /usr/lib/ipxe/undionly.kpxe "$tftp/undionly.0"
	lab_ipxe_script >"$tftp/boot.ipxe"
	# HTTP: the script, kernel and initrd.
	cp "$tftp/boot.ipxe" "$http/boot.ipxe"
	ln -sf "$LAB_ASSETS/vmlinuz" "$http/vmlinuz"
	ln -sf "$LAB_ASSETS/initrd.img" "$http/initrd.img"
	chmod -R a+rX "$tftp" "$http"

	lab_dnsmasq_conf >"$LAB_WORK/bootsrv-dnsmasq.conf"
	lab_bg "$LAB_SRV_NS" "$LAB_WORK/bootsrv-dnsmasq.out" dnsmasq --keep-in-foreground \
		--conf-file="$LAB_WORK/bootsrv-dnsmasq.conf"
	lab_wait 10 "dnsmasq (boot server)" grep -q "TFTP root is" "$LAB_WORK/bootsrv-dnsmasq.log" || {
		cat "$LAB_WORK/bootsrv-dnsmasq.out" "$LAB_WORK/bootsrv-dnsmasq.log" 2>/dev/null | sed 's/^/#   /'
		return 1
	}
	lab_start_http "$http"
}

# --- Booting a machine -------------------------------------------------------

# lab_qemu_args KIND TAP MAC SERIAL_LOG: the QEMU command line for one machine.
lab_qemu_args() {
	local kind=$1 tap=$2 mac=$3 log=$4
	local -a args=(qemu-system-x86_64 -accel tcg -machine pc -m "$LAB_QEMU_MEM" -smp 1
		-nographic -monitor none -serial "file:$log" -no-reboot
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no")
	case $kind in
	bios | bios-relay)
		# SeaBIOS runs the NIC's option ROM: QEMU's iPXE (the default
		# romfile of virtio-net-pci). -nographic makes SeaBIOS copy the
		# text screen to the serial port, so iPXE's messages reach the log.
		args+=(-boot n -device "virtio-net-pci,netdev=n0,mac=$mac")
		;;
	uefi | uefi-relay)
		# No option ROM (romfile=): EDK2's own PXE is the first stage and
		# loads ipxe.efi by TFTP. OVMF needs its own writable variable store.
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$LAB_WORK/vars-$tap.fd"
		args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
			-drive "if=pflash,format=raw,unit=1,file=$LAB_WORK/vars-$tap.fd"
			-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=")
		;;
	*)
		return 1
		;;
	esac
	printf '%s\n' "${args[@]}"
}

# Serial lines worth reporting as boot stages (after escape codes are removed).
LAB_STAGE_RE='iPXE initiali|iPXE [0-9]|Start PXE|Start HTTP|Station IP|Server IP|NBP file|PXE-E[0-9]|Error:|BdsDxe: failed|Configuring|DHCP|[Pp]roxy|tftp://|http://|Nothing to boot|No more network|Connection timed out|Could not|No bootable|Internal Shell|Linux version|Run /init|Kernel panic|'"$LAB_MARKER"

# Serial lines after which the machine cannot boot any more: fail at once
# rather than at the timeout. SeaBIOS says "No bootable device." and retries
# only after 60 s. OVMF spends about 60 s on each boot option that fails
# (PXEv4, PXEv6, HTTPv4, HTTPv6) and then starts the EFI shell; every kind
# here boots by PXEv4, so its failure is final. A caller may override this.
LAB_FATAL_RE=${LAB_FATAL_RE:-'No bootable device|No bootable option or device was found|failed to load Boot[0-9A-F]+ "UEFI PXEv4|starting Boot[0-9A-F]+ "EFI Internal Shell"'}

# lab_clean_lines: strip ANSI escape sequences (CSI, charset selection) and
# turn carriage returns and terminal resets (ESC c: SeaBIOS's serial console
# clears the screen when the kernel starts) into line breaks.
lab_clean_lines() {
	sed -e 's/\x1bc/\n/g' -e 's/\x1b\[[0-9;?=]*[A-Za-z]//g' -e 's/\x1b[()][A-Z0-9]//g' -e 's/\r/\n/g' | tr -d '\000'
}

# lab_stop_qemu GRACE: let the running QEMU exit by itself for GRACE
# seconds, then SIGTERM it (timeout(1), its parent, passes the signal on),
# then SIGKILL both after 5 s more.
lab_stop_qemu() {
	local pid=$LAB_QEMU_PID child
	[ -n "$pid" ] || return 0
	# (timeout 0 would mean "no limit": skip the grace period instead.)
	if [ "$1" -eq 0 ] || ! timeout "$1" tail --pid="$pid" -f /dev/null 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		if ! timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null; then
			for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
				kill -KILL "$child" 2>/dev/null
			done
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null   # reaps it quietly (no "Killed" job notice)
	LAB_QEMU_PID=""
}

# lab_report_stages LOG START: print the serial lines that look like boot
# stages and have not been printed yet, with the seconds since START. A line
# is reported as soon as it starts, not only once complete: EDK2 ends its
# lines late (it writes "\r\n" before the next message), and iPXE's
# "Configuring ..." grows dots for seconds; a partial line printed early is
# printed again when complete only if its text changed. State lives in
# LAB_W_SEEN (complete lines done) and LAB_W_PARTIAL (partial line printed).
lab_report_stages() {
	local log=$1 start=$2 clean=$LAB_WORK/serial-clean.txt total now line partial=""
	lab_clean_lines <"$log" >"$clean"
	total=$(wc -l <"$clean")
	if [ -s "$clean" ] && [ "$(tail -c 1 "$clean" | od -An -c | tr -d ' ')" != '\n' ]; then
		partial=$(tail -n 1 "$clean")
	fi
	now=$(lab_elapsed "$start" "$(date +%s.%N)")
	if [ "$total" -gt "$LAB_W_SEEN" ]; then
		while IFS= read -r line; do
			[ "$LAB_VERBOSE" = 1 ] && echo "#     | $line"
			if [[ $line =~ $LAB_STAGE_RE ]] && [ "$line" != "$LAB_W_PARTIAL" ]; then
				printf '# [%6.1fs] %s\n' "$now" "${line:0:150}"
			fi
			LAB_W_PARTIAL=""
		done < <(sed -n "$((LAB_W_SEEN + 1)),${total}p" "$clean")
		LAB_W_SEEN=$total
	fi
	if [ -n "$partial" ] && [ "$partial" != "$LAB_W_PARTIAL" ] && [[ $partial =~ $LAB_STAGE_RE ]]; then
		# Print a growing line once; when it completes, print it again only if
		# more than dots were added ("... ok").
		if [ -z "$LAB_W_PARTIAL" ] || [ -n "$(printf '%s' "${partial#"$LAB_W_PARTIAL"}" | tr -d '.')" ]; then
			printf '# [%6.1fs] %s\n' "$now" "${partial:0:150}"
		fi
		LAB_W_PARTIAL=$partial
	fi
}

# lab_boot KIND TIMEOUT: boot one QEMU machine and wait for the marker.
#   KIND: bios | uefi (on the PXE segment), bios-relay | uefi-relay (on the
#   relayed segment). Prints each stage with the elapsed seconds. Returns 0
#   when the initramfs prints the marker, 1 on timeout or early exit (with
#   the tail of the serial log and of the servers' logs), 2 on a bad KIND.
#   Sets LAB_BOOT_SECONDS, LAB_BOOT_LOG (serial log, kept until cleanup) and
#   LAB_BOOT_MARKER_LINE.
lab_boot() {
	local kind=$1 limit=${2:-300} bridge tap mac log start
	case $kind in
	bios | uefi) bridge=$LAB_BR ;;
	bios-relay | uefi-relay) bridge=$LAB_BR_RELAY ;;
	*) lab_say "unknown boot kind '$kind' (bios, uefi, bios-relay, uefi-relay)"; return 2 ;;
	esac
	LAB_BOOTS=$((LAB_BOOTS + 1))
	tap=${LAB_P}t$LAB_BOOTS
	mac=$(printf '52:54:00:e2:%02x:%02x' $(($$ % 256)) $((LAB_BOOTS % 256)))
	log=$LAB_WORK/serial-$LAB_BOOTS-$kind.log
	# shellcheck disable=SC2034   # for the caller
	LAB_BOOT_LOG=$log
	LAB_BOOT_SECONDS=""
	LAB_BOOT_MARKER_LINE=""
	: >"$log"

	lab_in "$LAB_NS" ip tuntap add "$tap" mode tap || return 1
	lab_bridge_port "$LAB_NS" "$tap" "$bridge" || return 1

	local capture_pid=""
	if [ -n "$LAB_CAPTURE_DIR" ]; then
		lab_capture_start "$LAB_CAPTURE_DIR/$kind.pcapng" || return 1
		capture_pid=$LAB_LAST_CAPTURE_PID
	fi

	local -a cmd
	mapfile -t cmd < <(lab_qemu_args "$kind" "$tap" "$mac" "$log")
	lab_say "boot $kind: machine $mac on $bridge, timeout ${limit}s, serial log $log"
	start=$(date +%s.%N)
	# timeout(1) bounds QEMU even if this shell dies without its trap.
	ip netns exec "$LAB_NS" timeout -s KILL "$((limit + 5))" "${cmd[@]}" \
		>"$LAB_WORK/qemu-$LAB_BOOTS.out" 2>&1 </dev/null &
	LAB_QEMU_PID=$!

	local result=1 end=$((SECONDS + limit))
	LAB_W_SEEN=0
	LAB_W_PARTIAL=""
	while :; do
		lab_report_stages "$log" "$start"
		if grep -aq "$LAB_MARKER booted" "$log"; then
			result=0
			break
		fi
		if ! kill -0 "$LAB_QEMU_PID" 2>/dev/null; then
			# QEMU ended: the log may have got the marker just before.
			lab_report_stages "$log" "$start"
			grep -aq "$LAB_MARKER booted" "$log" && result=0
			[ $result -eq 0 ] || lab_say "boot $kind: QEMU exited without the marker"
			break
		fi
		if lab_clean_lines <"$log" | grep -aEq "$LAB_FATAL_RE"; then
			lab_say "boot $kind: the firmware has run out of boot options"
			break
		fi
		if [ "$SECONDS" -ge "$end" ]; then
			lab_say "boot $kind: no marker within ${limit}s"
			break
		fi
		sleep 0.5
	done
	LAB_BOOT_SECONDS=$(lab_elapsed "$start" "$(date +%s.%N)")
	LAB_BOOT_MARKER_LINE=$(grep -a -m1 "$LAB_MARKER booted" "$log" | lab_clean_lines | head -1)

	# After the marker the initramfs powers off by itself (QEMU exits): give
	# it a moment. A failed machine is stopped at once.
	if [ $result -eq 0 ]; then lab_stop_qemu 5; else lab_stop_qemu 0; fi
	lab_in "$LAB_NS" ip link del "$tap" 2>/dev/null
	if [ -n "$capture_pid" ]; then
		lab_capture_stop "$capture_pid"
		lab_say "boot $kind: DHCP packets captured in $LAB_CAPTURE_DIR/$kind.pcapng"
	fi

	if [ $result -eq 0 ]; then
		lab_say "boot $kind: marker after ${LAB_BOOT_SECONDS}s: $LAB_BOOT_MARKER_LINE"
	else
		lab_say "boot $kind: FAILED after ${LAB_BOOT_SECONDS}s; last serial lines:"
		lab_clean_lines <"$log" | grep -v '^[[:space:]]*$' | tail -25 | sed 's/^/#   | /'
		sed 's/^/#   qemu: /' "$LAB_WORK/qemu-$LAB_BOOTS.out" | tail -5
		lab_dump_logs
	fi
	return $result
}

# lab_dump_logs: the tail of every server log in the lab.
lab_dump_logs() {
	local f
	for f in "$LAB_WORK"/site-dhcp.log "$LAB_WORK"/relay.log "$LAB_WORK"/ra.log "$LAB_WORK"/bootsrv-*.log "$LAB_WORK"/bootsrv-*.out "$LAB_WORK"/http.log "$LAB_WORK"/stampede*.log; do
		[ -s "$f" ] || continue
		echo "# --- $(basename "$f") (last 20 lines)"
		tail -20 "$f" | sed 's/^/#   /'
	done
}
