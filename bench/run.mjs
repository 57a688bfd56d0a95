#!/usr/bin/env node
/**
 * `npm run bench`: measure the reference Python amphora agent and ours side by side through
 * Octavia's real client (octavia-ref/measure.py), print a table per suite and end with one
 * machine-readable line, `BENCH-REPORT {json}`.
 *
 * A suite is a module in bench/suites/ exporting `name` and `run(ctx)`, which returns
 * { params, reference, ours, ratios, targets, errors } (see suites/agent.mjs). To add one,
 * write the module and list it in SUITES below.
 *
 * Exit status: 0 when every suite produced its figures (a missed target is reported as MISSED,
 * not as a failure), 1 when a measurement failed, 2 on a usage error, 128+n on a signal.
 */
import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cleanup, makeTempDir } from './lib/cleanup.mjs';
import { UsageError } from './lib/knobs.mjs';
import { log } from './lib/log.mjs';
import { abortChildren } from './lib/processes.mjs';
import { formatTable } from './lib/report.mjs';
import { TOOLS, makePki } from './lib/shared-tools.mjs';

const SUITES = {
  agent: () => import('./suites/agent.mjs'),
  udp_upload_reload: () => import('./suites/udp_upload_reload.mjs'),
  check_script: () => import('./suites/check_script.mjs'),
  controller_calls: () => import('./suites/controller_calls.mjs'),
  heartbeat: () => import('./suites/heartbeat.mjs'),
  scale: () => import('./suites/scale.mjs'),
  image: () => import('./suites/image.mjs'),
  healthcheck_cpu: () => import('./suites/healthcheck_cpu.mjs'),
  scale_vm: () => import('./suites/scale_vm.mjs'),
};

/**
 * Suites that run only when BENCH_SUITES names them (image: two image builds and qemu boots, 15+
 * minutes; scale: hundreds of listeners and keepalived processes on both agents, 20+ minutes;
 * healthcheck_cpu: a UML VM with 50 listeners x 10 members per variant, 15-25 minutes; scale_vm:
 * a UML VM with up to 200 listeners x 10 members on our agent).
 */
const OPT_IN = new Set(['image', 'scale', 'healthcheck_cpu', 'scale_vm']);

function selectedSuites() {
  const defaults = Object.keys(SUITES).filter((s) => !OPT_IN.has(s));
  const wanted = (process.env.BENCH_SUITES ?? defaults.join(',')).split(',').filter(Boolean);
  const unknown = wanted.filter((s) => !(s in SUITES));
  if (unknown.length > 0) throw new UsageError(`unknown suite(s) in BENCH_SUITES: ${unknown.join(', ')} (known: ${Object.keys(SUITES).join(', ')})`);
  return wanted;
}

function hostInfo() {
  return {
    nproc: availableParallelism(),
    node: process.version,
    kernel: release(),
    loadavg_1m: Math.round(loadavg()[0] * 100) / 100,
    date: new Date().toISOString(),
  };
}

async function main(cleanup) {
  if (process.getuid?.() !== 0) throw new UsageError('must run as root: reference-agent.sh needs namespaces and bind mounts');
  const names = selectedSuites();
  const host = hostInfo();

  const tmp = await makeTempDir(cleanup);
  log(`work dir ${tmp.dir}; tools ${TOOLS}`);
  const pki = await makePki(join(tmp.dir, 'pki'));
  const ctx = { tmp, pki, cleanup };

  const report = { suites: {}, host, ok: true, errors: [] };
  for (const name of names) {
    const suite = await (await SUITES[name]()).run(ctx);
    report.suites[name] = suite;
    report.errors.push(...suite.errors.map((e) => `${name}: ${e}`));
  }
  report.host.loadavg_1m_end = Math.round(loadavg()[0] * 100) / 100;
  report.ok = report.errors.length === 0;
  return report;
}

function printReport(report) {
  const out = [];
  for (const [name, suite] of Object.entries(report.suites)) out.push(formatTable(name, suite), '');
  const targets = Object.entries(report.suites).flatMap(([name, s]) => Object.entries(s.targets).map(([k, t]) => ({ name, k, t })));
  const met = targets.filter(({ t }) => t.met === true).length;
  const missed = targets.filter(({ t }) => t.met === false).map(({ name, k, t }) => `${name}.${k} (${t.ratio} > ${t.max_ratio})`);
  const unknown = targets.filter(({ t }) => t.met === null).map(({ name, k }) => `${name}.${k}`);
  out.push(
    `targets: ${met}/${targets.length} met` +
      (missed.length ? `; MISSED: ${missed.join(', ')}` : '') +
      (unknown.length ? `; not measured: ${unknown.join(', ')}` : ''),
  );
  for (const e of report.errors) out.push(`ERROR: ${e}`);
  out.push(`BENCH-REPORT ${JSON.stringify(report)}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

const cleanup = new Cleanup();
let signalled = false;

// On a signal: stop our direct children (measure.py), undo everything, exit 128+n. The main
// flow, which may still be unwinding, then leaves the exit to this handler.
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.once(signal, () => {
    signalled = true;
    log(`${signal}: cleaning up`);
    abortChildren();
    // measure.py launches agents in their own session, so the signal did not reach a start
    // command in flight; give it a moment to write the pid file that cleanup looks for.
    void sleep(500)
      .then(() => cleanup.runAll())
      .finally(() => process.exit(128 + number));
  });
}

/** The exit status, or undefined when a signal handler owns the exit. */
async function entry() {
  try {
    const report = await main(cleanup);
    await cleanup.runAll();
    if (signalled) return undefined;
    printReport(report);
    if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, `${JSON.stringify(report, null, 1)}\n`);
    return report.ok ? 0 : 1;
  } catch (err) {
    if (signalled) return undefined;
    await cleanup.runAll();
    log(err instanceof UsageError ? err.message : `failed: ${err?.stack ?? err}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

const code = await entry();
if (code !== undefined) process.exit(code);
