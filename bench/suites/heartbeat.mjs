/**
 * Suite "heartbeat": what a heartbeat costs, ours against the reference's health daemon, on the
 * same live listeners.
 *
 * Our agent (init_system = direct, a test namespace of its own, heartbeat_interval = 1, heartbeats
 * to a UDP socket of the bench) gets, through the real client (heartbeat_client.py), one load
 * balancer whose combined haproxy config has a frontend, a backend and a server per listener, and,
 * from 50 listeners on, pool-less UDP listeners (keepalived runs idle: this host has no IPVS).
 *
 * build: ours is the `buildMs` of its "heartbeat sent" log line (samplers, deltas, message,
 *   counters file, envelope); the reference's is `build_stats_message()` timed by
 *   heartbeat_ref.py, its own code reading our agent's files through a directory of symlinks
 *   laid out as it expects, 1 s apart, while our agent beats.
 * cpu: at 50 listeners, our agent's /proc CPU over a window with heartbeats every second, minus
 *   the same window with heartbeats off (PUT /1.0/config with heartbeat_interval = 3600), per
 *   heartbeat received; the reference's run_sender() loop in a python process of its own over the
 *   second window, per heartbeat received. × 360 (the default interval, 10 s) = CPU s per hour.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { heartbeatClient, referenceBuilds, referenceSender } from '../lib/heartbeat-python.mjs';
import { heartbeatReceiver, openHeartbeat } from '../lib/heartbeat-receiver.mjs';
import { fileSize, haproxyListenerId, LB_ID, loggedBeats, lvsListenerId, mirrorForReference, waitForBeats } from '../lib/heartbeat-setup.mjs';
import { envInt, UsageError } from '../lib/knobs.mjs';
import { log, showLogTails } from '../lib/log.mjs';
import { ourAgent } from '../lib/our-agent.mjs';
import { runCommand } from '../lib/processes.mjs';
import { processCpu } from '../lib/proc-cpu.mjs';
import { compare, missingFigures } from '../lib/report.mjs';
import { latencyStats, round } from '../lib/stats.mjs';
import { testNamespace } from '../lib/test-namespace.mjs';

export const name = 'heartbeat';

const COUNTS = [1, 50, 200];
const CPU_AT = 50;
const KEY = 'insecure';
const FIRST_PORT = 20001;
/** Heartbeats per hour at Octavia's default heartbeat_interval (10 s). */
const BEATS_PER_HOUR = 360;
const TARGETS = { ...Object.fromEntries(COUNTS.map((n) => [`build_n${n}_p50_ms`, 1])), [`cpu_s_per_hour_n${CPU_AT}`]: 1 };
const REQUIRED = [...COUNTS.map((n) => `build_n${n}_p50_ms`), `cpu_s_per_hour_n${CPU_AT}`];

/** How the listeners of `n` are made: one haproxy frontend alone, else `lvs` pool-less LVS listeners and the rest haproxy. */
function mix(n, lvs) {
  const haproxy = n === 1 ? 1 : n - lvs;
  const ids = Array.from({ length: haproxy }, (_, i) => haproxyListenerId(i + 1));
  const lvsIds = n === 1 ? [] : Array.from({ length: lvs }, (_, i) => lvsListenerId(i + 1));
  return { haproxy, lvs: lvsIds.length, ids, lvsIds, all: [...ids, ...lvsIds].sort() };
}

function refSpec(b, extra) {
  return { base_path: b.refBase, amphora_id: b.ctx.pki.amphoraId, heartbeat_key: KEY, interval: 1, ...extra };
}

/** Our agent's configuration file with another heartbeat_interval, through PUT /1.0/config. */
async function setInterval(b, seconds) {
  const text = (await readFile(b.ours.configFile, 'utf8')).replace(/^heartbeat_interval = \d+$/m, `heartbeat_interval = ${seconds}`);
  await b.client.call({ cmd: 'config', text });
}

/** Gives our agent the listeners of `n`; the first time, lays out the reference's view of them. */
async function prepare(b, n) {
  const m = mix(n, b.params.lvs_listeners);
  const missingLvs = m.lvsIds.filter((id) => !b.lvsMade.has(id));
  if (missingLvs.length > 0) {
    const res = await b.client.call({ cmd: 'lvs', listener_ids: missingLvs, parallel: 8 });
    for (const id of missingLvs) b.lvsMade.add(id);
    b.notes.push(`${missingLvs.length} pool-less LVS listeners created in ${res.seconds} s`);
  }
  const res = await b.client.call({ cmd: 'lb', lb_id: LB_ID, listener_ids: m.ids, first_port: FIRST_PORT, base_path: b.ours.basePath });
  b.lbMade = true;
  log(`heartbeat: ${n} listener(s): ${m.haproxy} haproxy frontends (config ${res.config_bytes} bytes, upload + reload ${res.seconds} s), ${m.lvs} LVS`);
  if (!b.mirrored) {
    b.notes.push(...(await mirrorForReference(b.ours.basePath, b.refBase, LB_ID)));
    b.mirrored = true;
  }
  return m;
}

/** The same listeners (and pools) in our last heartbeat, the reference's last message and what was made. */
function checkListeners(b, n, m, refOut, beats) {
  const mine = openHeartbeat(b.rx.ours.last, KEY);
  const ourIds = Object.keys(mine.listeners).sort();
  const want = m.all.join(',');
  if (ourIds.join(',') !== want) b.errors.push(`n=${n}: our heartbeat lists ${ourIds.length} listeners, not the ${m.all.length} made`);
  if (refOut.listeners.join(',') !== want) b.errors.push(`n=${n}: the reference's message lists ${refOut.listeners.length} listeners, not the ${m.all.length} made`);
  if (Object.keys(mine.pools).sort().join(',') !== refOut.pools.join(',')) b.errors.push(`n=${n}: our pools differ from the reference's`);
  const off = beats.filter((x) => x.listeners !== n).length;
  if (off > 0) b.errors.push(`n=${n}: ${off} of our timed heartbeats did not list ${n} listeners`);
  b.notes.push(`n=${n}: ${m.haproxy} haproxy + ${m.lvs} LVS listeners; both messages list the same ${ourIds.length} listener ids and ${Object.keys(mine.pools).length} pools`);
}

/** Our build times (the first heartbeat after a change left out) and the reference's, as figures. */
function buildFigures(b, n, beats, refOut) {
  const ours = latencyStats(beats.slice(1).map((x) => x.buildMs));
  const ref = latencyStats(refOut.build_ms);
  const wrap = latencyStats(refOut.wrap_ms);
  for (const [side, st] of [['ours', ours], ['reference', ref]]) {
    b.fig[side][`build_n${n}_p50_ms`] = st?.median_ms ?? null;
    b.fig[side][`build_n${n}_p90_ms`] = st?.p90_ms ?? null;
    b.fig[side][`build_n${n}_beats`] = st?.n ?? 0;
  }
  b.refWrap.push(`n=${n} ${wrap?.median_ms} ms`);
}

async function cpuNow(pid) {
  const c = await processCpu(pid);
  return { cpu: c.self + c.children, t: performance.now() };
}

/** Build times at `n`: our heartbeats and the reference's builds, 1 s apart each, at the same time. */
async function buildPhase(b, n, m) {
  const { beats } = b.params;
  await b.refBuilds.ready;
  const from = await fileSize(b.ours.logFile);
  const refOut = await b.refBuilds.build(beats);
  const mine = await waitForBeats(b.ours.logFile, from, beats + 1, (beats + 1) * 3000 + 30_000);
  checkListeners(b, n, m, refOut, mine.slice(1));
  buildFigures(b, n, mine, refOut);
}

/**
 * CPU at `n`, and its build times: window 1, our heartbeats every second (and the reference's
 * timed builds, in their own process); window 2, ours off while the reference's sender loop runs.
 */
async function cpuPhase(b, n, m) {
  const { beats, cpu_window_s: window } = b.params;
  const pid = Number((await readFile(b.ours.pidFile, 'utf8')).trim());
  await b.refBuilds.ready;
  const refBuilt = b.refBuilds.build(beats);
  const from = await fileSize(b.ours.logFile);
  const on0 = { ...(await cpuNow(pid)), rx: b.rx.ours.count };
  await sleep(window * 1000);
  const on1 = { ...(await cpuNow(pid)), rx: b.rx.ours.count };
  const refOut = await refBuilt;
  const mine = await loggedBeats(b.ours.logFile, from);
  checkListeners(b, n, m, refOut, mine.slice(1));
  buildFigures(b, n, mine, refOut);

  await setInterval(b, 3600);
  await sleep(1500); // a heartbeat under way ends
  const { sender } = b;
  await sender.ready;
  sender.start();
  await sleep(1500); // its first heartbeat (the counters file opened) stays out of the window
  const off0 = { ...(await cpuNow(pid)), rx: b.rx.ours.count, ref: await cpuNow(sender.pid), refRx: b.rx.ref.count };
  await sleep(window * 1000);
  const off1 = { ...(await cpuNow(pid)), rx: b.rx.ours.count, ref: await cpuNow(sender.pid), refRx: b.rx.ref.count };
  const senderOut = await sender.stop();
  await setInterval(b, 1);
  if (/Traceback|Failed to check/.test(senderOut.stderr)) b.errors.push(`the reference's sender logged a failure: ${senderOut.stderr.trim().slice(-500)}`);
  if (off1.rx !== off0.rx) b.errors.push(`our agent sent ${off1.rx - off0.rx} heartbeats with heartbeats off`);

  const idlePerS = (off1.cpu - off0.cpu) / ((off1.t - off0.t) / 1000);
  const oursBeats = on1.rx - on0.rx;
  const oursCpu = on1.cpu - on0.cpu - idlePerS * ((on1.t - on0.t) / 1000);
  const refBeats = off1.refRx - off0.refRx;
  const refCpu = off1.ref.cpu - off0.ref.cpu;
  const perBeat = { ours: oursBeats > 0 ? oursCpu / oursBeats : null, reference: refBeats > 0 ? refCpu / refBeats : null };
  for (const side of ['ours', 'reference']) {
    b.fig[side][`cpu_ms_per_beat_n${n}`] = perBeat[side] === null ? null : round(perBeat[side] * 1000, 3);
    b.fig[side][`cpu_s_per_hour_n${n}`] = perBeat[side] === null ? null : round(perBeat[side] * BEATS_PER_HOUR, 3);
  }
  b.notes.push(
    `cpu n=${n}: ours ${round(on1.cpu - on0.cpu, 2)} s over ${round((on1.t - on0.t) / 1000, 1)} s with ${oursBeats} heartbeats, ` +
      `${round(off1.cpu - off0.cpu, 2)} s over ${round((off1.t - off0.t) / 1000, 1)} s without (${round(idlePerS * 1000, 2)} ms/s idle); ` +
      `the reference's sender ${round(refCpu, 2)} s over ${round((off1.ref.t - off0.ref.t) / 1000, 1)} s with ${refBeats} heartbeats`,
  );
}

function finish(b) {
  const { fig, notes, errors } = b;
  for (const role of ['reference', 'ours']) {
    for (const k of REQUIRED) fig[role][k] ??= null;
    const missing = missingFigures(role, fig[role], REQUIRED);
    if (missing.length > 0 && errors.length === 0) errors.push(`missing figures: ${missing.join(', ')}`);
  }
  notes.push(
    'build: ours = buildMs of its "heartbeat sent" debug line (samplers, deltas, message, counters file, envelope); ' +
      `reference = build_stats_message() (no envelope; its wrap_envelope p50: ${b.refWrap.join(', ')})`,
    'cpu: /proc utime+stime+cutime+cstime of our node process and of the python process running run_sender; ' +
      "not counted: haproxy's and keepalived's own work answering (the reference asks haproxy twice per load balancer, ours once), the bench's receiver; " +
      'neither agent runs ipvsadm here (no LVS listener has a virtual server)',
  );
}

export async function run(ctx) {
  const params = {
    listeners: COUNTS,
    lvs_listeners: envInt('BENCH_HB_LVS', 10),
    beats: envInt('BENCH_HB_BEATS', 30),
    cpu_window_s: envInt('BENCH_HB_WINDOW', 40),
    interval_s: 1,
    cpu_at: CPU_AT,
  };
  if (params.lvs_listeners >= Math.min(...COUNTS.filter((n) => n > 1))) throw new UsageError(`BENCH_HB_LVS must be below ${Math.min(...COUNTS.filter((n) => n > 1))}`);
  const ns = await testNamespace(ctx);
  await runCommand('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const rx = { ours: await heartbeatReceiver(ctx, 'ours'), ref: await heartbeatReceiver(ctx, 'reference') };
  const ours = await ourAgent(ctx, {
    name: 'hb',
    settings: {
      amphora_agent: { network_namespace: ns },
      health_manager: { controller_ip_port_list: rx.ours.entry, heartbeat_interval: 1, heartbeat_key: KEY },
    },
  });
  const b = { ctx, ours, ns, rx, params, refBase: join(ctx.tmp.dir, 'hb-ref-base'), lvsMade: new Set(), fig: { reference: {}, ours: {} }, refWrap: [], notes: [], errors: [] };
  try {
    log(`heartbeat: starting ${ours.label} and the python sides`);
    // the python processes import python3-octavia meanwhile, once each
    b.client = await heartbeatClient(ctx, ours, ns);
    b.refBuilds = await referenceBuilds(ctx, refSpec(b, {}));
    b.sender = await referenceSender(ctx, refSpec(b, { controller: rx.ref.entry }));
    await ours.start();
    for (const n of COUNTS) {
      const m = await prepare(b, n);
      log(`heartbeat: ${n} listener(s): ${n === CPU_AT ? `2 × ${params.cpu_window_s} s CPU windows` : `${params.beats} heartbeats`}`);
      await (n === CPU_AT ? cpuPhase(b, n, m) : buildPhase(b, n, m));
    }
  } catch (err) {
    b.errors.push(err?.message ?? String(err));
    showLogTails(ours);
  } finally {
    const ids = [...(b.lbMade ? [LB_ID] : []), ...b.lvsMade];
    if (ids.length > 0) await b.client.call({ cmd: 'delete', ids, parallel: 8 }).catch((e) => b.errors.push(`deleting listeners: ${e.message}`));
    await ours.stop().catch((e) => b.errors.push(`stopping ours: ${e.message}`));
  }
  finish(b);
  return {
    params,
    agents: { reference: 'octavia 11 health_daemon (heartbeat_ref.py) over our agent\'s files', ours: ours.label },
    reference: b.fig.reference,
    ours: b.fig.ours,
    ...compare(b.fig.reference, b.fig.ours, TARGETS),
    notes: b.notes,
    errors: b.errors,
  };
}
