/**
 * Shared helpers for the benchmark suites: temp dirs and cleanup, child processes, the two
 * agents (the reference Python agent in its sandbox, and ours from dist/), measure.py, and
 * turning measurements into figures, ratios and a table.
 *
 * Plain Node ESM with built-ins only, so `node bench/run.mjs` needs no build step.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const TOOLS = process.env.OCTAVIA_REF_TOOLS ?? '/work/shared/tools/octavia-ref';

const tool = (name) => join(TOOLS, name);

// ------------------------------------------------------------------ small utilities

export function log(msg) {
  process.stderr.write(`bench: ${msg}\n`);
}

/** A mistake in how the bench was invoked (bad knob, not root): reported without a stack, exit 2. */
export class UsageError extends Error {}

/** A positive integer from the environment, or the default; anything else is a usage error. */
export function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

export function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return value;
}

/** Single-quote for /bin/sh: measure.py runs --start-cmd and friends through a shell. */
export function sh(word) {
  return `'${String(word).replaceAll("'", "'\\''")}'`;
}

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// ------------------------------------------------------------------ cleanup

/**
 * Undo steps, run last-registered first. Every step runs even if an earlier one fails. The
 * normal exit path and a signal handler may both call runAll(); the steps still run once.
 */
export class Cleanup {
  #steps = [];
  #running;

  add(label, fn) {
    this.#steps.push({ label, fn });
  }

  /** Every caller gets the same promise, so a second caller waits for the first run. */
  runAll() {
    this.#running ??= (async () => {
      for (const { label, fn } of this.#steps.reverse()) {
        try {
          await fn();
        } catch (err) {
          log(`cleanup "${label}" failed: ${err?.message ?? err}`);
        }
      }
    })();
    return this.#running;
  }
}

/** A fresh temp dir, removed at cleanup unless BENCH_KEEP is set or something asks to keep it. */
export async function makeTempDir(cleanup, prefix = 'amphora-bench.') {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const handle = { dir, keep: Boolean(process.env.BENCH_KEEP), keepReason: 'BENCH_KEEP is set' };
  cleanup.add(`remove ${dir}`, async () => {
    if (handle.keep) {
      log(`keeping ${dir} (${handle.keepReason})`);
      return;
    }
    await rm(dir, { recursive: true, force: true });
  });
  return handle;
}

// ------------------------------------------------------------------ child processes

/** Children currently running, so that abortChildren() can stop them. */
const activeChildren = new Set();
let aborted = false;

/**
 * For a signal handler: SIGTERM the running children (measure.py) and refuse to start new
 * agents or measurements, so that a suite still unwinding cannot launch one during cleanup.
 */
export function abortChildren() {
  aborted = true;
  for (const child of activeChildren) child.kill('SIGTERM');
}

function assertNotAborted(what) {
  if (aborted) throw new Error(`aborted: not starting ${what}`);
}

/**
 * Run a command to completion. stdout is collected; stderr is collected and, with `prefix`,
 * also echoed line by line to our stderr (measure.py reports its progress there).
 */
export function runCommand(cmd, args, { env, cwd, prefix } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    activeChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr += `${line}\n`;
      if (prefix) process.stderr.write(`${prefix} ${line}\n`);
    });
    child.on('error', (err) => {
      activeChildren.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      activeChildren.delete(child);
      resolve({ code: code ?? (signal ? 128 : 1), signal, stdout, stderr });
    });
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portAccepts(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portAccepts(port)) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs / 1000}s`);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tail(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ PKI

/** One test PKI (gen-certs.sh) that both agents serve and measure.py's client presents. */
export async function makePki(dir) {
  const res = await runCommand(tool('gen-certs.sh'), [dir]);
  if (res.code !== 0) throw new Error(`gen-certs.sh failed (${res.code}):\n${res.stderr}${res.stdout}`);
  const amphoraId = (await readFile(join(dir, 'amphora_id'), 'utf8')).trim();
  return { dir, amphoraId, serverPem: join(dir, 'server.pem'), clientCaPem: join(dir, 'client_ca.pem') };
}

// ------------------------------------------------------------------ the two agents
//
// An agent is described by the shell commands measure.py needs (startCmd, stopCmd, pidCmd)
// plus start()/stop() for suites that want it running outside measure.py, and logFiles to
// show when something fails. Each factory registers the agent's stop with the cleanup.

/**
 * The Debian octavia-agent 11.0.0, run by reference-agent.sh in its sandbox (systemd mode,
 * SINGLE topology) on its own port, serving our shared PKI.
 */
export async function referenceAgent(ctx, { name = 'ref', mode = 'systemd', topology = 'SINGLE' } = {}) {
  const port = await freePort();
  const state = join(ctx.tmp.dir, `reference-${name}`);
  await mkdir(state, { recursive: true });
  const script = tool('reference-agent.sh');
  // OCTAVIA_REF_CERTS makes the sandbox use our PKI instead of generating its own;
  // OCTAVIA_REF_WAIT=0 returns at once so that measure.py times launch → first 200 itself.
  const env = `OCTAVIA_REF_CERTS=${sh(ctx.pki.dir)}`;
  const startArgs = [name, mode, topology, String(port), state];
  const adir = join(state, `agent-${name}`);

  const stop = async () => {
    if (!existsSync(join(adir, 'unshare.pid'))) return; // never started
    // A stop racing another one (measure.py's stop-cmd, orphaned when we were interrupted)
    // can fail without a message while the sandbox is half torn down; the next try then
    // finds it stopped.
    let res;
    for (let attempt = 1; attempt <= 3; attempt++) {
      res = await runCommand(script, ['stop', name, state]);
      if (res.code === 0) return;
      await sleep(1000);
    }
    // Processes may remain in the sandbox; keep the state so that they can be inspected.
    ctx.tmp.keep = true;
    ctx.tmp.keepReason = `reference-agent.sh stop ${name} failed (exit ${res.code}): ${res.stderr.trim() || 'no message'}`;
    throw new Error(ctx.tmp.keepReason);
  };
  ctx.cleanup.add(`stop reference agent ${name}`, stop);

  return {
    role: 'reference',
    label: `octavia-agent (reference-agent.sh ${mode} ${topology})`,
    port,
    /** The sandbox's state: var-lib-octavia/ is its /var/lib/octavia, log/ its /var/log. */
    agentDir: adir,
    baseUrl: `https://127.0.0.1:${port}`,
    startCmd: `${env} OCTAVIA_REF_WAIT=0 ${sh(script)} start ${startArgs.map(sh).join(' ')}`,
    stopCmd: `${sh(script)} stop ${sh(name)} ${sh(state)}`,
    pidCmd: `${sh(script)} pids ${sh(name)} ${sh(state)}`,
    logFiles: [join(adir, 'unshare.out'), join(adir, 'log', 'agent.stdout'), join(adir, 'log', 'amphora-agent-oslo.log')],
    async start() {
      assertNotAborted('the reference agent');
      const res = await runCommand('sh', ['-c', `${env} ${sh(script)} start ${startArgs.map(sh).join(' ')}`]);
      if (res.code !== 0) throw new Error(`reference-agent.sh start failed:\n${res.stderr}`);
    },
    stop,
  };
}

/**
 * Our agent as installed (package.json bin, `node dist/amphora-agent.mjs --config-file FILE`), with every directory it may write under a
 * temp root and init_system = direct. The rest of the configuration mirrors what
 * reference-agent.sh writes for the reference agent (debug, log file, heartbeat target).
 * `settings` ({ section: { option: value } }) adds or overrides options, e.g. the
 * network_namespace of a suite that runs keepalived (see testNamespace()).
 */
export async function ourAgent(ctx, { name = 'ours', settings = {} } = {}) {
  const port = await freePort();
  const home = join(ctx.tmp.dir, `ours-${name}`);
  const root = join(home, 'root');
  const at = (p) => join(root, p);
  for (const d of ['var/lib/octavia/certs', 'etc/octavia/interfaces', 'usr/lib/systemd/system', 'etc/init.d', 'etc/init', 'var/log']) {
    await mkdir(at(d), { recursive: true });
  }
  const basePath = at('var/lib/octavia');
  const logFile = at('var/log/amphora-agent.log');
  const sections = {
    DEFAULT: { debug: 'True', log_file: logFile },
    haproxy_amphora: {
      base_path: basePath,
      base_cert_dir: at('var/lib/octavia/certs'),
      bind_host: '127.0.0.1',
      bind_port: port,
    },
    amphora_agent: {
      agent_server_cert: ctx.pki.serverPem,
      agent_server_ca: ctx.pki.clientCaPem,
      agent_server_network_dir: at('etc/octavia/interfaces'),
      amphora_id: ctx.pki.amphoraId,
      agent_tls_protocol: 'TLSv1.2',
      amphora_udp_driver: 'keepalived_lvs',
      init_system: 'direct',
      systemd_unit_dir: at('usr/lib/systemd/system'),
      sysvinit_dir: at('etc/init.d'),
      upstart_dir: at('etc/init'),
      haproxy_user_group_file: at('var/lib/octavia/haproxy-default-user-group.conf'),
      plugged_interfaces_file: at('var/lib/octavia/plugged_interfaces'),
    },
    health_manager: { controller_ip_port_list: '127.0.0.1:15555', heartbeat_interval: 10, heartbeat_key: 'insecure' },
    controller_worker: { loadbalancer_topology: 'SINGLE' },
  };
  for (const [section, options] of Object.entries(settings)) Object.assign((sections[section] ??= {}), options);
  if (sections.amphora_agent.network_namespace === 'amphora-haproxy') {
    throw new UsageError('refusing to run our agent in the network namespace amphora-haproxy on this host; use testNamespace()');
  }
  const configFile = join(home, 'amphora-agent.conf');
  const text = Object.entries(sections)
    .map(([section, options]) => `[${section}]\n${Object.entries(options).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`)
    .join('\n');
  await writeFile(configFile, `# written by bench/lib.mjs\n${text}`, { mode: 0o600 });

  const pidFile = join(home, 'agent.pid');
  const stdoutFile = at('var/log/agent.stdout');
  const cli = join(REPO, 'dist', 'amphora-agent.mjs');
  // `exec` makes the shell become node, so $$ is node's PID and measure.py's process group is
  // node's own; the pidfile lets --pid-cmd and our cleanup find it.
  const startCmd =
    `cd ${sh(REPO)} && echo $$ > ${sh(pidFile)} && ` +
    `exec ${sh(process.execPath)} ${sh(cli)} --config-file ${sh(configFile)} >> ${sh(stdoutFile)} 2>&1`;

  const stop = async () => {
    let pid;
    try {
      pid = Number((await readFile(pidFile, 'utf8')).trim());
    } catch {
      return; // never started
    }
    // Only signal the PID if it is still our node process (guards against PID reuse).
    let cmdline = '';
    try {
      cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
    } catch {
      return;
    }
    if (!cmdline.includes(configFile)) return;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(100);
    if (isAlive(pid)) {
      log(`our agent (pid ${pid}) ignored SIGTERM for 10s; killing it`);
      process.kill(pid, 'SIGKILL');
    }
  };
  ctx.cleanup.add(`stop our agent ${name}`, stop);

  return {
    role: 'ours',
    label: `amphora-agent (node ${process.version}, dist/amphora-agent.mjs, init_system=direct)`,
    port,
    baseUrl: `https://127.0.0.1:${port}`,
    configFile,
    basePath,
    logFile,
    startCmd,
    // No stopCmd: measure.py then SIGTERMs the start command's process group, which is node.
    stopCmd: undefined,
    pidCmd: `cat ${sh(pidFile)}`,
    logFiles: [stdoutFile, logFile],
    async start() {
      assertNotAborted('our agent');
      // Its own session, like under measure.py; stop() finds it through the pidfile.
      spawn('sh', ['-c', startCmd], { detached: true, stdio: 'ignore' }).unref();
      await waitForPort(port, 60_000);
    },
    stop,
  };
}

// ------------------------------------------------------------------ measure.py

/**
 * Run measure.py against one agent (it starts and stops the agent itself when the agent has a
 * startCmd and `starts` > 0) and return its JSON document, or an error with the log tails.
 */
export async function runMeasure(ctx, agent, { starts = 0, n, ops, idleWait, extraArgs = [] }) {
  const jsonFile = join(ctx.tmp.dir, `measure-${agent.role}-${Date.now()}.json`);
  const args = ['--base-url', agent.baseUrl, '--certs', ctx.pki.dir, '--amphora-id', ctx.pki.amphoraId, '--pid-cmd', agent.pidCmd];
  if (starts > 0) {
    args.push('--start-cmd', agent.startCmd, '--starts', String(starts));
    if (agent.stopCmd) args.push('--stop-cmd', agent.stopCmd);
  }
  args.push('-n', String(n), '--ops', ops.join(','), '--idle-wait', String(idleWait), '--json', jsonFile, ...extraArgs);

  assertNotAborted('measure.py');
  log(`measuring ${agent.label} on ${agent.baseUrl}`);
  const res = await runCommand(tool('measure.py'), args, { cwd: REPO, prefix: `  [${agent.role}]` });
  let result;
  try {
    result = JSON.parse(await readFile(jsonFile, 'utf8'));
  } catch {
    result = undefined;
  }
  let error;
  if (res.code !== 0 || !result || result.error) {
    const reason = result?.error ?? res.stderr.trim().split('\n').pop() ?? `exit ${res.code}`;
    error = `measure.py for ${agent.role} failed (exit ${res.code}): ${reason}`;
    // After an abort the agent's logs only show that it was stopped.
    for (const f of aborted ? [] : agent.logFiles) {
      const t = tail(f);
      if (t) log(`last lines of ${f}:\n${t}`);
    }
  }
  return { result, error };
}

/**
 * The figures of one measure.py document, flat and named with their unit. Figures that the
 * document does not have are null, so that a failed measurement is visible in the report.
 */
export function agentFigures(result, ops) {
  const mem = (sample, key) => result?.[sample]?.total?.[key] ?? null;
  const figures = {
    startup_s: result?.startup_median_s ?? null,
    startup_samples_s: result?.startup_s ?? null,
    procs: result?.mem_idle?.n_procs ?? null,
    rss_mib: mem('mem_idle', 'rss_mib'),
    pss_mib: mem('mem_idle', 'pss_mib'),
    uss_mib: mem('mem_idle', 'uss_mib'),
    rss_after_mib: mem('mem_after', 'rss_mib'),
    pss_after_mib: mem('mem_after', 'pss_mib'),
  };
  for (const op of ops) {
    const lat = result?.latency_ms?.[op];
    figures[`${op}_p50_ms`] = lat?.median_ms ?? null;
    figures[`${op}_p90_ms`] = lat?.p90_ms ?? null;
    figures[`${op}_p99_ms`] = lat?.p99_ms ?? null;
    figures[`${op}_mean_ms`] = lat?.mean_ms ?? null;
  }
  return figures;
}

// ------------------------------------------------------------------ keepalived suites

/**
 * A network namespace of our own for our agent's keepalived processes (the agent's option
 * network_namespace), `aat-bench-<random>`: never `amphora-haproxy`, which belongs to a real
 * amphora (the reference agent has its own, inside its sandbox). At cleanup, every process
 * still in it is killed (only what we started can be in it) and it is deleted.
 */
export async function testNamespace(ctx, prefix = 'aat-bench') {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  const add = await runCommand('ip', ['netns', 'add', name]);
  if (add.code !== 0) throw new Error(`ip netns add ${name} failed: ${add.stderr.trim()}`);
  ctx.cleanup.add(`delete network namespace ${name}`, async () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const pids = (await runCommand('ip', ['netns', 'pids', name])).stdout.split(/\s+/).filter(Boolean).map(Number);
      if (pids.length === 0) break;
      if (attempt === 0) log(`killing ${pids.length} process(es) left in ${name}: ${pids.join(' ')}`);
      for (const pid of pids) {
        try {
          process.kill(pid, attempt < 20 ? 'SIGTERM' : 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await sleep(100);
    }
    const del = await runCommand('ip', ['netns', 'del', name]);
    if (del.code !== 0) throw new Error(`ip netns del ${name} failed: ${del.stderr.trim()}`);
  });
  return name;
}

/** Processes whose comm is `comm` and whose command line mentions `needle` (a path of ours). */
export async function findProcesses(comm, needle) {
  const found = [];
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if ((await readFile(`/proc/${d}/comm`, 'utf8')).trim() !== comm) continue;
      const cmdline = (await readFile(`/proc/${d}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      if (cmdline.includes(needle)) found.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Run bench/udp_client.py (the real Octavia client, see that file) with a JSON spec and return
 * its JSON answer; stderr is echoed with `prefix`.
 */
export async function runUdpClient(ctx, command, spec, prefix = '  [udp_client]') {
  assertNotAborted('udp_client.py');
  const file = join(ctx.tmp.dir, `udp-client-${command}-${Date.now()}.json`);
  await writeFile(file, JSON.stringify({ certs: ctx.pki.dir, amphora_id: ctx.pki.amphoraId, tools: TOOLS, ...spec }));
  const res = await runCommand('/usr/bin/python3', [join(REPO, 'bench', 'udp_client.py'), command, file], { cwd: REPO, prefix });
  let out;
  try {
    out = JSON.parse(res.stdout);
  } catch {
    out = undefined;
  }
  if (res.code !== 0 || out === undefined) {
    throw new Error(`udp_client.py ${command} failed (exit ${res.code}): ${res.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  }
  return out;
}

/** Print the tails of an agent's logs to stderr (after a failure). */
export function showLogTails(agent, lines = 15) {
  for (const f of agent.logFiles) {
    const t = tail(f, lines);
    if (t) log(`last lines of ${f}:\n${t}`);
  }
}

/** median / p90 / p99 / mean of samples in ms, the way octavia-client.py's timed() computes them. */
export function latencyStats(samples) {
  if (samples.length === 0) return null;
  const v = [...samples].sort((a, b) => a - b);
  const at = (q) => v[Math.min(v.length - 1, Math.round(q * (v.length - 1)))];
  const mid = v.length / 2;
  const median = v.length % 2 ? v[Math.floor(mid)] : (v[mid - 1] + v[mid]) / 2;
  return {
    n: v.length,
    median_ms: round(median, 3),
    p90_ms: round(at(0.9), 3),
    p99_ms: round(at(0.99), 3),
    min_ms: round(v[0], 3),
    max_ms: round(v[v.length - 1], 3),
    mean_ms: round(v.reduce((a, b) => a + b, 0) / v.length, 3),
  };
}

// ------------------------------------------------------------------ comparison and report

/**
 * ratio = ours / reference for every numeric figure both sides have (smaller is better), and
 * for each target { max_ratio, ratio, met }. A target whose figure is missing has met = null.
 */
export function compare(reference, ours, targets) {
  const ratios = {};
  for (const [key, ref] of Object.entries(reference)) {
    if (Array.isArray(ref)) continue; // raw samples (e.g. each startup): no ratio
    const mine = ours[key];
    ratios[key] = typeof ref === 'number' && typeof mine === 'number' && ref > 0 ? round(mine / ref, 4) : null;
  }
  const checked = {};
  for (const [key, max] of Object.entries(targets)) {
    const ratio = ratios[key] ?? null;
    checked[key] = { max_ratio: max, ratio, met: ratio === null ? null : ratio <= max };
  }
  return { ratios, targets: checked };
}

/** Names of figures that a suite requires but one side is missing. */
export function missingFigures(side, figures, required) {
  return required.filter((k) => figures[k] === null || figures[k] === undefined).map((k) => `${side}.${k}`);
}

const fmt = (v) => {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.join(' ');
  if (typeof v === 'number') return Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
  return String(v);
};

/** A fixed-width table of one suite: figure, reference, ours, ratio, target. */
export function formatTable(name, suite) {
  const rows = [['figure', 'reference', 'ours', 'ratio', 'target']];
  for (const key of Object.keys(suite.reference)) {
    if (Array.isArray(suite.reference[key])) continue; // samples: shown below the table
    const t = suite.targets[key];
    const target = t ? `≤ ${t.max_ratio}  ${t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED'}` : '';
    rows.push([key, fmt(suite.reference[key]), fmt(suite.ours[key]), fmt(suite.ratios[key]), target]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [`== suite ${name}: ${JSON.stringify(suite.params)}`, line(rows[0]), line(widths.map((w) => '-'.repeat(w)))];
  for (const r of rows.slice(1)) out.push(line(r));
  for (const key of Object.keys(suite.reference)) {
    if (Array.isArray(suite.reference[key]) || Array.isArray(suite.ours[key])) {
      out.push(`${key}: reference [${fmt(suite.reference[key])}]  ours [${fmt(suite.ours[key])}]`);
    }
  }
  for (const note of suite.notes ?? []) out.push(`note: ${note}`);
  return out.join('\n');
}
