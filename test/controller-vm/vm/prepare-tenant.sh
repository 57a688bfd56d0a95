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
# shellcheck source=test/controller-vm/vm/prepare-common.sh
. "$REPO/test/controller-vm/vm/prepare-common.sh"
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
WANTS="cvm-net.service"
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
# shellcheck disable=SC2086  # the units, one word each
cvm_target 'tenant VM' $WANTS
echo "[cvm-prepare] tenant ready"
