/**
 * @module test/support/agent-process
 * Running the agent: `startInProcess` runs `startAgent` in the test process; `spawnCli` runs the
 * built `node dist/amphora-agent.mjs` (the installed command) and `spawnAgent` waits until it
 * listens; plus the free-port helpers they need. Every process started here is the caller's to stop.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../../src/log.js';
import { startAgent, type AgentHandle } from '../../src/main.js';
import { CLI, REPO_ROOT } from './agent-paths.js';
import type { AgentRoot } from './agent-root.js';
import { Spawned, type Exit } from './spawned.js';

/** startAgent in this process on the root's configuration; silent unless given a logger. */
export function startInProcess(root: AgentRoot, log: Logger = silentLogger()): Promise<AgentHandle> {
  return startAgent({ configFiles: [root.configFile], log });
}

/** A pino logger that keeps every line as parsed JSON, for tests that check what the agent logs. */
export function captureLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

/** A port that was free a moment ago (for the CLI, which does not report a kernel-chosen port). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen({ host, port }, () => server.close(() => resolveFree(true)));
  });
}

/** Whether a TCP connection to host:port is accepted (a probe that, unlike portIsFree, never holds the port itself). */
export function tcpConnects(port: number, host: string): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => resolveConnect(false));
  });
}

export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** `node dist/amphora-agent.mjs ARGS`, output collected. The caller waits or stops. */
export function spawnCli(args: readonly string[], options: SpawnOptions = {}): Spawned {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Spawned(child);
}

/** Runs the CLI to completion (for --help, --version and configuration errors). */
export async function runCli(args: readonly string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<Spawned & { exit: Exit }> {
  const spawned = spawnCli(args, options);
  const timer = setTimeout(() => spawned.running && spawned.child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  await spawned.exited;
  clearTimeout(timer);
  return spawned as Spawned & { exit: Exit };
}

/** Starts `node dist/amphora-agent.mjs --config-file ROOT/...conf` on a fixed free port and waits until it accepts connections. */
export async function spawnAgent(root: AgentRoot, host = '127.0.0.1'): Promise<Spawned> {
  if (root.port === 0) throw new Error('spawnAgent needs a root made with a fixed port (see freePort)');
  const spawned = spawnCli(['--config-file', root.configFile]);
  await spawned.waitFor(`the agent to listen on ${host}:${root.port}`, () => tcpConnects(root.port, host));
  return spawned;
}
