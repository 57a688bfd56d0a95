# shellcheck shell=bash
# Sourced by prepare-amphora.sh and prepare-tenant.sh (in the guest's pre-init, overlay root at
# $R, the VM's host directory at $W): what every VM of the tier needs whatever it is.
#   - the VM tier's masks and the two fixes a guest on the host's root needs (no /.dockerenv, no
#     emptying of /tmp);
#   - the test's command channel (cvm-exec.sh: runs $W/cmd/*.sh) and the journal streamed to
#     $W/logs/journal.txt (a VM is killed, not shut down);
#   - rescue and emergency mode power the VM off instead of waiting;
#   - cvm_target DESCRIPTION UNITS...: the boot target wanting those units.
E2E=$REPO/test/e2e/vm
HERE=$REPO/test/controller-vm/vm
E=$R/etc/systemd/system
mkdir -p "$E" "$R/etc/tmpfiles.d" "$W/logs" "$W/cmd"
rm -f "$R/.dockerenv"
ln -sfn /dev/null "$R/etc/tmpfiles.d/tmp.conf"
grep -v '^#' "$E2E/masks.txt" | while read -r unit; do
  [ -n "$unit" ] && ln -sfn /dev/null "$E/$unit"
done

cat > "$E/cvm-exec.service" <<UNIT
[Unit]
Description=test command channel
After=cvm-net.service
[Service]
Type=simple
ExecStart=/bin/bash $HERE/cvm-exec.sh /mnt/e2e/cmd
UNIT
cat > "$E/cvm-journal.service" <<UNIT
[Unit]
Description=the journal, to the host as it goes
DefaultDependencies=no
After=systemd-journald.service
[Service]
Type=simple
ExecStart=/bin/sh -c 'exec journalctl -b -f -o short-monotonic --no-pager > /mnt/e2e/logs/journal.txt 2>&1'
UNIT
for u in rescue emergency; do
  mkdir -p "$E/$u.service.d"
  printf '[Service]\nExecStart=\nExecStart=/bin/systemctl poweroff --force\n' > "$E/$u.service.d/cvm.conf"
done

cvm_target() { # DESCRIPTION UNITS...
  local description=$1; shift
  cat > "$E/cvm.target" <<UNIT
[Unit]
Description=$description
Requires=basic.target
After=basic.target
Wants=cvm-exec.service cvm-journal.service $*
AllowIsolate=yes
UNIT
  ln -sfn /etc/systemd/system/cvm.target "$E/default.target"
}
