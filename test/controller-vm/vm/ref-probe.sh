#!/bin/bash
# Manual probe (root): one amphora VM of KIND ref or ts in namespaces of its own, driven by the
# real controller client. It measures boot-to-answer (UML start to the first GET /1.0/info over
# mTLS), plugs the VIP, uploads and reloads a UDP listener rendered by Octavia's LVS templater,
# shows `ipvsadm -Ln` in the guest's amphora-haproxy namespace and sends datagrams from a client
# namespace through the VIP to a member namespace. Everything it made goes in the EXIT trap.
#   usage: ref-probe.sh ref|ts [DIR]      (DIR default: mktemp -d; kept for the logs)
# Addresses follow docs of issue 12: management 172.29.0.0/24 (controller .2, amphora .11),
# VIP network 198.51.100.0/24 (VIP .100, VRRP .11, member .21:7000, client .2, gateway .254).
set -u
KIND=${1:?ref|ts}; P=${2:-$(mktemp -d)}; V=$P/vm1
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
TOOLS=${OCTAVIA_REF_TOOLS:-/work/shared/tools/octavia-ref}
AMP=aaaaaaaa-1111-4111-8111-111111111111; L=eeeeeeee-0000-4000-8000-000000000001
NS=cvmref$$; PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for n in "$NS-m" "$NS-c" "$NS"; do ip netns del "$n" 2>/dev/null; done
  echo "logs: $P"
}
trap cleanup EXIT
say() { echo "[ref-probe] $*"; }
guest() { # run a script in the guest through cvm-exec.sh's channel, print its output
  local n; n=$(date +%s%N)
  printf '%s\n' "$1" > "$V/cmd/$n.tmp"; mv "$V/cmd/$n.tmp" "$V/cmd/$n.sh"
  for _ in $(seq 1 900); do [ -f "$V/cmd/$n.rc" ] && break; sleep 0.2; done
  cat "$V/cmd/$n.out"
}
client() { ip netns exec "$NS" /usr/bin/python3 "$TOOLS/octavia-client.py" --base-url https://172.29.0.11:9443 \
  --certs "$P/pki" --retries 10 --retry-interval 3 "$@"; say "-> exit $?"; }

mkdir -p "$V/config-drive/etc/octavia/certs" "$V/cmd" "$V/logs"
bash "$TOOLS/gen-certs.sh" "$P/pki" "$AMP" > /dev/null 2>&1
cp "$P/pki/client_ca.pem" "$P/pki/server.pem" "$V/config-drive/etc/octavia/certs/"
chmod 600 "$V/config-drive/etc/octavia/certs/"*
# the agent config exactly as Octavia 11's controller renders it
(cd / && /usr/bin/python3 - "$AMP" > "$V/config-drive/etc/octavia/amphora-agent.conf") <<'PY'
import sys
from oslo_log import log as logging
from octavia.common.config import cfg
CONF = cfg.CONF
logging.register_options(CONF)
CONF([], project='octavia', default_config_files=[])
CONF.set_override('controller_ip_port_list', ['172.29.0.2:5555'], group='health_manager')
CONF.set_override('heartbeat_key', 'insecure', group='health_manager')
from octavia.amphorae.backends.agent import agent_jinja_cfg
print(agent_jinja_cfg.AgentJinjaTemplater().build_agent_config(sys.argv[1], 'SINGLE'))
PY
# the listener exactly as Octavia 11's LvsJinjaTemplater renders it
(cd / && /usr/bin/python3 - "$TOOLS/octavia-client.py" "$L" > "$P/lvs.cfg") <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location('oc', sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
print(m.render_lvs_config(sys.argv[2], vip='198.51.100.100', port=7000, hm_type='UDP-CONNECT',
      members=[('dddddddd-0000-4000-8000-000000000021', '198.51.100.21', 7000)]))
PY
cat > "$V/vm.env" <<ENV
KIND=$KIND
REPO=$REPO
NODE=$(command -v node)
MGMT_IP=172.29.0.11
MGMT_PREFIX=24
VIP_MAC=fa:16:3e:00:00:01
AMPHORA_ID=$AMP
ENV

# management bridge (controller side) and VIP bridge with a member and a client namespace
ip netns add "$NS"; ip -n "$NS" link set lo up
for b in brm brv; do ip -n "$NS" link add $b type bridge; ip -n "$NS" link set $b up; done
ip -n "$NS" addr add 172.29.0.2/24 dev brm
for t in tapm1 tapv1; do ip netns exec "$NS" ip tuntap add dev $t mode tap; done
ip -n "$NS" link set tapm1 master brm up; ip -n "$NS" link set tapv1 master brv up
for n in m c; do
  ip netns add "$NS-$n"; ip -n "$NS-$n" link set lo up
  ip -n "$NS" link add vv$n type veth peer name eth0 netns "$NS-$n"
  ip -n "$NS" link set vv$n master brv up; ip -n "$NS-$n" link set eth0 up
done
ip -n "$NS-m" addr add 198.51.100.21/24 dev eth0; ip -n "$NS-c" addr add 198.51.100.2/24 dev eth0
ip netns exec "$NS-m" python3 "$REPO/test/e2e/guest/echo-server.py" member21 7000 > "$P/echo.log" 2>&1 &
PIDS+=($!)

say "booting $KIND; load: $(cut -d' ' -f1-3 /proc/loadavg)"
ip netns exec "$NS" env TMPDIR=/dev/shm /usr/bin/linux.uml mem=768M root=/dev/root rootfstype=hostfs \
  rootflags=/ ro init="$REPO/test/e2e/vm/init.sh" con0=null,fd:1 con=null ssl=null panic=-1 loglevel=4 \
  net.ifnames=0 systemd.show_status=auto e2e.work="$V" e2e.prepare="$REPO/test/controller-vm/vm/prepare-amphora.sh" \
  systemd.mask=systemd-udevd.service systemd.mask=systemd-udev-trigger.service systemd.mask=systemd-udevd-kernel.socket \
  systemd.mask=systemd-udevd-control.socket vec0:transport=tap,ifname=tapm1 vec1:transport=tap,ifname=tapv1 \
  > "$P/console.log" 2>&1 < /dev/null &
PIDS=("$!" "${PIDS[@]}")
T0=$(date +%s.%N); up=
for _ in $(seq 1 1200); do
  if ip netns exec "$NS" curl -s -m 15 --cert "$P/pki/client.pem" --cacert "$P/pki/server_ca.pem" \
      --resolve "$AMP:9443:172.29.0.11" "https://$AMP:9443/1.0/info" > "$P/info.json" 2>/dev/null; then up=1; break; fi
  kill -0 "${PIDS[0]}" 2>/dev/null || break
  sleep 0.25
done
[ -n "$up" ] || { say "the agent never answered (console: $P/console.log)"; exit 1; }
say "boot-to-answer $KIND: $(echo "$(date +%s.%N) - $T0" | bc) s; load: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$P/info.json"; echo

say "plug vip"
client plug-vip 198.51.100.100 '{"subnet_cidr":"198.51.100.0/24","gateway":"198.51.100.254","mac_address":"fa:16:3e:00:00:01","vrrp_ip":"198.51.100.11","mtu":1500}'
say "UDP listener: upload, reload"
client upload-udp "$L" --file "$P/lvs.cfg"
client reload "$L"
# keepalived's UDP-CONNECT check (udp_check.sh, misc_timeout 3 s) can time out on a busy host
# and take the member out; it comes back at a later check (delay_loop 5 s)
for _ in $(seq 1 24); do
  guest 'ip netns exec amphora-haproxy ipvsadm -Ln' | grep -q '198.51.100.21:7000' && break
  sleep 5
done
guest 'ip netns exec amphora-haproxy ipvsadm -Ln; ip -n amphora-haproxy -br addr'
say "20 datagrams client -> VIP 198.51.100.100:7000"
ip netns exec "$NS-c" /usr/bin/python3 - <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
ok, srcs, tags = 0, set(), set()
for i in range(20):
    s.sendto(b'ping%d' % i, ('198.51.100.100', 7000))
    try:
        d, a = s.recvfrom(2048); ok += 1; srcs.add(a); tags.add(d.split(b':')[0].decode())
    except socket.timeout:
        pass
print(f"sent 20, answered {ok}, reply sources {sorted(srcs)}, answered by {sorted(tags)}")
PY
guest 'ip netns exec amphora-haproxy ipvsadm -Ln --stats'
