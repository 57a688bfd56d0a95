/**
 * Suite "scale": what N idle UDP listeners cost an amphora (issue 15 item 1, the host part), our
 * agent against the reference, for N = 1, 50, 200 (and 500 with BENCH_SCALE_COUNTS).
 *
 * Both agents run at once, each with its own keepalived per listener (the N+1 model): the
 * reference in its sandbox (reference-agent.sh systemd SINGLE: its fake systemctl really starts
 * the units), ours with init_system = direct in a test namespace of its own, ACTIVE_STANDBY (so
 * that it writes its VRRP check scripts) with the controller's VRRP config uploaded, not started.
 * Every listener is the controller's rendering of an enabled UDP listener without a pool (this
 * host has no IPVS: keepalived runs it idle, its parent process alone; a disabled listener would
 * be left out of both heartbeats), sent through the real client (scale_client.py, built on
 * udp_client.py's Agent).
 *
 * At each N, growing from the last: both agents get N listeners (upload + reload; ours 8 at a
 * time, the reference 2), then
 * - memory: PSS of the agent's processes (the reference's gunicorn master, worker and health
 *   sender; our node) and of every keepalived (descendants of the reference's sandbox, of our
 *   node), agent RSS;
 * - upload and reload: BENCH_SCALE_PAIRS changed pairs on listener 1, the agents taking turns;
 * - GET /1.0/listeners: BENCH_SCALE_GETS calls per agent, taking turns;
 * - the VRRP check script: ours, and the reference's sysvinit-variant text pointed at our lvs dir
 *   (as the check_script suite does), BENCH_SCALE_CHECKS runs each, interleaved;
 * - heartbeat build: ours from its "heartbeat sent" lines with heartbeat_interval = 1 (set by PUT
 *   /1.0/config for the phase), the reference's build_stats_message() over our files
 *   (heartbeat_ref.py, as the heartbeat suite does), BENCH_SCALE_BEATS each, at the same time;
 * - delete: the newest BENCH_SCALE_DELETES listeners, one at a time (the controller's pace), made
 *   again after; at the last N, all of them, timed in all.
 * Then the costs per listener: the least-squares slope of each figure over N.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { referenceBuilds, pythonServer } from '../lib/heartbeat-python.mjs';
import { heartbeatReceiver } from '../lib/heartbeat-receiver.mjs';
import { fileSize, waitForBeats } from '../lib/heartbeat-setup.mjs';
import { envInt, UsageError } from '../lib/knobs.mjs';
import { log, showLogTails } from '../lib/log.mjs';
import { ourAgent } from '../lib/our-agent.mjs';
import { cmdline, descendants, memoryOf, processTree } from '../lib/proc-memory.mjs';
import { runCommand } from '../lib/processes.mjs';
import { referenceAgent } from '../lib/reference-agent.mjs';
import { compare } from '../lib/report.mjs';
import { REPO, TOOLS } from '../lib/shared-tools.mjs';
import { latencyStats, round, slope } from '../lib/stats.mjs';
import { testNamespace } from '../lib/test-namespace.mjs';
import { addVeth, client, pointReference, referenceScripts, runOnce, startOurs } from './check_script.mjs';

export const name = 'scale';

const KEY = 'insecure';
const SIDES = ['reference', 'ours'];
const listenerId = (i) => `ffffffff-0000-0000-0015-${String(i).padStart(12, '0')}`;
const mib = (kib) => round(kib / 1024, 2);

/** Figures per N, and what their slope over N is called (`_per_listener`). */
const PER_N = [
  'pss_total_mib', 'agent_pss_mib', 'agent_rss_mib', 'keepalived_pss_mib', 'keepalived_rss_mib',
  'upload_p50_ms', 'reload_p50_ms', 'list_p50_ms', 'check_p50_ms', 'hb_build_p50_ms', 'delete_p50_ms',
];

function counts() {
  const raw = process.env.BENCH_SCALE_COUNTS ?? '1,50,200';
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.some((n) => !Number.isSafeInteger(n) || n < 1 || n > 2000) || list.length < 2) {
    throw new UsageError(`BENCH_SCALE_COUNTS must list at least two listener counts from 1 to 2000, got ${raw}`);
  }
  return [...new Set(list)].sort((a, b) => a - b);
}

/** scale_client.py, one long-lived process for both agents: `call(command)` → its answer (throws on its errors). */
async function scaleClient(ctx, agents) {
  const file = join(ctx.tmp.dir, 'scale-client.json');
  await writeFile(file, JSON.stringify({ certs: ctx.pki.dir, amphora_id: ctx.pki.amphoraId, tools: TOOLS, agents }));
  const server = await pythonServer(ctx, 'scale_client', [join(REPO, 'bench', 'scale_client.py'), file]);
  return {
    async call(command, { tolerate = false } = {}) {
      await server.ready;
      const out = await server.request(JSON.stringify(command));
      if (!tolerate && out.errors.length > 0) throw new Error(`scale_client.py ${command.cmd}: ${out.errors.slice(0, 3).join(' || ')}`);
      return out;
    },
  };
}

/** The processes of each side now: agent pids and keepalived pids. */
async function processesOf(b) {
  const tree = await processTree();
  const ourPid = Number((await readFile(b.ours.pidFile, 'utf8')).trim());
  const unshare = Number((await readFile(join(b.ref.agentDir, 'unshare.pid'), 'utf8')).trim());
  const refAgent = (await runCommand('sh', ['-c', b.ref.pidCmd])).stdout.split(/\s+/).filter(Boolean).map(Number);
  if (refAgent.length === 0) throw new Error('reference-agent.sh pids found no reference agent process');
  // the listeners' keepalived (our VRRP keepalived is not one)
  const keepalived = (root) => descendants(tree, root).filter((p) => tree.get(p)?.comm === 'keepalived' && cmdline(p).includes('/lvs/octavia-keepalivedlvs-'));
  return {
    ours: { agent: [ourPid], keepalived: keepalived(ourPid) },
    reference: { agent: refAgent, keepalived: keepalived(unshare) },
  };
}

async function memoryPhase(b, n) {
  await sleep(b.params.settle_s * 1000);
  const procs = await processesOf(b);
  for (const side of SIDES) {
    const agent = await memoryOf(procs[side].agent);
    const kad = await memoryOf(procs[side].keepalived);
    const f = b.fig[side];
    f[`agent_procs_n${n}`] = agent.procs;
    f[`agent_rss_mib_n${n}`] = mib(agent.rss);
    f[`agent_pss_mib_n${n}`] = mib(agent.pss);
    f[`keepalived_procs_n${n}`] = kad.procs;
    f[`keepalived_pss_mib_n${n}`] = mib(kad.pss);
    f[`keepalived_rss_mib_n${n}`] = mib(kad.rss);
    f[`pss_total_mib_n${n}`] = mib(agent.pss + kad.pss);
    b.raw[side][n] = { agent, keepalived: kad };
    // one keepalived per listener, each its parent process alone (no virtual server, no VRRP)
    if (kad.procs !== n) b.errors.push(`n=${n}: ${side} has ${kad.procs} keepalived processes, not ${n}`);
  }
}

/** Brings each agent from the listeners it has to `n` (upload + reload, 8 at a time). */
async function createPhase(b, n, order) {
  for (const side of order) {
    const have = b.made[side].length;
    const ids = Array.from({ length: n - have }, (_, i) => listenerId(have + i + 1));
    // the reference's gunicorn has one sync worker: more requests at once only queue, and one
    // that waits for its TLS handshake longer than the client's 10 s connect timeout fails
    const parallel = side === 'reference' ? 2 : 8;
    log(`scale: ${side}: creating ${ids.length} listener(s), ${parallel} at a time, ${n} in all`);
    const res = await b.client.call({ cmd: 'create', agent: side, listener_ids: ids, parallel });
    b.made[side].push(...ids);
    b.fig[side][`create_s_to_n${n}`] = res.seconds;
  }
}

async function pairsPhase(b, n) {
  const res = await b.client.call({ cmd: 'pairs', n: b.params.pairs, targets: SIDES.map((agent) => ({ agent, listener_id: listenerId(1) })) });
  for (const side of SIDES) {
    b.fig[side][`upload_p50_ms_n${n}`] = latencyStats(res.agents[side].upload_ms)?.median_ms ?? null;
    b.fig[side][`reload_p50_ms_n${n}`] = latencyStats(res.agents[side].reload_ms)?.median_ms ?? null;
  }
}

async function listPhase(b, n) {
  const res = await b.client.call({ cmd: 'list', n: b.params.gets, agents: SIDES });
  for (const side of SIDES) {
    const r = res.agents[side];
    b.fig[side][`list_p50_ms_n${n}`] = latencyStats(r.ms)?.median_ms ?? null;
    if (r.count !== n) b.errors.push(`n=${n}: ${side}'s GET /1.0/listeners listed ${r.count}, not ${n}`);
    b.statuses[side][n] = r.statuses;
  }
}

/** Both check scripts timed, after checking that each checks n listeners and passes. */
function checkPhase(b, n) {
  const listed = (b.ourLvsText().match(/^if ! alive /gm) ?? []).length;
  if (listed !== n) b.errors.push(`n=${n}: our lvs_udp_check.sh checks ${listed} listeners, not ${n}`);
  const refRun = runOnce('/bin/bash', b.scripts.reference.lvs);
  const refChecked = (refRun.output.match(/^Check keepalived pid file: /gm) ?? []).length;
  if (refRun.status !== 0 || refChecked !== n) b.errors.push(`n=${n}: the reference's lvs_udp_check.sh checked ${refChecked} pid files, exit ${refRun.status}`);
  const samples = { ours: [], reference: [] };
  for (let i = 0; i < b.params.checks; i++) {
    for (const side of i % 2 ? ['reference', 'ours'] : ['ours', 'reference']) {
      const s = b.scripts[side];
      const r = runOnce(s.shell, s.check);
      if (r.error || r.status !== 0) throw new Error(`${side} check_script.sh at n=${n}: ${r.error?.message ?? `exit ${r.status}`}: ${r.output.trim().slice(0, 300)}`);
      samples[side].push(r.ms);
    }
  }
  for (const side of SIDES) b.fig[side][`check_p50_ms_n${n}`] = latencyStats(samples[side])?.median_ms ?? null;
}

async function setHeartbeatInterval(b, seconds) {
  const text = (await readFile(b.ours.configFile, 'utf8')).replace(/^heartbeat_interval = \d+$/m, `heartbeat_interval = ${seconds}`);
  await writeFile(b.ours.configFile, text);
  await b.client.call({ cmd: 'config', agent: 'ours', text });
}

/** Our heartbeats at 1 s and the reference's builds over our files, at the same time. */
async function heartbeatPhase(b, n) {
  const beats = b.params.beats;
  await b.refBuilds.ready;
  const from = await fileSize(b.ours.logFile);
  await setHeartbeatInterval(b, 1);
  try {
    const [refOut, mine] = await Promise.all([b.refBuilds.build(beats), waitForBeats(b.ours.logFile, from, beats + 1, (beats + 1) * 3000 + 60_000)]);
    // the first beat after the change may be one begun before it
    const timed = mine.slice(1, beats + 1);
    const off = timed.filter((x) => x.listeners !== n).length;
    if (off > 0) b.errors.push(`n=${n}: ${off} of our timed heartbeats did not list ${n} listeners`);
    if (refOut.listeners.length !== n) b.errors.push(`n=${n}: the reference's heartbeat lists ${refOut.listeners.length} listeners, not ${n}`);
    b.fig.ours[`hb_build_p50_ms_n${n}`] = latencyStats(timed.map((x) => x.buildMs))?.median_ms ?? null;
    b.fig.reference[`hb_build_p50_ms_n${n}`] = latencyStats(refOut.build_ms)?.median_ms ?? null;
  } finally {
    await setHeartbeatInterval(b, 10);
  }
}

/**
 * Deletes at N: the newest `deletes` listeners one at a time (the controller's pace), then makes
 * them again, so that the next N grows from here; at the last N, every listener, timed in all.
 */
async function deletePhase(b, n, order, last) {
  for (const side of order) {
    const ids = last ? [...b.made[side]].reverse() : b.made[side].slice(-Math.min(b.params.deletes, n)).reverse();
    log(`scale: ${side}: deleting ${ids.length} listener(s) of ${n}, one at a time`);
    const res = await b.client.call({ cmd: 'delete', agent: side, listener_ids: ids, parallel: 1 });
    b.made[side] = b.made[side].filter((id) => !ids.includes(id));
    // the first deletes of the last N are the same sample as at the other N
    b.fig[side][`delete_p50_ms_n${n}`] = latencyStats(res.ms.slice(0, Math.min(b.params.deletes, n)))?.median_ms ?? null;
    if (last) b.fig[side][`delete_all_s_n${n}`] = res.seconds;
    else {
      const again = [...ids].reverse();
      await b.client.call({ cmd: 'create', agent: side, listener_ids: again, parallel: 1 });
      b.made[side].push(...again);
    }
  }
  if (!last) return;
  await sleep(1000);
  const procs = await processesOf(b);
  for (const side of SIDES) if (procs[side].keepalived.length > 0) b.errors.push(`n=${n}: ${side} still has ${procs[side].keepalived.length} keepalived after deleting all`);
}

/** The per-listener slopes, each segment's slope in the notes (a last segment much steeper than the first says worse than linear). */
function slopes(b) {
  const ns = b.params.listeners.filter((n) => b.fig.ours[`pss_total_mib_n${n}`] !== undefined);
  for (const key of PER_N) {
    const segs = {};
    for (const side of SIDES) {
      const pts = ns.map((n) => [n, b.fig[side][`${key}_n${n}`]]);
      const s = slope(pts);
      const unit = key.endsWith('_s') ? 1000 : 1; // seconds per N → ms per listener
      const perKey = key.endsWith('_s') ? `${key.slice(0, -2)}_ms_per_listener` : `${key}_per_listener`;
      b.fig[side][perKey] = s === null ? null : round(s * unit, 4);
      segs[side] = pts.slice(1).map(([n, y], i) => {
        const [n0, y0] = pts[i];
        return typeof y === 'number' && typeof y0 === 'number' ? round(((y - y0) / (n - n0)) * unit, 4) : null;
      });
    }
    b.notes.push(`${key} per listener by segment (${ns.join('→')}): reference ${segs.reference.join(', ')}; ours ${segs.ours.join(', ')}`);
  }
  const top = ns.at(-1);
  for (const side of SIDES) {
    const k = b.raw[side][top]?.keepalived;
    if (k && k.procs > 0) {
      b.fig[side][`keepalived_pss_mib_each_n${top}`] = mib(k.pss / k.procs);
      b.fig[side][`keepalived_rss_mib_each_n${top}`] = mib(k.rss / k.procs);
      b.fig[side][`keepalived_pss_anon_mib_each_n${top}`] = mib(k.pssAnon / k.procs);
      b.fig[side][`keepalived_uss_mib_each_n${top}`] = mib(k.uss / k.procs);
    }
  }
}

async function prepare(b, tmpFile) {
  const ref = await referenceScripts(b.ctx, tmpFile);
  await addVeth(b.ctx, b.ns);
  const our = await startOurs(b.ctx, b.ours, tmpFile);
  // an ACTIVE_STANDBY amphora runs its VRRP keepalived (it runs the check script; without it our
  // agent skips heartbeats, as the reference does); eth1's peer stays down: no advert leaves
  await client(b.ctx, b.ours, ['start-vrrp']);
  const pointed = await pointReference(b.ctx, ref, our.lvsDir);
  b.scripts = {
    ours: { shell: '/bin/sh', check: our.checkScript, lvs: our.lvsCheck },
    reference: { shell: '/bin/bash', check: pointed.refCheckScript, lvs: pointed.refLvsCheck },
  };
  b.ourLvsText = () => readFileSync(our.lvsCheck, 'utf8');
  log(`starting ${b.ref.label}`);
  await b.ref.start();
  // the reference's heartbeat code reads our agent's lvs dir through <refBase>/lvs
  await mkdir(b.refBase, { recursive: true });
  await symlink(our.lvsDir, join(b.refBase, 'lvs'));
}

export async function run(ctx) {
  const params = {
    listeners: counts(),
    pairs: envInt('BENCH_SCALE_PAIRS', 5),
    gets: envInt('BENCH_SCALE_GETS', 20),
    checks: envInt('BENCH_SCALE_CHECKS', 20),
    beats: envInt('BENCH_SCALE_BEATS', 10),
    deletes: envInt('BENCH_SCALE_DELETES', 5),
    settle_s: envInt('BENCH_SCALE_SETTLE', 5),
  };
  const ns = await testNamespace(ctx);
  await runCommand('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  params.ours_namespace = ns;
  const rx = await heartbeatReceiver(ctx, 'ours');
  const ours = await ourAgent(ctx, {
    name: 'scale',
    settings: {
      amphora_agent: { network_namespace: ns },
      controller_worker: { loadbalancer_topology: 'ACTIVE_STANDBY' },
      health_manager: { controller_ip_port_list: rx.entry, heartbeat_interval: 10, heartbeat_key: KEY },
    },
  });
  const ref = await referenceAgent(ctx, { name: 'scale', mode: 'systemd', topology: 'SINGLE' });
  const b = {
    ctx, ns, ours, ref, params,
    refBase: join(ctx.tmp.dir, 'scale-ref-base'),
    fig: { reference: {}, ours: {} },
    raw: { reference: {}, ours: {} },
    statuses: { reference: {}, ours: {} },
    made: { reference: [], ours: [] },
    notes: [],
    errors: [],
  };
  try {
    await prepare(b, join(ctx.tmp.dir, 'scale-upload.conf'));
    b.client = await scaleClient(ctx, [
      { name: 'reference', base_url: ref.baseUrl, namespace: 'amphora-haproxy' },
      { name: 'ours', base_url: ours.baseUrl, namespace: ns },
    ]);
    b.refBuilds = await referenceBuilds(ctx, { base_path: b.refBase, amphora_id: ctx.pki.amphoraId, heartbeat_key: KEY, interval: 1 });
    for (const [i, n] of params.listeners.entries()) {
      const order = i % 2 ? ['ours', 'reference'] : ['reference', 'ours'];
      await createPhase(b, n, order);
      log(`scale: n=${n}: memory, ${params.pairs} pairs, ${params.gets} GET listeners, ${params.checks} check runs, ${params.beats} heartbeats each`);
      await memoryPhase(b, n);
      await listPhase(b, n);
      await pairsPhase(b, n);
      checkPhase(b, n);
      await heartbeatPhase(b, n);
      await deletePhase(b, n, order, i === params.listeners.length - 1);
      log(`scale: n=${n} done (load ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')})`);
    }
  } catch (err) {
    b.errors.push(err?.message ?? String(err));
    showLogTails(ours);
    showLogTails(ref);
  } finally {
    for (const side of SIDES) {
      if (b.made[side].length > 0 && b.client) {
        await b.client.call({ cmd: 'delete', agent: side, listener_ids: b.made[side], parallel: 8 }, { tolerate: true }).catch((e) => b.errors.push(`deleting ${side}'s listeners: ${e.message}`));
      }
    }
    await ours.stop().catch((e) => b.errors.push(`stopping ours: ${e.message}`));
    await ref.stop().catch((e) => b.errors.push(`stopping the reference: ${e.message}`));
  }
  slopes(b);
  for (const side of SIDES) {
    const st = Object.entries(b.statuses[side]).map(([n, s]) => `n=${n} ${JSON.stringify(s)}`).join('; ');
    b.notes.push(`${side} GET /1.0/listeners statuses: ${st}`);
  }
  b.notes.push(
    'memory: PSS/RSS from /proc/<pid>/smaps_rollup; agent = the reference\'s gunicorn master, worker and health sender (reference-agent.sh pids), our node; ' +
      'keepalived = every keepalived below the reference\'s sandbox and below our node. Both agents\' keepalived run at once from the same binary, so each side\'s PSS carries half of the shared pages: compare the slopes',
    'pairs: changed upload + reload of listener 1 at N; check: check_script.sh (ours by /bin/sh, the reference\'s sysvinit text by /bin/bash over our pid files); ' +
      'hb_build: ours = buildMs of "heartbeat sent" at heartbeat_interval 1, the reference = build_stats_message() over our files; ' +
      'delete_p50: the newest BENCH_SCALE_DELETES listeners deleted one at a time (made again after); delete_all_s: every listener at the last N, one at a time; ' +
      'create_s_to_nN: making the listeners from the previous N to N (ours 8 at a time, the reference 2)',
  );
  return {
    params,
    agents: { reference: ref.label, ours: ours.label },
    reference: b.fig.reference,
    ours: b.fig.ours,
    ...compare(b.fig.reference, b.fig.ours, {}),
    keepalived_memory_kib: b.raw,
    notes: b.notes,
    errors: b.errors,
  };
}
