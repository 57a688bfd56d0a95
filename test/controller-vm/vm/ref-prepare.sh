#!/bin/bash
# The `ref)` half of prepare-amphora.sh: what Octavia's amphora image gives the reference agent
# (Debian 12 package octavia-agent 11.0.0, present in the guest's root because the host has it)
# beyond the package itself. Runs in the guest's pre-init with the overlay root at $1, after
# prepare-amphora.sh has masked test/e2e/vm/masks.txt and emptied /var/lib/octavia and
# /etc/octavia. Every step says why; ref-README.md lists them for the lead.
set -eu
R=$1
E=$R/etc/systemd/system

# 1. The agent's unit: masks.txt masks it for the e2e tier (the host's package must not start
#    there). Here it is the amphora's agent, so the mask goes; cvm.target wants it, as the image
#    enables it for multi-user.target.
rm -f "$E/octavia-agent.service"

# 2. Files the image puts in /var/lib/octavia (haproxy-octavia element: the haproxy group
#    override the agent passes to every haproxy, the ping wrapper of PING health monitors).
#    The package ships them; prepare-amphora.sh emptied the directory, so they come back
#    from the package's own list (this pre-init still sees the host's root at /).
dpkg-query -L octavia-agent | grep '^/var/lib/octavia/.' | while read -r f; do
  [ -f "$f" ] && cp -p "$f" "$R$f"
done

# 3. Logging: the agent points gunicorn's syslog at /run/rsyslog/octavia/log, a socket the
#    image's rsyslog opens (rsyslog.d/55-octavia-socket.conf). Without it every log line
#    becomes a "--- Logging error ---" traceback. journald's syslog socket takes its place, so
#    the lines reach logs/journal.txt with the rest. The agent writes that address as
#    `unix://run/...`, which gunicorn takes as a path relative to its working directory: the
#    image's unit runs the agent from /, Debian's has WorkingDirectory=~ (/root), where the
#    socket is never found. A drop-in gives the image's working directory back.
mkdir -p "$E/octavia-agent.service.d"
printf '[Service]\nWorkingDirectory=/\n' > "$E/octavia-agent.service.d/cvm-ref.conf"
cat > "$R/etc/tmpfiles.d/cvm-ref-syslog.conf" <<'CONF'
d /run/rsyslog/octavia 0755 root root -
L /run/rsyslog/octavia/log - - - - /run/systemd/journal/dev-log
CONF

# 4. Sysctls: the image applies its kernel tuning at boot, and the agent's amphora-netns unit
#    runs `sysctl --system` inside the namespace. masks.txt masks systemd-sysctl because the
#    package's file quotes three multi-number values, which systemd-sysctl rejects. The file
#    is given again without the quotes (same keys, same numbers) and systemd-sysctl runs.
sed 's/"//g' /etc/sysctl.d/octavia-agent-sysctl.conf > "$R/etc/sysctl.d/octavia-agent-sysctl.conf"
rm -f "$E/systemd-sysctl.service"

# 5. Masquerade: prepare-amphora.sh hides nft and points iptables at the legacy backend for
#    every kind of VM (this UML kernel has no nftables ip family); the masquerade helper then
#    takes its own iptables branch, unchanged.

# Left as they are (masked by masks.txt, or not enabled), with the reason:
# - octavia-agent-certs-ramfs.service: a LUKS ramdisk for /var/lib/octavia/certs (brd,
#   cryptsetup); the guest's whole writable root is already tmpfs, gone when the VM dies.
# - octavia-agent-netns.service: Debian's own variant of the namespace unit (ifupdown `ifup -a`);
#   Octavia 11's agent writes and enables its own amphora-netns.service (amphora-interface).
# - keepalived.service, haproxy.service, ipvsadm.service: the image disables the distribution's
#   units; the agent runs keepalived/haproxy through units it writes itself.
