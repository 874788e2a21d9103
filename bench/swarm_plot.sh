#!/usr/bin/env bash
# Draws a swarm run's plots with gnuplot:
#   PREFIX-stages.png      how many clients were past each stage, over time
#   PREFIX-throughput.png  TFTP and HTTP MB/s over time
# from PREFIX.timeline.csv (swarm --timeline). Usage: swarm_plot.sh PREFIX [TITLE]
set -euo pipefail

[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 PREFIX [TITLE]" >&2; exit 2; }
prefix=$1
title=${2:-$(basename "$prefix")}
data=$prefix.timeline.csv
[[ -s $data ]] || { echo "$0: $data: missing or empty" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "$0: gnuplot is not installed (apt-get install gnuplot-nox)" >&2; exit 1; }
# gnuplot reads the title as a string literal: keep it to safe characters.
title=$(printf '%s' "$title" | tr -cd 'A-Za-z0-9 ._,:=()/+-')

gnuplot <<EOF
set datafile separator ","
set terminal pngcairo size 1000,560 noenhanced
set key top left
set grid
set xlabel "seconds since the first client started"

set output "$prefix-stages.png"
set title "$title: clients past each stage"
set ylabel "clients"
plot "$data" using 1:"dhcp_done" with lines lw 2 title "proxy offer", \
     "" using 1:"boot_server_done" with lines lw 2 title "4011 ACK", \
     "" using 1:"tftp_done" with lines lw 2 title "NBP (TFTP)", \
     "" using 1:"ipxe_dhcp_done" with lines lw 2 title "iPXE offer", \
     "" using 1:"script_done" with lines lw 2 title "script", \
     "" using 1:"kernel_done" with lines lw 2 title "kernel", \
     "" using 1:"booted" with lines lw 3 title "booted (initrd)", \
     "" using 1:"failed" with lines lw 2 dt 2 title "failed"

set output "$prefix-throughput.png"
set title "$title: throughput"
set ylabel "MB/s"
plot "$data" using 1:"tftp_mb_per_s" with lines lw 2 title "TFTP", \
     "" using 1:"http_mb_per_s" with lines lw 2 title "HTTP"
EOF
echo "$prefix-stages.png $prefix-throughput.png"
