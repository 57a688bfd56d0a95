#!/bin/bash
# Runs in the guest's pre-init (test/e2e/vm/init.sh, e2e.prepare=) before systemd, with the
# overlay root at $1. It turns the UML guest into one amphora VM, the way Nova and cloud-init
# would: the files of the controller's config drive (amphora-agent.conf, server.pem,
# client_ca.pem) go to their places, the management NIC gets the address the compute driver
# gave this amphora, and the agent (ours, or Octavia's reference agent) starts under systemd.
# It writes only into the overlay (tmpfs). The VM's directory on the host is /mnt/e2e:
#   vm.env          KIND (ts|ref), ROOTFS, REPO, NODE, MGMT_IP, MGMT_PREFIX, VIP_MAC, AMPHORA_ID
# With ROOTFS (run.mjs --rootfs) the overlay lies on an amphora image's root (test/e2e/vm/init.sh,
# e2e.root=), whose own agent unit and /usr/local/bin/amphora-agent run unchanged.
#   config-drive/   the controller's files, by absolute path (etc/octavia/...)
#   cmd/            the test's command channel (cvm-exec.sh), logs/ what the guest reports
set -eu
R=$1
W=$R/mnt/e2e
# shellcheck disable=SC1091
. "$W/vm.env"
if [ -n "${ROOTFS:-}" ]; then
  # the tier's scripts (command channel) at their host path; the image's fstab names its disk
  mkdir -p "$R$REPO"
  mount --bind "$REPO" "$R$REPO"
  : > "$R/etc/fstab"
fi
# shellcheck source=test/controller-vm/vm/prepare-common.sh
. "$REPO/test/controller-vm/vm/prepare-common.sh"
for d in /var/lib/octavia /etc/octavia; do
  rm -rf "${R:?}$d"; mkdir -p "$R$d"; chown root:root "$R$d"; chmod 0755 "$R$d"
done
echo "amphora-${AMPHORA_ID:0:8}" > "$R/etc/hostname"

# The UML kernel has no nf_tables "ip" family ("add table ip ...": Operation not supported), so
# nft cannot masquerade here, and Debian's default iptables is the nf_tables variant. The VM is
# therefore the image variant without nftables, with legacy iptables: Octavia's
# lvs-masquerade script and our agent both fall back to /sbin/iptables when nft is absent
# (Octavia 11's default image has no nftables either; master adds it with
# DIB_OCTAVIA_AMP_USE_NFTABLES). The kernel has the legacy nat and raw tables (iptable_nat,
# xt_MASQUERADE, xt_CT).
rm -f "$R/usr/sbin/nft"
if [ -n "${ROOTFS:-}" ]; then
  # The image has nftables and no iptables: its agent gets this machine's legacy iptables
  # (vm/iptables-from-host.sh). The image's nft is proven under qemu with its own kernel (test/image).
  for t in iptables ip6tables; do install -m 0755 "$HERE/iptables-from-host.sh" "$R/usr/sbin/$t"; done
else
  for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -sfn "/usr/sbin/${t/tables/tables-legacy}" "$R/etc/alternatives/$t"
  done
fi

# the config drive, as cloud-init writes it
cp -a "$W/config-drive/." "$R/"
chown -R root:root "$R/etc/octavia"

# the management NIC (vec0) and the VIP NIC Nova attached (vec1, its MAC from the port)
cat > "$E/cvm-net.service" <<UNIT
[Unit]
Description=amphora VM: management address (what DHCP gives a real amphora)
DefaultDependencies=no
Before=network-online.target network.target
Wants=network.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/sbin/ip link set lo up
ExecStart=/sbin/ip addr add $MGMT_IP/$MGMT_PREFIX dev vec0
ExecStart=/sbin/ip link set vec0 up
ExecStart=/sbin/ip link set vec1 address $VIP_MAC
[Install]
WantedBy=network-online.target
UNIT
mkdir -p "$E/network-online.target.wants"
ln -sfn ../cvm-net.service "$E/network-online.target.wants/cvm-net.service"

case "$KIND" in
  ts)
    AGENT=amphora-agent.service
    # on the image, its own unit and agent as Nova boots them; otherwise the repository's build
    if [ -z "${ROOTFS:-}" ]; then
      install -m 0644 "$REPO/init-scripts/systemd/amphora-agent.service" "$R/usr/lib/systemd/system/$AGENT"
      mkdir -p "$E/$AGENT.d"
      cat > "$E/$AGENT.d/cvm.conf" <<UNIT
# run the repository's build instead of /usr/local/bin/amphora-agent
[Service]
ExecStart=
ExecStart=$NODE $REPO/dist/amphora-agent.mjs --config-file /etc/octavia/amphora-agent.conf
UNIT
    fi
    ;;
  ref)
    AGENT=octavia-agent.service
    # what an amphora image adds around the package; each step and its reason: ref-README.md
    bash "$HERE/ref-prepare.sh" "$R"
    ;;
  *) echo "unknown KIND $KIND" >&2; exit 1;;
esac

cvm_target 'amphora VM: basic system, network, the agent' cvm-net.service "$AGENT"
echo "[cvm-prepare] amphora $AMPHORA_ID ($KIND) ready"
