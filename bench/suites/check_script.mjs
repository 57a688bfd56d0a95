/**
 * Suite "check_script": what the VRRP keepalived pays every `interval` (5 s) on an
 * ACTIVE_STANDBY amphora to learn whether its LVS listeners are alive, with 1, 10 and 50
 * listeners that should be running.
 *
 * ours: our agent (init_system = direct, in a test namespace of its own) gets real listeners
 * through its API (the controller's disabled-listener config + reload, so 1, 10, then 50 real
 * idle keepalived processes) and a controller-rendered VRRP config (uploaded, not started), which
 * makes it write <base>/vrrp/check_script.sh; that runs <base>/vrrp/check_scripts/lvs_udp_check.sh.
 *
 * reference: the scripts the reference agent writes in sysvinit mode with ACTIVE_STANDBY
 * (check_script.sh, then lvs_udp_check.sh, which runs `kill -0 \`cat $file\`` per pid file),
 * taken from its sandbox after one UDP listener and one VRRP upload, with their two directories
 * pointed at a copy of the check_scripts dir and at OUR agent's lvs dir, so that both check the
 * same live keepalived processes. (Its systemd variant runs `systemctl status` per listener,
 * which in the sandbox is a python fake and not what a real amphora pays, so it is not used.)
 *
 * Each script is run the way keepalived runs it, by its interpreter (ours /bin/sh, the
 * reference /bin/bash), BENCH_N_CHECK times, the two agents' runs interleaved; the time is
 * spawn to exit, as seen from node.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { envInt } from '../lib/knobs.mjs';
import { log, showLogTails } from '../lib/log.mjs';
import { ourAgent } from '../lib/our-agent.mjs';
import { runCommand } from '../lib/processes.mjs';
import { referenceAgent } from '../lib/reference-agent.mjs';
import { compare, missingFigures } from '../lib/report.mjs';
import { TOOLS } from '../lib/shared-tools.mjs';
import { latencyStats } from '../lib/stats.mjs';
import { testNamespace } from '../lib/test-namespace.mjs';
import { runUdpClient } from '../lib/udp-client.mjs';

export const name = 'check_script';

const COUNTS = [1, 10, 50];

const listenerId = (i) => `ffffffff-0000-0000-0000-0000000c${String(i).padStart(4, '0')}`;

/** What the controller would send, rendered by octavia-client.py (Octavia's own templaters). */
async function render(args) {
  const r = await runCommand(join(TOOLS, 'octavia-client.py'), args);
  if (r.code !== 0) throw new Error(`octavia-client.py ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** One call of the real client CLI (octavia-client.py) against an agent. */
export async function client(ctx, agent, args) {
  const r = await runCommand(join(TOOLS, 'octavia-client.py'), ['--base-url', agent.baseUrl, '--certs', ctx.pki.dir, ...args]);
  if (r.code !== 0) throw new Error(`octavia-client.py ${args[0]} against ${agent.role} failed (exit ${r.code}): ${(r.stderr + r.stdout).trim()}`);
  return r.stdout;
}

/**
 * The reference's check_script.sh and lvs_udp_check.sh as its agent writes them in sysvinit
 * mode with ACTIVE_STANDBY: started in its sandbox, sent one disabled UDP listener and the
 * controller's VRRP config, read back, stopped.
 */
export async function referenceScripts(ctx, tmpFile) {
  const ref = await referenceAgent(ctx, { name: 'checks', mode: 'sysvinit', topology: 'ACTIVE_STANDBY' });
  try {
    log(`getting the check scripts of ${ref.label}`);
    await ref.start();
    const id = listenerId(9999);
    await writeFile(tmpFile, await render(['render-udp', id, '--disabled']));
    await client(ctx, ref, ['upload-udp', id, '--file', tmpFile]);
    await writeFile(tmpFile, await render(['render-vrrp']));
    await client(ctx, ref, ['upload-vrrp', '--file', tmpFile]);
    const base = join(ref.agentDir, 'var-lib-octavia');
    return {
      checkScript: await readFile(join(base, 'vrrp', 'check_script.sh'), 'utf8'),
      lvsCheck: await readFile(join(base, 'vrrp', 'check_scripts', 'lvs_udp_check.sh'), 'utf8'),
      checkScriptsDir: (await readdir(join(base, 'vrrp', 'check_scripts'))).sort(),
    };
  } catch (err) {
    showLogTails(ref);
    throw err;
  } finally {
    await ref.stop();
  }
}

/** Run `interpreter file` once: ms from spawn to exit, status, output. */
export function runOnce(interpreter, file) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(interpreter, [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
}

/**
 * The VRRP config's interface must exist in our namespace for keepalived --config-test: a
 * veth pair of ours, one end moved into the test namespace as eth1. It goes away with the
 * namespace.
 */
export async function addVeth(ctx, namespace) {
  const hostEnd = `aatb-${namespace.slice(-8)}`;
  const veth = await runCommand('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', namespace]);
  if (veth.code !== 0) throw new Error(`ip link add ${hostEnd} failed: ${veth.stderr.trim()}`);
  ctx.cleanup.add(`delete veth ${hostEnd}`, async () => {
    await runCommand('ip', ['link', 'del', hostEnd]); // already gone when the namespace went first
  });
}

/** Starts our agent and uploads the controller's VRRP config to it: the paths of its scripts and lvs dir. */
export async function startOurs(ctx, ours, tmpFile) {
  log(`starting ${ours.label}`);
  await ours.start();
  await writeFile(tmpFile, (await render(['render-vrrp'])).replaceAll('/var/lib/octavia/', `${ours.basePath}/`));
  await client(ctx, ours, ['upload-vrrp', '--file', tmpFile]);
  const checkScript = join(ours.basePath, 'vrrp', 'check_script.sh');
  const lvsCheck = join(ours.basePath, 'vrrp', 'check_scripts', 'lvs_udp_check.sh');
  const lvsDir = join(ours.basePath, 'lvs');
  return { checkScript, lvsCheck, lvsDir };
}

/**
 * The reference's scripts, pointed at our lvs dir. Its lvs_udp_check.sh takes the part of
 * each path after the FIRST dot as the extension (`${file#*.}`), so the directory it lists
 * must have no dot in its path: a symlink in a dot-free dir of our own.
 */
export async function pointReference(ctx, ref, lvsDir) {
  const refDir = await mkdtemp('/tmp/aat-bench-refcheck-');
  ctx.cleanup.add(`remove ${refDir}`, () => rm(refDir, { recursive: true, force: true }));
  if (refDir.includes('.')) throw new Error(`${refDir} has a dot in its path`);
  await symlink(lvsDir, join(refDir, 'lvs'));
  await mkdir(join(refDir, 'check_scripts'));
  const refLvsCheck = join(refDir, 'check_scripts', 'lvs_udp_check.sh');
  const refCheckScript = join(refDir, 'check_script.sh');
  const swap = (text, from, to) => {
    if (!text.includes(from)) throw new Error(`the reference script has no ${from}:\n${text}`);
    return text.replaceAll(from, to);
  };
  await writeFile(refLvsCheck, swap(ref.lvsCheck, '/var/lib/octavia/lvs', join(refDir, 'lvs')), { mode: 0o755 });
  await writeFile(refCheckScript, swap(ref.checkScript, '/var/lib/octavia/vrrp/check_scripts', join(refDir, 'check_scripts')), { mode: 0o755 });
  return { refDir, refLvsCheck, refCheckScript };
}

/** Both sides' scripts, checking the same live keepalived processes, and an empty script. */
async function prepareSides(b, tmpFile) {
  const { ctx, ours, namespace, notes } = b;
  const ref = await referenceScripts(ctx, tmpFile);
  notes.push(`reference check_scripts dir after one UDP listener and one VRRP upload (sysvinit, ACTIVE_STANDBY): ${ref.checkScriptsDir.join(' ')}`);
  if (!ref.lvsCheck.includes('kill -0 `cat $file`')) throw new Error(`the reference's lvs_udp_check.sh is not its sysvinit variant:\n${ref.lvsCheck}`);
  await addVeth(ctx, namespace);
  const { checkScript, lvsCheck, lvsDir } = await startOurs(ctx, ours, tmpFile);
  const { refDir, refLvsCheck, refCheckScript } = await pointReference(ctx, ref, lvsDir);
  const sides = {
    ours: { shell: '/bin/sh', check: checkScript, lvs: lvsCheck },
    reference: { shell: '/bin/bash', check: refCheckScript, lvs: refLvsCheck },
  };
  // What an empty script costs each interpreter, spawn included.
  const noop = join(refDir, 'noop.sh');
  await writeFile(noop, '');
  return { sides, noop, lvsCheck, refLvsCheck };
}

/** `runs` runs of each side's `key` script (or the empty one), the two sides interleaved. */
function timeAll({ sides, noop }, runs, key) {
  const samples = { ours: [], reference: [] };
  for (let i = 0; i < runs; i++) {
    for (const role of i % 2 ? ['reference', 'ours'] : ['ours', 'reference']) {
      const s = sides[role];
      const r = runOnce(s.shell, key === 'noop' ? noop : s[key]);
      if (r.error || r.status !== 0) throw new Error(`${role} ${key}: ${r.error?.message ?? `exit ${r.status}`}: ${r.output.trim().slice(0, 500)}`);
      samples[role].push(r.ms);
    }
  }
  return { ours: latencyStats(samples.ours), reference: latencyStats(samples.reference) };
}

/** Brings our agent to `n` listeners, and checks that both sides' scripts really check `n`, and pass. */
async function addListeners(b, prep, n) {
  const { ctx, ours, namespace, notes } = b;
  const { lvsCheck, refLvsCheck } = prep;
  const ids = Array.from({ length: n - b.have }, (_, i) => listenerId(b.have + i + 1));
  log(`check_script: creating ${ids.length} listener(s) through our agent's API (upload + reload), ${n} in all`);
  const res = await runUdpClient(ctx, 'create', { agents: [{ name: 'ours', base_url: ours.baseUrl, namespace }], listener_ids: ids, parallel: 8 });
  b.created = n;
  if (res.errors.length > 0) throw new Error(`creating listeners failed: ${res.errors.slice(0, 3).join(' || ')}`);
  notes.push(`${ids.length} listener(s) created in ${res.seconds} s (8 in parallel)`);
  b.have = n;

  // Both sides must really check n listeners, and pass.
  const listed = ((await readFile(lvsCheck, 'utf8')).match(/^if ! alive /gm) ?? []).length;
  if (listed !== n) throw new Error(`our lvs_udp_check.sh checks ${listed} listeners, expected ${n}`);
  const refRun = runOnce('/bin/bash', refLvsCheck);
  const refChecked = (refRun.output.match(/^Check keepalived pid file: /gm) ?? []).length;
  if (refRun.status !== 0 || refChecked !== n) {
    throw new Error(`the reference's lvs_udp_check.sh checked ${refChecked} pid files (expected ${n}), exit ${refRun.status}: ${refRun.output.slice(0, 500)}`);
  }
  if (n === COUNTS[0]) {
    const dir = (await readdir(join(ours.basePath, 'vrrp', 'check_scripts'))).sort().join(' ');
    notes.push(`our check_scripts dir: ${dir}`);
  }
}

/** The scripts timed with `n` listeners. */
function timeScripts(b, prep, n) {
  const { fig, params } = b;
  log(`check_script: ${n} listener(s): ${params.runs} runs of each script per agent`);
  for (const key of ['check', 'lvs']) {
    const st = timeAll(prep, params.runs, key);
    for (const role of ['reference', 'ours']) {
      fig[role][`${key}_n${n}_mean_ms`] = st[role].mean_ms;
      fig[role][`${key}_n${n}_p50_ms`] = st[role].median_ms;
      fig[role][`${key}_n${n}_p99_ms`] = st[role].p99_ms;
    }
  }
}

/** Deletes the `created` listeners of our agent; failures go to `errors`. */
async function deleteListeners(b, errors) {
  const { ctx, ours, namespace, created } = b;
  try {
    const ids = Array.from({ length: created }, (_, i) => listenerId(i + 1));
    const res = await runUdpClient(ctx, 'delete', { agents: [{ name: 'ours', base_url: ours.baseUrl, namespace }], listener_ids: ids, parallel: 8 });
    if (res.errors.length > 0) errors.push(`deleting listeners: ${res.errors.slice(0, 3).join(' || ')}`);
  } catch (err) {
    errors.push(err?.message ?? String(err));
  }
}

/** Every figure the report promises, null when missing (an error when nothing else failed), and the notes. */
function finishFigures(fig, errors, notes) {
  const required = ['shell_noop_p50_ms', ...COUNTS.flatMap((n) => [`check_n${n}_mean_ms`, `check_n${n}_p50_ms`, `lvs_n${n}_p50_ms`])];
  for (const role of ['reference', 'ours']) {
    for (const k of required) fig[role][k] ??= null;
    const missing = missingFigures(role, fig[role], required);
    if (missing.length > 0 && errors.length === 0) errors.push(`missing figures: ${missing.join(', ')}`);
  }
  notes.push('check_* = check_script.sh (which runs lvs_udp_check.sh), lvs_* = lvs_udp_check.sh alone; ours by /bin/sh, the reference by /bin/bash; ms from spawn to exit');
  notes.push("reference = its own sysvinit-variant script text (kill -0 `cat $file` per pid file), directories pointed at our lvs dir");
}

export async function run(ctx) {
  const params = { listeners: COUNTS, runs: envInt('BENCH_N_CHECK', 200) };
  const errors = [];
  const notes = [];
  const fig = { reference: {}, ours: {} };
  const tmpFile = join(ctx.tmp.dir, 'check-script-upload.conf');

  const namespace = await testNamespace(ctx);
  params.ours_namespace = namespace;
  const ours = await ourAgent(ctx, {
    name: 'checks',
    settings: { amphora_agent: { network_namespace: namespace }, controller_worker: { loadbalancer_topology: 'ACTIVE_STANDBY' } },
  });
  const b = { ctx, ours, namespace, params, fig, notes, created: 0, have: 0 };
  try {
    const prep = await prepareSides(b, tmpFile);
    const noopStats = timeAll(prep, params.runs, 'noop');
    for (const role of ['reference', 'ours']) fig[role].shell_noop_p50_ms = noopStats[role].median_ms;

    for (const n of COUNTS) {
      await addListeners(b, prep, n);
      timeScripts(b, prep, n);
    }
  } catch (err) {
    errors.push(err?.message ?? String(err));
    showLogTails(ours);
  } finally {
    if (b.created > 0) await deleteListeners(b, errors);
    await ours.stop().catch((e) => errors.push(`stopping ours: ${e.message}`));
  }

  finishFigures(fig, errors, notes);

  return {
    params,
    agents: { reference: 'octavia-agent scripts (reference-agent.sh sysvinit ACTIVE_STANDBY), run over our pid files', ours: ours.label },
    reference: fig.reference,
    ours: fig.ours,
    ...compare(fig.reference, fig.ours, {}),
    notes,
    errors,
  };
}
