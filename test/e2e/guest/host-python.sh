#!/bin/bash
# On an amphora image's root (run.mjs --rootfs) the image has no Octavia: this runs the host's
# /usr/bin/python3, with the host's packages, in the host's root that vm/init.sh kept read-only
# at /host. Used for guest/controller.py (the real controller client and templaters).
set -eu
H=/host
mountpoint -q "$H/proc" || mount -t proc proc "$H/proc"
mountpoint -q "$H/dev" || mount --rbind /dev "$H/dev"
exec chroot "$H" /usr/bin/python3 "$@"
