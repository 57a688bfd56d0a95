/**
 * @module test/support/agent-fixture
 * A whole agent in a temporary root, for the tiers that talk to it over real sockets (tls,
 * conformance, cli):
 * - `makePki` runs the shared `gen-certs.sh` (Octavia's two-CA layout, plus rogue and expired
 *   client certificates) and `issueServerCert` signs further agent certificates with its server CA;
 * - `createAgentRoot` writes an amphora-agent.conf that moves every system location the agent
 *   writes under the temporary root, with copies of the agent's certificate files there too, so
 *   that a test may overwrite them (certificate rotation, PUT /1.0/config);
 * - `startInProcess` runs `startAgent` in the test process; `spawnCli` runs the built
 *   `node dist/amphora-agent.mjs` (the installed command) and waits until it listens.
 * Nothing here touches a system directory, and every temp dir and child process is owned by the
 * caller's `cleanup()`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../../src/log.js';
import { startAgent, type AgentHandle } from '../../src/main.js';

const run = promisify(execFile);

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/**
 * The shared tools and docs, found as .ci/run finds them: `$AMPHORA_SHARED` when set and not empty
 * (a relative value is taken from the repository root, where .ci/run runs), else `<repo>/../shared`.
 */
export const SHARED_DIR = resolve(REPO_ROOT, process.env['AMPHORA_SHARED'] || join('..', 'shared'));
export const OCTAVIA_REF_DIR = join(SHARED_DIR, 'tools', 'octavia-ref');
/** Runs under bash and needs openssl: a tier that calls makePki lists it with `binaries: ['bash', 'openssl']`. */
export const GEN_CERTS = join(OCTAVIA_REF_DIR, 'gen-certs.sh');
/** Runs under /usr/bin/python3 with python3-octavia: list it with `python: 'octavia'`. */
export const OCTAVIA_CLIENT = join(OCTAVIA_REF_DIR, 'octavia-client.py');
/** The command package.json installs (bin): the single-file bundle of dist/cli.js. */
export const CLI = join(REPO_ROOT, 'dist', 'amphora-agent.mjs');

// ---------------------------------------------------------------------------------------------
// PKI
// ---------------------------------------------------------------------------------------------

/** The files gen-certs.sh writes (see shared/tools/octavia-ref/README.md). */
export interface TestPki {
  readonly dir: string;
  readonly amphoraId: string;
  /** Agent certificate and key in one PEM; CN = SAN DNS = amphora id; signed by server_ca. */
  readonly serverPem: string;
  /** Like serverPem, a different certificate (and key) with the CN only, no SAN. */
  readonly serverCnOnlyPem: string;
  /** Signed by server_ca but for another amphora id. */
  readonly serverWrongIdPem: string;
  readonly serverCaPem: string;
  readonly serverCaKey: string;
  /** The CA the agent trusts for client certificates. */
  readonly clientCaPem: string;
  /** The controller's certificate and key in one PEM. */
  readonly clientPem: string;
  /** Client certificate and key from an untrusted CA. */
  readonly rogueClientPem: string;
  /** Client certificate and key from client_ca, valid only on 2020-01-01. */
  readonly expiredClientPem: string;
}

/** Runs gen-certs.sh into `dir` (a few seconds: seven RSA keys). */
export async function makePki(dir: string, amphoraId?: string): Promise<TestPki> {
  if (!existsSync(GEN_CERTS)) throw new Error(`${GEN_CERTS} is missing: set AMPHORA_SHARED to the shared folder`);
  await run(GEN_CERTS, amphoraId === undefined ? [dir] : [dir, amphoraId], { timeout: 120_000 });
  const f = (name: string) => join(dir, name);
  return {
    dir,
    amphoraId: (await readFile(f('amphora_id'), 'utf8')).trim(),
    serverPem: f('server.pem'),
    serverCnOnlyPem: f('server_cn_only.pem'),
    serverWrongIdPem: f('server_wrong_id.pem'),
    serverCaPem: f('server_ca.pem'),
    serverCaKey: f('server_ca.key'),
    clientCaPem: f('client_ca.pem'),
    clientPem: f('client.pem'),
    rogueClientPem: f('rogue_client.pem'),
    expiredClientPem: f('expired_client.pem'),
  };
}

export interface IssuedCert {
  /** Certificate followed by its key: what PUT /1.0/certificate takes. */
  readonly pem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly fingerprint256: string;
}

/**
 * Signs a new agent certificate (fresh RSA key, CN = SAN DNS = `cn`, serverAuth) with the PKI's
 * server CA, as Octavia's certificate generator does for a rotation.
 */
export async function issueServerCert(pki: TestPki, workDir: string, cn = pki.amphoraId): Promise<IssuedCert> {
  await mkdir(workDir, { recursive: true });
  const dir = await mkdtemp(join(workDir, 'issue-'));
  const f = (name: string) => join(dir, name);
  await writeFile(
    f('leaf.ext'),
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${cn}\n`,
  );
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', `/CN=${cn}`], { timeout: 60_000 });
  await run(
    'openssl',
    ['x509', '-req', '-in', f('leaf.csr'), '-CA', pki.serverCaPem, '-CAkey', pki.serverCaKey, '-CAcreateserial', '-CAserial', f('ca.srl'),
      '-days', '30', '-extfile', f('leaf.ext'), '-out', f('leaf.crt')],
    { timeout: 60_000 },
  );
  const certPem = await readFile(f('leaf.crt'), 'utf8');
  const keyPem = await readFile(f('leaf.key'), 'utf8');
  return { pem: certPem + keyPem, certPem, keyPem, fingerprint256: new X509Certificate(certPem).fingerprint256 };
}

/** SHA-256 fingerprint of the (first) certificate in a PEM file, in Node's `AA:BB:…` form. */
export async function fingerprintOf(pemFile: string): Promise<string> {
  return new X509Certificate(await readFile(pemFile)).fingerprint256;
}

// ---------------------------------------------------------------------------------------------
// Temporary root and amphora-agent.conf
// ---------------------------------------------------------------------------------------------

/** `{section: {option: value}}` merged over the generated configuration. */
export type ConfOverrides = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface AgentRoot {
  /** The temporary root: every path the agent writes is under it. */
  readonly dir: string;
  readonly pki: TestPki;
  readonly configFile: string;
  /** The agent's own copy of server.pem (`agent_server_cert`), which rotation overwrites. */
  readonly certFile: string;
  readonly caFile: string;
  /** `bind_port` as written (0 lets the kernel choose; read the real one from the agent). */
  readonly port: number;
  /** A path under the root. */
  at(relative: string): string;
  /** The configuration text for these paths with other overrides (the file is not touched). */
  render(overrides?: ConfOverrides): string;
}

export interface AgentRootOptions {
  /** Reuse a PKI (gen-certs.sh is slow); by default one is made inside the root. */
  readonly pki?: TestPki;
  /** Defaults to 0 (any free port). */
  readonly port?: number;
  readonly overrides?: ConfOverrides;
  /** The parent of the temporary root; defaults to the OS temp dir. */
  readonly parent?: string | undefined;
}

/** The directories the generated configuration names; all are created. */
const DIRS = ['etc/octavia/certs', 'etc/octavia/interfaces', 'var/lib/octavia/certs', 'usr/lib/systemd/system', 'etc/init.d', 'etc/init'];

export function renderConf(root: string, pki: TestPki, port: number, overrides: ConfOverrides = {}): string {
  const at = (p: string) => join(root, p);
  const sections: Record<string, Record<string, string>> = {
    DEFAULT: { debug: 'False' },
    haproxy_amphora: {
      base_path: at('var/lib/octavia'),
      base_cert_dir: at('var/lib/octavia/certs'),
      bind_host: '127.0.0.1',
      bind_port: String(port),
    },
    amphora_agent: {
      agent_server_cert: at('etc/octavia/certs/server.pem'),
      agent_server_ca: at('etc/octavia/certs/client_ca.pem'),
      agent_server_network_dir: at('etc/octavia/interfaces'),
      agent_tls_protocol: 'TLSv1.2',
      amphora_id: pki.amphoraId,
      init_system: 'direct',
      systemd_unit_dir: at('usr/lib/systemd/system'),
      sysvinit_dir: at('etc/init.d'),
      upstart_dir: at('etc/init'),
      haproxy_user_group_file: at('var/lib/octavia/haproxy-default-user-group.conf'),
      plugged_interfaces_file: at('var/lib/octavia/plugged_interfaces'),
      // proc_dir stays /proc: it is only read (GET /1.0/details), never written.
    },
    controller_worker: { loadbalancer_topology: 'SINGLE' },
  };
  for (const [section, options] of Object.entries(overrides)) sections[section] = { ...(sections[section] ?? {}), ...options };
  return Object.entries(sections)
    .map(([section, options]) => `[${section}]\n${Object.entries(options).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`)
    .join('\n');
}

export async function createAgentRoot(options: AgentRootOptions = {}): Promise<AgentRoot> {
  const dir = await mkdtemp(join(options.parent ?? tmpdir(), 'amphora-agent-test-'));
  const at = (p: string) => join(dir, p);
  for (const d of DIRS) await mkdir(at(d), { recursive: true });
  const pki = options.pki ?? (await makePki(at('pki')));
  const certFile = at('etc/octavia/certs/server.pem');
  const caFile = at('etc/octavia/certs/client_ca.pem');
  await copyFile(pki.serverPem, certFile);
  await copyFile(pki.clientCaPem, caFile);
  const port = options.port ?? 0;
  const configFile = at('etc/octavia/amphora-agent.conf');
  await writeFile(configFile, renderConf(dir, pki, port, options.overrides), { mode: 0o600 });
  return { dir, pki, configFile, certFile, caFile, port, at, render: (o) => renderConf(dir, pki, port, { ...options.overrides, ...o }) };
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Running the agent
// ---------------------------------------------------------------------------------------------

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

function tcpConnects(port: number, host: string): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once('error', () => resolveConnect(false));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A child process with its output collected as it comes. */
export class Spawned {
  stdout = '';
  stderr = '';
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolveExit) => {
      child.once('close', (code, signal) => {
        this.exit = { code, signal };
        resolveExit(this.exit);
      });
    });
  }

  get running(): boolean {
    return this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  describe(): string {
    return `pid ${this.child.pid}, exit ${JSON.stringify(this.exit)}\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`;
  }

  /** Waits until `test` holds, failing early (with the output) if the process ends first. */
  async waitFor<T>(what: string, test: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await test();
      if (value !== undefined && value !== false) return value;
      if (!this.running) throw new Error(`process ended before ${what}: ${this.describe()}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${this.describe()}`);
      await sleep(50);
    }
  }

  /** SIGTERM (or `signal`), then the exit; SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.running && this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
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
