/**
 * Guest side of the healthcheck_cpu bench suite (bench/suites/healthcheck_cpu.mjs), run inside
 * the User-Mode Linux VM of test/e2e (an IPVS kernel) by bench/vm/healthcheck-cpu.sh.
 *
 * Reads <HC_DIR>/plan.json (written by the suite on the host, read-only here) and runs, with
 * real keepalived processes started the way the agent's unit starts them (inside the namespace,
 * --dont-fork, nice -10; this process runs at nice -20 so that the checks cannot starve it):
 *   1. semantics: both probe scripts run by hand, three times against each of five members (one
 *      that answers, one that listens and never answers, a closed port, a closed port whose ICMP
 *      errors a firewall drops, an address nobody holds); then one listener per checker variant
 *      with those members, and after `semantics_wait_s` which members IPVS still holds and each
 *      keepalived's log;
 *   2. cpu: per variant, one keepalived per config (`listeners` listeners of answering members);
 *      once every keepalived and its checker child runs, and `warmup_s` more, it reads over
 *      `window_s` the CPU time (utime+stime+cutime+cstime from /proc/<pid>/stat) of every
 *      keepalived process, the guest's busy time and forks (/proc/stat), and the datagrams the
 *      members received (udp-members.py's count); after the window, how many real servers IPVS
 *      holds and how many checker failures keepalived logged.
 * The results so far are written after each phase, so a run stopped by its time limit keeps them.
 * Writes /mnt/e2e/logs/healthcheck-cpu.json (the run's work directory on the host).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const HERE = dirname(fileURLToPath(import.meta.url));
const HC_DIR = process.env.HC_DIR;
const OUT = '/mnt/e2e/logs/healthcheck-cpu.json';
const NS = 'amphora-haproxy';
const BE = 'hc-be';
const RUN = '/run/hc';
const COUNT_FILE = join(RUN, 'members.count');
const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const plan = JSON.parse(readFileSync(join(HC_DIR, 'plan.json'), 'utf8'));
const result = { started: new Date().toISOString(), hz: HZ, kernel: '', keepalived: '', nc: '', semantics: {}, cpu: {}, errors: [] };
const t0 = Date.now();
const say = (m) => process.stdout.write(`[hc ${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}\n`);

function run(cmd, args, { ok = true } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (ok && r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status} ${r.stderr}`);
  return r;
}
const inNs = (ns, cmd, args, o) => run('ip', ['netns', 'exec', ns, cmd, ...args], o);

function setup() {
  result.kernel = run('uname', ['-r']).stdout.trim();
  result.keepalived = run('/usr/sbin/keepalived', ['--version'], { ok: false }).stderr.split('\n')[0] ?? '';
  result.nc = run('dpkg-query', ['-W', '-f', '${Package} ${Version}', 'netcat-openbsd'], { ok: false }).stdout.trim();
  // the agent the VM boots is not part of this measurement, and has no listener
  run('systemctl', ['stop', 'amphora-agent.service'], { ok: false });
  for (const m of ['ip_vs', 'ip_vs_wrr', 'ip_vs_rr']) run('modprobe', [m]);
  if (run('ip', ['netns', 'list']).stdout.split('\n').every((l) => !l.startsWith(`${NS} `) && l !== NS)) run('ip', ['netns', 'add', NS]);
  run('ip', ['netns', 'add', BE]);
  run('ip', ['link', 'add', 'hc-a', 'type', 'veth', 'peer', 'name', 'hc-b']);
  run('ip', ['link', 'set', 'hc-a', 'netns', NS]);
  run('ip', ['link', 'set', 'hc-b', 'netns', BE]);
  inNs(NS, 'ip', ['link', 'set', 'lo', 'up']);
  inNs(NS, 'ip', ['addr', 'add', `${plan.vip}/32`, 'dev', 'lo']);
  inNs(NS, 'ip', ['addr', 'add', '10.1.0.11/24', 'dev', 'hc-a']);
  inNs(NS, 'ip', ['link', 'set', 'hc-a', 'up']);
  inNs(BE, 'ip', ['link', 'set', 'lo', 'up']);
  for (const a of plan.backend_addresses) inNs(BE, 'ip', ['addr', 'add', `${a}/24`, 'dev', 'hc-b']);
  inNs(BE, 'ip', ['link', 'set', 'hc-b', 'up']);
  inNs(BE, 'ip', ['route', 'add', 'default', 'via', '10.1.0.11']);
  // a member behind a firewall that drops its ICMP errors: a closed port looks like silence
  inNs(BE, 'iptables-legacy', ['-A', 'OUTPUT', '-s', plan.filtered_address, '-p', 'icmp', '--icmp-type', 'destination-unreachable', '-j', 'DROP']);
  // the check scripts where the configs name them, root-owned as on an amphora
  for (const [dir, file] of [
    [plan.octavia_script_dir, 'octavia-udp_check.sh'],
    [plan.agent_script_dir, 'agent-udp_check.sh'],
  ]) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    copyFileSync(join(HC_DIR, file), join(dir, 'udp_check.sh'));
    run('chmod', ['0755', join(dir, 'udp_check.sh')]);
  }
  mkdirSync(RUN, { recursive: true });
  // the members: one process, an echo on the answering port, a silent socket on the other
  const echo = spawn('ip', ['netns', 'exec', BE, '/usr/bin/python3', join(HERE, 'udp-members.py'), String(plan.answer_port), String(plan.silent_port), COUNT_FILE], {
    stdio: ['ignore', openSync(join(RUN, 'members.log'), 'a'), openSync(join(RUN, 'members.log'), 'a')],
  });
  echo.unref();
}

/** What is known so far, so that a run stopped by its time limit still leaves its figures. */
function save() {
  result.loadavg_end = readFileSync('/proc/loadavg', 'utf8').trim();
  writeFileSync(OUT, `${JSON.stringify(result, null, 1)}\n`);
}

function keepalivedPids() {
  const pids = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'keepalived') pids.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return pids;
}

function procCpu(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const n = (i) => Number(f[i - 3]);
    return { self: (n(14) + n(15)) / HZ, children: (n(16) + n(17)) / HZ, ppid: n(4) };
  } catch {
    return null;
  }
}

function systemStat() {
  const text = readFileSync('/proc/stat', 'utf8');
  const cpu = text.split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const processes = Number(/^processes (\d+)$/m.exec(text)?.[1] ?? NaN);
  return { busy: (total - idle) / HZ, total: total / HZ, processes };
}

/** Datagrams the answering members received so far (udp-members.py writes it once a second). */
function probesReceived() {
  try {
    return Number(readFileSync(COUNT_FILE, 'utf8').trim());
  } catch {
    return NaN;
  }
}

function snapshot() {
  const procs = new Map();
  for (const pid of keepalivedPids()) {
    const c = procCpu(pid);
    if (c) procs.set(pid, c);
  }
  return { at: performance.now(), procs, sys: systemStat(), probes: probesReceived() };
}

/** Starts one keepalived per config, as the agent's unit does; returns the processes. */
function startAll(variant, files) {
  const dir = join(RUN, variant);
  mkdirSync(dir, { recursive: true });
  return files.map((file, i) => {
    const base = join(dir, `l${i}`);
    const log = openSync(`${base}.log`, 'a');
    const child = spawn(
      'ip',
      // this process runs at nice -20 (healthcheck-cpu.sh): +10 gives keepalived its unit's -10
      ['netns', 'exec', NS, 'nice', '-n', '10', '/usr/sbin/keepalived', '--dont-fork', '--log-console', '--log-detail', '--log-facility=1',
        '-f', join(HC_DIR, file), '-p', `${base}.pid`, '-r', `${base}.vrrp.pid`, '-c', `${base}.check.pid`],
      { stdio: ['ignore', log, log], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
    );
    closeSync(log);
    return { child, log: `${base}.log` };
  });
}

async function stopAll(procs) {
  for (const p of procs) p.child.kill('SIGTERM');
  const until = Date.now() + 30_000;
  while (keepalivedPids().length > 0 && Date.now() < until) await sleep(250);
  for (const pid of keepalivedPids()) process.kill(pid, 'SIGKILL');
  inNs(NS, 'ipvsadm', ['-C'], { ok: false });
}

/** `ipvsadm -Ln`: for each UDP virtual server port, the real servers as "addr:port". */
function ipvsTable() {
  const out = inNs(NS, 'ipvsadm', ['-Ln'], { ok: false }).stdout;
  const table = {};
  let current = null;
  for (const line of out.split('\n')) {
    const vs = /^UDP\s+(\S+):(\d+)/.exec(line);
    if (vs) {
      current = vs[2];
      table[current] = [];
      continue;
    }
    const rs = /^\s+->\s+(\S+)\s+\S+\s+(\d+)/.exec(line);
    if (rs && current !== null && rs[1] !== 'RemoteAddress:Port') table[current].push(rs[1]);
  }
  return table;
}

const logText = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};
const failureLines = (text) => text.split('\n').filter((l) => /failed|Timeout|timed out|Removing service|exited with status|returned non-zero/i.test(l));

/** Each probe script run by hand against each member case: exit status and seconds (no keepalived, no time limit). */
function scriptsByHand() {
  const out = {};
  for (const [name, dir] of [
    ['octavia_script', plan.octavia_script_dir],
    ['agent_script', plan.agent_script_dir],
  ]) {
    out[name] = {};
    for (const m of plan.semantics[0].members) {
      const [address, port] = m.endpoint.split(':');
      const runs = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        const r = spawnSync('ip', ['netns', 'exec', NS, join(dir, 'udp_check.sh'), address, port], { encoding: 'utf8', timeout: 60_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
        runs.push({ exit: r.status, s: Math.round(performance.now() - t) / 1000 });
      }
      out[name][m.case] = runs;
    }
    say(`  by hand, ${name}: ${JSON.stringify(out[name])}`);
  }
  return out;
}

async function semantics() {
  result.scripts_by_hand = scriptsByHand();
  say(`semantics: ${plan.semantics.map((s) => s.variant).join(', ')}`);
  const started = plan.semantics.map((s) => ({ ...s, procs: startAll(`sem-${s.variant}`, [s.file]) }));
  await sleep(plan.semantics_wait_s * 1000);
  const table = ipvsTable();
  for (const s of started) {
    const inIpvs = table[String(s.port)] ?? null;
    const text = s.procs.map((p) => logText(p.log)).join('');
    result.semantics[s.variant] = {
      port: s.port,
      members: Object.fromEntries(s.members.map((m) => [m.case, inIpvs === null ? 'no virtual server' : inIpvs.includes(m.endpoint) ? 'up' : 'down'])),
      log: text.split('\n').filter((l) => /UDP|MISC|PING|check|Removing|Adding|service/i.test(l)).slice(-60),
    };
    say(`  ${s.variant}: ${JSON.stringify(result.semantics[s.variant].members)}`);
  }
  await stopAll(started.flatMap((s) => s.procs));
}

async function cpu(variant, files) {
  say(`cpu ${variant}: starting ${files.length} keepalived`);
  const procs = startAll(`cpu-${variant}`, files);
  // warm-up: every keepalived and its checker child running (50 of them take a minute or more to
  // start on a busy guest, and a start costs more than a minute of checks), then warmup_s more
  const startedBy = Date.now() + 600_000;
  while (keepalivedPids().length < 2 * files.length && Date.now() < startedBy) await sleep(2000);
  const startS = Math.round((Date.now() - t0) / 1000);
  say(`  ${keepalivedPids().length} keepalived processes at ${startS}s`);
  await sleep(plan.warmup_s * 1000);
  const logSizes = procs.map((p) => statSync(p.log).size);
  const a = snapshot();
  await sleep(plan.window_s * 1000);
  const b = snapshot();
  const table = ipvsTable();
  let cpuSelf = 0;
  let cpuChildren = 0;
  let newPids = 0;
  for (const [pid, end] of b.procs) {
    const begin = a.procs.get(pid);
    if (!begin) newPids += 1;
    cpuSelf += end.self - (begin?.self ?? 0);
    cpuChildren += end.children - (begin?.children ?? 0);
  }
  const windowS = (b.at - a.at) / 1000;
  const perMin = (x) => Math.round((x * 60_000) / windowS) / 1000;
  const failures = procs.flatMap((p, i) => failureLines(readFileSync(p.log, 'utf8').slice(logSizes[i])));
  const realServers = Object.values(table).reduce((n, rs) => n + rs.length, 0);
  result.cpu[variant] = {
    window_s: Math.round(windowS * 10) / 10,
    keepalived_processes: b.procs.size,
    // processes that started inside the window (their whole CPU time is counted): 0 when the warm-up held
    keepalived_processes_new_in_window: newPids,
    cpu_s: Math.round((cpuSelf + cpuChildren) * 1000) / 1000,
    cpu_s_per_min: perMin(cpuSelf + cpuChildren),
    cpu_self_s_per_min: perMin(cpuSelf),
    cpu_children_s_per_min: perMin(cpuChildren),
    guest_busy_s_per_min: perMin(b.sys.busy - a.sys.busy),
    forks_per_min: perMin(b.sys.processes - a.sys.processes),
    // datagrams the members received (a probe of Octavia's script sends 3, the agent's 2, UDP_CHECK 1; PING none)
    member_datagrams_per_min: perMin(b.probes - a.probes),
    virtual_servers: Object.keys(table).length,
    real_servers_in_ipvs: realServers,
    checker_failure_lines: failures.length,
    failure_samples: failures.slice(0, 5),
  };
  say(`  ${variant}: ${JSON.stringify(result.cpu[variant])}`);
  await stopAll(procs);
}

try {
  setup();
  // a first datagram to every member address, so that the neighbour entries exist before any check
  for (const a of plan.backend_addresses) inNs(NS, 'ping', ['-c', '1', '-W', '2', a], { ok: false });
  await semantics();
  save();
  for (const v of plan.cpu) {
    await cpu(v.variant, v.files);
    save();
    // a pause between variants: what one variant left running (scripts, exits) settles first
    await sleep(5000);
  }
} catch (err) {
  result.errors.push(String(err?.stack ?? err));
}
result.ended = new Date().toISOString();
save();
say(`wrote ${OUT}`);
process.exit(result.errors.length === 0 ? 0 : 1);
