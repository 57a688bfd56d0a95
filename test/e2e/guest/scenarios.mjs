#!/usr/bin/env node
/**
 * E2E tier, guest side: runs as e2e-runner.service inside the UML guest (systemd is PID 1, the
 * kernel has IPVS). The agent under test was started at boot by its own unit
 * (amphora-agent.service from init-scripts/, with a drop-in that runs this repository's
 * dist/amphora-agent.mjs). This script plays the Octavia controller (guest/controller.py: the real
 * AmphoraAPIClient1_0 and Octavia's own templaters), builds the data plane out of network
 * namespaces, sends UDP/SCTP traffic and measures. Results go to $E2E_WORK/results.json, logs
 * to $E2E_WORK/logs/. Scenarios are selected with E2E_SCENARIOS (comma-separated).
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
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const env = process.env;
const WORK = env.E2E_WORK ?? '/mnt/e2e';
const REPO = env.REPO;
const NODE = env.NODE ?? process.execPath;
const GUEST = join(REPO, 'test', 'e2e', 'guest');
const LOGS = join(WORK, 'logs');
const WANTED = (env.E2E_SCENARIOS ?? '').split(',').filter(Boolean);
const PY = '/usr/bin/python3';
const execFileP = promisify(execFile);
const T0 = performance.now();
const uptime = () => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
const secs = (ms) => Math.round(ms / 10) / 100;
mkdirSync(LOGS, { recursive: true });
const RUNLOG = join(LOGS, 'runner.log');
function log(msg) {
  const line = `[runner ${uptime().toFixed(1)}] ${msg}`;
  process.stdout.write(`${line}\n`);
  appendFileSync(RUNLOG, `${line}\n`);
}

// ---------------------------------------------------------------------------------- commands
async function sh(file, args = [], { allowFail = false, timeout = 60_000 } = {}) {
  try {
    const r = await execFileP(file, args, { timeout, maxBuffer: 64 << 20 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const res = { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '', err: e.stderr ?? e.message };
    if (!allowFail) throw new Error(`${file} ${args.join(' ')} failed (${res.code}): ${res.err.trim() || res.out.trim()}`);
    return res;
  }
}
const nsx = (ns, file, args, o) => sh('ip', ['netns', 'exec', ns, file, ...args], o);
/** Several shell lines at once (network plumbing): one process instead of dozens. */
const shell = (script, o) => sh('/bin/sh', ['-ec', script], o);

async function waitFor(pred, { timeoutMs, intervalMs = 200 }) {
  const start = performance.now();
  for (;;) {
    const v = await pred();
    if (v) return { ok: true, ms: performance.now() - start, value: v };
    if (performance.now() - start > timeoutMs) return { ok: false, ms: performance.now() - start };
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------- line protocol
/** A child process that answers one JSON line per JSON line sent, in order. */
class LineChild {
  constructor(name, file, args, stderrLog) {
    this.name = name;
    this.proc = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.waiters = [];
    this.exited = false;
    createInterface({ input: this.proc.stdout }).on('line', (line) => {
      const w = this.waiters.shift();
      if (w) w.resolve(line);
      else log(`${name}: unexpected output ${line.slice(0, 200)}`);
    });
    this.proc.stderr.on('data', (d) => appendFileSync(stderrLog, d));
    this.proc.on('exit', (code, sig) => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${name} exited (${sig ?? code})`));
    });
  }
  next(timeoutMs) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: no answer within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ resolve: (l) => (clearTimeout(t), resolve(JSON.parse(l))), reject: (e) => (clearTimeout(t), reject(e)) });
    });
  }
  async request(obj, timeoutMs = 120_000) {
    if (this.exited) throw new Error(`${this.name} is not running`);
    const p = this.next(timeoutMs);
    this.proc.stdin.write(`${JSON.stringify(obj)}\n`);
    return p;
  }
  stop() {
    if (!this.exited) this.proc.kill('SIGTERM');
  }
}

// ---------------------------------------------------------------------------------- topology
const VIP = '10.0.0.100';
const NS_A = 'amphora-haproxy';
const NS_B = 'amphora-b';
const CLIENT_IPS = ['10.0.0.2', '10.0.0.3', '10.0.0.4'];
const BACKENDS = [1, 2, 3, 4].map((i) => ({ name: `be${i}`, ns: `be${i}`, ip: `10.1.0.2${i}` }));
const AGENTS = {
  a: { id: env.E2E_AMPHORA_A, host: '127.0.0.1', port: 9443, ns: NS_A, base: '/var/lib/octavia', unitDir: '/usr/lib/systemd/system', prefix: '', agentUnit: 'amphora-agent' },
  b: { id: env.E2E_AMPHORA_B, host: '127.0.0.1', port: 9444, ns: NS_B, base: '/var/lib/octavia-b', unitDir: '/usr/lib/systemd/system', prefix: 'b-', agentUnit: 'amphora-agent-b' },
};
const lvsUnit = (agent, id) => `${agent.prefix}octavia-keepalivedlvs-${id}`;
const L1 = '11111111-1111-4111-8111-000000000001';
const L2 = '22222222-2222-4222-8222-000000000002';
const L3 = '33333333-3333-4333-8333-000000000003';
// Generous for UML, where every process spawn is slow: a check (sh, bash, sleep 0.5) that
// outlives misc_timeout counts as a failure, and too tight a timeout removes healthy members.
const HM = { type: 'UDP-CONNECT', delay: 3, timeout: 3, fall: 2 };
// The steady stream of the load scenarios: ticks per second, long-lived flows, reply timeout.
// Every datagram costs several syscalls, each a ptrace round trip under UML: more load than
// this starves keepalived's health checks in a one-CPU guest.
const STREAM = { rate: 10, flows: 3, timeoutMs: 2000 };
const member = (i, port = 5000, weight = 1) => ({ id: `dddddddd-0000-4000-8000-00000000000${i}`, address: `10.1.0.2${i}`, port, weight });

async function setupNetwork() {
  await shell(`
    modprobe ip_vs
    ip link set lo up
    for br in br-vip br-mem; do ip link add $br type bridge; ip link set $br up; done
    ip netns add client; ip -n client link set lo up
    ip link add vc0 type veth peer name c0 netns client
    ip link set vc0 master br-vip up
    ${CLIENT_IPS.map((ip) => `ip -n client addr add ${ip}/24 dev c0`).join('\n')}
    ip -n client link set c0 up
    # amphora A: the agent's netns unit would create the namespace; plugging the VIP and member
    # ports is the controller's plug_vip/plug_network, not served yet, so the harness does it.
    ip netns add ${NS_A}; ip -n ${NS_A} link set lo up
    ip link add va1 type veth peer name eth1 netns ${NS_A}
    ip link add va2 type veth peer name eth2 netns ${NS_A}
    ip link set va1 master br-vip up; ip link set va2 master br-mem up
    ip -n ${NS_A} addr add 10.0.0.11/24 dev eth1; ip -n ${NS_A} addr add ${VIP}/32 dev eth1
    ip -n ${NS_A} addr add 10.1.0.11/24 dev eth2
    ip -n ${NS_A} link set eth1 up; ip -n ${NS_A} link set eth2 up
    ${BACKENDS.map((b) => `
    ip netns add ${b.ns}; ip -n ${b.ns} link set lo up
    ip link add v${b.name} type veth peer name eth0 netns ${b.ns}
    ip link set v${b.name} master br-mem up
    ip -n ${b.ns} addr add ${b.ip}/24 dev eth0; ip -n ${b.ns} link set eth0 up
    ip -n ${b.ns} route add default via 10.1.0.11`).join('\n')}
  `);
}

const backendProcs = new Map();
async function startBackend(b, proto = 'udp', port = 5000) {
  const key = `${b.name}/${proto}`;
  const proc = spawn('ip', ['netns', 'exec', b.ns, PY, join(GUEST, 'echo-server.py'), b.name, String(port), proto], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.on('data', (d) => appendFileSync(join(LOGS, 'backends.log'), `${key}: ${d}`));
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${key} did not start`)), 20_000);
    createInterface({ input: proc.stdout }).once('line', () => (clearTimeout(t), resolve()));
    proc.once('exit', (c) => (clearTimeout(t), reject(new Error(`${key} exited ${c}`))));
  });
  backendProcs.set(key, proc);
}
function killBackend(b, proto = 'udp') {
  const key = `${b.name}/${proto}`;
  backendProcs.get(key)?.kill('SIGKILL');
  backendProcs.delete(key);
}

// ---------------------------------------------------------------------------------- IPVS
function parseIpvs(text) {
  const services = [];
  for (const line of text.split('\n')) {
    const s = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\S+)(.*)$/.exec(line);
    if (s) {
      const p = /persistent (\d+)/.exec(s[4]);
      services.push({ proto: s[1], vip: s[2], sched: s[3], persistent: p ? Number(p[1]) : null, ops: /\bops\b/.test(s[4]), dests: [] });
      continue;
    }
    const d = /^\s+->\s+(\d\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (d && services.length) services.at(-1).dests.push({ addr: d[1], fwd: d[2], weight: Number(d[3]), active: Number(d[4]), inact: Number(d[5]) });
  }
  return services;
}
async function ipvs(ns) {
  const r = await nsx(ns, 'ipvsadm', ['-Ln'], { allowFail: true });
  return r.code === 0 ? parseIpvs(r.out) : [];
}
async function ipvsConnections(ns) {
  const r = await nsx(ns, 'ipvsadm', ['-Lnc'], { allowFail: true });
  return r.out.split('\n').filter((l) => /^(UDP|TCP|SCTP)/.test(l));
}
/** Packet counters of one virtual server and its real servers (`ipvsadm -Ln --stats --exact`). */
async function ipvsStats(ns, vipPort) {
  const r = await nsx(ns, 'ipvsadm', ['-Ln', '--stats', '--exact'], { allowFail: true });
  const out = { service: null, dests: {} };
  let mine = false;
  for (const line of r.out.split('\n')) {
    const s = /^(TCP|UDP|SCTP)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (s) {
      mine = s[2] === vipPort;
      if (mine) out.service = { conns: Number(s[3]), inPkts: Number(s[4]), outPkts: Number(s[5]) };
      continue;
    }
    const d = /^\s+->\s+(\d\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (d && mine) out.dests[d[1]] = { conns: Number(d[2]), inPkts: Number(d[3]), outPkts: Number(d[4]) };
  }
  return out;
}
/** Per real server: counters of `after` minus those of `before`. */
function statsDelta(before, after) {
  const out = {};
  for (const [addr, a] of Object.entries(after.dests)) {
    const b = before.dests[addr] ?? { conns: 0, inPkts: 0, outPkts: 0 };
    out[addr] = { conns: a.conns - b.conns, inPkts: a.inPkts - b.inPkts, outPkts: a.outPkts - b.outPkts };
  }
  return out;
}
const destKey = (dests) => dests.map((d) => `${d.addr}/${d.weight}`).sort().join(' ');
const memberKey = (members) => members.map((m) => `${m.address}:${m.port}/${m.weight ?? 1}`).sort().join(' ');
async function serviceMatches(ns, proto, vipPort, members) {
  const svc = (await ipvs(ns)).find((s) => s.proto === proto && s.vip === vipPort);
  return svc !== undefined && destKey(svc.dests) === memberKey(members) ? svc : null;
}

// ---------------------------------------------------------------------------------- systemd
const mainPid = async (unit) => Number((await sh('systemctl', ['show', '-p', 'MainPID', '--value', unit], { allowFail: true })).out.trim() || 0);
const activeState = async (unit) => (await sh('systemctl', ['show', '-p', 'ActiveState', '--value', unit], { allowFail: true })).out.trim();
const comm = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
};

// ---------------------------------------------------------------------------------- controller
let controller;
let traffic;
async function call(agent, method, ...args) {
  const t = performance.now();
  const r = await controller.request({ op: 'call', agent, method, args });
  r.ms = Math.round(performance.now() - t);
  return r;
}
async function render(listener) {
  const r = await controller.request({ op: 'render_lvs', listener });
  if (!r.ok) throw new Error(`render failed: ${r.error}`);
  return r.text;
}
function l1Listener(agentName, members, extra = {}) {
  const a = AGENTS[agentName];
  return { listener_id: L1, vip: VIP, port: 5000, protocol: 'UDP', algorithm: 'ROUND_ROBIN', members, hm: HM, base_path: a.base, namespace: a.ns, ...extra };
}
/** What the controller does for every listener change: upload the rendered config, then reload. */
async function pushListener(agentName, listener) {
  const text = await render(listener);
  const up = await call(agentName, 'upload_udp_config', listener.listener_id, text);
  if (!up.ok) return { ok: false, step: 'upload', ...up };
  const rl = await call(agentName, 'reload_listener', listener.listener_id);
  return { ok: rl.ok, upload: up, reload: rl, uploadMs: up.ms, reloadMs: rl.ms, detail: rl.body?.details ?? rl.body?.message ?? rl.error };
}

// ---------------------------------------------------------------------------------- scenarios
const results = { ok: true, guest: {}, scenarios: {} };
function saveResults() {
  writeFileSync(join(WORK, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
}

class Scenario {
  constructor(name) {
    this.name = name;
    this.figures = {};
    this.failures = [];
    this.checks = 0;
    this.notDone = null;
  }
  check(cond, msg) {
    this.checks += 1;
    if (!cond) {
      this.failures.push(msg);
      log(`  FAIL ${msg}`);
    }
    return Boolean(cond);
  }
  fig(key, value) {
    this.figures[key] = value;
    log(`  ${key} = ${JSON.stringify(value)}`);
  }
}

async function runScenario(name, fn) {
  const s = new Scenario(name);
  const start = performance.now();
  log(`=== scenario ${name}`);
  try {
    await fn(s);
  } catch (err) {
    s.failures.push(`aborted: ${err.message}`);
    log(`  ABORTED ${err.stack}`);
  }
  const status = s.notDone ? 'not_done' : s.failures.length ? 'failed' : 'passed';
  results.scenarios[name] = { status, seconds: secs(performance.now() - start), checks: s.checks, ...(s.notDone ? { reason: s.notDone } : {}), ...(s.failures.length ? { failures: s.failures } : {}), figures: s.figures };
  if (status === 'failed') results.ok = false;
  log(`=== ${name}: ${status} in ${results.scenarios[name].seconds}s`);
  saveResults();
  return status;
}

/** Per-window figures of a stream: datagrams sent and lost, fresh and on the long-lived flows. */
function windows(stream, segments) {
  const out = {};
  for (const [label, from, to] of segments) {
    const recs = stream.records.filter((r) => r[0] >= from && r[0] < to);
    const fresh = recs.filter((r) => r[1] === -1);
    const pers = recs.filter((r) => r[1] >= 0);
    const per = {};
    for (const r of fresh) if (r[2]) per[r[2]] = (per[r[2]] ?? 0) + 1;
    out[label] = {
      seconds: secs(to - from),
      fresh_sent: fresh.length,
      fresh_lost: fresh.filter((r) => !r[2]).length,
      flow_sent: pers.length,
      flow_lost: pers.filter((r) => !r[2]).length,
      fresh_per_backend: per,
    };
  }
  return out;
}
/** The member each long-lived flow reached last before `t` and first after it. */
function flowBackends(stream, flows, before, after) {
  const res = [];
  for (let k = 0; k < flows; k++) {
    const mine = stream.records.filter((r) => r[1] === k && r[2]);
    const b = mine.filter((r) => r[0] < before).at(-1)?.[2] ?? null;
    const a = mine.find((r) => r[0] >= after)?.[2] ?? null;
    res.push([b, a]);
  }
  return res;
}
async function stopStream(name) {
  const stream = await traffic.request({ cmd: 'stream_stop' });
  writeFileSync(join(LOGS, `stream-${name}.json`), JSON.stringify(stream));
  return stream;
}
const markAt = (stream, label) => stream.marks.find((m) => m.label === label)?.t;

// ---- 1. SINGLE
const l1Members = [member(1), member(2), member(3)];
let l1Ready = false;
async function ensureL1(s) {
  if (l1Ready) return;
  const r = await pushListener('a', l1Listener('a', l1Members));
  if (s) {
    s.fig('upload_ms', r.uploadMs);
    s.fig('first_reload_ms', r.reloadMs);
    s.fig('first_reload_answer', r.detail);
  }
  if (!r.ok) throw new Error(`pushing listener L1 failed: ${JSON.stringify(r)}`);
  const w = await waitFor(() => serviceMatches(NS_A, 'UDP', `${VIP}:5000`, l1Members), { timeoutMs: 20_000 });
  if (s) s.fig('reload_to_ipvs_complete_ms', Math.round(w.ms));
  if (!w.ok) throw new Error(`IPVS never showed the 3 members: ${JSON.stringify(await ipvs(NS_A))}`);
  l1Ready = true;
}

async function scenarioSingle(s) {
  const pid1 = readFileSync('/proc/1/comm', 'utf8').trim();
  s.check(pid1 === 'systemd', `PID 1 is ${pid1}, not systemd`);
  const agentLog = (await sh('journalctl', ['-u', 'amphora-agent', '-o', 'cat', '--no-pager'])).out;
  const initLine = agentLog.split('\n').find((l) => l.includes('amphora agent listening')) ?? '';
  s.check(/"init":"systemd"/.test(initLine), `the agent did not detect systemd (init_system auto): ${initLine.slice(0, 200)}`);
  await ensureL1(s);
  const unit = lvsUnit(AGENTS.a, L1);
  const pid = await mainPid(unit);
  s.check(pid > 0 && comm(pid) === 'keepalived', `${unit} MainPID ${pid} is ${comm(pid)}, not keepalived`);
  s.check((await activeState(unit)) === 'active', `${unit} is not active`);
  s.check(existsSync(join(AGENTS.a.unitDir, `${unit}.service`)), 'the listener unit file is missing');
  const cfg = readFileSync(join(AGENTS.a.base, 'lvs', `octavia-keepalivedlvs-${L1}.conf`), 'utf8');
  s.check(cfg.includes(`${AGENTS.a.base}/lvs/check/udp_check.sh`), 'the stored config does not call the agent\'s udp_check.sh');
  const ls = await call('a', 'get_all_listeners');
  s.fig('listeners', ls.body);
  s.check(ls.ok && ls.body?.some?.((l) => l.uuid === L1 && l.status === 'ACTIVE' && l.type === 'UDP'), 'GET /1.0/listeners does not show L1 ACTIVE/UDP');

  const n = 60;
  const spread = await traffic.request({ cmd: 'burst', vip: VIP, port: 5000, n });
  s.fig('spread', spread);
  const counts = ['be1', 'be2', 'be3'].map((b) => spread.perBackend[b] ?? 0);
  s.check(spread.lost === 0, `${spread.lost} of ${n} datagrams lost with 3 healthy members`);
  s.check(Math.max(...counts) - Math.min(...counts) <= 2, `uneven split ${counts.join('/')}`);

  // Kill a member: the UDP-CONNECT monitor must take it out of IPVS.
  const victim = BACKENDS[1];
  const budgetS = HM.delay * (HM.fall + 1) + HM.timeout * (HM.fall + 1) + 5;
  s.fig('removal_budget_s', budgetS);
  killBackend(victim);
  const gone = await waitFor(async () => {
    const svc = (await ipvs(NS_A)).find((x) => x.vip === `${VIP}:5000`);
    return svc && !svc.dests.some((d) => d.addr.startsWith(`${victim.ip}:`));
  }, { timeoutMs: (budgetS + 10) * 1000, intervalMs: 100 });
  s.fig('member_killed_to_removed_s', secs(gone.ms));
  s.check(gone.ok && gone.ms <= budgetS * 1000, `the dead member left IPVS after ${secs(gone.ms)}s (budget ${budgetS}s)`);
  const after = await traffic.request({ cmd: 'burst', vip: VIP, port: 5000, n });
  s.fig('spread_after_removal', after);
  s.check(after.lost === 0, `${after.lost} datagrams lost after the dead member was removed`);
  s.check(!after.perBackend[victim.name], 'the dead member still got traffic');

  await startBackend(victim);
  const back = await waitFor(() => serviceMatches(NS_A, 'UDP', `${VIP}:5000`, l1Members), { timeoutMs: (budgetS + 10) * 1000, intervalMs: 100 });
  s.fig('member_restarted_to_readded_s', secs(back.ms));
  s.check(back.ok, `the restarted member did not come back within ${budgetS + 10}s`);
  const again = await traffic.request({ cmd: 'burst', vip: VIP, port: 5000, n });
  s.fig('spread_after_return', again);
  s.check(again.lost === 0 && Object.keys(again.perBackend).length === 3, 'traffic did not spread over 3 members again');
}

// ---- 3. changes under load
async function scenarioChanges(s) {
  await ensureL1();
  const unit = lvsUnit(AGENTS.a, L1);
  let flows = STREAM.flows;
  await traffic.request({ cmd: 'stream_start', vip: VIP, port: 5000, ...STREAM });
  await sleep(3000);
  await traffic.request({ cmd: 'mark', label: 'baseline' });
  const m4 = member(4);
  const steps = [
    { name: 'a_unchanged', members: l1Members, sighup: true },
    { name: 'b_add_member', members: [...l1Members, m4], sighup: true },
    { name: 'c_change_weight', members: [member(1, 5000, 3), member(2), member(3), m4], sighup: true },
    { name: 'd_remove_member', members: [member(1, 5000, 3), member(2), member(3)], sighup: true },
    { name: 'e_systemctl_restart', members: [member(1, 5000, 3), member(2), member(3)], restart: true },
  ];
  const opFigs = {};
  for (const step of steps) {
    const pidBefore = await mainPid(unit);
    const connsBefore = (await ipvsConnections(NS_A)).length;
    await traffic.request({ cmd: 'mark', label: `${step.name}:start` });
    const f = { pid_before: pidBefore, ipvs_connections_before: connsBefore };
    if (step.restart) {
      const t = performance.now();
      await sh('systemctl', ['restart', unit]);
      f.systemctl_restart_ms = Math.round(performance.now() - t);
    } else {
      const r = await pushListener('a', l1Listener('a', step.members));
      f.upload_ms = r.uploadMs;
      f.reload_ms = r.reloadMs;
      f.answer = r.detail;
      s.check(r.ok, `${step.name}: upload/reload failed: ${JSON.stringify(r).slice(0, 300)}`);
    }
    const m = await waitFor(() => serviceMatches(NS_A, 'UDP', `${VIP}:5000`, step.members), { timeoutMs: 15_000, intervalMs: 100 });
    f.ipvs_matches_config_after_ms = Math.round(m.ms);
    s.check(m.ok, `${step.name}: IPVS does not match the config: ${JSON.stringify(await ipvs(NS_A))}`);
    await sleep(2500);
    await traffic.request({ cmd: 'mark', label: `${step.name}:end` });
    if (step.name === 'b_add_member') {
      // New long-lived flows, scheduled over 4 members: some of them land on be4, whose removal
      // in step d shows what happens to the connections of a removed member.
      const added = await traffic.request({ cmd: 'add_flows', n: 4 });
      flows = added.total;
    }
    f.pid_after = await mainPid(unit);
    f.ipvs_connections_after = (await ipvsConnections(NS_A)).length;
    f.same_keepalived = f.pid_after === pidBefore;
    if (step.sighup) s.check(f.same_keepalived, `${step.name}: keepalived was replaced (${pidBefore} -> ${f.pid_after}); a reload must be a SIGHUP or nothing`);
    else s.check(!f.same_keepalived, `${step.name}: systemctl restart kept the pid`);
    opFigs[step.name] = f;
  }
  const stream = await stopStream('changes');
  const segs = [['baseline', markAt(stream, 'baseline') - 3000, markAt(stream, 'baseline')]];
  for (const step of steps) segs.push([step.name, markAt(stream, `${step.name}:start`), markAt(stream, `${step.name}:end`)]);
  const w = windows(stream, segs);
  for (const step of steps) {
    Object.assign(opFigs[step.name], w[step.name]);
    opFigs[step.name].flows_member_before_after = flowBackends(stream, flows, markAt(stream, `${step.name}:start`), markAt(stream, `${step.name}:end`) - 500);
  }
  s.fig('baseline', w.baseline);
  s.fig('steps', opFigs);
  // The flows that were on the member removed in step d: their datagrams lost during the step
  // and the member they reached afterwards (net.ipv4.vs.expire_nodest_conn=1 in the namespace).
  const dStart = markAt(stream, 'd_remove_member:start');
  const dEnd = markAt(stream, 'e_systemctl_restart:start');
  const onBe4 = flowBackends(stream, flows, dStart, dEnd - 1000).map(([b, a], k) => ({ k, before: b, after: a })).filter((x) => x.before === 'be4');
  const removedFlows = onBe4.map((x) => {
    const recs = stream.records.filter((r) => r[1] === x.k && r[0] >= dStart && r[0] < dEnd);
    return { ...x, sent: recs.length, lost: recs.filter((r) => !r[2]).length };
  });
  s.fig('flows_on_removed_member', removedFlows);
  s.check(removedFlows.length > 0, 'no long-lived flow was on the member removed in step d');
  s.check(removedFlows.every((x) => x.after && x.after !== 'be4'), 'a flow of the removed member did not move to another member');
  s.check(w.baseline.fresh_lost + w.baseline.flow_lost === 0, 'datagrams lost with no change at all');
  for (const name of ['a_unchanged', 'b_add_member', 'c_change_weight']) {
    const x = w[name];
    s.check(x.fresh_lost + x.flow_lost === 0, `${name}: ${x.fresh_lost} fresh and ${x.flow_lost} long-lived-flow datagrams lost`);
  }
  s.check(/unchanged/.test(opFigs.a_unchanged.answer ?? ''), `re-pushing the same config was not a no-op: ${opFigs.a_unchanged.answer}`);
  // Leave L1 as the other scenarios expect it (3 members, weight 1).
  const r = await pushListener('a', l1Listener('a', l1Members));
  s.check(r.ok, 'restoring L1 failed');
  s.check((await waitFor(() => serviceMatches(NS_A, 'UDP', `${VIP}:5000`, l1Members), { timeoutMs: 15_000 })).ok, 'L1 not restored');
}

// ---- 7. agent restart
async function scenarioAgentRestart(s) {
  await ensureL1();
  const units = (await sh('systemctl', ['list-units', '--plain', '--no-legend', `${AGENTS.a.prefix}octavia-keepalivedlvs-*`])).out
    .split('\n').map((l) => l.split(/\s+/)[0]).filter((u) => u?.endsWith('.service'));
  const before = Object.fromEntries(await Promise.all(units.map(async (u) => [u, await mainPid(u)])));
  s.fig('keepalived_pids_before', before);
  await traffic.request({ cmd: 'stream_start', vip: VIP, port: 5000, ...STREAM });
  await sleep(1000);
  const agentPid = await mainPid('amphora-agent.service');
  const t = performance.now();
  await sh('systemctl', ['restart', 'amphora-agent.service']);
  const restartMs = performance.now() - t;
  const v = await call('a', 'get_api_version');
  s.fig('systemctl_restart_ms', Math.round(restartMs));
  s.fig('restart_to_api_answer_ms', Math.round(performance.now() - t));
  s.check(v.ok && v.body?.api_version === '1.0', `the agent did not answer GET // after its restart: ${JSON.stringify(v)}`);
  s.check((await mainPid('amphora-agent.service')) !== agentPid, 'the agent pid did not change');
  const after = Object.fromEntries(await Promise.all(units.map(async (u) => [u, await mainPid(u)])));
  s.fig('keepalived_pids_after', after);
  s.check(units.length > 0 && units.every((u) => before[u] > 0 && before[u] === after[u]), 'a listener keepalived was restarted or stopped with the agent');
  const ls = await call('a', 'get_all_listeners');
  s.fig('listeners_after', ls.body);
  s.check(ls.ok && ls.body?.some?.((l) => l.uuid === L1 && l.status === 'ACTIVE'), 'GET /1.0/listeners does not report L1 ACTIVE after the restart');
  // The agent's state survived: the same config again is still a no-op.
  const r = await pushListener('a', l1Listener('a', l1Members));
  s.fig('repush_after_restart', r.detail);
  s.check(r.ok && /unchanged/.test(r.detail ?? ''), `re-pushing L1 after the agent restart was not a no-op: ${r.detail}`);
  await sleep(1000);
  const stream = await stopStream('agent_restart');
  const w = windows(stream, [['during_restart', 0, Infinity]]).during_restart;
  s.fig('traffic_during_restart', w);
  s.check(w.fresh_lost + w.flow_lost === 0, 'datagrams lost while the agent restarted');
}

// ---- 2. SOURCE_IP persistence
async function scenarioPersistence(s) {
  const timeout = 6;
  const members = [member(1), member(2), member(3)];
  const listener = { listener_id: L2, vip: VIP, port: 5001, protocol: 'UDP', algorithm: 'ROUND_ROBIN', members, hm: { ...HM, delay: 5 }, persistence: { type: 'SOURCE_IP', timeout }, base_path: AGENTS.a.base, namespace: NS_A };
  const r = await pushListener('a', listener);
  s.check(r.ok, `pushing the persistent listener failed: ${JSON.stringify(r).slice(0, 300)}`);
  const svc = await waitFor(() => serviceMatches(NS_A, 'UDP', `${VIP}:5001`, members), { timeoutMs: 15_000 });
  s.check(svc.ok && svc.value.persistent === timeout, `IPVS service is not persistent ${timeout}: ${JSON.stringify(svc.value ?? (await ipvs(NS_A)))}`);
  // Short UDP connection timeout in this namespace (restored below), so that the persistence
  // template, not lingering connections, decides.
  await nsx(NS_A, 'ipvsadm', ['--set', '0', '0', '2']);
  try {
    const seen = Object.fromEntries(CLIENT_IPS.map((ip) => [ip, {}]));
    const rounds = timeout + 2;
    const t = performance.now();
    for (let i = 0; i < rounds; i++) {
      for (const ip of CLIENT_IPS) {
        const b = await traffic.request({ cmd: 'burst', vip: VIP, port: 5001, n: 3, source: ip });
        for (const [be, c] of Object.entries(b.perBackend)) seen[ip][be] = (seen[ip][be] ?? 0) + c;
        s.check(b.lost === 0, `persistence: ${b.lost} lost from ${ip}`);
      }
      await sleep(1000);
    }
    s.fig('sending_seconds', secs(performance.now() - t));
    s.fig('member_per_client_ip', seen);
    for (const ip of CLIENT_IPS) s.check(Object.keys(seen[ip]).length === 1, `client ${ip} reached ${Object.keys(seen[ip]).join(', ')} within the persistence timeout`);
    s.fig('distinct_members_for_3_clients', new Set(CLIENT_IPS.map((ip) => Object.keys(seen[ip])[0])).size);
    const templates = (await ipvsConnections(NS_A)).filter((l) => /:0\s/.test(l) || /NONE/.test(l));
    s.fig('persistence_templates', templates);
    s.check(templates.length >= CLIENT_IPS.length, 'no persistence templates in the IPVS connection table');
    // After the last datagram: connections expire (2 s), then the templates (timeout).
    // A template whose timer fires while connections still use it is re-armed for another
    // persistence_timeout: it outlives the last connection by a few timeouts.
    const trace = [];
    const t1 = performance.now();
    const gone = await waitFor(async () => {
      const lines = (await ipvsConnections(NS_A)).filter((l) => l.includes(':5001'));
      trace.push(`${secs(performance.now() - t1)}s ${lines.length} entries; templates: ${lines.filter((l) => /:0\s/.test(l)).map((l) => l.split(/\s+/)[1]).join(' ')}`);
      return lines.length === 0;
    }, { timeoutMs: (2 + 4 * timeout + 6) * 1000, intervalMs: 1000 });
    writeFileSync(join(LOGS, 'persistence-expiry.log'), `${trace.join('\n')}\n`);
    s.fig('templates_gone_after_last_datagram_s', secs(gone.ms));
    s.check(gone.ok, 'persistence templates never expired');
  } finally {
    await nsx(NS_A, 'ipvsadm', ['--set', '0', '0', '300'], { allowFail: true });
  }
}

// ---- 5. SCTP
async function scenarioSctp(s) {
  const mod = await sh('modprobe', ['sctp'], { allowFail: true });
  if (mod.code !== 0) {
    s.notDone = `the guest kernel has no SCTP: ${mod.err.trim()}`;
    return;
  }
  const backends = BACKENDS.slice(0, 3);
  for (const b of backends) await startBackend(b, 'sctp', 5002);
  const members = backends.map((b, i) => member(i + 1, 5002));
  const listener = { listener_id: L3, vip: VIP, port: 5002, protocol: 'SCTP', algorithm: 'ROUND_ROBIN', members, hm: { type: 'SCTP', delay: 5, timeout: 3, fall: 2 }, base_path: AGENTS.a.base, namespace: NS_A };
  const r = await pushListener('a', listener);
  s.fig('reload_answer', r.detail);
  s.check(r.ok, `pushing the SCTP listener failed: ${JSON.stringify(r).slice(0, 300)}`);
  const svc = await waitFor(() => serviceMatches(NS_A, 'SCTP', `${VIP}:5002`, members), { timeoutMs: 20_000 });
  s.fig('ipvs_service', svc.value ?? (await ipvs(NS_A)).filter((x) => x.proto === 'SCTP'));
  s.check(svc.ok, 'IPVS has no SCTP service with the 3 members');
  const out = await nsx('client', PY, [join(GUEST, 'sctp-client.py'), VIP, '5002', '30'], { allowFail: true, timeout: 60_000 });
  let res = null;
  try {
    res = JSON.parse(out.out);
  } catch {
    res = { error: out.err.trim() || out.out.trim() };
  }
  s.fig('associations', res);
  s.check(res?.lost === 0 && Object.keys(res.perBackend ?? {}).length === 3, 'SCTP associations were not all answered by the 3 members');
  const ls = await call('a', 'get_all_listeners');
  s.fig('listed_type', ls.body?.find?.((l) => l.uuid === L3));
  // Each SCTP member check runs amphora-health-checker, a Python program that imports Octavia:
  // seconds of CPU per run under UML. Left running, it starves the one-CPU guest (VRRP check
  // scripts time out), so the SCTP listener is deleted here.
  const d = await call('a', 'delete_listener', L3);
  s.check(d.ok, `DELETE of the SCTP listener failed: ${d.error}`);
  s.check(!(await ipvs(NS_A)).some((x) => x.proto === 'SCTP'), 'the SCTP virtual server is still in IPVS after DELETE');
  for (const b of backends) killBackend(b, 'sctp');
}

// ---- 4. ACTIVE_STANDBY
async function vipOwner() {
  // one shell, two ip calls: polled often, and every process counts in a one-CPU guest
  const out = (await sh('/bin/sh', ['-c', `ip -n ${NS_A} -o addr show dev eth1; echo @; ip -n ${NS_B} -o addr show dev eth1`], { allowFail: true })).out;
  const [a, b] = out.split('@').map((part) => part.includes(`${VIP}/`));
  return a && b ? 'both' : a ? 'a' : b ? 'b' : 'none';
}
function vrrpStates(agent) {
  try {
    return readFileSync(join(agent.base, 'vrrp', 'octavia-keepalived.log'), 'utf8')
      .split('\n')
      .filter((l) => /Entering \w+ STATE|VRRP_Script\(check_script\) (failed|timed_out|succeeded)/.test(l))
      .map((l) => `${/\d\d:\d\d:\d\d/.exec(l)?.[0]} ${l.replace(/^.*: (\([^)]+\) )?/, '').trim()}`);
  } catch {
    return [];
  }
}

async function scenarioActiveStandby(s) {
  await ensureL1();
  const a = AGENTS.a;
  const b = AGENTS.b;
  // Amphora B's ports, and masquerading on both amphorae's member ports as Octavia's
  // octavia-agent-lvs-masquerade does, so that members answer whichever amphora holds the VIP.
  await shell(`
    ip netns add ${NS_B}; ip -n ${NS_B} link set lo up
    ip link add vb1 type veth peer name eth1 netns ${NS_B}
    ip link add vb2 type veth peer name eth2 netns ${NS_B}
    ip link set vb1 master br-vip up; ip link set vb2 master br-mem up
    ip -n ${NS_B} addr add 10.0.0.12/24 dev eth1; ip -n ${NS_B} addr add 10.1.0.12/24 dev eth2
    ip -n ${NS_B} link set eth1 up; ip -n ${NS_B} link set eth2 up
    for ns in ${NS_A} ${NS_B}; do ip netns exec $ns iptables-legacy -t nat -A POSTROUTING -o eth2 -j MASQUERADE; done
    # the VIP now belongs to VRRP
    ip -n ${NS_A} addr del ${VIP}/32 dev eth1
  `);
  // Agent B: the unit file from init-scripts/ under its own name (installed before boot by
  // vm/prepare-root.sh), with its own configuration in /etc/octavia-b.
  await sh('systemctl', ['start', `${b.agentUnit}.service`]);
  const vb = await call('b', 'get_api_version');
  s.check(vb.ok, `agent B does not answer: ${JSON.stringify(vb)}`);
  // Agent A becomes part of a pair the way an operator would do it: PUT /1.0/config.
  const confA = readFileSync('/etc/octavia/amphora-agent.conf', 'utf8').replace(/loadbalancer_topology = SINGLE/, 'loadbalancer_topology = ACTIVE_STANDBY');
  const pc = await call('a', 'update_agent_config', confA);
  s.fig('put_config_a', pc.ok ? pc.status : pc.error);
  s.check(pc.ok, `PUT /1.0/config on agent A failed: ${pc.error}`);

  const rb = await pushListener('b', l1Listener('b', l1Members));
  s.check(rb.ok, `pushing L1 to agent B failed: ${JSON.stringify(rb).slice(0, 300)}`);
  s.check((await waitFor(() => serviceMatches(NS_B, 'UDP', `${VIP}:5000`, l1Members), { timeoutMs: 20_000 })).ok, 'IPVS in amphora B does not show L1');
  // Octavia's defaults are interval 5, fall 2, rise 2. keepalived's script timeout defaults to
  // the interval, and under UML a check run can take more than 1 s: interval 2.
  const vrrp = { vip: VIP, cidr: '10.0.0.0/24', gateway: '10.0.0.1', interface: 'eth1', check_interval: 2, fall: 2, rise: 2, advert_int: 1 };
  const cfgA = (await controller.request({ op: 'render_vrrp', vrrp: { ...vrrp, vrrp_ip: '10.0.0.11', peer_ip: '10.0.0.12', role: 'MASTER', priority: 100, base_path: a.base } })).text;
  const cfgB = (await controller.request({ op: 'render_vrrp', vrrp: { ...vrrp, vrrp_ip: '10.0.0.12', peer_ip: '10.0.0.11', role: 'BACKUP', priority: 90, base_path: b.base } })).text;
  s.check(cfgA.includes(`${a.base}/vrrp/check_script.sh`) && cfgB.includes(`${b.base}/vrrp/check_script.sh`), 'VRRP configs do not call each agent\'s check_script.sh');
  for (const [name, cfg] of [['a', cfgA], ['b', cfgB]]) {
    const up = await call(name, 'upload_vrrp_config', cfg);
    s.check(up.ok, `vrrp/upload on ${name} failed: ${up.error}`);
  }
  const t = performance.now();
  for (const name of ['a', 'b']) {
    const st = await call(name, 'start_vrrp');
    s.check(st.ok, `vrrp/start on ${name} failed: ${st.error}`);
  }
  const master = await waitFor(async () => ((await vipOwner()) === 'a' ? 'a' : null), { timeoutMs: 30_000, intervalMs: 250 });
  s.fig('vrrp_start_to_vip_on_master_s', secs(performance.now() - t));
  s.check(master.ok, `the VIP is not on amphora A (owner: ${await vipOwner()})`);
  const sanity = await traffic.request({ cmd: 'burst', vip: VIP, port: 5000, n: 30 });
  s.fig('through_master', sanity);
  s.check(sanity.lost === 0, `${sanity.lost} lost through the master`);

  const flows = STREAM.flows;
  await traffic.request({ cmd: 'stream_start', vip: VIP, port: 5000, ...STREAM });
  await sleep(3000);
  const unitA = lvsUnit(a, L1);
  const victim = await mainPid(unitA);
  await traffic.request({ cmd: 'mark', label: 'kill' });
  const tk = performance.now();
  process.kill(victim, 'SIGKILL');
  const budget = vrrp.check_interval * vrrp.fall + 4; // fall x interval + margin
  const moved = await waitFor(async () => ((await vipOwner()) === 'b' ? 'b' : null), { timeoutMs: 30_000, intervalMs: 200 });
  s.fig('killed_keepalived_pid', victim);
  s.fig('takeover_s', secs(moved.ms));
  s.fig('takeover_budget_s', budget);
  s.check(moved.ok && moved.ms <= budget * 1000, `the VIP moved to B after ${secs(moved.ms)}s (budget ${budget}s; owner ${await vipOwner()})`);
  await traffic.request({ cmd: 'mark', label: 'moved' });
  s.fig('ipvs_a_after_kill', (await ipvs(NS_A)).map((x) => ({ vip: x.vip, dests: x.dests.length })));
  const lsA = await call('a', 'get_all_listeners');
  s.fig('listeners_a_after_kill', lsA.body);
  s.check(lsA.body?.some?.((l) => l.uuid === L1 && l.status === 'ERROR'), 'agent A does not report the killed listener as ERROR');
  await sleep(3000);
  await traffic.request({ cmd: 'mark', label: 'restart' });
  const st = await call('a', 'start_listener', L1);
  s.fig('restart_listener_a', st.ok ? st.body : st.error);
  s.check(st.ok, `PUT /1.0/loadbalancer/L1/start on A failed: ${st.error}`);
  await sleep(6000);
  await traffic.request({ cmd: 'mark', label: 'end' });
  const stream = await stopStream('active_standby');
  const w = windows(stream, [
    ['before_kill', 0, markAt(stream, 'kill')],
    ['kill_to_takeover', markAt(stream, 'kill'), markAt(stream, 'moved')],
    ['after_takeover', markAt(stream, 'moved'), markAt(stream, 'restart')],
    ['after_restart_of_a', markAt(stream, 'restart'), markAt(stream, 'end')],
  ]);
  s.fig('traffic', w);
  s.check(w.before_kill.fresh_lost + w.before_kill.flow_lost === 0, 'datagrams lost before the kill');
  s.check(w.after_takeover.fresh_lost === 0, `${w.after_takeover.fresh_lost} fresh datagrams lost after the takeover`);
  s.fig('vip_owner_after_restart_of_a', await vipOwner());
  s.fig('vrrp_states_a', vrrpStates(a));
  s.fig('vrrp_states_b', vrrpStates(b));
  s.fig('listeners_a_after_restart', (await call('a', 'get_all_listeners')).body);
  const final = await traffic.request({ cmd: 'burst', vip: VIP, port: 5000, n: 30 });
  s.fig('burst_after_restart', final);
  s.check(final.lost === 0, `${final.lost} lost after amphora A came back`);
}

// ---- API 2.0: listeners sent as JSON and rendered by the agent
// The controller client knows API 1.0 only: these requests go straight from here, with the
// controller's own client certificate (cert and key in one PEM), the server CA, and the amphora
// id as the name the server certificate must carry (the agent listens on 127.0.0.1).
let pkiFiles = null;
function agentRequest(agentName, method, path, body, timeoutMs = 120_000) {
  const a = AGENTS[agentName];
  pkiFiles ??= { ca: readFileSync(join(WORK, 'pki', 'server_ca.pem')), pem: readFileSync(join(WORK, 'pki', 'client.pem')) };
  const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: a.host,
      port: a.port,
      method,
      path,
      ca: pkiFiles.ca,
      cert: pkiFiles.pem,
      key: pkiFiles.pem,
      servername: a.id, // SNI and the name checked against the certificate's SAN
      minVersion: 'TLSv1.2',
      agent: false,
      timeout: timeoutMs,
      headers: data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {},
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON: kept as text */
        }
        resolve({ status: res.statusCode, headers: res.headers, body: json ?? text, ms: Math.round(performance.now() - t) });
      });
    });
    req.end(data);
  });
}
const md5 = (text) => createHash('md5').update(text).digest('hex');

const L4 = '44444444-4444-4444-8444-000000000004';
const API2_PORT = 5010;
const API2_VIP_PORT = `${VIP}:${API2_PORT}`;
// API 2.0 applies Octavia's API rules: timeout < delay, UDP-CONNECT delay >= 3.
const API2_HM = { id: 'cccccccc-0000-4000-8000-000000000004', type: 'UDP-CONNECT', delay: 4, timeout: 3, max_retries: 2 };
const api2Members = [1, 2, 3].map((i) => ({ id: `eeeeeeee-0000-4000-8000-00000000000${i}`, address: `10.1.0.2${i}`, protocol_port: 5000, weight: 1 }));
const api2MemberView = api2Members.map((m) => ({ address: m.address, port: m.protocol_port, weight: m.weight }));
const api2Backend = (addr) => BACKENDS.find((b) => addr.startsWith(`${b.ip}:`))?.name ?? addr;
function api2Listener(sessionPersistence = null, healthMonitor = API2_HM) {
  return {
    loadbalancer_id: 'aaaaaaaa-0000-4000-8000-000000000004',
    name: 'e2e-api2',
    vip_addresses: [VIP],
    protocol: 'UDP',
    protocol_port: API2_PORT,
    default_pool: {
      id: 'bbbbbbbb-0000-4000-8000-000000000004',
      lb_algorithm: 'ROUND_ROBIN',
      session_persistence: sessionPersistence,
      members: api2Members,
      health_monitor: healthMonitor,
    },
  };
}

/** The agent's ONE_PACKET_SCHEDULING filters (tc prefs 4004/4006) on eth1 and eth2 of amphora A: `src_ip:src_port` per filter. */
async function opsFilters() {
  const out = {};
  for (const dev of ['eth1', 'eth2']) {
    const r = await nsx(NS_A, 'tc', ['-j', 'filter', 'show', 'dev', dev, 'egress'], { allowFail: true });
    let list = [];
    try {
      list = JSON.parse(r.out || '[]');
    } catch {
      list = [{ unparsed: r.out.slice(0, 200) }];
    }
    out[dev] = list.filter((f) => (f.pref === 4004 || f.pref === 4006) && f.options).map((f) => `${f.options.keys?.src_ip}:${f.options.keys?.src_port}`);
  }
  return out;
}

async function scenarioApi2(s) {
  const unit = lvsUnit(AGENTS.a, L4);
  const path = `/2.0/listeners/${L4}`;
  const putFigs = {};
  /** PUT the listener, check the answer (200, ETag = md5 of the rendered text) and wait for IPVS. */
  async function put(step, model, ipvsReady) {
    const pidBefore = await mainPid(unit);
    const r = await agentRequest('a', 'PUT', path, model);
    const f = { status: r.status, put_ms: r.ms };
    putFigs[step] = f;
    if (!s.check(r.status === 200, `${step}: PUT ${path} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 400)}`)) return null;
    const rendered = r.body?.rendered ?? {};
    f.etag = r.headers.etag;
    s.check(rendered.kind === 'keepalived-lvs' && r.body.listener_id === L4, `${step}: answer is not a keepalived-lvs rendering of ${L4}: ${JSON.stringify({ ...r.body, rendered: { ...rendered, text: undefined } })}`);
    s.check(typeof rendered.text === 'string' && r.headers.etag === `"${md5(rendered.text)}"` && rendered.etag === md5(rendered.text), `${step}: ETag ${r.headers.etag} / ${rendered.etag} is not the md5 of the rendered text (${md5(rendered.text ?? '')})`);
    s.check(existsSync(rendered.path ?? '') && readFileSync(rendered.path, 'utf8') === rendered.text, `${step}: the installed config ${rendered.path} is not the rendered text`);
    const w = await waitFor(async () => {
      const svc = await serviceMatches(NS_A, 'UDP', API2_VIP_PORT, api2MemberView);
      return svc && ipvsReady(svc) ? svc : null;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    f.put_answer_to_ipvs_ms = Math.round(w.ms);
    f.ipvs = w.value ?? (await ipvs(NS_A)).find((x) => x.vip === API2_VIP_PORT) ?? null;
    f.ipvsadm_line = (await nsx(NS_A, 'ipvsadm', ['-Ln'], { allowFail: true })).out.split('\n').find((l) => l.includes(API2_VIP_PORT))?.trim() ?? null;
    const pidAfter = await mainPid(unit);
    f.keepalived = pidBefore === 0 ? 'started' : pidAfter === pidBefore ? 'same pid (reloaded)' : `replaced ${pidBefore} -> ${pidAfter}`;
    s.check(w.ok, `${step}: IPVS does not show ${API2_VIP_PORT} as expected: ${JSON.stringify(f.ipvs)}`);
    s.check(pidAfter > 0 && comm(pidAfter) === 'keepalived' && (await activeState(unit)) === 'active', `${step}: ${unit} is not an active keepalived (MainPID ${pidAfter})`);
    return r;
  }

  // 1. a UDP listener, round robin over 3 members, UDP-CONNECT monitor
  const first = await put('1_create', api2Listener(), (svc) => svc.sched === 'wrr' && !svc.ops && svc.persistent === null);
  if (!first) return;
  s.fig('rendered_sample', first.body.rendered.text.split('\n').filter((l) => /virtual_server|lb_algo|protocol|ops|persistence|delay_loop|retry|misc_/.test(l)).map((l) => l.trim()));
  s.check(first.body.rendered.text.includes(`${AGENTS.a.base}/lvs/check/udp_check.sh`), 'the rendered config does not call the agent\'s udp_check.sh');
  const got = await agentRequest('a', 'GET', path);
  s.check(got.status === 200 && got.headers.etag === first.headers.etag && got.body?.listener?.protocol_port === API2_PORT, `GET ${path}: ${got.status} ${got.headers.etag} (PUT gave ${first.headers.etag})`);
  const listed = await call('a', 'get_all_listeners');
  s.check(listed.body?.some?.((l) => l.uuid === L4 && l.status === 'ACTIVE' && l.type === 'UDP'), `GET /1.0/listeners does not show ${L4} ACTIVE/UDP: ${JSON.stringify(listed.body)}`);
  const spread = await traffic.request({ cmd: 'burst', vip: VIP, port: API2_PORT, n: 30 });
  s.fig('spread_fresh_ports', spread);
  s.check(spread.lost === 0 && Object.keys(spread.perBackend).length === 3, `fresh-port burst: ${spread.lost} lost, members ${Object.keys(spread.perBackend).join(',')}`);

  // 2. one flow (one socket: same source address and port) under each persistence type
  const N = 60;
  // IPVS copies its packet counters every 2 s (the rate estimator): read them 2.2 s after any traffic.
  async function oneFlow(label, connected = false) {
    await sleep(2200);
    const before = await ipvsStats(NS_A, API2_VIP_PORT);
    const f = await traffic.request({ cmd: 'flow', vip: VIP, port: API2_PORT, n: N, source: CLIENT_IPS[0], connected });
    await sleep(2200);
    const after = await ipvsStats(NS_A, API2_VIP_PORT);
    const delta = statsDelta(before, after);
    const scheduled = Object.fromEntries(Object.entries(delta).map(([addr, d]) => [api2Backend(addr), d.inPkts]));
    const fig = { sent: f.sent, replies: f.replies, lost: f.lost, replies_per_member: f.perBackend, ipvs_in_packets_per_member: scheduled, ipvs_out_packets_per_member: Object.fromEntries(Object.entries(delta).map(([addr, d]) => [api2Backend(addr), d.outPkts])), reply_sources: f.replyFrom, replies_from_vip: f.replyFrom[API2_VIP_PORT] ?? 0, first_12: f.sequence.slice(0, 12).join(' '), source: `${CLIENT_IPS[0]}:${f.localPort}`, connected_socket: connected };
    s.fig(label, fig);
    return { f, scheduled, fig };
  }
  const ops = await put('2_one_packet_scheduling', api2Listener({ type: 'ONE_PACKET_SCHEDULING' }), (svc) => svc.ops && svc.persistent === null);
  if (ops) {
    s.check(/^\s*ops\s*$/m.test(ops.body.rendered.text), 'ONE_PACKET_SCHEDULING did not render `ops`');
    // IPVS keeps no connection for a one-packet-scheduled datagram, so it cannot reverse-NAT the
    // member's reply (OutPkts stays 0): the agent's tc egress filters in the namespace rewrite the
    // replies' source to the VIP and listener port (services/one-packet-nat.ts). One flow on an
    // unconnected socket, then one on a socket connected to the VIP, which drops any reply from
    // another source (as DNS resolvers do).
    const filters = await opsFilters();
    s.fig('one_packet_scheduling_tc_filters', filters);
    s.check(filters.eth1.length === api2Members.length && filters.eth2.length === api2Members.length, `ONE_PACKET_SCHEDULING: the namespace does not have one tc egress filter per member on eth1 and eth2: ${JSON.stringify(filters)}`);
    for (const connected of [false, true]) {
      const what = `ONE_PACKET_SCHEDULING, ${connected ? 'connected' : 'unconnected'} socket`;
      const { f, scheduled } = await oneFlow(`one_flow_one_packet_scheduling${connected ? '_connected' : ''}`, connected);
      const members = Object.values(scheduled).filter((n) => n > 0).length;
      s.check(members > 1, `${what}: one flow was scheduled to ${members} member(s) only: ${JSON.stringify(scheduled)}`);
      s.check(Object.keys(f.perBackend).length > 1, `${what}: the replies to one flow came from ${Object.keys(f.perBackend).join(',') || 'no member'}`);
      s.check(f.lost === 0, `${what}: ${f.lost} of ${N} datagrams of one flow got no reply`);
      s.check((f.replyFrom[API2_VIP_PORT] ?? 0) === f.replies && f.replies > 0, `${what}: replies not from the VIP: ${JSON.stringify(f.replyFrom)}`);
    }
  }
  const persistent = await put('3_source_ip_60', api2Listener({ type: 'SOURCE_IP', persistence_timeout: 60 }), (svc) => !svc.ops && svc.persistent === 60);
  if (persistent) {
    s.check(/persistence_timeout 60\b/.test(persistent.body.rendered.text), 'SOURCE_IP did not render persistence_timeout 60');
    const left = await opsFilters();
    s.check(left.eth1.length === 0 && left.eth2.length === 0, `SOURCE_IP: tc egress filters of ONE_PACKET_SCHEDULING are left: ${JSON.stringify(left)}`);
    const { f, scheduled } = await oneFlow('one_flow_source_ip');
    s.check(Object.values(scheduled).filter((n) => n > 0).length === 1, `SOURCE_IP: one flow was scheduled to several members: ${JSON.stringify(scheduled)}`);
    s.check(f.lost === 0 && Object.keys(f.perBackend).length === 1, `SOURCE_IP: one flow: ${f.lost} lost, replies from ${Object.keys(f.perBackend).join(',')}`);
    s.check((f.replyFrom[API2_VIP_PORT] ?? 0) === f.replies, `SOURCE_IP: replies not from the VIP: ${JSON.stringify(f.replyFrom)}`);
    // and fresh source ports from the same address stick to the same member (the persistence template)
    const fresh = await traffic.request({ cmd: 'burst', vip: VIP, port: API2_PORT, n: 15, source: CLIENT_IPS[0] });
    s.fig('fresh_ports_same_ip_source_ip', fresh);
    s.check(fresh.lost === 0 && Object.keys(fresh.perBackend).length === 1 && Object.keys(fresh.perBackend)[0] === Object.keys(f.perBackend)[0], `SOURCE_IP: fresh ports from ${CLIENT_IPS[0]} reached ${Object.keys(fresh.perBackend).join(',')} (the flow: ${Object.keys(f.perBackend).join(',')})`);
  }
  s.fig('puts', putFigs);

  // 3. a body that breaks two rules: 400 listing both, nothing changes
  const ipvsBefore = (await ipvs(NS_A)).find((x) => x.vip === API2_VIP_PORT) ?? null;
  const pidBefore = await mainPid(unit);
  const etagBefore = (await agentRequest('a', 'GET', path)).headers.etag;
  const bad = api2Listener({ type: 'SOURCE_IP', persistence_timeout: 60 }, { ...API2_HM, timeout: API2_HM.delay, max_retries: 11 });
  const rej = await agentRequest('a', 'PUT', path, bad);
  const paths = (rej.body?.violations ?? []).map((v) => v.path);
  s.fig('bad_body_answer', { status: rej.status, ms: rej.ms, body: rej.body });
  s.check(rej.status === 400, `a body with timeout >= delay got ${rej.status}`);
  s.check(paths.includes('$.default_pool.health_monitor.timeout') && paths.includes('$.default_pool.health_monitor.max_retries'), `the 400 does not list both violations: ${JSON.stringify(rej.body)}`);
  await sleep(1000);
  const ipvsAfter = (await ipvs(NS_A)).find((x) => x.vip === API2_VIP_PORT) ?? null;
  s.check(ipvsBefore !== null && JSON.stringify({ ...ipvsAfter, dests: destKey(ipvsAfter?.dests ?? []) }) === JSON.stringify({ ...ipvsBefore, dests: destKey(ipvsBefore.dests) }), `IPVS changed after a rejected PUT: ${JSON.stringify(ipvsBefore)} -> ${JSON.stringify(ipvsAfter)}`);
  s.check((await mainPid(unit)) === pidBefore, 'keepalived changed after a rejected PUT');
  s.check((await agentRequest('a', 'GET', path)).headers.etag === etagBefore, 'the stored listener changed after a rejected PUT');
  const still = await traffic.request({ cmd: 'burst', vip: VIP, port: API2_PORT, n: 15 });
  s.fig('burst_after_rejected_put', still);
  s.check(still.lost === 0, `${still.lost} lost after a rejected PUT`);

  // 4. DELETE
  copyKeepalivedLogs(); // deleting a listener removes its log
  const del = await agentRequest('a', 'DELETE', path);
  s.fig('delete_ms', del.ms);
  s.check(del.status === 200, `DELETE ${path} answered ${del.status}: ${JSON.stringify(del.body)}`);
  const gone = await waitFor(async () => !(await ipvs(NS_A)).some((x) => x.vip === API2_VIP_PORT), { timeoutMs: 15_000, intervalMs: 100 });
  s.fig('delete_answer_to_ipvs_gone_ms', Math.round(gone.ms));
  s.check(gone.ok, `${API2_VIP_PORT} is still in IPVS after DELETE`);
  s.check(!existsSync(join(AGENTS.a.unitDir, `${unit}.service`)), `${unit}.service still exists after DELETE`);
  s.check((await mainPid(unit)) === 0, `${unit} still has a process after DELETE`);
  const after = await agentRequest('a', 'GET', path);
  s.check(after.status === 404, `GET ${path} after DELETE answered ${after.status}`);
  const again = await agentRequest('a', 'DELETE', path);
  s.check(again.status === 404, `a second DELETE answered ${again.status}`);
}

// ---- 6. delete everything
async function scenarioDelete(s) {
  await ensureL1();
  // Agent B runs only after the ACTIVE_STANDBY scenario (asking a stopped agent would make the
  // controller retry for a minute).
  const running = [];
  for (const name of ['a', 'b']) if ((await activeState(`${AGENTS[name].agentUnit}.service`)) === 'active') running.push(name);
  const present = [];
  for (const name of running) {
    const ls = await call(name, 'get_all_listeners');
    s.check(ls.ok, `GET /1.0/listeners on ${name} failed: ${ls.error}`);
    for (const l of ls.body ?? []) present.push([name, l.uuid]);
  }
  s.fig('listeners_before', present.map(([n, id]) => `${n}:${id}`));
  copyKeepalivedLogs(); // deleting a listener removes its log
  for (const [name, id] of present) {
    const d = await call(name, 'delete_listener', id);
    s.check(d.ok, `DELETE ${id} on ${name} failed: ${d.error}`);
  }
  await sleep(500);
  for (const [name, id] of present) {
    const a = AGENTS[name];
    const unit = lvsUnit(a, id);
    s.check(!existsSync(join(a.unitDir, `${unit}.service`)), `${unit}.service still exists`);
    s.check(!existsSync(`/etc/systemd/system/multi-user.target.wants/${unit}.service`), `${unit} is still enabled`);
    const load = (await sh('systemctl', ['show', '-p', 'LoadState', '--value', unit], { allowFail: true })).out.trim();
    s.check(load === 'not-found', `${unit} LoadState=${load}`);
    const left = readdirSync(join(a.base, 'lvs')).filter((f) => f.includes(id));
    s.check(left.length === 0, `files left for ${id}: ${left.join(', ')}`);
    const procs = (await sh('pgrep', ['-af', `keepalivedlvs-${id}`], { allowFail: true })).out.trim();
    s.check(procs === '', `keepalived still running for ${id}: ${procs}`);
  }
  for (const name of running) {
    const a = AGENTS[name];
    const table = await ipvs(a.ns);
    s.fig(`ipvs_${name}_after`, table);
    s.check(table.length === 0, `IPVS in ${a.ns} is not empty: ${JSON.stringify(table)}`);
    const ls = await call(name, 'get_all_listeners');
    if (ls.ok) s.check(Array.isArray(ls.body) && ls.body.length === 0, `GET /1.0/listeners on ${name} is not empty: ${JSON.stringify(ls.body)}`);
  }
  l1Ready = false;
}

// ---------------------------------------------------------------------------------- main
const SCENARIOS = {
  single: scenarioSingle,
  changes: scenarioChanges,
  agent_restart: scenarioAgentRestart,
  persistence: scenarioPersistence,
  sctp: scenarioSctp,
  active_standby: scenarioActiveStandby,
  api2: scenarioApi2,
  delete: scenarioDelete,
};

function copyKeepalivedLogs() {
  for (const a of Object.values(AGENTS)) {
    for (const dir of ['lvs', 'vrrp']) {
      const d = join(a.base, dir);
      if (!existsSync(d)) continue;
      for (const f of readdirSync(d).filter((x) => x.endsWith('.log'))) copyFileSync(join(d, f), join(LOGS, `keepalived-${a.prefix || 'a-'}${f}`));
    }
  }
}

async function collectLogs() {
  const dump = async (file, cmd, args) => writeFileSync(join(LOGS, file), (await sh(cmd, args, { allowFail: true, timeout: 60_000 })).out);
  // journal.txt (the whole boot) is written by the runner unit's ExecStopPost, also after a timeout
  await dump('agent-a.log', 'journalctl', ['-u', 'amphora-agent', '--no-pager', '-o', 'cat']);
  await dump('agent-b.log', 'journalctl', ['-u', AGENTS.b.agentUnit, '--no-pager', '-o', 'cat']);
  copyKeepalivedLogs();
}

async function main() {
  const bootS = uptime();
  log(`runner started at uptime ${bootS}s; scenarios: ${WANTED.join(', ')}`);
  results.guest = {
    boot_to_runner_s: bootS,
    kernel: (await sh('uname', ['-r'])).out.trim(),
    systemd: (await sh('systemctl', ['--version'])).out.split('\n')[0],
    keepalived: (await sh('keepalived', ['--version'], { allowFail: true })).err.split('\n')[0],
  };
  saveResults();
  controller = new LineChild('controller', PY, [join(GUEST, 'controller.py')], join(LOGS, 'controller.log'));
  const ready = controller.request({ certs: join(WORK, 'pki'), retries: 60, retry_interval: 1, agents: AGENTS }, 180_000);
  await setupNetwork();
  traffic = new LineChild('traffic', 'ip', ['netns', 'exec', 'client', NODE, join(GUEST, 'traffic.mjs')], join(LOGS, 'traffic.log'));
  for (const b of BACKENDS) await startBackend(b);
  const tc = performance.now();
  await ready;
  results.guest.controller_ready_at_s = uptime();
  log(`controller ready (${secs(performance.now() - tc)}s after the network)`);
  const v = await call('a', 'get_api_version');
  results.guest.agent_answer_at_s = uptime();
  if (!v.ok) throw new Error(`the agent does not answer: ${JSON.stringify(v)}`);
  // Order: scenarios that need listener L1 first; api2 (its own listener, on amphora A's VIP)
  // before active_standby moves the VIP to VRRP; deletion last.
  for (const name of ['single', 'changes', 'agent_restart', 'persistence', 'sctp', 'api2', 'active_standby', 'delete']) {
    if (WANTED.includes(name)) await runScenario(name, SCENARIOS[name]);
  }
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
for (const p of backendProcs.values()) p.kill('SIGKILL');
await sh('sync', [], { allowFail: true });
log(`done: ${results.ok ? 'all passed' : 'FAILED'}`);
process.exit(exitCode);
