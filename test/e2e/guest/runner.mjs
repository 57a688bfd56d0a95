#!/usr/bin/env node
/**
 * @module test/e2e/guest/runner
 * E2E tier, guest side: runs as e2e-runner.service inside the UML guest (systemd is PID 1, the
 * kernel has IPVS). The agent under test was started at boot by its own unit
 * (amphora-agent.service from init-scripts/, with a drop-in that runs this repository's
 * dist/amphora-agent.mjs). This entry point starts the Octavia controller (guest/controller.py:
 * the real AmphoraAPIClient1_0 and Octavia's own templaters, lib/controller.mjs), builds the
 * data plane out of network namespaces (lib/network.mjs), starts the traffic generator and the
 * backends, then runs the scenarios (one module each in scenarios/) in a fixed order. Results go
 * to $E2E_WORK/results.json (lib/results.mjs), logs to $E2E_WORK/logs/. Scenarios are selected
 * with E2E_SCENARIOS (comma-separated). It owns the run order and the end of the run; the
 * scenarios own their checks.
 *
 * Data plane (all in this VM):
 *
 *   client ns "client"        br-vip (VM root ns)        amphora ns "amphora-haproxy" (agent A)
 *   c0 10.0.0.2,.3,.4/24 ───── vc0 ── va1 ─────────────── eth1 10.0.0.11/24, VIP 10.0.0.100
 *                                     vb1 ───┐            eth2 10.1.0.11/24 ──┐
 *                                            │                                │
 *                       amphora ns "amphora-b" (agent B, ACTIVE_STANDBY only) │
 *                                            └──────────── eth1 10.0.0.12/24  │
 *                                                          eth2 10.1.0.12/24 ─┤ br-mem (VM root ns)
 *   backends be1..be4: eth0 10.1.0.21..24/24, default via 10.1.0.11, echo servers on 5000/udp
 *   (and 5002/sctp) ───────────────────────────────────────────────────────────┘
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from './lib/commands.mjs';
import { LOGS, T0, WANTED, log, secs, uptime } from './lib/context.mjs';
import { call, controller, startController } from './lib/controller.mjs';
import { HOG_WANTED, guestLoad, startGuestHog } from './lib/load.mjs';
import { collectLogs, copyKeepalivedLogs } from './lib/logs.mjs';
import { setupNetwork, startBackend, stopBackends } from './lib/network.mjs';
import { results, runScenario, saveResults } from './lib/results.mjs';
import { BACKENDS } from './lib/topology.mjs';
import { startTraffic, traffic } from './lib/traffic-client.mjs';
import { scenarioFailoverSync } from './scenarios/failover-sync.mjs';
import { scenarioActiveStandby } from './scenarios/active-standby.mjs';
import { scenarioAgentRestart } from './scenarios/agent-restart.mjs';
import { scenarioApi2 } from './scenarios/api2.mjs';
import { scenarioChanges } from './scenarios/changes.mjs';
import { scenarioDaemonRestart } from './scenarios/daemon-restart.mjs';
import { scenarioDelete } from './scenarios/delete.mjs';
import { scenarioPersistence } from './scenarios/persistence.mjs';
import { scenarioScale } from './scenarios/scale.mjs';
import { scenarioSctp } from './scenarios/sctp.mjs';
import { scenarioSingle } from './scenarios/single.mjs';

/**
 * The scenarios by name (run.mjs's ALL_SCENARIOS), in run order: those that need listener L1
 * first; api2 (its own listener, on amphora A's VIP) before active_standby moves the VIP to
 * VRRP; deletion last.
 */
const SCENARIOS = [
  ['single', scenarioSingle],
  ['changes', scenarioChanges],
  ['agent_restart', scenarioAgentRestart],
  ['daemon_restart', scenarioDaemonRestart],
  ['persistence', scenarioPersistence],
  ['sctp', scenarioSctp],
  ['api2', scenarioApi2],
  ['active_standby', scenarioActiveStandby],
  ['failover_sync', scenarioFailoverSync],
  ['scale', scenarioScale],
  ['delete', scenarioDelete],
];

async function main() {
  const bootS = uptime();
  log(`runner started at uptime ${bootS}s; scenarios: ${WANTED.join(', ')}`);
  results.guest = {
    boot_to_runner_s: bootS,
    kernel: (await sh('uname', ['-r'])).out.trim(),
    systemd: (await sh('systemctl', ['--version'])).out.split('\n')[0],
    keepalived: (await sh('keepalived', ['--version'], { allowFail: true })).err.split('\n')[0],
    // the root the guest runs on: this machine's (Debian 12) or an amphora image's (run.mjs --rootfs)
    root: process.env.E2E_ROOTFS || '/',
    distribution: /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? null,
    node: process.version,
    haproxy: (await sh('haproxy', ['-v'], { allowFail: true })).out.split('\n')[0],
  };
  saveResults();
  if (process.env.E2E_VERBOSE === '1') watchJournal();
  const ready = startController();
  await setupNetwork();
  startTraffic();
  for (const b of BACKENDS) await startBackend(b);
  const tc = performance.now();
  await ready;
  results.guest.controller_ready_at_s = uptime();
  log(`controller ready (${secs(performance.now() - tc)}s after the network)`);
  const v = await call('a', 'get_api_version');
  results.guest.agent_answer_at_s = uptime();
  if (!v.ok) throw new Error(`the agent does not answer: ${JSON.stringify(v)}`);
  // run.mjs --hog guest: the guest's CPU is kept busy from the first scenario to the end
  results.load = { hogs: 0, load_before_hog: guestLoad(), scenarios: {} };
  if (HOG_WANTED) {
    hog = startGuestHog();
    results.load.hogs = hog.hogs;
    log(`guest hog: ${hog.hogs} busy loop(s), load ${results.load.load_before_hog.join(' ')}`);
  }
  for (const [name, scenario] of SCENARIOS) {
    if (!WANTED.includes(name)) continue;
    const start = guestLoad();
    await runScenario(name, scenario);
    results.load.scenarios[name] = { start, end: guestLoad() };
    // keepalived's logs after every scenario: a run the host kills at its limit collects none at the end
    copyKeepalivedLogs();
  }
}

let hog;

/**
 * run.mjs --verbose: every 30 s the guest's journal (logs/journal-live.txt), its load, memory and
 * busiest processes (logs/ps-live.txt) and keepalived's logs are copied to the work directory, so
 * that a run that stalls can be read on the host while it stalls (journal.txt and the agents'
 * logs are written only when the runner ends).
 */
function watchJournal() {
  const copy = async () => {
    const r = await sh('journalctl', ['-b', '--no-pager', '-o', 'short-monotonic'], { allowFail: true, timeout: 60_000 });
    writeFileSync(join(LOGS, 'journal-live.txt'), r.out);
    // what the guest's one CPU is spent on: its load, memory and the processes with the most CPU time
    const ps = await sh('ps', ['-eo', 'pid,etimes,time,rss,args', '--sort=-time', '--cols', '200'], { allowFail: true, timeout: 60_000 });
    const mem = await sh('free', ['-m'], { allowFail: true, timeout: 60_000 });
    writeFileSync(join(LOGS, 'ps-live.txt'), `uptime ${uptime()} load ${guestLoad().join(' ')}\n${mem.out}\n${ps.out.split('\n').slice(0, 40).join('\n')}\n`);
    copyKeepalivedLogs();
  };
  const timer = setInterval(() => void copy().catch(() => {}), 30_000);
  timer.unref();
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  log(`runner failed: ${err.stack}`);
  results.ok = false;
  results.error = `runner failed: ${err.message}`;
  exitCode = 1;
}
hog?.stop();
results.guest.runner_seconds = secs(performance.now() - T0);
for (const name of WANTED) if (!results.scenarios[name]) results.ok = false;
try {
  await collectLogs();
} catch (err) {
  log(`collecting logs failed: ${err.message}`);
}
saveResults();
controller?.stop();
traffic?.stop();
stopBackends();
await sh('sync', [], { allowFail: true });
log(`done: ${results.ok ? 'all passed' : 'FAILED'}`);
process.exit(exitCode);
