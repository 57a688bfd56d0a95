#!/bin/bash
# Runs in the pre-init (vm/init.sh) before systemd, with the overlay root at $1. Writes only
# into the overlay (tmpfs): masks, the e2e target and runner unit, the agent's own systemd unit
# from init-scripts/ with a drop-in that runs the repository's dist/amphora-agent.mjs, and the first
# agent's configuration and PKI from the run's work directory (/mnt/e2e in the guest).
# On an image's root (E2E_ROOTFS, see vm/init.sh) the agent is the image's own: its installed unit
# and /usr/local/bin/amphora-agent run unchanged, and the repository is mounted at its host path
# for the runner (the image's node runs it).
set -eu
R=$1
W=$R/mnt/e2e
# shellcheck disable=SC1091
. "$W/e2e.env"          # REPO, NODE, RUNNER_TIMEOUT, ... (written by run.mjs)
HERE=$REPO/test/e2e/vm
E=$R/etc/systemd/system
mkdir -p "$E" "$R/etc/tmpfiles.d"
# The host root carries /.dockerenv: systemd would think it runs in a container.
rm -f "$R/.dockerenv"
# Debian's tmp.conf ("D /tmp") would empty the host's /tmp inside the guest at boot.
ln -sfn /dev/null "$R/etc/tmpfiles.d/tmp.conf"
grep -v '^#' "$HERE/masks.txt" | while read -r unit; do
  [ -n "$unit" ] && ln -sfn /dev/null "$E/$unit"
done

# The amphora image creates these root-owned 0755 (diskimage-elements/amphora-agent); the host's
# octavia-common package made them octavia-owned, and keepalived refuses to run check scripts
# below a directory that a non-root user can write to.
for d in /var/lib/octavia /etc/octavia; do
  mkdir -p "$R$d"; chown root:root "$R$d"; chmod 0755 "$R$d"
done

# The agent's own unit, as the image installs it, plus a drop-in for this test run. Agent A
# (amphora-agent.service) starts at boot; agent B (amphora-agent-b.service: the same unit file
# under another name, its own configuration in /etc/octavia-b) is started by the
# ACTIVE_STANDBY scenario. Both are installed now, so that no daemon-reload is needed later.
agent_unit() { # NAME ETC_DIR
  mkdir -p "$E/$1.service.d" "$R$2"
  if [ -n "${E2E_ROOTFS:-}" ]; then
    # the image's unit; only agent B needs another configuration file
    [ "$1" = amphora-agent ] && return
    cp "$R/usr/lib/systemd/system/amphora-agent.service" "$R/usr/lib/systemd/system/$1.service"
    printf '[Service]\nExecStart=\nExecStart=/usr/local/bin/amphora-agent --config-file %s/amphora-agent.conf\nSyslogIdentifier=%s\n' "$2" "$1" > "$E/$1.service.d/e2e.conf"
    return
  fi
  install -m 0644 "$REPO/init-scripts/systemd/amphora-agent.service" "$R/usr/lib/systemd/system/$1.service"
  cat > "$E/$1.service.d/e2e.conf" <<UNIT
# e2e: run the repository's build instead of /usr/local/bin/amphora-agent
[Service]
ExecStart=
ExecStart=$NODE $REPO/dist/amphora-agent.mjs --config-file $2/amphora-agent.conf
SyslogIdentifier=$1
UNIT
}
if [ -n "${E2E_ROOTFS:-}" ]; then
  [ -x "$R/usr/local/bin/amphora-agent" ] || { echo "[e2e-prepare] $E2E_ROOTFS has no /usr/local/bin/amphora-agent" >&2; exit 1; }
  # the image's fstab names its disk's partitions, which a UML guest on its files has not
  : > "$R/etc/fstab"
  # the runner and its scenarios, read-only at the same path as on the host
  mkdir -p "$R$REPO"
  mount --bind "$REPO" "$R$REPO"
fi
agent_unit amphora-agent /etc/octavia
agent_unit amphora-agent-b /etc/octavia-b
cp -a "$W/amphora-a/etc-octavia/." "$R/etc/octavia/"
cp -a "$W/amphora-b/etc-octavia/." "$R/etc/octavia-b/"
chown -R root:root "$R/etc/octavia" "$R/etc/octavia-b"
chmod 0755 "$R/etc/octavia-b"

cat > "$E/e2e.target" <<UNIT
[Unit]
Description=amphora-agent e2e: basic system, the agent and the scenario runner
Requires=basic.target
After=basic.target
Wants=amphora-agent.service e2e-runner.service
AllowIsolate=yes
UNIT
RUNNER="$NODE $REPO/test/e2e/guest/runner.mjs"
if [ -n "${E2E_PROBE:-}" ]; then RUNNER="/bin/bash $E2E_PROBE"; fi
cat > "$E/e2e-runner.service" <<UNIT
[Unit]
Description=amphora-agent e2e scenario runner
After=basic.target
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=exec
Environment=E2E_WORK=/mnt/e2e
EnvironmentFile=/mnt/e2e/e2e.env
ExecStart=$RUNNER
StandardOutput=journal+console
StandardError=journal+console
RuntimeMaxSec=$RUNNER_TIMEOUT
KillMode=control-group
# Also when the runner was killed (RuntimeMaxSec) or crashed: the whole journal for the host.
ExecStopPost=/bin/sh -c 'journalctl -b --no-pager -o short-monotonic > /mnt/e2e/logs/journal.txt 2>&1; sync'
UNIT
ln -sfn /etc/systemd/system/e2e.target "$E/default.target"
# A boot that falls into rescue or emergency mode cannot run anything: power off at once
# instead of waiting for the host's time limit.
for u in rescue emergency; do
  mkdir -p "$E/$u.service.d"
  printf '[Service]\nExecStart=\nExecStart=/bin/systemctl poweroff --force\n' > "$E/$u.service.d/e2e.conf"
done
echo "[e2e-prepare] overlay ready"
