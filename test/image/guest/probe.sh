#!/bin/bash
# The image test's look inside the booted amphora. It is not part of the image: the test's config
# drive adds it to the user_data Octavia's controller renders (write_files + one runcmd entry), so
# cloud-init runs it once, at its final stage, as root. The agent's API cannot show what the host
# must also know (PID 1, kernel modules, IPVS, unit states, versions), and a config drive is the one
# channel an unmodified amphora image reads. Each result is one console line,
#   AMPHORA-PROBE <name> <exit status> <output, base64>
# written straight to the serial port (base64: a kernel message cannot break a result apart), and
# the host judges them (test/image/lib/probe-results.mjs). Everything made here is undone.
OUT=/dev/ttyS0
[ -w "$OUT" ] || OUT=/dev/console
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
say() { printf '\nAMPHORA-PROBE %s %s %s\n' "$1" "$2" "$(printf '%s' "$3" | head -c 4000 | base64 -w0)" > "$OUT"; }
probe() { # name command...
  local name=$1 out rc
  shift
  out=$("$@" 2>&1)
  rc=$?
  say "$name" "$rc" "$out"
}

say begin 0 "$(date -u +%FT%TZ) uptime $(cut -d' ' -f1 /proc/uptime)"
probe pid1 readlink /proc/1/exe
probe os_release cat /etc/os-release
probe kernel uname -r
probe node node --version
probe agent amphora-agent --version
probe keepalived keepalived --version
probe haproxy haproxy -vv
probe systemd systemctl --version
probe stock_units systemctl is-enabled keepalived.service haproxy.service
probe agent_unit systemctl is-enabled amphora-agent.service
probe agent_active systemctl is-active amphora-agent.service

# IPVS: a UDP and a TCP virtual service with a masqueraded real server, in a namespace of our own
# (IPVS refuses a NAT real server with no route to it: a veth pair gives it one).
ipvs() {
  set -e
  modprobe ip_vs
  ip netns add i13probe
  trap 'ip netns del i13probe' EXIT
  ip -n i13probe link add p0 type veth peer name p1
  ip -n i13probe addr add 198.51.100.1/24 dev p0
  ip -n i13probe link set p0 up
  ip -n i13probe link set p1 up
  ip netns exec i13probe ipvsadm -A -u 198.51.100.10:53 -s rr
  ip netns exec i13probe ipvsadm -a -u 198.51.100.10:53 -r 198.51.100.20:53 -m
  ip netns exec i13probe ipvsadm -A -t 198.51.100.10:80 -s wrr
  ip netns exec i13probe ipvsadm -a -t 198.51.100.10:80 -r 198.51.100.20:8080 -m -w 2
  ip netns exec i13probe ipvsadm -Ln
}
probe ipvs bash -c "$(declare -f ipvs); ipvs"

# ONE_PACKET_SCHEDULING's tc modules, and a rule of its shape (flower match, pedit the source, fix
# the checksums) on a clsact qdisc.
tcmods() {
  set -e
  modprobe -a sch_ingress cls_flower act_pedit act_csum
  ip netns add i13tc
  trap 'ip netns del i13tc' EXIT
  ip -n i13tc link add t0 type veth peer name t1
  ip -n i13tc link set t0 up
  ip netns exec i13tc tc qdisc add dev t0 clsact
  ip netns exec i13tc tc filter add dev t0 egress protocol ip pref 4004 flower ip_proto udp \
    src_ip 198.51.100.20 src_port 53 action pedit ex munge ip src set 198.51.100.10 pipe action csum ip udp
  ip netns exec i13tc tc filter show dev t0 egress
  lsmod | grep -E '^(sch_ingress|cls_flower|act_pedit|act_csum) '
}
probe tc_modules bash -c "$(declare -f tcmods); tcmods"
probe failed_units systemctl --failed --no-legend --plain
# Diagnostics for the report (no check of their own): the management network, what cloud-init
# complained about, the agent's last log lines, the slowest units.
probe network bash -c 'ip -br link; ip -br addr; ip route; networkctl --no-pager list 2>&1 | head -20'
probe cloud_init_problems bash -c "grep -E 'WARNING|ERROR|Traceback|Exception|Error' /var/log/cloud-init.log | tail -40"
probe agent_log journalctl -u amphora-agent.service -b --no-pager -n 30 -o short-monotonic
probe blame bash -c 'systemd-analyze time; systemd-analyze blame --no-pager | head -15'
probe system_state systemctl is-system-running
say end 0 "$(date -u +%FT%TZ) uptime $(cut -d' ' -f1 /proc/uptime)"
