#!/bin/bash
# Issue 15 item 4 (docs/design/0011): seconds from a "listener" process dying to the VIP on the
# peer, for VRRP settings a controller can render, with keepalived's vrrp_script (a check that
# reads a pid file and /proc, as the agent's liveness checks do) and with vrrp_track_process.
# Host only (root, keepalived, ip): two namespaces on a veth pair, Octavia-shaped VRRP configs
# (unicast peers, nopreempt, MASTER 100 / BACKUP 90, advert_int 1). No IPVS is needed.
# The track_process setting gives null: keepalived cannot subscribe to the process events
# connector outside the initial network namespace ("errno 111"), so A sits in FAULT and never
# takes the VIP (ADR 0011). KEEP_LOGS=DIR keeps keepalived's logs and A's config.
# Figures: 'RESULT {json}' per setting, kill_to_vip_on_peer_ms per run (null: no VIP on A, or none on the peer within 60 s).
# usage: sudo bash bench/vrrp-detection.sh [runs per setting, default 3] [script|track: only those settings]
set -u
RUNS=${1:-3}
W=$(mktemp -d /tmp/vrrp-detect.XXXXXX)
A=vd-a-$$; B=vd-b-$$
cleanup() {
  for f in "$W"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
  pkill -F "$W/ka.pid" 2>/dev/null; pkill -F "$W/kb.pid" 2>/dev/null
  ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; rm -rf "$W"
}
trap cleanup EXIT
trap "exit 130" INT TERM
ip netns add $A; ip netns add $B
ip link add vda type veth peer name vdb
ip link set vda netns $A; ip link set vdb netns $B
ip -n $A addr add 192.168.77.1/24 dev vda; ip -n $B addr add 192.168.77.2/24 dev vdb
ip -n $A link set vda up; ip -n $B link set vdb up; ip -n $A link set lo up; ip -n $B link set lo up
cat > "$W/check.sh" <<'SH'
#!/bin/sh
read -r pid < "$1" || exit 1
[ -r "/proc/$pid/comm" ] || exit 1
read -r comm < "/proc/$pid/comm" && [ "$comm" = "$2" ]
SH
chmod 755 "$W/check.sh"
config() { # me peer intf state prio interval fall track(0/1)
  local track_block='' track_ref=''
  if [ "$8" = 1 ]; then
    track_block="vrrp_track_process listener {
    process lsn$1
    quorum 1
    weight 0
}"
    track_ref="track_process {
        listener
    }"
  fi
  cat <<CFG
global_defs {
    enable_script_security
    script_user root
}
$track_block
vrrp_script check_script {
    script "$W/check.sh $W/listener-$1.pid lsn$1"
    interval $6
    fall $7
    rise 2
}
vrrp_instance g {
    state $4
    interface $3
    virtual_router_id 1
    priority $5
    nopreempt
    accept
    advert_int 1
    unicast_src_ip 192.168.77.$1
    unicast_peer {
        192.168.77.$2
    }
    virtual_ipaddress {
        192.168.77.100
    }
    track_script {
        check_script
    }
    $track_ref
}
CFG
}
listener() { # id: a "listener" process of its own name (a copy of sleep: track_process matches names), its pid file
  [ -x "$W/lsn$1" ] || cp /bin/sleep "$W/lsn$1"
  ip netns exec "vd-$([ "$1" = 1 ] && echo a || echo b)-$$" "$W/lsn$1" 99999 & echo $! > "$W/listener-$1.pid"
}
stop_keepalived() { # and wait until both are gone: a new one refuses to start beside a live pid file ("daemon is already running")
  local f pid n
  for f in "$W/ka.pid" "$W/kb.pid"; do
    [ -f "$f" ] || continue
    read -r pid < "$f" || continue
    kill "$pid" 2>/dev/null
    for n in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$f"
  done
}
holder() { ip -n $A -o addr show dev vda | grep -q 192.168.77.100 && echo a; ip -n $B -o addr show dev vdb | grep -q 192.168.77.100 && echo b; }
wait_for() { # owner timeout_s
  local end=$(( $(date +%s%N) + $2 * 1000000000 ))
  while [ "$(date +%s%N)" -lt $end ]; do [ "$(holder | tr -d '\n')" = "$1" ] && return 0; sleep 0.05; done
  return 1
}
measure() { # label interval fall track
  local runs=()
  for r in $(seq 1 "$RUNS"); do
    stop_keepalived
    for f in "$W"/listener-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    listener 1; listener 2
    config 1 2 vda MASTER 100 "$2" "$3" "$4" > "$W/a.conf"
    config 2 1 vdb BACKUP 90 "$2" "$3" "$4" > "$W/b.conf"
    ip netns exec $A keepalived --vrrp --dont-fork --log-console -f "$W/a.conf" -p "$W/ka.pid" -r "$W/ka-vrrp.pid" > "$W/ka.log" 2>&1 &
    ip netns exec $B keepalived --vrrp --dont-fork --log-console -f "$W/b.conf" -p "$W/kb.pid" -r "$W/kb-vrrp.pid" > "$W/kb.log" 2>&1 &
    if ! wait_for a 60; then runs+=("no-vip-on-a"); continue; fi
    sleep $(( $2 * 3 ))
    local t0; t0=$(date +%s%N)
    kill -9 "$(cat "$W/listener-1.pid")"
    if wait_for b 60; then runs+=("$(( ($(date +%s%N) - t0) / 1000000 ))"); else runs+=("timeout"); fi
  done
  [ -n "${KEEP_LOGS:-}" ] && cp "$W/ka.log" "$W/kb.log" "$W/a.conf" "$KEEP_LOGS"/ 2>/dev/null
  echo "RESULT {\"setting\":\"$1\",\"interval\":$2,\"fall\":$3,\"track_process\":$([ "$4" = 1 ] && echo true || echo false),\"kill_to_vip_on_peer_ms\":[$(IFS=,; echo "${runs[*]}" | sed 's/[a-z-]\+/null/g')]}"
}
echo "load $(cut -d' ' -f1-3 /proc/loadavg), keepalived $(keepalived --version 2>&1 | head -1)"
ONLY=${2:-}
[ -z "$ONLY" ] || [ "$ONLY" = script ] && { measure octavia_default 5 2 0; measure interval2_fall2 2 2 0; measure interval1_fall2 1 2 0; }
[ -z "$ONLY" ] || [ "$ONLY" = track ] && measure octavia_default_track_process 5 2 1
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
