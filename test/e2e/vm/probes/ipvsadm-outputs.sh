#!/bin/bash
# A probe for the VM tier (node test/e2e/run.mjs --probe test/e2e/vm/probes/ipvsadm-outputs.sh --keep):
# real ipvsadm outputs from the guest's IPVS kernel, for the parser tests of src/system/ipvs.ts
# (src/system/__fixtures__/ipvsadm/). Builds, in a namespace of its own, virtual servers of every
# shape the parsers must read: UDP (weights, a weight 0), persistence with a mask, one-packet
# scheduling, scheduler flags, SCTP, TCP, IPv6 with persistence, a firewall mark; sends a few
# datagrams so that counters move; then saves `-Ln`, `-Ln --stats --exact`, `-Ln --stats` and the
# empty table and failure outputs. Output: <work>/logs/ipvsadm-*.txt (--keep keeps them; a probe run
# ends with run.mjs printing the logs and exit 1, since it writes no results.json).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
logs=/mnt/e2e/logs
exec > "$logs/ipvsadm-probe.log" 2>&1
# the trace goes to the log, not into the outputs the commands' stderr is saved with
exec 3>> "$logs/ipvsadm-probe.log"
BASH_XTRACEFD=3
set -x
ns=ipvs-probe
x() { ip netns exec "$ns" "$@"; }
ip netns add "$ns"
x ip link set lo up
x ip link add m0 type veth peer name m1
x ip link set m0 up
x ip link set m1 up
x ip addr add 10.0.0.100/32 dev lo
x ip addr add 10.1.0.11/24 dev m0
x ip -6 addr add 2001:db8::100/128 dev lo
x ip -6 addr add 2001:db8:1::11/64 dev m0 nodad
x ipvsadm -Ln > "$logs/ipvsadm-empty.txt" 2>&1; echo "exit $?" > "$logs/ipvsadm-empty.rc"

x ipvsadm -A -u 10.0.0.100:5000 -s wrr
x ipvsadm -a -u 10.0.0.100:5000 -r 10.1.0.21:5000 -m -w 1
x ipvsadm -a -u 10.0.0.100:5000 -r 10.1.0.22:5000 -m -w 3
x ipvsadm -a -u 10.0.0.100:5000 -r 10.1.0.23:5000 -m -w 0
x ipvsadm -A -u 10.0.0.100:5001 -s sh -p 360 -M 255.255.255.0
x ipvsadm -a -u 10.0.0.100:5001 -r 10.1.0.21:5001 -m
x ipvsadm -A -u 10.0.0.100:5002 -s rr -o
x ipvsadm -a -u 10.0.0.100:5002 -r 10.1.0.22:5002 -m
x ipvsadm -A -u 10.0.0.100:5003 -s sh -b sh-fallback,sh-port
x ipvsadm -a -u 10.0.0.100:5003 -r 10.1.0.23:5003 -m -x 100 -y 10
x ipvsadm -A -u 10.0.0.100:5005 -s wlc -p 60
x ipvsadm --add-service --sctp-service 10.0.0.100:5004 -s wlc
x ipvsadm --add-server --sctp-service 10.0.0.100:5004 -r 10.1.0.21:5004 -m
x ipvsadm -A -t 10.0.0.100:80 -s rr
x ipvsadm -a -t 10.0.0.100:80 -r 10.1.0.21:80 -m
x ipvsadm -A -u '[2001:db8::100]:5000' -s wrr -p 60 -M 64
x ipvsadm -a -u '[2001:db8::100]:5000' -r '[2001:db8:1::21]:5000' -m -w 2
x ipvsadm -a -u '[2001:db8::100]:5000' -r '[2001:db8:1::22]:5000' -m -w 1
x ipvsadm -A -f 7 -s rr
x ipvsadm -a -f 7 -r 10.1.0.24:0 -m
x ipvsadm -A -u 10.0.0.100:5010 -s wrr
x ipvsadm -a -u 10.0.0.100:5010 -r 10.1.0.21:5010 -m

for i in 1 2 3 4 5 6; do x bash -c 'echo hello > /dev/udp/10.0.0.100/5000'; done
x bash -c 'echo hello > /dev/udp/10.0.0.100/5002'
x bash -c 'echo hello6 > /dev/udp/2001:db8::100/5000'
sleep 1
x ipvsadm -Ln > "$logs/ipvsadm-list.txt" 2>&1
x ipvsadm -Ln --stats --exact > "$logs/ipvsadm-stats-exact.txt" 2>&1
x ipvsadm -Ln --stats > "$logs/ipvsadm-stats.txt" 2>&1
x ipvsadm -Lnc > "$logs/ipvsadm-conns.txt" 2>&1
ip netns exec no-such-ns ipvsadm -Ln > "$logs/ipvsadm-no-netns.txt" 2>&1; echo "exit $?" > "$logs/ipvsadm-no-netns.rc"
ipvsadm --version > "$logs/ipvsadm-version.txt" 2>&1
ip netns delete "$ns"
echo done
