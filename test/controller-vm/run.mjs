#!/usr/bin/env node
/**
 * Controller-VM tier: Octavia's own control plane (Debian 12's Octavia 11: octavia-api, -worker,
 * -health-manager, MariaDB, RabbitMQ; the shared octavia-controller harness) drives amphorae that
 * are User-Mode Linux VMs with a real IPVS kernel and systemd, each booted by this tier's "Nova"
 * (vm-launcher.mjs) when the tier's compute driver (drivers/octctl_vm_drivers.py) builds one, from
 * the config drive the controller made (amphora-agent.conf, the amphora's certificate). Each VM has
 * its own management address (172.29.0.0/24) and its VIP NIC on a bridge shared with a client and
 * UDP/TCP member servers (198.51.100.0/24, namespace <prefix>-net).
 *
 * Phases: requirements and the host-address check; up.sh (with the tier's lib.sh, launcher and
 * drivers); the fabric; the scenarios (runner/runner.mjs, run inside the controller namespace,
 * for each agent kind asked for: ours by default, the reference with --agents); down.sh, also
 * after a failure or a signal. The
 * last line is
 *   CONTROLLER-VM-REPORT {json}
 * Exit status: 0 when every scenario passed with every agent asked for; 1 otherwise; 130 after
 * SIGINT/SIGTERM; 0 with a SKIP line when this machine cannot run the tier (1 under CI=true).
 *
 * With --rootfs DIR our agent's amphorae boot on an amphora image's root file system (DIR: the image
 * unpacked on this machine, see test/image/) and run the image's own agent, keepalived and haproxy;
 * the reference agent's and the tenant VM stay on this machine's root.
 *
 * usage: node test/controller-vm/run.mjs [--agents ts,ref] [--only single,active_standby] [--rootfs DIR] [--keep] [--verbose]
 *   env: AMPHORA_SHARED (the shared tools; default ../shared beside the repository), CVM_VM_MEM (MiB per VM)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killCurrent, readTimings, runLogged } from '../controller/lib/harness.mjs';
import { lacking } from '../controller/lib/requirements.mjs';
import { NETWORKS, hostClashes } from './lib/addresses.mjs';
import { assembleHarness, wireFabric } from './lib/fabric.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const SHARED = process.env.AMPHORA_SHARED || resolve(REPO, '..', 'shared');
const CONTROLLER_DIR = join(SHARED, 'tools', 'octavia-controller');
const REF_DIR = join(SHARED, 'tools', 'octavia-ref');
const LIMIT = { up: 900, scenarios: 2400, down: 300 };
// [health_manager]: the agents' heartbeat interval (written into every config drive) and how long
// the health manager waits after an amphora's last counted heartbeat before failing it over:
// Octavia's default 60 s. With 30 s a replacement was failed over again as soon as its own
// failover ended: an agent sends no heartbeat between the VRRP config's upload and the VRRP
// keepalived's start (the reference's rule too), and in these VMs that took 30-35 s. See README.
const HEARTBEAT = { interval: 5, timeout: 60 };
const SCENARIOS = ['single', 'active_standby'];

const { values: opts } = parseArgs({
  options: { agents: { type: 'string' }, only: { type: 'string' }, rootfs: { type: 'string' }, keep: { type: 'boolean' }, verbose: { type: 'boolean' } },
});
const rootfs = opts.rootfs ? resolve(opts.rootfs) : '';
const list = (s, all) => (s ? s.split(',').map((x) => x.trim()).filter((x) => all.includes(x)) : all);
// By default our agent runs every scenario and the reference none: in these VMs each change costs
// the reference 40-50 s against ours 4-7 s, so its SINGLE scenario alone takes about 13 minutes,
// which .ci/run's 45 minutes cannot hold beside the other tiers. `--agents ts,ref` (or ref) runs
// it, side by side in the same report (README: "Figures").
const agents = list(opts.agents, ['ts', 'ref']).filter((a) => opts.agents || a === 'ts');
const scenarios = list(opts.only, SCENARIOS);
const plan = Object.fromEntries(agents.map((a) => [a, scenarios]));
const started = Date.now();
const say = (msg) => process.stdout.write(`[controller-vm ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
function report(obj, code) {
  process.stdout.write(`CONTROLLER-VM-REPORT ${JSON.stringify(obj)}\n`);
  process.exit(code);
}

// ------------------------------------------------------------------ requirements
const missing = lacking({ controllerDir: CONTROLLER_DIR, refDir: REF_DIR, repo: REPO });
if (!existsSync('/usr/bin/linux.uml')) missing.push('/usr/bin/linux.uml (package user-mode-linux)');
if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun (the VMs NICs are taps)');
if (rootfs && !existsSync(join(rootfs, 'usr/local/bin/amphora-agent'))) missing.push(`/usr/local/bin/amphora-agent in the image root ${rootfs}`);
if (missing.length > 0) {
  const reason = `controller-vm: needs ${missing.join(', ')}`;
  process.stderr.write(`SKIP ${reason}\n`);
  report({ ok: false, skipped: true, reason }, process.env.CI === 'true' ? 1 : 0);
}
const clashes = hostClashes();
if (clashes.length > 0) report({ ok: false, skipped: false, error: `the host routes the tier's networks (${Object.values(NETWORKS).join(', ')}): ${clashes.join('; ')}` }, 1);

// ------------------------------------------------------------------ work directory, harness
const work = mkdtempSync(join(tmpdir(), 'amphora-cvmtier.'));
const state = join(work, 'state');
const cvmDir = join(work, 'cvm');
mkdirSync(join(cvmDir, 'vms'), { recursive: true });
mkdirSync(join(state, 'etc'), { recursive: true });
mkdirSync(join(work, 'tmp'), { recursive: true });
const logFile = join(work, 'tier.log');
const harness = assembleHarness({ work, controllerDir: CONTROLLER_DIR, tierDir: HERE });
const prefix = `cvm${process.pid}`;
const ns = { ctl: `${prefix}-ctl`, amp: `${prefix}-amp`, net: `${prefix}-net` };
const env = {
  ...process.env,
  OCTCTL_NS_PREFIX: prefix,
  OCTAVIA_REF_DIR: REF_DIR,
  OCTCTL_TS_AGENT_DIR: REPO,
  TMPDIR: join(work, 'tmp'),
  CVM_DIR: cvmDir,
  CVM_FABRIC_NS: ns.amp,
  CVM_REPO: REPO,
  CVM_NODE: process.execPath,
  CVM_TIER_DIR: HERE,
  CVM_ROOTFS: rootfs,
};
// read by every Octavia service after the harness's octavia.conf (up.sh keeps a file already there)
writeFileSync(
  join(state, 'etc', 'octavia-extra.conf'),
  [
    '[controller_worker]',
    'compute_driver = cvm_compute_driver',
    'network_driver = cvm_network_driver',
    '[haproxy_amphora]',
    '# a VM boots in 15-60 s here (UML, one slow CPU): the connectivity wait polls every second',
    'connection_max_retries = 300',
    'connection_retry_interval = 1',
    '[health_manager]',
    `heartbeat_interval = ${HEARTBEAT.interval}`,
    `heartbeat_timeout = ${HEARTBEAT.timeout}`,
    '',
  ].join('\n'),
);

// the tenant VM: SCTP client (198.51.100.3) and SCTP members, booted by the launcher when its
// request appears, which is written only once wireFabric has made brv (the bridge its tap joins):
// written before up.sh, the launcher could pick it up first and the tenant never booted
const TENANT = { client: '198.51.100.3', members: [['s1', '198.51.100.31'], ['s2', '198.51.100.32'], ['s3', '198.51.100.33']], port: 9000 };
function requestTenantVm() {
  mkdirSync(join(cvmDir, 'extra', 'tenant'), { recursive: true });
  const request = JSON.stringify({
    compute_id: 'tenant', name: 'tenant', amphora_id: 'tenant', slot: 99, mgmt_ip: '', mgmt_prefix: 24, vip_mac: 'fa:16:3e:00:00:63', created: Date.now() / 1000,
    prepare: 'prepare-tenant.sh',
    env: { TENANT_IPS: [TENANT.client, ...TENANT.members.map(([, a]) => a)].join(' '), SCTP_MEMBERS: TENANT.members.map(([n, a]) => `${n}=${a}:${TENANT.port}`).join(' ') },
  });
  // whole or absent: the launcher polls the directory
  const file = join(cvmDir, 'extra', 'tenant', 'request.json');
  writeFileSync(`${file}.tmp`, request);
  renameSync(`${file}.tmp`, file);
}

let stopping = false;
const run = (script, args, limitSec, extraEnv = {}) =>
  stopping && !script.endsWith('/down.sh')
    ? Promise.resolve({ code: 130, stdout: '', seconds: 0, timedOut: false })
    : runLogged(script, args, { env: { ...env, ...extraEnv }, logFile, limitSec, verbose: Boolean(opts.verbose) });
const host = { cpus: cpus().length, loadavg_at_start: loadavg().map((l) => Math.round(l * 100) / 100), amphora_root: rootfs || '/' };
const costs = {};
let results = {};
let upStarted = false;
let downRun = null;
function down() {
  if (!upStarted) return Promise.resolve();
  downRun ??= run(join(harness, 'down.sh'), [state], LIMIT.down).then((d) => {
    costs.down_seconds = d.seconds;
    if (d.code !== 0) say(`down.sh exited ${d.code} (see ${logFile})`);
  });
  return downRun;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stopping) return;
    say(`${sig}: stopping, then down.sh`);
    stopping = true;
    if (!downRun) killCurrent();
  });
}

async function main() {
  say(`work directory ${work}; plan ${JSON.stringify(plan)}; amphorae on ${rootfs || "this machine's root"}; heartbeat every ${HEARTBEAT.interval} s, timeout ${HEARTBEAT.timeout} s`);
  upStarted = true;
  const up = await run(join(harness, 'up.sh'), ['--agent', agents[0], state], LIMIT.up);
  costs.up_seconds = up.seconds;
  costs.up_steps = readTimings(state);
  if (stopping) throw new Error('interrupted');
  if (up.code !== 0) throw new Error(`up.sh failed (exit ${up.code}${up.timedOut ? ', time limit' : ''})`);
  say(`control plane up in ${up.seconds.toFixed(1)} s`);
  wireFabric({ ampNs: ns.amp, netNs: ns.net, ampIp: '172.29.0.1' });
  requestTenantVm();
  const resultsFile = join(work, 'results.json');
  const r = await run(
    'ip',
    ['netns', 'exec', ns.ctl, process.execPath, join(HERE, 'runner', 'runner.mjs')],
    LIMIT.scenarios,
    { CVM_STATE: state, CVM_NET_NS: ns.net, CVM_PLAN: JSON.stringify(plan), CVM_RESULTS: resultsFile, CVM_HEARTBEAT_TIMEOUT: String(HEARTBEAT.timeout), CVM_LOGS: join(work, 'logs') },
  );
  costs.scenarios_seconds = r.seconds;
  try {
    results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  } catch {
    throw new Error(`the scenario runner wrote no results (exit ${r.code}${r.timedOut ? ', time limit' : ''}; see ${logFile})`);
  }
  if (r.timedOut) throw new Error(`the scenarios outlived their limit (${LIMIT.scenarios} s)`);
}

let error = null;
try {
  await main();
} catch (err) {
  error = err.message;
  say(`error: ${error}`);
}
if (stopping) error ??= 'interrupted';
await down();
const failures = [];
for (const [name, byAgent] of Object.entries(results.scenarios ?? {})) {
  for (const [agent, s] of Object.entries(byAgent)) {
    say(`${name}/${agent}: ${s.status}${s.reason ? ` (${s.reason})` : ''}`);
    for (const f of s.failures ?? []) say(`  FAIL ${f}`);
    if (s.status === 'failed' || s.status === 'not_run') failures.push(`${name}/${agent}: ${(s.failures ?? []).join('; ') || s.reason || s.status}`);
  }
}
for (const [agent, names] of Object.entries(plan)) for (const name of names) if (!results.scenarios?.[name]?.[agent]) failures.push(`${name}/${agent}: not run`);
const ok = error === null && failures.length === 0;
if (ok && !opts.keep) rmSync(work, { recursive: true, force: true });
else {
  if (!opts.keep) for (const d of ['mysql', 'rabbit/mnesia']) rmSync(join(state, d), { recursive: true, force: true });
  say(`kept ${work} (tier.log, logs/, state/log, cvm/vms/*/logs)`);
}
report(
  { ok, skipped: false, interrupted: stopping, wall_seconds: (Date.now() - started) / 1000, host, heartbeat: HEARTBEAT, plan, costs, error, failures, scenarios: results.scenarios ?? {}, work: ok && !opts.keep ? null : work },
  stopping ? 130 : ok ? 0 : 1,
);
