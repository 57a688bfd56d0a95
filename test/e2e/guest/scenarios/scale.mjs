/**
 * @module test/e2e/guest/scenarios/scale
 * Scenario `scale` (opt-in, a measurement: issue 15 item 1 in the VM, run by the bench suite
 * `scale_vm`): N UDP listeners with M members each on amphora A, for each N of E2E_SCALE_COUNTS
 * (growing from the previous N), every listener with a virtual server whose members answer UDP
 * in a member namespace and a UDP-CONNECT health monitor. The listeners go in as E2E_SCALE_API
 * says:
 *   2.0  the agent's own API (PUT /2.0/listeners/{id}, JSON; the agent renders UDP-CONNECT as
 *        keepalived's UDP_CHECK), sent by this runner over mTLS, E2E_SCALE_PARALLEL at a time;
 *   1.0  the controller's render (Octavia's LvsJinjaTemplater: MISC_CHECK running udp_check.sh)
 *        through the real AmphoraAPIClient1_0, upload then reload, one at a time.
 * At each N: IPVS virtual and real servers in the namespace (after E2E_SCALE_SETTLE s, so that
 * the checkers ran), memory (PSS/RSS/USS of the agent's unit and of every listener keepalived with
 * its checker children and whatever they run; the harness's own PSS; /proc/meminfo), the guest's CPU busy share over the
 * settle window, GET /1.0/listeners, changed pairs on listener 1, the VRRP check script, the
 * heartbeat build times the agent logs. At the last N every listener is deleted,
 * E2E_SCALE_DELETE_PARALLEL at a time (1, the default: through the controller's client).
 * A step that fails ends the ladder there (the figures so far stay), with the kernel's OOM lines.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cmdline, descendants, memoryOf, processTree } from '../../../../bench/lib/proc-memory.mjs';
import { agentRequest } from '../lib/agent-request.mjs';
import { sh, shell, waitFor } from '../lib/commands.mjs';
import { LOGS, PY, REPO, log, secs } from '../lib/context.mjs';
import { call, pushListener } from '../lib/controller.mjs';
import { mainPid } from '../lib/systemd.mjs';
import { AGENTS, NS_A, VIP } from '../lib/topology.mjs';

const env = process.env;
const COUNTS = (env.E2E_SCALE_COUNTS ?? '1,50,200').split(',').map(Number).filter((n) => Number.isSafeInteger(n) && n > 0).sort((a, b) => a - b);
const API = env.E2E_SCALE_API === '1.0' ? '1.0' : '2.0';
const MEMBERS = Math.min(Number(env.E2E_SCALE_MEMBERS ?? 10), 10);
const DELAY = Number(env.E2E_SCALE_DELAY ?? 10);
const TIMEOUT = Number(env.E2E_SCALE_TIMEOUT ?? 5);
const RETRIES = Number(env.E2E_SCALE_RETRIES ?? 3);
const SETTLE_S = Number(env.E2E_SCALE_SETTLE ?? 2 * DELAY + 5);
// API 2.0 PUTs at once (1: the controller's pace). Each new listener's unit needs a systemctl
// daemon-reload (5-21 s in UML). Since e85ba8d the systemd adapter shares one reload among units
// written concurrently, but the agent runs API 2.0 model changes one at a time (ListenerModels'
// `models` lock around the whole install), so PUTs at once still cost one reload each (8 at once,
// 2026-12-07: 8 reloads, one PUT after the other); more than 1 only keeps the agent's queue full.
// Each PUT's client timeout is 300 s: keep PARALLEL × the time of one PUT below that
const PARALLEL = Math.max(1, Number(env.E2E_SCALE_PARALLEL ?? 1));
// DELETEs at once at the end. 1: through the controller's client, one at a time, as Octavia does;
// more: DELETE /1.0/listeners/{id} straight over mTLS, that many at a time (the controller process
// answers one call at a time); the agent runs them one after the other too (the same lock), so
// this saves the client's gaps only
const DELETE_PARALLEL = Math.max(1, Number(env.E2E_SCALE_DELETE_PARALLEL ?? 1));
// 0: leave the listeners at the last N (a long ladder's delete-all, 9 s a listener in UML, was
// measured at a smaller N); the guest is thrown away with them
const DELETE_ALL = env.E2E_SCALE_DELETE_ALL !== '0';
// Octavia's default heartbeat_interval (the tier's agents send every 5 s; each heartbeat runs ipvsadm twice)
const HEARTBEAT_S = Number(env.E2E_SCALE_HEARTBEAT ?? 10);
const PAIRS = 5;
const GETS = 10;
const CHECKS = 5;
const BEATS = 3;

const MEMBER_NS = 'scm';
const MEMBER_PORT = 5000;
const memberAddr = (j) => `10.1.0.${31 + j}`;
const FIRST_PORT = 7000;
const lid = (i) => `55555555-0000-4000-8015-${String(i).padStart(12, '0')}`;
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const mib = (kib) => round(kib / 1024);
const p50 = (xs) => {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)] : null;
};

const members = (weight1 = 1) =>
  Array.from({ length: MEMBERS }, (_, j) => ({ id: `dddddddd-0000-4000-8015-${String(j + 1).padStart(12, '0')}`, address: memberAddr(j), port: MEMBER_PORT, weight: j === 0 ? weight1 : 1 }));

/** Listener i (1-based) the way E2E_SCALE_API sends it; `weight1` is member 1's weight (a pair's change). */
async function push(i, weight1 = 1) {
  const id = lid(i);
  const port = FIRST_PORT + i;
  if (API === '1.0') {
    const r = await pushListener('a', {
      listener_id: id, vip: VIP, port, protocol: 'UDP', algorithm: 'ROUND_ROBIN', members: members(weight1),
      hm: { type: 'UDP-CONNECT', delay: DELAY, timeout: TIMEOUT, fall: RETRIES }, base_path: AGENTS.a.base, namespace: NS_A,
    });
    return { ok: r.ok, uploadMs: r.uploadMs, reloadMs: r.reloadMs, error: r.ok ? null : JSON.stringify(r).slice(0, 300) };
  }
  const body = {
    loadbalancer_id: 'aaaaaaaa-0000-4000-8015-000000000001',
    vip_addresses: [VIP],
    protocol: 'UDP',
    protocol_port: port,
    default_pool: {
      id: `bbbbbbbb-0000-4000-8015-${String(i).padStart(12, '0')}`,
      lb_algorithm: 'ROUND_ROBIN',
      members: members(weight1).map((m) => ({ id: m.id, address: m.address, protocol_port: m.port, weight: m.weight })),
      health_monitor: { id: `cccccccc-0000-4000-8015-${String(i).padStart(12, '0')}`, type: 'UDP-CONNECT', delay: DELAY, timeout: TIMEOUT, max_retries: RETRIES },
    },
  };
  const r = await agentRequest('a', 'PUT', `/2.0/listeners/${id}`, body, 300_000);
  return { ok: r.status === 200, putMs: r.ms, error: r.status === 200 ? null : `PUT ${id}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}` };
}

/** Up to `parallel` calls of fn over items at once; the errors. */
async function inParallel(items, parallel, fn) {
  const errors = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      // a request that throws (no answer within its timeout) is an error of its own, not the end of the others
      const r = await fn(item).catch((err) => ({ ok: false, error: `${item}: ${err.message}` }));
      if (!r.ok) errors.push(r.error);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, items.length)) }, worker));
  return errors;
}

/** Virtual servers and real servers IPVS holds in the amphora namespace. */
async function ipvsCounts() {
  const r = await sh('ip', ['netns', 'exec', NS_A, 'ipvsadm', '-Ln'], { allowFail: true });
  const lines = r.out.split('\n');
  return { virtual_servers: lines.filter((l) => /^UDP\s/.test(l)).length, real_servers: lines.filter((l) => /^\s+->\s+\d/.test(l)).length };
}

function meminfo() {
  const out = {};
  for (const line of readFileSync('/proc/meminfo', 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m && ['MemTotal', 'MemFree', 'MemAvailable', 'Shmem', 'Slab', 'SUnreclaim', 'Committed_AS'].includes(m[1])) out[`${m[1]}_mib`] = mib(Number(m[2]));
  }
  return out;
}

const cpuTicks = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
};

/** The agent (its unit's MainPID and descendants) and every listener keepalived with all below it (checkers, scripts). */
async function memory(agentPid) {
  const tree = await processTree();
  const lvsParents = [...tree].filter(([, p]) => p.comm === 'keepalived' && tree.get(p.ppid)?.comm !== 'keepalived').map(([pid]) => pid).filter((pid) => cmdline(pid).includes('octavia-keepalivedlvs-'));
  const kad = lvsParents.flatMap((pid) => descendants(tree, pid));
  const agent = await memoryOf(descendants(tree, agentPid).filter((p) => !kad.includes(p)));
  const k = await memoryOf(kad);
  // the test harness (this runner, the controller with Octavia imported, the traffic generator, the
  // members): guest memory an amphora would not spend
  const harness = await memoryOf(descendants(tree, process.pid));
  // systemd (PID 1 keeps every unit) and journald (keeps the logs in memory, /run/log/journal)
  const pid1 = await memoryOf([1]);
  const journald = await memoryOf([...tree].filter(([, p]) => p.comm === 'systemd-journal').map(([pid]) => pid));
  return {
    harness_pss_mib: mib(harness.pss),
    systemd_pss_mib: mib(pid1.pss),
    journald_pss_mib: mib(journald.pss),
    agent_procs: agent.procs, agent_rss_mib: mib(agent.rss), agent_pss_mib: mib(agent.pss),
    keepalived_parents: lvsParents.length, keepalived_procs: k.procs,
    keepalived_pss_mib: mib(k.pss), keepalived_rss_mib: mib(k.rss), keepalived_uss_mib: mib(k.uss), keepalived_pss_anon_mib: mib(k.pssAnon),
    pss_total_mib: mib(agent.pss + k.pss),
  };
}

/** `heartbeat sent` lines of the agent's journal since `since` (a Date): [{listeners, buildMs}]. */
async function beatsSince(since) {
  const r = await sh('journalctl', ['-u', AGENTS.a.agentUnit, '-o', 'cat', '--no-pager', '--since', `@${Math.floor(since.getTime() / 1000)}`], { allowFail: true });
  const out = [];
  for (const line of r.out.split('\n')) {
    if (!line.includes('heartbeat sent')) continue;
    try {
      const l = JSON.parse(line);
      if (typeof l.buildMs === 'number') out.push({ listeners: l.listeners, buildMs: l.buildMs });
    } catch {
      /* not a JSON line */
    }
  }
  return out;
}

/** The VRRP check script the agent keeps (check_script.sh runs lvs_udp_check.sh): [ms, exit] per run. */
async function timeCheckScript() {
  const base = AGENTS.a.base;
  const script = [join(base, 'vrrp', 'check_script.sh'), join(base, 'vrrp', 'check_scripts', 'lvs_udp_check.sh')].find((f) => existsSync(f));
  if (!script) return { script: null };
  const runs = [];
  for (let i = 0; i < CHECKS; i++) {
    const t = performance.now();
    const r = await sh('/bin/sh', [script], { allowFail: true });
    runs.push({ ms: Math.round(performance.now() - t), exit: r.code });
  }
  return { script, runs };
}

async function oomLines() {
  const r = await sh('journalctl', ['-k', '--no-pager', '-o', 'cat'], { allowFail: true });
  return r.out.split('\n').filter((l) => /out of memory|oom-kill|oom_reaper|invoked oom-killer/i.test(l)).slice(-20);
}

let membersProc = null;
async function startMembers() {
  await shell(`
    ip netns add ${MEMBER_NS}; ip -n ${MEMBER_NS} link set lo up
    ip link add v${MEMBER_NS} type veth peer name eth0 netns ${MEMBER_NS}
    ip link set v${MEMBER_NS} master br-mem up
    ${Array.from({ length: MEMBERS }, (_, j) => `ip -n ${MEMBER_NS} addr add ${memberAddr(j)}/24 dev eth0`).join('\n')}
    ip -n ${MEMBER_NS} link set eth0 up
    ip -n ${MEMBER_NS} route add default via 10.1.0.11`);
  // one process answers on every member address (bench/vm/udp-members.py: echo on 5000, silent on 5001)
  membersProc = spawn('ip', ['netns', 'exec', MEMBER_NS, PY, join(REPO, 'bench', 'vm', 'udp-members.py'), String(MEMBER_PORT), String(MEMBER_PORT + 1), join(LOGS, 'scale-member-datagrams')], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    membersProc.stdout.once('data', resolve);
    membersProc.once('exit', (c) => reject(new Error(`udp-members.py exited ${c}`)));
  });
}

/** The datagrams the members received so far (the checkers' probes). */
const memberDatagrams = () => {
  try {
    return Number(readFileSync(join(LOGS, 'scale-member-datagrams'), 'utf8').trim());
  } catch {
    return null;
  }
};

async function atN(s, n, have, f) {
  // 1. the listeners from the previous N to N
  const t0 = performance.now();
  const ids = Array.from({ length: n - have }, (_, k) => have + k + 1);
  const errors = await inParallel(ids, PARALLEL, (i) => push(i));
  f.create_s = secs(performance.now() - t0);
  if (!s.check(errors.length === 0, `n=${n}: ${errors.length} listener(s) not made: ${errors.slice(0, 3).join(' || ')}`)) throw new Error(`listeners not made at n=${n}`);
  const want = n * MEMBERS;
  const filled = await waitFor(async () => {
    const c = await ipvsCounts();
    return c.virtual_servers === n && c.real_servers === want ? c : null;
  }, { timeoutMs: 300_000, intervalMs: 2000 });
  f.create_to_ipvs_full_s = secs(performance.now() - t0);
  s.check(filled.ok, `n=${n}: IPVS never held ${n} virtual servers with ${want} real servers: ${JSON.stringify(await ipvsCounts())}`);

  // 2. the checkers run for SETTLE_S; the guest's CPU meanwhile
  const c0 = cpuTicks();
  const d0 = memberDatagrams();
  await sleep(SETTLE_S * 1000);
  const c1 = cpuTicks();
  const d1 = memberDatagrams();
  f.guest_cpu_busy_pct = round((100 * (c1.total - c1.idle - (c0.total - c0.idle))) / Math.max(1, c1.total - c0.total), 1);
  if (d0 !== null && d1 !== null) f.member_datagrams_per_s = round((d1 - d0) / SETTLE_S, 1);
  f.checks_due_per_s = round(want / DELAY, 1);
  const ipvsNow = await ipvsCounts();
  f.ipvs_virtual_servers = ipvsNow.virtual_servers;
  f.ipvs_real_servers = ipvsNow.real_servers;
  s.check(ipvsNow.virtual_servers === n && ipvsNow.real_servers === want, `n=${n}: after ${SETTLE_S} s of checks IPVS holds ${JSON.stringify(ipvsNow)}, not ${n}/${want}`);

  // 3. memory
  const agentPid = await mainPid(`${AGENTS.a.agentUnit}.service`);
  Object.assign(f, await memory(agentPid), meminfo());
  s.check(f.keepalived_parents === n, `n=${n}: ${f.keepalived_parents} listener keepalived, not ${n}`);

  // 4. GET /1.0/listeners
  const listMs = [];
  let listed = null;
  for (let k = 0; k < GETS; k++) {
    const r = await call('a', 'get_all_listeners');
    listMs.push(r.ms);
    if (r.ok) listed = r.body;
  }
  f.list_p50_ms = p50(listMs);
  const statuses = {};
  for (const l of listed ?? []) statuses[l.status] = (statuses[l.status] ?? 0) + 1;
  f.list_statuses = statuses;
  s.check(Array.isArray(listed) && listed.length === n, `n=${n}: GET /1.0/listeners listed ${listed?.length}, not ${n}`);

  // 5. changed pairs on listener 1 (member 1's weight 2, 1, 2, ...)
  const up = [];
  const rl = [];
  for (let k = 0; k < PAIRS; k++) {
    const r = await push(1, k % 2 === 0 ? 2 : 1);
    s.check(r.ok, `n=${n}: pair ${k} on listener 1: ${r.error}`);
    up.push(r.uploadMs ?? r.putMs);
    if (r.reloadMs !== undefined) rl.push(r.reloadMs);
  }
  if (API === '1.0') {
    f.upload_p50_ms = p50(up);
    f.reload_p50_ms = p50(rl);
  } else f.put_p50_ms = p50(up);
  // back to weight 1 everywhere (an odd PAIRS ends on 2)
  if (PAIRS % 2 === 1) await push(1, 1);

  // 6. the VRRP check script
  const chk = await timeCheckScript();
  f.check_script = chk.script;
  if (chk.runs) {
    f.check_p50_ms = p50(chk.runs.map((r) => r.ms));
    f.check_exits = chk.runs.map((r) => r.exit);
  }

  // 7. heartbeats built at N (the agent logs each build's time)
  const since = new Date();
  const beats = await waitFor(async () => {
    const b = (await beatsSince(since)).filter((x) => x.listeners === n);
    return b.length >= BEATS ? b : null;
  }, { timeoutMs: (BEATS + 2) * HEARTBEAT_S * 1000 + 120_000, intervalMs: 2000 });
  f.hb_build_p50_ms = beats.ok ? p50(beats.value.map((b) => b.buildMs)) : null;
  f.hb_builds = beats.ok ? beats.value.map((b) => b.buildMs) : (await beatsSince(since)).map((b) => `${b.listeners}:${b.buildMs}`);
  s.check(beats.ok, `n=${n}: fewer than ${BEATS} heartbeats listing ${n} listeners`);
}

/**
 * Every listener deleted through DELETE /1.0/listeners/{id}, after the last N's figures are
 * recorded (a VM cut short by its limit keeps them): one at a time through the controller's client
 * (its pace), or DELETE_PARALLEL at a time straight to the agent.
 */
async function deleteAll(s, n) {
  const f = { n, parallel: DELETE_PARALLEL, via: DELETE_PARALLEL === 1 ? 'controller client' : 'mTLS, DELETE /1.0/listeners/{id}' };
  const del = [];
  const t1 = performance.now();
  let done = 0;
  const ids = Array.from({ length: n }, (_, k) => n - k);
  const errors = await inParallel(ids, DELETE_PARALLEL, async (i) => {
    let r;
    if (DELETE_PARALLEL === 1) r = await call('a', 'delete_listener', lid(i));
    else {
      const a = await agentRequest('a', 'DELETE', `/1.0/listeners/${lid(i)}`, undefined, 300_000);
      r = { ok: a.status === 200, ms: a.ms, status: a.status, body: a.body };
    }
    del.push(r.ms);
    // progress in the log: the deletes are the slowest part of a run
    if (++done % 10 === 0) log(`scale: ${done} of ${n} deleted in ${secs(performance.now() - t1)} s`);
    return { ok: r.ok, error: `deleting listener ${i}: ${JSON.stringify(r).slice(0, 300)}` };
  });
  s.check(errors.length === 0, `${errors.length} delete(s) failed: ${errors.slice(0, 3).join(' || ')}`);
  f.delete_all_s = secs(performance.now() - t1);
  f.delete_p50_ms = p50(del);
  await sleep(3000);
  const after = await ipvsCounts();
  const mem = await memory(await mainPid(`${AGENTS.a.agentUnit}.service`));
  f.after = { ...after, keepalived_procs: mem.keepalived_procs, agent_rss_mib: mem.agent_rss_mib, ...meminfo() };
  s.check(after.virtual_servers === 0 && mem.keepalived_procs === 0, `after deleting all: ${JSON.stringify(f.after)}`);
  return f;
}

export async function scenarioScale(s) {
  s.fig('params', { counts: COUNTS, api: API, members: MEMBERS, delay: DELAY, timeout: TIMEOUT, max_retries: RETRIES, settle_s: SETTLE_S, heartbeat_interval: HEARTBEAT_S, parallel: PARALLEL, delete_parallel: DELETE_PARALLEL, delete_all: DELETE_ALL });
  // the agent's heartbeat interval, through PUT /1.0/config as the controller changes it
  const conf = readFileSync('/etc/octavia/amphora-agent.conf', 'utf8');
  const newConf = conf.replace(/^heartbeat_interval = \d+$/m, `heartbeat_interval = ${HEARTBEAT_S}`);
  const put = await call('a', 'update_agent_config', newConf);
  if (!s.check(put.ok && put.status === 202 && newConf !== conf, `PUT /1.0/config (heartbeat_interval ${HEARTBEAT_S}): ${JSON.stringify(put).slice(0, 300)}`)) return;
  await startMembers();
  s.fig('baseline', { ...meminfo(), ...(await memory(await mainPid(`${AGENTS.a.agentUnit}.service`))), kernel_cmdline_mem: /mem=(\S+)/.exec(readFileSync('/proc/cmdline', 'utf8'))?.[1] ?? null });
  let have = 0;
  try {
    for (const n of COUNTS) {
      log(`scale: n=${n} (api ${API}, ${MEMBERS} members, delay ${DELAY} s)`);
      // what was measured at this N stays when a later step of it fails
      const f = {};
      try {
        await atN(s, n, have, f);
      } finally {
        s.fig(`n${n}`, f);
      }
      have = n;
    }
    if (DELETE_ALL) s.fig('delete_all', await deleteAll(s, have));
    else log(`scale: the ${have} listeners are left (E2E_SCALE_DELETE_ALL=0)`);
  } catch (err) {
    s.check(false, `stopped at n after ${have}: ${err.message}`);
    s.fig('stopped_after_n', have);
  } finally {
    s.fig('oom_lines', await oomLines());
    membersProc?.kill('SIGKILL');
  }
}
