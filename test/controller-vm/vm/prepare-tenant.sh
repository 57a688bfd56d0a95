#!/bin/bash
# Overlay preparation (test/e2e/vm/init.sh, e2e.prepare=) of the tenant VM: not an amphora, the
# machine on the VIP network that holds the SCTP client and the SCTP member servers, because the
# host's kernel has no SCTP and the UML kernel has. Its one NIC on the VIP bridge is vec1 (vec0,
# on the management bridge, stays down); vm.env gives TENANT_IPS (the first is the client's) and
# SCTP_MEMBERS ("name=address:port ..."). The test runs the client through the command channel.
set -eu
R=$1
W=$R/mnt/e2e
# shellcheck disable=SC1091
. "$W/vm.env"
E2E=$REPO/test/e2e/vm
HERE=$REPO/test/controller-vm/vm
E=$R/etc/systemd/system
mkdir -p "$E" "$R/etc/tmpfiles.d" "$W/logs" "$W/cmd"
rm -f "$R/.dockerenv"
ln -sfn /dev/null "$R/etc/tmpfiles.d/tmp.conf"
grep -v '^#' "$E2E/masks.txt" | while read -r unit; do
  [ -n "$unit" ] && ln -sfn /dev/null "$E/$unit"
done
echo tenant > "$R/etc/hostname"
{
  echo '[Unit]'
  echo 'Description=tenant VM: addresses on the VIP network'
  echo 'DefaultDependencies=no'
  echo 'Before=network-online.target'
  echo '[Service]'
  echo 'Type=oneshot'
  echo 'RemainAfterExit=yes'
  echo 'ExecStart=/sbin/ip link set lo up'
  for a in $TENANT_IPS; do echo "ExecStart=/sbin/ip addr add $a/24 dev vec1"; done
  echo 'ExecStart=/sbin/ip link set vec1 up'
} > "$E/cvm-net.service"
WANTS="cvm-net.service cvm-exec.service cvm-journal.service"
for m in $SCTP_MEMBERS; do
  name=${m%%=*}; addr=${m#*=}
  cat > "$E/cvm-sctp-$name.service" <<UNIT
[Unit]
Description=tenant VM: SCTP member $name
After=cvm-net.service
Requires=cvm-net.service
[Service]
ExecStartPre=/sbin/modprobe sctp
ExecStart=/usr/bin/python3 $REPO/test/controller-vm/net/sctp-member.py $name ${addr%:*} ${addr##*:}
UNIT
  WANTS="$WANTS cvm-sctp-$name.service"
done
cat > "$E/cvm-exec.service" <<UNIT
[Unit]
Description=tenant VM: test command channel
After=cvm-net.service
[Service]
ExecStart=/bin/bash $HERE/cvm-exec.sh /mnt/e2e/cmd
UNIT
cat > "$E/cvm-journal.service" <<UNIT
[Unit]
Description=tenant VM: journal to the host
DefaultDependencies=no
After=systemd-journald.service
[Service]
ExecStart=/bin/sh -c 'exec journalctl -b -f -o short-monotonic --no-pager > /mnt/e2e/logs/journal.txt 2>&1'
UNIT
cat > "$E/cvm.target" <<UNIT
[Unit]
Description=tenant VM
Requires=basic.target
After=basic.target
Wants=$WANTS
AllowIsolate=yes
UNIT
ln -sfn /etc/systemd/system/cvm.target "$E/default.target"
echo "[cvm-prepare] tenant ready"
