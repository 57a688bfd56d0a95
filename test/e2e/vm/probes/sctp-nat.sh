#!/bin/bash
# A probe for the VM tier (node test/e2e/run.mjs --probe test/e2e/vm/probes/sctp-nat.sh --keep --timeout 2400):
# the SCTP path of the controller-VM tier's SINGLE scenario without its control plane, to find where
# the association it sometimes loses dies. In namespaces of the guest (whose kernel has IPVS and SCTP):
#   amp  "amphora-haproxy": eth1 198.51.100.10/24 + VIP 198.51.100.100, IPVS SCTP VIP:90 rr over the
#        3 members (NAT), the sysctls of the agent's netns setup (ip_forward, vs.conntrack=1,
#        vs.expire_nodest_conn=1) and the agent's iptables masquerade (UDP, SCTP) and TCP notrack on eth1
#   ten  the tenant VM: members s1-s3 198.51.100.31-33:9000 (test/controller-vm/net/sctp-member.py)
#   cli  a client namespace of its own
#   sw   a bridge joining the three (the VIP network's bridge)
# Variants (300 associations each, 10 s each at most; the client is sctp-nat-client.py; by hand in a
# guest, SCTP_PROBE_N and SCTP_PROBE_VARIANTS override both):
#   client-check     the tiers' own client, test/e2e/guest/sctp-client.py, 30 associations (no capture)
#   client-check-narrow  the same with 10 local ports
#   shared-wildcard  client in ten, unbound (the controller-VM tier today): its INIT lists every
#                    address of ten, the members' own included
#   shared-bound     client in ten, bound to its one address
#   own-ns           client alone in cli, unbound
#   *-narrow         the same with 100 local ports (40000-40099), so that ports come back quickly
# Packets are logged (sctp-sniff.py) on ten's veth and lo, cli's veth and amp's eth1; counters
# (/proc/net/sctp/snmp, nstat, ipvsadm, conntrack stats) are saved before and after each variant.
# Output: <work>/logs/sctp-probe/ (--keep keeps it); summary in <work>/logs/sctp-probe/summary.txt
# (per variant: lost, slow associations, local ports reused within 12 s), the clients' JSON with every
# association's start, port and time (client-*.json) and the packet logs (pkts-<variant>-<ns>-<if>.txt).
# What it showed (2026-12-07): test/controller-vm/README.md, "What the runs showed".
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
out=/mnt/e2e/logs/sctp-probe
mkdir -p "$out"
exec > "$out/probe.log" 2>&1
set -x
HERE=$(dirname "$(readlink -f "$0")")
PY=/usr/bin/python3
N=${SCTP_PROBE_N:-300}
VIP=198.51.100.100
ipt=/usr/sbin/iptables-legacy
x() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

modprobe sctp; modprobe ip_vs; modprobe ip_vs_rr; modprobe ip_vs_proto_sctp 2>/dev/null; modprobe nf_conntrack
modprobe bridge; modprobe veth
for ns in sw amp ten cli; do ip netns add $ns; x $ns ip link set lo up; done
x sw ip link add br0 type bridge
x sw ip link set br0 up
link() { # ns ifname swport
  x sw ip link add "$3" type veth peer name "$2" netns "$1"
  x sw ip link set "$3" master br0 up
  x "$1" ip link set "$2" up
}
link amp eth1 pa
link ten vec1 pt
link cli vec1 pc

# the amphora
x amp ip addr add 198.51.100.10/24 dev eth1
x amp ip addr add $VIP/32 dev eth1
x amp sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.vs.conntrack=1 net.ipv4.vs.expire_nodest_conn=1
x amp $ipt -t nat -A POSTROUTING -p udp -o eth1 -j MASQUERADE
x amp $ipt -t nat -A POSTROUTING -p sctp -o eth1 -j MASQUERADE
x amp $ipt -t raw -A PREROUTING -p tcp -i eth1 -j NOTRACK
x amp $ipt -t raw -A OUTPUT -p tcp -o eth1 -j NOTRACK
x amp ipvsadm --add-service --sctp-service $VIP:90 -s rr
for m in 31 32 33; do x amp ipvsadm --add-server --sctp-service $VIP:90 -r 198.51.100.$m:9000 -m -w 1; done

# the tenant VM: the client's address first (the primary), then the members', all /24 on one NIC
x ten ip addr add 198.51.100.3/24 dev vec1
for m in 31 32 33; do x ten ip addr add 198.51.100.$m/24 dev vec1; done
i=0
for m in 31 32 33; do
  i=$((i + 1))
  x ten $PY "$REPO/test/controller-vm/net/sctp-member.py" s$i 198.51.100.$m 9000 > "$out/member-s$i.log" 2>&1 &
done
x cli ip addr add 198.51.100.5/24 dev vec1
sleep 2

SNIFFERS=()
# started without the x function, so that $! is the sniffer itself (ip netns exec execs it)
sniff() { ip netns exec "$1" $PY "$HERE/sctp-sniff.py" "$2" "$out/pkts-$3-$1-$2.txt" & SNIFFERS+=($!); }
counters() { # variant phase
  local f="$out/counters-$1-$2.txt" ns
  for ns in amp ten cli; do
    { echo "== $ns /proc/net/sctp/snmp"; x $ns cat /proc/net/sctp/snmp
      echo "== $ns nstat -az (nonzero)"; x $ns nstat -az | awk '$2 != 0'
      echo "== $ns /proc/net/stat/nf_conntrack"; x $ns cat /proc/net/stat/nf_conntrack
      echo "== $ns /proc/net/sctp/assocs"; x $ns cat /proc/net/sctp/assocs; } >> "$f" 2>&1
  done
  { echo "== amp ipvsadm -Ln --stats --exact"; x amp ipvsadm -Ln --stats --exact
    echo "== amp ipvsadm -Lnc"; x amp ipvsadm -Lnc
    echo "== amp conntrack entries"; x amp cat /proc/net/nf_conntrack; } >> "$f" 2>&1
}
run() { # variant ns bind
  local v=$1 ns=$2 bind=$3
  sniff ten vec1 "$v"; sniff ten lo "$v"; sniff cli vec1 "$v"; sniff amp eth1 "$v"
  for _ in $(seq 60); do [ "$(cat "$out"/pkts-"$v"-*.txt 2>/dev/null | grep -c '^# listening')" = 4 ] && break; sleep 0.5; done
  counters "$v" before
  local t
  t=$(date +%s.%N)
  x "$ns" $PY "$HERE/sctp-nat-client.py" $VIP 90 "$N" "$bind" 10 > "$out/client-$v.json" 2> "$out/client-$v.err"
  echo "$v: $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f s", b-a}') $($PY -c 'import json,sys; r=json.load(open(sys.argv[1])); r.pop("assocs"); print(json.dumps(r))' "$out/client-$v.json")" >> "$out/summary.txt"
  sleep 1
  counters "$v" after
  kill "${SNIFFERS[@]}"; wait "${SNIFFERS[@]}" 2>/dev/null; SNIFFERS=()
  sleep 12 # SCTP CLOSED entries of IPVS and conntrack expire (10 s) before the next variant
}
ports() { x ten sysctl -q -w net.ipv4.ip_local_port_range="$1"; x cli sysctl -q -w net.ipv4.ip_local_port_range="$1"; }
for v in ${SCTP_PROBE_VARIANTS:-client-check client-check-narrow shared-wildcard shared-bound own-ns own-ns-narrow shared-bound-narrow}; do
  case $v in
    # the tiers' own client (test/e2e/guest/sctp-client.py), 30 associations as they run it
    client-check) x ten $PY "$REPO/test/e2e/guest/sctp-client.py" $VIP 90 30 > "$out/client-check.json"
      echo "$v: $(cat "$out/client-check.json")" >> "$out/summary.txt" ;;
    # the same with 10 local ports: its report of slow associations and reused ports
    client-check-narrow) ports "40000 40009"
      x ten $PY "$REPO/test/e2e/guest/sctp-client.py" $VIP 90 30 > "$out/client-check-narrow.json"
      ports "32768 60999"; echo "$v: $(cat "$out/client-check-narrow.json")" >> "$out/summary.txt" ;;
    shared-wildcard) run "$v" ten '' ;;
    shared-bound) run "$v" ten 198.51.100.3 ;;
    own-ns) run "$v" cli '' ;;
    # 100 local ports for 300 associations: a port comes back within the 10 s that IPVS and
    # conntrack keep a closed SCTP entry, which the full range makes rare (about 1 in 300)
    own-ns-narrow) ports "40000 40099"; run "$v" cli ''; ports "32768 60999" ;;
    shared-bound-narrow) ports "40000 40099"; run "$v" ten 198.51.100.3; ports "32768 60999" ;;
  esac
done
{ echo "== load"; cat /proc/loadavg; } >> "$out/summary.txt"
exit 0
