#!/bin/bash
# A probe for the VM tier (node test/e2e/run.mjs --probe test/e2e/vm/probes/ipvs-sync-failover.sh --keep):
# the effect of IPVS connection sync on a failover, measured on the kernel mechanism alone (no
# agent, no controller: the e2e scenario failover_sync does it with both, and needs a quiet host).
# Two amphora namespaces with the same UDP virtual services (ROUND_ROBIN on :5000, SOURCE_IP
# persistence on :5001, members be1..be3 echoing their name), the sync daemons started with the
# agent's arguments (services/ipvs-sync.ts). A client sends on 9 long-lived flows and from 4
# client addresses through A; the VIP (and the members' gateway) moves to B; the same again. Round
# "on" with both daemons on both, round "off" without. Output: <work>/logs/ipvs-sync-failover.log.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
logs=/mnt/e2e/logs
exec > "$logs/ipvs-sync-failover.log" 2>&1
GUEST="$(dirname "$0")/../../guest"
modprobe ip_vs; modprobe ip_vs_rr
ip link add br0 type bridge; ip link set br0 up
ip link add br1 type bridge; ip link set br1 up
i=0
for ns in pa pb; do
  i=$((i+1))
  ip netns add $ns; ip -n $ns link set lo up
  ip link add v${ns}1 type veth peer name eth1 netns $ns; ip link set v${ns}1 master br0 up
  ip link add v${ns}2 type veth peer name eth2 netns $ns; ip link set v${ns}2 master br1 up
  ip -n $ns addr add 10.0.0.1$i/24 dev eth1; ip -n $ns addr add 10.1.0.1$i/24 dev eth2
  ip -n $ns link set eth1 up; ip -n $ns link set eth2 up
  ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1
  ip netns exec $ns ipvsadm -A -u 10.0.0.100:5000 -s rr
  ip netns exec $ns ipvsadm -A -u 10.0.0.100:5001 -s rr -p 120
  for m in 1 2 3; do
    ip netns exec $ns ipvsadm -a -u 10.0.0.100:5000 -r 10.1.0.2$m:5000 -m
    ip netns exec $ns ipvsadm -a -u 10.0.0.100:5001 -r 10.1.0.2$m:5000 -m
  done
done
ip netns add pc; ip -n pc link set lo up
ip link add vpc type veth peer name eth1 netns pc; ip link set vpc master br0 up
for a in 13 31 32 33 34 35 36 37 38; do ip -n pc addr add 10.0.0.$a/24 dev eth1; done
ip -n pc link set eth1 up
for m in 1 2 3; do
  ip netns add be$m; ip -n be$m link set lo up
  ip link add vbe$m type veth peer name eth0 netns be$m; ip link set vbe$m master br1 up
  ip -n be$m addr add 10.1.0.2$m/24 dev eth0; ip -n be$m link set eth0 up
  ip -n be$m route add default via 10.1.0.1
  ip netns exec be$m python3 "$GUEST/echo-server.py" be$m 5000 udp > /dev/null 2>&1 &
done
owner() { # move the VIP and the members' gateway to namespace $1 from $2
  ip -n "$2" addr del 10.0.0.100/32 dev eth1 2>/dev/null; ip -n "$2" addr del 10.1.0.1/24 dev eth2 2>/dev/null
  ip -n "$1" addr add 10.0.0.100/32 dev eth1; ip -n "$1" addr add 10.1.0.1/24 dev eth2
  for n in pc be1 be2 be3; do ip -n $n neigh flush all; done
}
sync_on() {
  for ns in pa pb; do for role in master backup; do
    ip netns exec $ns ipvsadm --start-daemon $role --mcast-interface eth1 --syncid 1 --mcast-group 224.0.0.81
  done; ip netns exec $ns ipvsadm -L --daemon; done
}
sync_off() { for ns in pa pb; do for role in master backup; do ip netns exec $ns ipvsadm --stop-daemon $role; done; done; }
round() { # mode, client addresses
  ip netns exec pc python3 - "$1" "$2" <<'PY'
import json, socket, subprocess, sys, time
mode, srcs = sys.argv[1], sys.argv[2].split(',')
VIP = '10.0.0.100'
seq = 0
def exch(s, port):
    global seq
    seq += 1
    tag = f'{mode}-{seq}'.encode()
    s.sendto(tag, (VIP, port))
    end = time.time() + 1.0
    while time.time() < end:
        try:
            s.settimeout(max(0.01, end - time.time()))
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            return None
        if data.endswith(tag):
            return data.decode().split(':')[0]
    return None
def fresh(src, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((src, 0))
    try: return exch(s, port)
    finally: s.close()
flows = []
for k in range(9):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('10.0.0.13', 0)); flows.append(s)
def ticks(n):
    rec = [[] for _ in flows]
    for _ in range(n):
        for k, s in enumerate(flows): rec[k].append(exch(s, 5000))
        time.sleep(0.2)
    return rec
def clients():
    return {src: [fresh(src, 5001) for _ in range(3)] for src in srcs}
c_before = clients()
before = ticks(15)
time.sleep(2.5)  # the sync buffers are flushed every 2 s
t = time.time()
subprocess.run(['sh', '-c', 'ip -n pa addr del 10.0.0.100/32 dev eth1; ip -n pa addr del 10.1.0.1/24 dev eth2; ip -n pb addr add 10.0.0.100/32 dev eth1; ip -n pb addr add 10.1.0.1/24 dev eth2; for n in pc be1 be2 be3; do ip -n $n neigh flush all; done'], check=True)
move_s = round(time.time() - t, 2)
after = ticks(15)
c_after = clients()
last = lambda xs: next((x for x in reversed(xs) if x), None)
first = lambda xs: next((x for x in xs if x), None)
pairs = [[last(b), first(a)] for b, a in zip(before, after)]
out = {
    'mode': mode, 'move_s': move_s,
    'flows': len(flows), 'flows_changed_member': sum(1 for b, a in pairs if b and a and b != a), 'flow_pairs': pairs,
    'flow_datagrams_before': sum(len(r) for r in before), 'flow_lost_before': sum(r.count(None) for r in before),
    'flow_datagrams_after': sum(len(r) for r in after), 'flow_lost_after': sum(r.count(None) for r in after),
    'clients': len(srcs), 'clients_changed_member': sum(1 for s in srcs if set(c_before[s]) != set(c_after[s])),
    'client_members': {s: [c_before[s], c_after[s]] for s in srcs},
}
print('RESULT ' + json.dumps(out))
PY
}
sleep 3
owner pa pb
sync_on
echo "--- round on"; round on 10.0.0.31,10.0.0.32,10.0.0.33,10.0.0.34
echo "--- B's table after the on round"; ip netns exec pb ipvsadm -Lnc | head -40
owner pa pb
sync_off
for ns in pa pb; do echo "$ns daemons:"; ip netns exec $ns ipvsadm -L --daemon; done
echo "--- round off"; round off 10.0.0.35,10.0.0.36,10.0.0.37,10.0.0.38
kill $(jobs -p) 2>/dev/null
exit 0
