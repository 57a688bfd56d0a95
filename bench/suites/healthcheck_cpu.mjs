/**
 * Suite "healthcheck_cpu" (opt-in: BENCH_SUITES=healthcheck_cpu; it boots the User-Mode Linux VM
 * of test/e2e, whose kernel has IPVS, and took 20 minutes on a busy 2-core host): what UDP health checking
 * costs an amphora, issue 15 item 2.
 *
 * `BENCH_HC_LISTENERS` (50) UDP listeners × `BENCH_HC_MEMBERS` (10) members that answer, a
 * UDP-CONNECT monitor with delay 5 s, timeout 3 s, max_retries 3, one keepalived per listener:
 *   reference: Octavia's render (LvsJinjaTemplater: MISC_CHECK) running Octavia's udp_check.sh
 *              (bash, `which nc`, `nc --version | grep`, `nc -uzv -w1`), what a controller's
 *              API 1.0 upload runs on the reference amphora;
 *   ours:      the agent's API 2.0 render (render/lvs-view.ts: UDP_CHECK, keepalived's own UDP
 *              checker);
 * and, beside them, Octavia's render running the agent's own udp_check.sh (what API 1.0 uploads
 * run on this agent) and the agent's PING monitor (PING_CHECK). The figure is the CPU seconds per
 * minute of every keepalived process and its children (utime+stime+cutime+cstime over a
 * `BENCH_HC_WINDOW` s window after a `BENCH_HC_WARMUP` s warm-up), with the guest's busy time,
 * forks per minute, the real servers IPVS still holds and the checker failures logged.
 *
 * First, the semantics: one listener per checker with five members (answers, listens silently,
 * closed port, closed port behind a firewall dropping ICMP errors, address nobody holds), timeout
 * 8 s, delay 10 s, max_retries 1; which of them IPVS keeps after 70 s, and each probe script run by
 * hand against each of them (exit status, seconds). The suite fails when UDP_CHECK decides
 * differently from Octavia's script run by hand on a member that answers, a silent one, a closed
 * port or a closed port whose ICMP errors are dropped (under keepalived a starved guest times the
 * script out before it decides).
 *
 * The configs are rendered here (Octavia's with python3-octavia through test/support/octavia-render.py,
 * ours with dist/), the VM runs bench/vm/healthcheck-cpu.sh through test/e2e/run.mjs --probe, and
 * keepalived is started the way the agent's unit starts it (in the namespace, --dont-fork, nice -10).
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { envInt } from '../lib/knobs.mjs';
import { log } from '../lib/log.mjs';
import { runCommand } from '../lib/processes.mjs';
import { compare } from '../lib/report.mjs';

export const name = 'healthcheck_cpu';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OCTAVIA_SCRIPT = '/usr/lib/python3/dist-packages/octavia/amphorae/backends/utils/udp_check.sh';
const OCTAVIA_CHECK_DIR = '/var/lib/octavia/lvs/check';
const AGENT_CHECK_DIR = '/var/lib/octavia/lvs/check-agent';
const VIP = '10.0.0.100';
const ANSWER_PORT = 5000;
const SILENT_PORT = 5001;
const CLOSED_PORT = 5002;
const FILTERED = '10.1.0.40';
const ABSENT = '10.1.0.99';
const LB = 'aaaaaaaa-0000-4000-8000-000000000001';
/** Seconds the semantics listeners run before IPVS is read: two checks of delay 10 s, timeout 8 s, and a margin. */
const SEMANTICS_WAIT_S = 70;

/** Figures compared: ours (UDP_CHECK) against the reference (Octavia's MISC_CHECK), smaller is better. */
const TARGETS = { cpu_s_per_min: 0.5 };
/** On these members UDP_CHECK must decide as Octavia's script does. */
const SAME_DECISION = ['answers', 'silent', 'closed', 'closed_icmp_dropped'];

const uuid = (kind, n) => `${kind}-0000-4000-8000-${String(n).padStart(12, '0')}`;

function memberList(n) {
  return Array.from({ length: n }, (_, i) => ({ id: uuid('dddddddd', i + 1), address: `10.1.0.${21 + i}`, port: ANSWER_PORT, case: null }));
}

const SEMANTIC_MEMBERS = [
  { case: 'answers', address: '10.1.0.21', port: ANSWER_PORT },
  { case: 'silent', address: '10.1.0.21', port: SILENT_PORT },
  { case: 'closed', address: '10.1.0.21', port: CLOSED_PORT },
  { case: 'closed_icmp_dropped', address: FILTERED, port: CLOSED_PORT },
  { case: 'host_absent', address: ABSENT, port: ANSWER_PORT },
].map((m, i) => ({ ...m, id: uuid('eeeeeeee', i + 1) }));

/** The agent's listener model (API 2.0) of one listener. */
function model(port, members, monitor) {
  return {
    loadbalancer_id: LB,
    vip_addresses: [VIP],
    protocol: 'UDP',
    protocol_port: port,
    default_pool: {
      id: uuid('bbbbbbbb', 1),
      lb_algorithm: 'ROUND_ROBIN',
      members: members.map((m) => ({ id: m.id, address: m.address, protocol_port: m.port })),
      health_monitor: { id: uuid('cccccccc', 1), ...monitor },
    },
  };
}

/** What octavia-render.py takes for the same listener. */
function octaviaSpec(id, port, members, monitor) {
  return {
    kind: 'lvs',
    listener_id: id,
    lb_id: LB,
    protocol: 'UDP',
    vip: VIP,
    port,
    algorithm: 'ROUND_ROBIN',
    connection_limit: -1,
    members: members.map((m) => ({ id: m.id, address: m.address, port: m.port, weight: 1, enabled: true, monitor_address: null, monitor_port: null })),
    hm_type: monitor.type,
    hm_delay: monitor.delay,
    hm_timeout: monitor.timeout,
    hm_max_retries: monitor.max_retries,
    hm_max_retries_down: monitor.max_retries,
    base_path: '/var/lib/octavia',
  };
}

async function renderOctavia(specs) {
  const child = spawn('/usr/bin/python3', [join(REPO, 'bench', 'lib', 'octavia-lvs-render-many.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c) => (err += c));
  child.stdin.end(JSON.stringify(specs));
  const code = await new Promise((res) => child.on('close', res));
  if (code !== 0) throw new Error(`octavia-lvs-render-many.py failed (exit ${code}): ${err.trim()}`);
  return JSON.parse(out);
}

/** Octavia's render with the agent's own udp_check.sh in place of Octavia's. */
const withAgentScript = (text) => {
  const out = text.replaceAll(`${OCTAVIA_CHECK_DIR}/udp_check.sh `, `${AGENT_CHECK_DIR}/udp_check.sh `);
  if (out === text) throw new Error('no misc_path to the udp check script in the Octavia render');
  return out;
};

/** Writes every config and the plan the guest reads; returns the plan. */
async function prepare(dir, params) {
  const dist = (p) => import(pathToFileURL(join(REPO, 'dist', p)).href);
  const { renderLvsConfig } = await dist('render/lvs-view.js');
  const { listenerSchema } = await dist('model/listener/schema.js');
  const { renderUdpCheck } = await dist('render/scripts.js');
  const settings = { namespace: 'amphora-haproxy', sctpCheckCommand: '/usr/bin/amphora-health-checker' };
  const ours = (id, port, members, monitor) => renderLvsConfig(listenerSchema.parse(model(port, members, monitor)), id, settings);

  await writeFile(join(dir, 'octavia-udp_check.sh'), await readFile(OCTAVIA_SCRIPT, 'utf8'));
  await writeFile(join(dir, 'agent-udp_check.sh'), renderUdpCheck());

  // generous timers: a check killed by its time limit on a starved guest says nothing about what it decides
  const semMonitor = { type: 'UDP-CONNECT', delay: 10, timeout: 8, max_retries: 1 };
  const semId = (n) => uuid('11111111', n);
  const [semOctavia] = await renderOctavia([octaviaSpec(semId(1), 7001, SEMANTIC_MEMBERS, semMonitor)]);
  const semUdp = ours(semId(3), 7003, SEMANTIC_MEMBERS, semMonitor);
  const requireReply = ours(semId(4), 7004, SEMANTIC_MEMBERS, semMonitor).replaceAll(/^(\s+)payload 58$/gm, '$1payload 58\n$1require_reply');
  const semantics = [
    ['octavia_misc', 7001, semOctavia],
    ['agent_misc', 7002, withAgentScript((await renderOctavia([octaviaSpec(semId(2), 7002, SEMANTIC_MEMBERS, semMonitor)]))[0])],
    ['udp_check', 7003, semUdp],
    ['udp_check_require_reply', 7004, requireReply],
    ['ping_check', 7005, ours(semId(5), 7005, SEMANTIC_MEMBERS, { ...semMonitor, type: 'PING' })],
  ];
  if (!/UDP_CHECK/.test(semUdp)) throw new Error('the API 2.0 render of UDP-CONNECT has no UDP_CHECK: is dist/ built from this tree?');
  const plan = {
    vip: VIP,
    backend_addresses: [...new Set([...memberList(params.members).map((m) => m.address), '10.1.0.21', FILTERED])],
    filtered_address: FILTERED,
    answer_port: ANSWER_PORT,
    silent_port: SILENT_PORT,
    octavia_script_dir: OCTAVIA_CHECK_DIR,
    agent_script_dir: AGENT_CHECK_DIR,
    semantics_wait_s: SEMANTICS_WAIT_S,
    warmup_s: params.warmup_s,
    window_s: params.window_s,
    semantics: [],
    cpu: [],
  };
  for (const [variant, port, text] of semantics) {
    const file = `sem-${variant}.conf`;
    await writeFile(join(dir, file), text);
    plan.semantics.push({ variant, port, file, members: SEMANTIC_MEMBERS.map((m) => ({ case: m.case, endpoint: `${m.address}:${m.port}` })) });
  }

  const monitor = { type: 'UDP-CONNECT', delay: params.delay, timeout: 3, max_retries: 3 };
  const members = memberList(params.members);
  const ids = Array.from({ length: params.listeners }, (_, i) => uuid('22222222', i + 1));
  const port = (i) => 6000 + i;
  const octavia = await renderOctavia(ids.map((id, i) => octaviaSpec(id, port(i), members, monitor)));
  // the cheap ones first: a run cut short by its time limit still has them
  const variants = {
    udp_check: ids.map((id, i) => ours(id, port(i), members, monitor)),
    ping_check: ids.map((id, i) => ours(id, port(i), members, { ...monitor, type: 'PING' })),
    agent_misc: octavia.map(withAgentScript),
    octavia_misc: octavia,
  };
  for (const [variant, texts] of Object.entries(variants)) {
    const files = [];
    for (const [i, text] of texts.entries()) {
      const file = `cpu-${variant}-${i}.conf`;
      await writeFile(join(dir, file), text);
      files.push(file);
    }
    plan.cpu.push({ variant, files });
  }
  await writeFile(join(dir, 'plan.json'), `${JSON.stringify(plan, null, 1)}\n`);
  // the probe run.mjs starts in the guest: the plan's directory, then the repository's probe
  await writeFile(join(dir, 'probe.sh'), `#!/bin/bash\nexport HC_DIR=${dir}\nexec /bin/bash ${join(REPO, 'bench', 'vm', 'healthcheck-cpu.sh')}\n`);
  return plan;
}

/** Boots the VM with the probe; returns the guest's JSON and its log. */
async function bootVm(dir, timeoutS) {
  const r = await runCommand(process.execPath, [join(REPO, 'test', 'e2e', 'run.mjs'), '--probe', join(dir, 'probe.sh'), '--keep', '--timeout', String(timeoutS)]);
  const kept = /kept (\/tmp\/amphora-e2e\.\S+)/.exec(r.stdout)?.[1];
  if (!kept) throw new Error(`the VM run kept no work directory (exit ${r.code}): ${r.stdout.split('\n').slice(-20).join('\n')}`);
  try {
    const text = await readFile(join(kept, 'logs', 'healthcheck-cpu.json'), 'utf8').catch(() => null);
    const guestLog = await readFile(join(kept, 'logs', 'healthcheck-cpu.log'), 'utf8').catch(() => '');
    if (text === null) {
      const tail = (t, n) => t.split('\n').slice(-n).join('\n');
      throw new Error(`the guest wrote no healthcheck-cpu.json; its log:\n${tail(guestLog, 30)}\nrun.mjs (exit ${r.code}):\n${tail(r.stdout, 60)}`);
    }
    // kept beside the plan (BENCH_KEEP=1 keeps that directory)
    await writeFile(join(dir, 'guest.json'), text);
    await writeFile(join(dir, 'guest.log'), guestLog);
    return { guest: JSON.parse(text), guestLog };
  } finally {
    await rm(kept, { recursive: true, force: true });
  }
}

const FIGURES = ['cpu_s_per_min', 'cpu_self_s_per_min', 'cpu_children_s_per_min', 'guest_busy_s_per_min', 'forks_per_min', 'checks_per_min', 'cpu_ms_per_check', 'real_servers_in_ipvs', 'checker_failure_lines'];
/** Datagrams one check sends to a member: Debian's nc -uz -w1 writes "X" three times, the agent's script twice, UDP_CHECK once. */
const DATAGRAMS_PER_CHECK = { octavia_misc: 3, agent_misc: 2, udp_check: 1 };

function withDerived(variant, v) {
  if (!v) return v;
  const per = DATAGRAMS_PER_CHECK[variant];
  const checks = per && Number.isFinite(v.member_datagrams_per_min) ? Math.round(v.member_datagrams_per_min / per) : null;
  return { ...v, checks_per_min: checks, cpu_ms_per_check: checks ? Math.round((v.cpu_s_per_min * 1e6) / checks) / 1000 : null };
}
const pick = (v) => Object.fromEntries(FIGURES.map((k) => [k, v?.[k] ?? null]));

export async function run(ctx) {
  const params = {
    listeners: envInt('BENCH_HC_LISTENERS', 50),
    members: envInt('BENCH_HC_MEMBERS', 10),
    delay: 5,
    warmup_s: envInt('BENCH_HC_WARMUP', 20),
    window_s: envInt('BENCH_HC_WINDOW', 60),
  };
  if (params.members > 10) throw new Error('BENCH_HC_MEMBERS is at most 10 (members 10.1.0.21-30)');
  const dir = join(ctx.tmp.dir, 'healthcheck-cpu');
  await mkdir(dir, { recursive: true });
  log(`healthcheck_cpu: rendering ${params.listeners} listeners × ${params.members} members, four ways`);
  await prepare(dir, params);
  log('healthcheck_cpu: booting the VM (test/e2e/run.mjs --probe)');
  const { guest } = await bootVm(dir, 2100);
  return summarize(guest, params);
}

/** The decision of a probe script run by hand three times: up when most runs exited 0. */
const byHand = (runs) => (runs ? (runs.filter((r) => r.exit === 0).length * 2 > runs.length ? 'up' : 'down') : undefined);

/**
 * The suite's result from what the guest wrote (healthcheck-cpu.json); exported so that a kept
 * guest.json can be read again: `summarize(JSON.parse(text), params)`.
 */
export function summarize(guest, params) {
  const errors = [];
  const notes = [];
  const cpu = Object.fromEntries(Object.entries(guest.cpu).map(([v, c]) => [v, withDerived(v, c)]));
  for (const v of ['udp_check', 'ping_check', 'agent_misc', 'octavia_misc']) if (!cpu[v]) errors.push(`no CPU figures for ${v} (the guest ended before it)`);
  errors.push(...guest.errors.map((e) => `guest: ${e.split('\n')[0]}`));

  // Octavia's decision is its script's exit status, run by hand: under keepalived a starved guest
  // times the script out (misc_timeout) before it decides anything
  const sem = guest.semantics;
  const octavia = Object.fromEntries(Object.entries(guest.scripts_by_hand?.octavia_script ?? {}).map(([c, runs]) => [c, byHand(runs)]));
  for (const c of SAME_DECISION) {
    const mine = sem.udp_check?.members?.[c];
    if (octavia[c] === undefined || mine !== octavia[c]) errors.push(`UDP_CHECK decides ${mine} on a member that is ${c}, Octavia's script ${octavia[c]}`);
  }
  const decisions = {
    octavia_script_by_hand: octavia,
    agent_script_by_hand: Object.fromEntries(Object.entries(guest.scripts_by_hand?.agent_script ?? {}).map(([c, runs]) => [c, byHand(runs)])),
    ...Object.fromEntries(Object.entries(sem).map(([v, s]) => [`${v}_in_keepalived`, s.members])),
  };
  const timedOut = (v) => (sem[v]?.log ?? []).filter((l) => /timed out/.test(l)).length;
  notes.push(`semantics (in IPVS after ${SEMANTICS_WAIT_S} s; delay 10 s, timeout 8 s, max_retries 1): ${JSON.stringify(decisions)}`);
  notes.push(`keepalived log lines "timed out": octavia_misc ${timedOut('octavia_misc')}, agent_misc ${timedOut('agent_misc')}`);
  notes.push(`the probe scripts by hand (exit, seconds): ${JSON.stringify(guest.scripts_by_hand ?? null)}`);
  for (const [v, c] of Object.entries(cpu)) notes.push(`${v}: ${JSON.stringify(c)}`);
  notes.push(`guest: ${guest.kernel}, ${guest.keepalived}, ${guest.nc}; guest load at the end ${guest.loadavg_end}`);

  const reference = pick(cpu.octavia_misc);
  const ours = pick(cpu.udp_check);
  for (const [side, fig] of [['reference', reference], ['ours', ours]]) {
    if (fig.cpu_s_per_min === null) errors.push(`${side}: no CPU figure`);
    const want = params.listeners * params.members;
    if (fig.real_servers_in_ipvs !== null && fig.real_servers_in_ipvs !== want) notes.push(`${side}: ${fig.real_servers_in_ipvs} of ${want} real servers in IPVS after the window`);
  }
  return {
    params,
    agents: { reference: "Octavia 11's LVS render, MISC_CHECK with Octavia's udp_check.sh", ours: "the agent's API 2.0 render, UDP_CHECK" },
    reference,
    ours,
    variants: cpu,
    semantics: decisions,
    scripts_by_hand: guest.scripts_by_hand ?? null,
    ...compare(reference, ours, TARGETS),
    notes,
    errors,
  };
}
