#!/bin/bash
# A probe for the VM tier (node test/e2e/run.mjs --probe test/e2e/vm/probes/ipvs-sync.sh --keep):
# the kernel facts behind docs/design/0011 (IPVS connection sync in ACTIVE_STANDBY). Two
# namespaces on one bridge, each with the same UDP virtual services (one WRR, one SOURCE_IP
# persistence), run BOTH sync daemons (master and backup) at once; datagrams sent through A
# must show up as connections (and persistence templates) in B's table, and none the other way
# round while B receives nothing. Then: a wrong syncid, IPv6 transport (--mcast-group ff02::),
# and whether nftables' inet family can filter the sync port here. Single datagrams are sent
# too: the kernel syncs a connection only from its 3rd packet (sync_threshold 3 50).
# Output: <work>/logs/ipvs-sync-probe.log.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
logs=/mnt/e2e/logs
exec > "$logs/ipvs-sync-probe.log" 2>&1
set -x
modprobe ip_vs; modprobe ip_vs_wrr; modprobe ip_vs_rr
ip link add br0 type bridge; ip link set br0 up
i=0
for ns in pa pb pc; do
  i=$((i+1))
  ip netns add $ns; ip -n $ns link set lo up
  ip link add v$ns type veth peer name eth1 netns $ns
  ip link set v$ns master br0 up
  ip -n $ns addr add 10.0.0.1$i/24 dev eth1
  ip -n $ns -6 addr add fd00::1$i/64 dev eth1 nodad
  ip -n $ns link set eth1 up
done
for ns in pa pb; do
  ip netns exec $ns sysctl -w net.ipv4.vs.conntrack=0
  ip netns exec $ns ipvsadm -A -u 10.0.0.100:5000 -s wrr
  for m in 21 22 23; do ip netns exec $ns ipvsadm -a -u 10.0.0.100:5000 -r 10.1.0.$m:5000 -m -w 1; done
  ip netns exec $ns ipvsadm -A -u 10.0.0.100:5001 -s rr -p 60
  for m in 21 22 23; do ip netns exec $ns ipvsadm -a -u 10.0.0.100:5001 -r 10.1.0.$m:5001 -m -w 1; done
  ip netns exec $ns ip addr add 10.1.0.1/24 dev lo
done
ip -n pa addr add 10.0.0.100/32 dev eth1
ip -n pc route add 10.0.0.100/32 via 10.0.0.11
for ns in pa pb; do
  ip netns exec $ns ipvsadm --start-daemon master --mcast-interface eth1 --syncid 7; echo "master rc $?"
  ip netns exec $ns ipvsadm --start-daemon backup --mcast-interface eth1 --syncid 7; echo "backup rc $?"
  ip netns exec $ns ipvsadm -L --daemon
  ip netns exec $ns ipvsadm --start-daemon master --mcast-interface eth1 --syncid 7; echo "second master rc $?"
done
ps -eo pid,comm | grep -i ipvs
send() { # ns dst port count [datagrams per socket; the kernel syncs a flow at its 3rd packet]
  ip netns exec "$1" python3 - "$2" "$3" "$4" "${5:-1}" <<'PY'
import socket, sys, time
dst, port, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
socks = [socket.socket(socket.AF_INET6 if ':' in dst else socket.AF_INET, socket.SOCK_DGRAM) for i in range(n)]
for j in range(k):
    for s in socks:
        s.sendto(b'x', (dst, port))
    time.sleep(0.1)
PY
}
send pc 10.0.0.100 5000 9
send pc 10.0.0.100 5001 3
# flows of 4 datagrams: past the sync threshold
send pc 10.0.0.100 5000 4 4
sleep 3
echo "--- A"; ip netns exec pa ipvsadm -Lnc
echo "--- B"; ip netns exec pb ipvsadm -Lnc
echo "--- B stats"; ip netns exec pb ipvsadm -Ln --stats
# wrong syncid: B's backup with syncid 8 drops A's messages
ip netns exec pb ipvsadm --stop-daemon backup
ip netns exec pb ipvsadm --start-daemon backup --mcast-interface eth1 --syncid 8
ip netns exec pb ipvsadm -L --daemon
send pc 10.0.0.100 5000 6
sleep 3
echo "--- B after wrong syncid (expect the 9 from before only)"; ip netns exec pb ipvsadm -Lnc | grep -c 10.0.0.13
# IPv6 transport
for ns in pa pb; do
  ip netns exec $ns ipvsadm --stop-daemon master; ip netns exec $ns ipvsadm --stop-daemon backup
  ip netns exec $ns ipvsadm -C
  ip netns exec $ns ipvsadm -A -u '[fd00::100]:5000' -s wrr
  for m in 21 22; do ip netns exec $ns ipvsadm -a -u '[fd00::100]:5000' -r "[fd01::$m]:5000" -m -w 1; done
done
ip -n pa -6 addr add fd00::100/128 dev eth1 nodad
ip -n pc -6 route add fd00::100/128 via fd00::11
for ns in pa pb; do
  ip netns exec $ns ipvsadm --start-daemon master --mcast-interface eth1 --syncid 7 --mcast-group ff02::1:8848; echo "v6 master rc $?"
  ip netns exec $ns ipvsadm --start-daemon backup --mcast-interface eth1 --syncid 7 --mcast-group ff02::1:8848; echo "v6 backup rc $?"
  ip netns exec $ns ipvsadm -L --daemon
done
sleep 2
send pc fd00::100 5000 4 4
sleep 3
echo "--- A v6"; ip netns exec pa ipvsadm -Lnc
echo "--- B v6"; ip netns exec pb ipvsadm -Lnc
# IPv4 transport on an interface with no IPv4 address
ip netns add pd; ip link add vpd type veth peer name eth1 netns pd; ip -n pd link set eth1 up
ip netns exec pd ipvsadm --start-daemon master --mcast-interface eth1 --syncid 7; echo "v4 on no-v4 interface rc $?"
ip netns exec pd ipvsadm -L --daemon
# nftables here
ip netns exec pb nft add table inet t; echo "nft inet rc $?"
ip netns exec pb nft 'add chain inet t c { type filter hook input priority filter; policy accept; }'; echo "nft chain rc $?"
ip netns exec pb nft add rule inet t c udp dport 8848 ip saddr != 10.0.0.11 drop; echo "nft rule rc $?"
ip netns exec pb nft list ruleset
which nft iptables-legacy ip6tables-legacy
ip netns exec pb ipvsadm --stop-daemon master; echo "stop rc $?"
ip netns exec pb ipvsadm --stop-daemon backup; echo "stop rc $?"
ip netns exec pb ipvsadm -L --daemon; echo "after stop rc $?"
ip netns exec pb ipvsadm --stop-daemon backup; echo "second stop rc $?"
dmesg | grep -i 'ipvs\|sync' | tail -30
exit 0
