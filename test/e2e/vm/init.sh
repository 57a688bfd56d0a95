#!/bin/bash
# PID 1 of the User-Mode Linux guest until systemd takes over (kernel cmdline init=).
# The UML root is the host's / through hostfs, read-only. This script:
#   1. puts a tmpfs-backed overlay on top of it (or, with e2e.root=DIR, on top of DIR: the root
#      file system of an amphora image unpacked on the host; the host's / is then kept at /host,
#      read-only, for the programs the image lacks), so the guest can write anywhere without
#      touching the host;
#   2. exposes UML's own modules (ip_vs, veth, bridge, ...) as /lib/modules/<uml release>;
#   3. mounts the run's work directory (e2e.work=DIR, host side, read-write) at /mnt/e2e;
#   4. lets vm/prepare-root.sh (or the script named by e2e.prepare=) write units, masks and
#      configs into the overlay;
#   5. pivots into the overlay and execs systemd as the real PID 1.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
WORK=
LOWER=/
HERE=$(dirname "$(readlink -f "$0")")
PREPARE=$HERE/prepare-root.sh
# shellcheck disable=SC2013  # the command line is words, not lines
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    e2e.work=*) WORK="${arg#e2e.work=}" ;;
    e2e.root=*) LOWER="${arg#e2e.root=}" ;;
    # another tier's overlay preparation (test/controller-vm boots amphora VMs with its own)
    e2e.prepare=*) PREPARE="${arg#e2e.prepare=}" ;;
  esac
done
say() { echo "[e2e-init] $(cut -d' ' -f1 /proc/uptime)s $*"; }
fail() { say "FATAL: $*"; echo o > /proc/sysrq-trigger 2>/dev/null; exec /bin/sh; }
say "kernel $(uname -r), root $LOWER, work dir ${WORK:-none}"
mount -t tmpfs -o size=2g,mode=0755 tmpfs /mnt || fail "tmpfs"
MODS=/usr/lib/uml/modules/$(uname -r)
insmod "$MODS/kernel/fs/overlayfs/overlay.ko" || fail "overlay module"
mkdir -p /mnt/upper /mnt/work /mnt/root
[ -x "$LOWER/lib/systemd/systemd" ] || fail "no systemd in $LOWER"
mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=/mnt/upper,workdir=/mnt/work" /mnt/root || fail "overlay mount"
R=/mnt/root
if [ "$LOWER" = / ]; then
  mkdir -p "$R/lib/modules"; rm -rf "$R/lib/modules/$(uname -r)"; ln -s "$MODS" "$R/lib/modules/$(uname -r)"
else
  # An image root has its own kernel's modules, not UML's; and no path to the host's files.
  # (diskimage-builder's tar leaves out the kernel's file systems' mount points)
  mkdir -p "$R/lib/modules/$(uname -r)" "$R/host" "$R/proc" "$R/sys" "$R/dev" "$R/run" "$R/tmp"
  mount --bind "$MODS" "$R/lib/modules/$(uname -r)" || fail "bind $MODS"
  mount --bind / "$R/host" || fail "bind the host root at /host"
fi
mkdir -p "$R/mnt/e2e"
if [ -n "$WORK" ]; then mount -t hostfs -o "$WORK" hostfs "$R/mnt/e2e" || fail "hostfs $WORK"; fi
bash "$PREPARE" "$R" || fail "$PREPARE"
mkdir -p "$R/.oldroot"
cd "$R" || fail "cd $R"
pivot_root . .oldroot || fail "pivot_root"
# Drop the old hostfs root; the overlay holds its own reference to its lower layer.
umount -l /.oldroot/proc 2>/dev/null
umount -l /.oldroot 2>/dev/null
mount -t proc proc /proc
say "exec systemd"
exec chroot . /lib/systemd/systemd </dev/console >/dev/console 2>&1
