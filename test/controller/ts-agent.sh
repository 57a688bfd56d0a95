#!/bin/bash
# ts-agent.sh start|stop|calls AMP_DIR [SINGLE|ACTIVE_STANDBY]
#
# The controller tier's variant of the shared octavia-controller/ts-agent.sh: same commands, same
# place in the harness (amp-launcher.sh and swap-agent.sh call "$OCTCTL_HERE/ts-agent.sh", and
# run.mjs assembles a harness directory where this file stands in for the shared one).
#
# Why a variant: the controller renders haproxy configs with ITS paths (stats socket
# /var/lib/octavia/<lb>.sock, certificates under /var/lib/octavia/certs/<lb>/, ...) and sends
# interface files for /etc/octavia/interfaces. The reference agent sees those paths for real in
# its sandbox. The shared script gives our agent base_path AMP_DIR/root/var/lib/octavia, so a
# controller config would name a socket in a directory our agent does not own. Here our agent
# runs with Octavia's default paths, in a private mount namespace where
#   AMP_DIR/root/var/lib/octavia  is bind-mounted over /var/lib/octavia
#   AMP_DIR/root/etc/octavia      is bind-mounted over /etc/octavia
#   AMP_DIR/root/run/netns        is bind-mounted over /run/netns (amphora-haproxy stays private)
#   /proc/sys                     is read-only but for net/ (the reference sandbox's guard too)
# so everything it writes lands in AMP_DIR/root and the host's directories are untouched.
# It runs in netns <prefix>-amp on 192.0.2.1:9443, init_system = direct, in its own PID namespace:
# stopping that namespace's PID 1 ends the haproxy/keepalived the agent supervises.
# The agent is node dist/amphora-agent.mjs of $OCTCTL_TS_AGENT_DIR, else of the directory named
# in $STATE/ts-agent-dir (run.mjs: this checkout).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cmd=${1:-}; D=${2:-}
[ -n "$cmd" ] && [ -n "$D" ] || { sed -n '2p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
D=$(cd "$D" && pwd)
TS=${OCTCTL_TS_AGENT_DIR:-}
[ -n "$TS" ] || TS=$(cat "$D/../../ts-agent-dir" 2>/dev/null || true)   # $STATE/ts-agent-dir
[ -n "$TS" ] || octctl_die "no agent checkout: set OCTCTL_TS_AGENT_DIR or write \$STATE/ts-agent-dir"

# Heartbeats go where the reference agent's go: the harness's health manager ($CTL_IP:$HM_PORT,
# 192.0.2.2:5555 in <prefix>-ctl), with octavia.conf.in's heartbeat_key and its 10 s interval
# (reference-agent.sh writes the same three), for the amphora id the launcher signed the
# certificate for.
write_conf() { # ROOT AMPHORA_ID TOPOLOGY
  cat > "$D/agent.conf" <<CONF
[DEFAULT]
debug = True
log_file = $1/log/agent.jsonl

[haproxy_amphora]
base_path = /var/lib/octavia
base_cert_dir = /var/lib/octavia/certs
bind_host = $AMP_IP
bind_port = $AGENT_PORT

[amphora_agent]
agent_server_cert = $D/certs/server.pem
agent_server_ca = $D/certs/client_ca.pem
agent_server_network_dir = /etc/octavia/interfaces
amphora_id = $2
agent_tls_protocol = TLSv1.2
init_system = direct
systemd_unit_dir = $1/usr/lib/systemd/system
sysvinit_dir = $1/etc/init.d
upstart_dir = $1/etc/init
haproxy_user_group_file = /var/lib/octavia/haproxy-default-user-group.conf
plugged_interfaces_file = /var/lib/octavia/plugged_interfaces

[health_manager]
controller_ip_port_list = $CTL_IP:$HM_PORT
heartbeat_key = insecure
heartbeat_interval = 10

[controller_worker]
loadbalancer_topology = $3
CONF
}

case "$cmd" in
start)
  topo=${3:-SINGLE}
  TS=$(cd "$TS" && pwd)
  [ -f "$TS/dist/amphora-agent.mjs" ] || octctl_die "$TS/dist/amphora-agent.mjs missing (npm ci && npm run build in $TS)"
  for m in /var/lib/octavia /etc/octavia; do
    [ -d "$m" ] || octctl_die "$m missing on this host (package octavia-common makes it): nothing to mount over"
  done
  R=$D/root
  mkdir -p "$R"/{var/lib/octavia/certs,etc/octavia/interfaces,usr/lib/systemd/system,etc/init.d,etc/init,run/netns,log}
  # what the amphora image ships there (package octavia-agent), as reference-agent.sh gives the
  # reference agent: the haproxy user/group file that uploads' `group` lines are checked against
  for f in haproxy-default-user-group.conf ping-wrapper.sh; do
    [ -f "/var/lib/octavia/$f" ] && cp -p "/var/lib/octavia/$f" "$R/var/lib/octavia/"
  done
  id=$(cat "$D/certs/amphora_id")
  write_conf "$R" "$id" "$topo"
  # PID 1 of the new PID namespace is this small bash: it makes the binds (private mount
  # namespace, so the host never sees them), forwards TERM to node and exits when node is gone,
  # which ends everything left in the namespace. /proc/sys is read-only there except net/ (per
  # network namespace), as in the reference agent's sandbox: a sysctl of fs.* or kernel.* would
  # change the host.
  ip netns exec "$NS_AMP" setsid unshare --mount --propagation private --pid --fork --mount-proc \
    bash -c 'mount --bind "$1/run/netns" /run/netns && mount --bind "$1/var/lib/octavia" /var/lib/octavia &&
             mount --bind "$1/etc/octavia" /etc/octavia && mount --bind /proc/sys /proc/sys &&
             mount --bind /proc/sys/net /proc/sys/net && mount -o remount,bind,ro /proc/sys && shift &&
             "$@" & child=$!; trap "kill -TERM \$child" TERM; wait $child; wait $child' _ \
    "$R" node "$TS/dist/amphora-agent.mjs" --config-file "$D/agent.conf" \
    < /dev/null > "$D/agent.stdout" 2>&1 &
  echo $! > "$D/unshare.pid"
  # node's start is slow on a busy machine: 60 s before giving up
  for _ in $(seq 600); do
    ip netns exec "$NS_AMP" ss -Hltn "sport = :$AGENT_PORT" | grep -q . && { octctl_say "ts agent $id listening on $AMP_IP:$AGENT_PORT"; exit 0; }
    kill -0 "$(cat "$D/unshare.pid")" 2>/dev/null || { tail -20 "$D/agent.stdout" >&2; octctl_die "ts agent exited"; }
    sleep 0.1
  done
  octctl_die "ts agent not listening after 60 s";;
stop)
  u=$(cat "$D/unshare.pid" 2>/dev/null) || exit 0
  kill -0 "$u" 2>/dev/null || { octctl_say "not running"; exit 0; }
  p1=$(ps -o pid= --ppid "$u" | head -1 | tr -d ' ')
  kill -TERM "${p1:-$u}" 2>/dev/null || true
  for _ in $(seq 150); do kill -0 "$u" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$u" 2>/dev/null; then kill -KILL "${p1:-$u}" 2>/dev/null || true; sleep 0.3; fi
  octctl_say "stopped";;
calls)
  f=$D/root/log/agent.jsonl; [ -f "$f" ] || f=$D/agent.stdout
  jq -r 'select(.msg=="request") | "\(.method) \(.path) \(.status)"' "$f" 2>/dev/null || true;;
*) octctl_die "unknown command $cmd";;
esac
