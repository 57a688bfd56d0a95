/**
 * @module test/reliability/support/suite-agent
 * The real agent for the reliability tier: `node dist/amphora-agent.mjs` (the installed command)
 * in a temporary root, its daemons in a network namespace of the test's own, the `direct` init
 * adapter, on a fixed loopback port; optionally under `strace -f` so that every file the agent
 * or its daemons create, write, rename or remove is on record (writesOutside). A keep-alive
 * mutual-TLS client goes with it. Everything made here is removed by `dispose`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, REPO_ROOT } from '../../support/agent-paths.js';
import { createAgentRoot, removeDir, type AgentRoot, type ConfOverrides } from '../../support/agent-root.js';
import { freePort } from '../../support/agent-process.js';
import { mtlsRequest, type MtlsResponse } from '../../support/mtls-client.js';
import { addNetns, deleteNetns, uniqueName } from '../../support/netns.js';
import { Spawned } from '../../support/spawned.js';
import { makePki, readPki, type TestPki } from '../../support/test-pki.js';
import { waitFor } from '../../support/wait-for.js';

export interface SuiteAgentOptions {
  readonly tag: string;
  /** Run under strace -f and keep the record of file writes. */
  readonly trace?: boolean;
  readonly overrides?: ConfOverrides;
  /** The agent's open-file limit (soft and hard), set with prlimit; by default the test's own. */
  readonly nofile?: number;
}

export interface SuiteAgent {
  readonly root: AgentRoot;
  readonly ns: string;
  readonly port: number;
  /** The agent process (under strace: strace's child), undefined while stopped. */
  proc: Spawned | undefined;
  /** The agent's own pid (not strace's). */
  agentPid(): number;
  start(): Promise<void>;
  /** SIGKILL to the agent itself; its daemons are left as a crash leaves them. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
  request(method: string, path: string, body?: string | Buffer, headers?: Record<string, string>): Promise<MtlsResponse>;
  /** One GET / on a fresh connection: the agent answers mutual TLS with API version 1.0. */
  answers(): Promise<boolean>;
  /** Under strace: every path written, created, renamed or removed by the agent and its children. */
  writtenPaths(): string[];
  dispose(): Promise<void>;
}

const WRITE_CALLS = 'open,openat,openat2,creat,rename,renameat,renameat2,mkdir,mkdirat,unlink,unlinkat,rmdir,symlink,symlinkat,link,linkat,truncate,chmod,fchmodat,chown,fchownat,lchown,mknod,mknodat,bind';

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The paths of the successful writing calls in an `strace -f` record. */
export function parseWrites(trace: string): string[] {
  const out: string[] = [];
  for (const line of trace.split('\n')) {
    const m = /^\d+\s+(\w+)\((.*)\)\s+=\s+\d+/.exec(line);
    if (!m) continue;
    const [, call, args] = m as unknown as [string, string, string];
    if (/^(open|openat|openat2)$/.test(call) && !/O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(args)) continue;
    if (call === 'bind' && !/sun_path=/.test(args)) continue;
    for (const p of args.matchAll(/"((?:[^"\\]|\\.)*)"/g)) out.push(p[1] as string);
  }
  return out;
}

/**
 * gen-certs.sh takes about 40 s on a loaded machine: run.mjs names a directory
 * (RELIABILITY_PKI_DIR) where the first file of the run makes the PKI and the others reuse it
 * (files run one after another). Without it, each agent root makes its own.
 */
export async function sharedPki(): Promise<TestPki | undefined> {
  const dir = process.env['RELIABILITY_PKI_DIR'];
  if (!dir) return undefined;
  return existsSync(join(dir, 'amphora_id')) ? readPki(dir) : makePki(dir);
}

export async function startSuiteAgent(options: SuiteAgentOptions): Promise<SuiteAgent> {
  const ns = uniqueName(options.tag);
  await addNetns(ns);
  const port = await freePort();
  const pki = await sharedPki();
  const root = await createAgentRoot({
    ...(pki ? { pki } : {}),
    port,
    overrides: {
      ...options.overrides,
      amphora_agent: { init_system: 'direct', network_namespace: ns, ...options.overrides?.['amphora_agent'] },
    },
  });
  const work = await mkdtemp(join(tmpdir(), `reliability-${options.tag}-`));
  const traceFile = join(work, 'strace.log');
  const ca = await readFile(root.pki.serverCaPem, 'utf8');
  const clientPem = await readFile(root.pki.clientPem, 'utf8');
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 4 });
  const target = { port, ca, servername: root.pki.amphoraId, clientPem };
  let traces = 0;
  const traceFiles: string[] = [];

  const agent: SuiteAgent = {
    root,
    ns,
    port,
    proc: undefined,
    agentPid() {
      const p = agent.proc?.child.pid;
      if (p === undefined) throw new Error('the agent is not running');
      return options.trace ? (childPids(p)[0] ?? p) : p;
    },
    async start() {
      const node = options.nofile === undefined ? [process.execPath] : ['prlimit', `--nofile=${options.nofile}:${options.nofile}`, '--', process.execPath];
      const argv = [...node.slice(1), CLI, '--config-file', root.configFile];
      const file = `${traceFile}.${traces++}`;
      traceFiles.push(file);
      const child = options.trace
        ? spawn('strace', ['-f', '--seccomp-bpf', '-qq', '-e', `trace=${WRITE_CALLS}`, '-e', 'status=successful', '-o', file, node[0] as string, ...argv], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn(node[0] as string, argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      agent.proc = new Spawned(child);
      await agent.proc.waitFor(`the agent to answer on 127.0.0.1:${port}`, () => agent.answers(), 90_000);
    },
    async kill9() {
      const proc = agent.proc;
      if (!proc) return;
      process.kill(agent.agentPid(), 'SIGKILL');
      await proc.exited;
      agent.proc = undefined;
      keepAlive.destroy();
    },
    async stop() {
      const proc = agent.proc;
      if (!proc) return;
      if (proc.running) process.kill(agent.agentPid(), 'SIGTERM');
      await proc.stop('SIGTERM', 30_000);
      agent.proc = undefined;
    },
    request: (method, path, body, headers) =>
      mtlsRequest(target, { method, path, agent: keepAlive, timeoutMs: 120_000, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) }),
    async answers() {
      try {
        const res = await mtlsRequest(target, { path: '/', timeoutMs: 30_000 });
        return res.status === 200 && /"api_version":"1\.0"/.test(res.body);
      } catch {
        return false;
      }
    },
    writtenPaths: () => traceFiles.flatMap((f) => {
      try {
        return parseWrites(readFileSync(f, 'utf8'));
      } catch {
        return [];
      }
    }),
    async dispose() {
      keepAlive.destroy();
      await agent.stop().catch(() => undefined);
      // every daemon of the agent runs in the test's namespace: deleteNetns stops them by pid
      await deleteNetns(ns);
      await removeDir(root.dir);
      await removeDir(work);
    },
  };
  await agent.start();
  return agent;
}

export { waitFor };
