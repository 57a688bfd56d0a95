#!/bin/bash
# A probe for the VM tier (node test/e2e/run.mjs --probe test/e2e/vm/probes/init-cases.sh --timeout 900):
# runs the InitSystem case suite for the systemd adapter in the guest, where PID 1 is systemd, so the
# adapter starts, reloads and stops real keepalived and haproxy units through real systemctl. The host
# tiers skip that adapter (no systemd as PID 1 there). Output: <work>/logs/probe.txt (--keep keeps it).
cd "$REPO" || exit 1
export CI=true INIT_CASES_ONLY=systemd PATH=/usr/sbin:/usr/bin:/sbin:/bin
start=$(date +%s)
"$NODE" "$REPO/node_modules/vitest/vitest.mjs" run --config test/vitest.config.ts test/integration/init-system.case.test.ts > /mnt/e2e/logs/probe.txt 2>&1
status=$?
echo "exit $status after $(( $(date +%s) - start )) s" >> /mnt/e2e/logs/probe.txt
exit $status
