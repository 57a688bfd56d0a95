#!/bin/bash
# Probe of the healthcheck_cpu bench suite (bench/suites/healthcheck_cpu.mjs), run in the VM of
# test/e2e (node test/e2e/run.mjs --probe ...). HC_DIR names the suite's plan and configs (a host
# directory the guest sees read-only); the suite writes a two-line wrapper that sets it and runs
# this file. Output: /mnt/e2e/logs/healthcheck-cpu.json and healthcheck-cpu.log.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
: "${HC_DIR:?HC_DIR must name the plan directory of the suite}"
# nice -20: keepalived runs at -10 as under its unit (the guest starts it with nice -n 10 from here), and
# its checks must not starve the process that measures them (a starved run took minutes per window)
exec nice -n -20 "$NODE" "$REPO/bench/vm/healthcheck-cpu-guest.mjs" > /mnt/e2e/logs/healthcheck-cpu.log 2>&1
