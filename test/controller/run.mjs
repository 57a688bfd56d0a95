#!/usr/bin/env node
/**
 * Controller tier: Octavia's own control plane (Debian 12's Octavia 11 octavia-api, -worker and
 * -health-manager with MariaDB and RabbitMQ, the shared octavia-controller harness) drives a load
 * balancer's life through the reference agent and through this checkout's agent
 * (dist/amphora-agent.mjs), in the same run: the control plane comes up once (up.sh), the HTTP
 * and UDP scenarios run for each agent in turn (http ref, http ts, udp ref, udp ts: side by side
 * in time), and it goes down (down.sh), also on failure or interruption. The run ends with one
 * line
 *   CONTROLLER-REPORT {json}
 * with the cost of each phase, and per scenario and agent every step's outcome, time, whether
 * it counts and the agent calls made during it.
 * Exit status: 0 when both agents passed every step that counts (lib/verdict.mjs: UDP steps past
 * the listener need IPVS, so those are only reported here); 1
 * otherwise; 130 after SIGINT/SIGTERM (the run still ends with down.sh and the report); 0 with a
 * SKIP line when this machine cannot run the tier (1 under CI=true).
 *
 * usage: node test/controller/run.mjs [--agents ref,ts[,swap]] [--only http,udp] [--keep] [--verbose]
 *   --agents swap: the reference agent makes the LB (plug/vip), then ours takes the amphora over
 *   for the listener steps (not in the default run: it shows what ours does past plug/vip today)
 *   env: AMPHORA_SHARED (the shared tools; default ../shared beside the repository)
 * --keep keeps the work directory (/tmp/amphora-ctltier.*) whole; a failed run keeps it without
 * the database files.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assembleHarness, harnessEnv, killCurrent, readScenario, readTimings, runLogged } from './lib/harness.mjs';
import { hasIpvs, lacking } from './lib/requirements.mjs';
import { summarize } from './lib/verdict.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const SHARED = process.env.AMPHORA_SHARED || resolve(REPO, '..', 'shared');
const CONTROLLER_DIR = join(SHARED, 'tools', 'octavia-controller');
const REF_DIR = join(SHARED, 'tools', 'octavia-ref');
// hard limits per phase: each holds the harness's own bounded waits with room for a busy machine
const LIMIT = { up: 900, scenario: 1200, down: 300 };
// [health_manager] heartbeat_timeout of the run, for the failover step (the harness's 600 s never
// fails an amphora over). Not shorter: once keepalived dies (no IPVS here) the UDP amphora's
// heartbeats name no listener, the health manager stops refreshing its health row, and the UDP
// scenario's pool, member, monitor and LB delete (up to 10 s after the last refresh) must be over
// before it fails that amphora over; 30 s left 6 s to spare on a busy machine. `--agents swap`
// keeps 600: the swap stops the reference agent for 20-40 s, which would fail the amphora over.
const HEARTBEAT_TIMEOUT = 45;

const { values: opts } = parseArgs({
  options: { agents: { type: 'string' }, only: { type: 'string' }, keep: { type: 'boolean' }, verbose: { type: 'boolean' } },
});
const list = (s, all) => (s ? s.split(',').map((x) => x.trim()).filter((x) => all.includes(x)) : all);
const agents = opts.agents ? list(opts.agents, ['ref', 'ts', 'swap']) : ['ref', 'ts'];
// udp only when asked (--only udp): on this host (no IPVS) its steps past the listener are only
// reported, and test/controller-vm runs UDP load balancers through the same control plane on
// amphora VMs with IPVS (1.5-2.5 minutes of .ci/run saved)
const scenarios = opts.only ? list(opts.only, ['http', 'udp']) : ['http'];
const heartbeatTimeout = agents.includes('swap') ? null : HEARTBEAT_TIMEOUT;
const started = Date.now();
const say = (msg) => process.stdout.write(`[controller ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);

function report(obj, code) {
  process.stdout.write(`CONTROLLER-REPORT ${JSON.stringify(obj)}\n`);
  process.exit(code);
}

const missing = lacking({ controllerDir: CONTROLLER_DIR, refDir: REF_DIR, repo: REPO });
if (missing.length > 0) {
  const reason = `controller: needs ${missing.join(', ')}`;
  process.stderr.write(`SKIP ${reason}\n`);
  report({ ok: false, skipped: true, reason }, process.env.CI === 'true' ? 1 : 0);
}

const work = mkdtempSync(join(tmpdir(), 'amphora-ctltier.'));
const state = join(work, 'state');
const logFile = join(work, 'tier.log');
const harness = assembleHarness({ work, controllerDir: CONTROLLER_DIR, tierDir: HERE });
const env = harnessEnv({ work, refDir: REF_DIR, repo: REPO });
const verbose = Boolean(opts.verbose);
let stopping = false;
const run = (script, args, limitSec, extraEnv = {}) =>
  stopping && script !== 'down.sh'
    ? Promise.resolve({ code: 130, stdout: '', seconds: 0, timedOut: false })
    : runLogged(join(harness, script), args, { env: { ...env, ...extraEnv }, logFile, limitSec, verbose });
const host = { ipvs: hasIpvs(), cpus: cpus().length, loadavg_at_start: loadavg().map((l) => Math.round(l * 100) / 100) };
const verdictHost = { ipvs: host.ipvs, failover: heartbeatTimeout !== null };
const costs = {};
const results = {};
let upStarted = false;
let downRun = null;

/** down.sh, once, whichever of the normal end and an interruption gets here first. */
function down() {
  if (!upStarted) return Promise.resolve();
  downRun ??= run('down.sh', [state], LIMIT.down).then((d) => {
    costs.down_seconds = d.seconds;
    if (d.code !== 0) say(`down.sh exited ${d.code} (see ${logFile})`);
  });
  return downRun;
}

// An interruption ends the phase that runs (never down.sh itself) and lets the run go on to
// down.sh and the report: exiting here would leave down.sh orphaned (it dies on its closed pipe).
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stopping) return;
    say(`${sig}: stopping, then down.sh`);
    stopping = true;
    if (!downRun) killCurrent();
  });
}

const AGENT_WORDS = { ref: 'the reference agent', ts: 'our agent', swap: 'the reference agent for the LB create, then ours' };

async function scenario(name, agent) {
  // "swap": the reference plugs the VIP, then ours takes the amphora over (scenario-lib.sh)
  writeFileSync(join(state, 'agent-kind'), `${agent === 'swap' ? 'ref' : agent}\n`);
  const out = join(state, 'scenarios', `${name}-${agent}`);
  say(`${name} with ${AGENT_WORDS[agent]}`);
  const extra = { ...(agent === 'swap' ? { CTLTIER_SWAP_TO: 'ts' } : {}), ...(heartbeatTimeout ? { CTLTIER_HEARTBEAT_TIMEOUT: String(heartbeatTimeout) } : {}) };
  const r = await run(`scenario-${name}.sh`, [state, out], LIMIT.scenario, extra);
  const { steps, ids } = readScenario(r.stdout, out);
  const summary = summarize({ scenario: name, agent, steps, ids, seconds: r.seconds, timedOut: r.timedOut, host: verdictHost, ref: results[name]?.ref });
  for (const s of summary.steps) {
    const mark = { passed: 'ok  ', skipped: 'skip' }[s.outcome] ?? (s.required ? 'FAIL' : 'note');
    say(`  ${mark} ${s.step.padEnd(16)} ${String(s.seconds ?? '-').padStart(6)} s  ${s.status}`);
    for (const c of s.calls) say(`         ${c}`);
  }
  results[name] = { ...results[name], [agent]: summary };
}

async function main() {
  say(`work directory ${work}; agents ${agents.join(',')}; scenarios ${scenarios.join(',')}; IPVS ${host.ipvs ? 'yes' : 'no'}; heartbeat_timeout ${heartbeatTimeout ?? 600} s`);
  upStarted = true;
  // up.sh keeps an octavia-extra.conf that is there already, and every service reads it after
  // octavia.conf; heartbeat_timeout is not a mutable option, so it must be there before the start
  mkdirSync(join(state, 'etc'), { recursive: true });
  if (heartbeatTimeout) writeFileSync(join(state, 'etc', 'octavia-extra.conf'), `[health_manager]\nheartbeat_timeout = ${heartbeatTimeout}\n`);
  const up = await run('up.sh', ['--agent', 'ref', state], LIMIT.up);
  costs.up_seconds = up.seconds;
  costs.up_steps = readTimings(state);
  if (stopping) throw new Error('interrupted');
  if (up.code !== 0) throw new Error(`up.sh failed (exit ${up.code}${up.timedOut ? ', time limit' : ''})`);
  say(`control plane up in ${up.seconds.toFixed(1)} s`);
  for (const name of scenarios) {
    for (const agent of agents) {
      if (stopping) throw new Error('interrupted');
      await scenario(name, agent);
    }
  }
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
for (const [name, byAgent] of Object.entries(results)) {
  for (const [agent, s] of Object.entries(byAgent)) {
    if (!s.ok) {
      const why = [s.failed_steps.join(', '), s.not_run.length > 0 ? `${s.not_run.length} more not run` : ''].filter(Boolean).join('; ');
      failures.push(`${name}/${agent}: ${why || s.no_steps || (s.timed_out ? 'time limit' : 'interrupted')}`);
    }
  }
}
const ok = error === null && failures.length === 0 && Object.keys(results).length === scenarios.length;
if (ok && !opts.keep) rmSync(work, { recursive: true, force: true });
else {
  // a failed run keeps its logs; the database files (about 180 MB) only with --keep
  if (!opts.keep) for (const d of ['mysql', 'rabbit/mnesia']) rmSync(join(state, d), { recursive: true, force: true });
  say(`kept ${work} (tier.log, state/log, state/amps, state/scenarios)`);
}
report({ ok, skipped: false, interrupted: stopping, wall_seconds: (Date.now() - started) / 1000, host, heartbeat_timeout: heartbeatTimeout ?? 600, costs, error, failures, scenarios: results, work: ok && !opts.keep ? null : work }, stopping ? 130 : ok ? 0 : 1);
