#!/bin/sh
# Installed as /usr/sbin/iptables and /usr/sbin/ip6tables in an amphora VM on the image's root
# (prepare-amphora.sh, ROOTFS): UML's kernel has no nf_tables "ip" family, so the agent's nft
# masquerade cannot work there and the image has no iptables. This runs this machine's legacy
# iptables (the name called picks iptables-legacy or ip6tables-legacy) in a chroot of the host's
# root kept read-only at /host; the network namespace is the caller's. /run gets a tmpfs of its
# own there for iptables' lock file.
set -e
H=/host
mountpoint -q "$H/proc" || mount -t proc proc "$H/proc"
mountpoint -q "$H/run" || mount -t tmpfs -o size=1m tmpfs "$H/run"
exec chroot "$H" "/usr/sbin/$(basename "$0")-legacy" "$@"
