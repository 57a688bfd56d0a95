/**
 * @module test/support/keepalived-fixture
 * Helpers for the integration tests that run real keepalived: uniquely named network
 * namespaces (and veth pairs created directly inside them, so no link ever appears in the
 * host's namespace), process facts read from /proc, a poller, Octavia's own templaters
 * (octavia-render.py under /usr/bin/python3) and an mTLS client bound to one agent.
 * Everything a test creates is named `aat-<random>`, and is removed by pid or by name.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, readFile, readlink, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { TestPki } from './agent-fixture.js';
import { mtlsRequest, type MtlsResponse } from './mtls-client.js';

export const RENDER_SCRIPT = fileURLToPath(new URL('./octavia-render.py', import.meta.url));
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const KEEPALIVED = '/usr/sbin/keepalived';

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; never throws on a non-zero exit (the code is in the result). */
export function sh(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((ok, fail) => {
    const child = execFile(cmd, [...args], { timeout: opts.timeoutMs ?? 60_000, env: opts.env ?? process.env, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return fail(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      ok({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export const show = (r: Result): string => `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

/** Like `sh`, but a non-zero exit is an error carrying the output. */
export async function must(cmd: string, args: readonly string[]): Promise<Result> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${show(r)}`);
  return r;
}

/** `aat-<tag>-<6 hex>`: short (IFNAMSIZ-safe), unique, recognisably a test's. */
export const uniqueName = (tag: string): string => `aat-${tag}-${randomBytes(3).toString('hex')}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `test` until it returns a value that is not undefined/false; fails with `what` (and `explain()`) on timeout. */
export async function waitFor<T>(what: string, test: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, explain?: () => Promise<string> | string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await test();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain ? `\n${await explain()}` : ''}`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// Network namespaces
// ---------------------------------------------------------------------------------------------

export async function addNetns(name: string): Promise<void> {
  await must('ip', ['netns', 'add', name]);
  await must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** A veth pair named `ifname` on both sides, created inside `a` with its peer inside `b`. */
export async function addVethPair(a: string, b: string, ifname = 'eth1'): Promise<void> {
  await must('ip', ['-n', a, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', ifname, 'netns', b]);
  await must('ip', ['-n', a, 'link', 'set', ifname, 'up']);
  await must('ip', ['-n', b, 'link', 'set', ifname, 'up']);
}

/** A veth pair with both ends inside `ns` (e.g. eth1 and a spare end), for a namespace that only needs an eth1. */
export async function addLocalVeth(ns: string, ifname: string, peer: string): Promise<void> {
  await must('ip', ['-n', ns, 'link', 'add', ifname, 'type', 'veth', 'peer', 'name', peer]);
}

export async function netnsExists(name: string): Promise<boolean> {
  return stat(`/run/netns/${name}`).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}

/** Inode of the namespace file: equal to the `net:[inode]` of every process inside it. */
export async function netnsInode(name: string): Promise<number> {
  return (await stat(`/run/netns/${name}`)).ino;
}

/** Pids of the processes inside a namespace (only ever one of the test's own namespaces). */
export async function netnsPids(name: string): Promise<number[]> {
  if (!(await netnsExists(name))) return [];
  const r = await sh('ip', ['netns', 'pids', name]);
  return r.stdout.split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number);
}

/**
 * Removes one of the test's namespaces: every process inside it gets SIGTERM, then SIGKILL
 * (they are the test's own keepalived: nothing else runs in a namespace named by this run),
 * then the namespace and with it the veth ends inside it.
 */
export async function deleteNetns(name: string): Promise<void> {
  if (!(await netnsExists(name))) return;
  for (const pid of await netnsPids(name)) killQuietly(pid, 'SIGTERM');
  const anyRunning = async () => (await Promise.all((await netnsPids(name)).map(isRunning))).some(Boolean);
  await waitFor(`the processes in ${name} to exit`, async () => !(await anyRunning()), 10_000).catch(async () => {
    for (const pid of await netnsPids(name)) killQuietly(pid, 'SIGKILL');
  });
  await sh('ip', ['netns', 'del', name]);
}

/** IPv4 addresses (without prefix) on `dev` inside `ns`. */
export async function addressesIn(ns: string, dev = 'eth1'): Promise<string[]> {
  const r = await sh('ip', ['-n', ns, '-4', '-o', 'addr', 'show', 'dev', dev]);
  return [...r.stdout.matchAll(/\sinet\s+([0-9.]+)\//g)].map((m) => m[1] ?? '');
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

/** The process state letter from /proc/<pid>/stat, or undefined when there is no such process. */
export async function procState(pid: number): Promise<string | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw err;
  }
}

/** Exists and is not a zombie. */
export function isRunning(pid: number): Promise<boolean> {
  return procState(pid).then((s) => s !== undefined && s !== 'Z' && s !== 'X');
}

/** Gone from /proc altogether (reaped). */
export async function isGone(pid: number): Promise<boolean> {
  return (await procState(pid)) === undefined;
}

export async function procComm(pid: number): Promise<string | undefined> {
  return readFile(`/proc/${pid}/comm`, 'utf8').then(
    (t) => t.trim(),
    () => undefined,
  );
}

export async function procCmdline(pid: number): Promise<string[]> {
  return readFile(`/proc/${pid}/cmdline`, 'utf8').then(
    (t) => t.split('\0').filter(Boolean),
    () => [],
  );
}

/** The inode of a process's network namespace (`net:[inode]`), undefined when it is gone. */
export async function processNetnsInode(pid: number): Promise<number | undefined> {
  try {
    const link = await readlink(`/proc/${pid}/ns/net`);
    const m = /^net:\[(\d+)\]$/.exec(link);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

export async function readPidFile(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** SIGKILL and wait until the process is reaped (its pid file stays behind, as after a crash). */
export async function crash(pid: number): Promise<void> {
  killQuietly(pid, 'SIGKILL');
  await waitFor(`pid ${pid} to be reaped after SIGKILL`, () => isGone(pid), 30_000);
}

/** Live keepalived processes (not zombies) whose command line names `configFile`. */
export async function keepalivedsWithConfig(ns: string, configFile: string): Promise<number[]> {
  const out: number[] = [];
  for (const pid of await netnsPids(ns)) {
    if ((await procComm(pid)) === 'keepalived' && (await isRunning(pid)) && (await procCmdline(pid)).includes(configFile)) out.push(pid);
  }
  return out;
}

export interface Detached {
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts a command detached (its own session), stdout and stderr appended to `logFile`; stopped by pid. */
export async function spawnDetachedProcess(cmd: string, args: readonly string[], logFile: string): Promise<Detached> {
  const log = await open(logFile, 'a');
  try {
    const child = spawn(cmd, [...args], { detached: true, stdio: ['ignore', log.fd, log.fd] });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${cmd}`);
    child.unref();
    return {
      pid,
      stop: async () => {
        killQuietly(pid, 'SIGTERM');
        await waitFor(`pid ${pid} to exit`, async () => !(await isRunning(pid)), 10_000).catch(() => killQuietly(pid, 'SIGKILL'));
      },
    };
  } finally {
    await log.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Octavia's templaters
// ---------------------------------------------------------------------------------------------

export interface LvsMember {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly enabled?: boolean;
  readonly weight?: number;
  readonly monitor_address?: string;
  readonly monitor_port?: number;
}

export interface LvsSpec {
  readonly listener_id: string;
  readonly protocol?: 'UDP' | 'SCTP';
  readonly hm_type?: 'UDP-CONNECT' | 'HTTP' | 'TCP' | 'SCTP' | 'PING' | null;
  readonly listener_enabled?: boolean;
  readonly pool_enabled?: boolean;
  readonly with_pool?: boolean;
  readonly algorithm?: 'ROUND_ROBIN' | 'LEAST_CONNECTIONS' | 'SOURCE_IP';
  readonly connection_limit?: number;
  readonly session_persistence?: { type: 'SOURCE_IP'; persistence_timeout?: number | null; persistence_granularity?: string | null } | null;
  readonly vip?: string;
  readonly port?: number;
  readonly members?: readonly LvsMember[];
  readonly base_path?: string;
}

export interface VrrpSpec {
  readonly vip: string;
  readonly vrrp_ip: string;
  readonly peer_ip: string;
  readonly cidr: string;
  readonly gw?: string;
  readonly role?: 'MASTER' | 'BACKUP';
  readonly priority?: number;
  readonly intf?: string;
  readonly base_path?: string;
  readonly check_interval?: number;
  readonly fail_count?: number;
  readonly success_count?: number;
  readonly advert_int?: number;
}

async function renderWithOctavia(spec: object): Promise<string> {
  const r = await sh(SYSTEM_PYTHON, [RENDER_SCRIPT], { input: JSON.stringify(spec) });
  if (r.code !== 0) throw new Error(`octavia-render.py failed: ${show(r)}`);
  return r.stdout;
}

/** An LVS listener config as Octavia's LvsJinjaTemplater renders it, moved to namespace `ns`. */
export async function renderLvs(spec: LvsSpec, ns: string): Promise<string> {
  const text = await renderWithOctavia({ kind: 'lvs', ...spec });
  if (!/^net_namespace amphora-haproxy$/m.test(text)) throw new Error(`unexpected Octavia LVS render:\n${text}`);
  return text.replace(/^net_namespace amphora-haproxy$/m, `net_namespace ${ns}`);
}

/** A VRRP config as Octavia's KeepalivedJinjaTemplater renders it. */
export function renderVrrp(spec: VrrpSpec): Promise<string> {
  return renderWithOctavia({ kind: 'vrrp', ...spec });
}

/** Removes the vrrp_script block and the track_script reference (a plain peer without checks). */
export function withoutCheckScript(vrrpConfig: string): string {
  const out = vrrpConfig.replace(/^vrrp_script check_script \{\n(?:.*\n)*?\}\n/m, '').replace(/^\s*track_script \{\n\s*check_script\n\s*\}\n/m, '');
  if (/check_script/.test(out)) throw new Error(`could not remove the check script from:\n${vrrpConfig}`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The agent over mutual TLS
// ---------------------------------------------------------------------------------------------

export interface AgentClient {
  port: number;
  request(method: string, path: string, body?: string): Promise<MtlsResponse>;
}

export async function agentClient(pki: TestPki, port: number): Promise<AgentClient> {
  const ca = await readFile(pki.serverCaPem, 'utf8');
  const clientPem = await readFile(pki.clientPem, 'utf8');
  const client: AgentClient = {
    port,
    request: (method, path, body) =>
      mtlsRequest({ port: client.port, ca, servername: pki.amphoraId, clientPem }, { method, path, ...(body === undefined ? {} : { body }), timeoutMs: 120_000 }),
  };
  return client;
}

/** Body as JSON, with the whole response in the error when it is not JSON. */
export function jsonOf(res: MtlsResponse): unknown {
  try {
    return res.json();
  } catch {
    throw new Error(`not JSON (status ${res.status}): ${res.body}`);
  }
}

export const describeResponse = (res: MtlsResponse): string => `HTTP ${res.status}: ${res.body}`;

