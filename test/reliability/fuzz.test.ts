/**
 * The API fuzz: fast-check generates requests to every route of API 1.0 and 2.0 with every body
 * shape (support/fuzz-requests.ts), sent over mutual TLS to the real agent process (`node
 * dist/amphora-agent.mjs`, `direct` init, every root in a temporary directory, its daemons in a
 * namespace of the test's own, real keepalived and haproxy for validation and starts), run under
 * `strace -f` so that every file it or its daemons write is on record. After each request:
 *   - no 5xx, except keepalived failing for want of IPVS on this host (counted apart);
 *   - the agent still runs and, after config and certificate requests, still answers mTLS;
 *   - no config under the root has a line with the fuzz's marker that no accepted upload explains;
 * and at the end: nothing was written outside the configured roots, and the agent starts again
 * from its files. A failure keeps fast-check's seed and shrunk counterexample in its message.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GEN_CERTS } from '../support/agent-paths.js';
import { must } from '../support/commands.js';
import { merge, udpListener } from '../support/listener-fixtures.js';
import { RENDER_SCRIPT, renderLvs, renderVrrp, withoutCheckScript } from '../support/octavia-templaters.js';
import { tierCanRun } from '../support/requirements.js';
import { issueServerCert } from '../support/test-pki.js';
import { recordFigures } from './support/figures.js';
import { configFiles, injectedLines, isHonestDaemonExit, isHonestIpvsFailure, outsideRoots } from './support/fuzz-checks.js';
import { configRequests, routeRequests, type FuzzRequest, type Seeds } from './support/fuzz-requests.js';
import { startSuiteAgent, type SuiteAgent } from './support/suite-agent.js';

const canRun = tierCanRun('reliability: API fuzz against the real agent', {
  root: true,
  binaries: ['keepalived', 'haproxy', 'ip', 'openssl', 'strace'],
  python: 'octavia',
  files: [GEN_CERTS, RENDER_SCRIPT],
});

/** Requests per property: together past the issue's 10,000. */
const ROUTE_RUNS = Number(process.env['RELIABILITY_FUZZ_ROUTE_RUNS'] ?? 9_200);
const CONFIG_RUNS = Number(process.env['RELIABILITY_FUZZ_CONFIG_RUNS'] ?? 900);
const SEED = Number(process.env['RELIABILITY_FUZZ_SEED'] ?? Date.now() % 2 ** 31);

const L = ['eeeeeeee-0000-4000-8000-0000000000a1', 'eeeeeeee-0000-4000-8000-0000000000a2', 'eeeeeeee-0000-4000-8000-0000000000a3'];
const LBS = ['aaaaaaaa-0000-4000-8000-0000000000b1', 'aaaaaaaa-0000-4000-8000-0000000000b2'];

const haproxyConfig = (port: number) =>
  `global\n    maxconn 100\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\n` +
  `frontend f_${port}\n    bind 127.0.0.1:${port}\n    default_backend b_${port}\n\nbackend b_${port}\n    server s1 127.0.0.1:${port + 1000}\n`;

describe.skipIf(!canRun)('API fuzz: every route and body shape against the real agent', () => {
  let agent: SuiteAgent;
  let seeds: Seeds;
  const figures = { requests: 0, by_status: {} as Record<string, number>, honest_ipvs_5xx: 0, honest_daemon_exit_5xx: 0, other_5xx: 0, injected: 0, outside_roots: 0, kernel_writes: 0, transport_errors: 0 };
  /** The accepted uploads of each file path pattern (any listener's or lb's), for the injection check. */
  const accepted: string[] = [];
  const routesSeen = new Set<string>();
  /** Milliseconds and count per route, to see where the time goes. */
  const timing = new Map<string, [number, number]>();
  /** The last accepted requests: the agent is stateful, so a shrunk counterexample needs them. */
  const history: string[] = [];

  beforeAll(async () => {
    agent = await startSuiteAgent({ tag: 'fuzz', trace: true, overrides: { amphora_agent: { process_settle_seconds: '0.2', process_ready_timeout: '20' } } });
    // the VRRP seed's interface, so that a valid VRRP start runs
    await must('ip', ['-n', agent.ns, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1p']);
    await must('ip', ['-n', agent.ns, 'addr', 'add', '203.0.113.5/24', 'dev', 'eth1']);
    for (const dev of ['eth1', 'eth1p']) await must('ip', ['-n', agent.ns, 'link', 'set', dev, 'up']);
    const cert = await issueServerCert(agent.root.pki, agent.root.at('pki-extra'));
    seeds = {
      amphoraId: agent.root.pki.amphoraId,
      listenerIds: L,
      lbIds: LBS,
      lvsDisabled: await renderLvs({ listener_id: L[0] as string, listener_enabled: false }, agent.ns),
      lvsWithVirtualServer: await renderLvs({ listener_id: L[1] as string, hm_type: null, base_path: agent.root.at('var/lib/octavia') }, agent.ns),
      vrrp: withoutCheckScript(await renderVrrp({ vip: '203.0.113.10', vrrp_ip: '203.0.113.5', peer_ip: '203.0.113.6', cidr: '203.0.113.0/24' })),
      haproxy: haproxyConfig,
      modelV2: merge(udpListener(), { admin_state_up: false }),
      certificatePem: cert.pem,
    };
  });

  afterAll(async () => {
    await agent?.dispose();
  });

  /** Sends one request and applies the per-request checks; throws (for fast-check to shrink) on a failure. */
  async function send(r: FuzzRequest, checkAnswers: boolean): Promise<void> {
    routesSeen.add(r.route);
    figures.requests++;
    let status: number;
    let body: string;
    const t = Date.now();
    try {
      const res = await agent.request(r.method, r.path, r.body, r.headers);
      status = res.status;
      body = res.body;
      const [ms, n] = timing.get(r.route) ?? [0, 0];
      timing.set(r.route, [ms + Date.now() - t, n + 1]);
    } catch (err) {
      figures.transport_errors++;
      throw new Error(`${r.method} ${r.path}: no answer (${(err as Error).message}); agent running: ${agent.proc?.running}`);
    }
    figures.by_status[status] = (figures.by_status[status] ?? 0) + 1;
    if (status >= 500) {
      if (isHonestIpvsFailure(status, body)) figures.honest_ipvs_5xx++;
      else if (isHonestDaemonExit(status, body)) figures.honest_daemon_exit_5xx++;
      else {
        figures.other_5xx++;
        throw new Error(`${r.method} ${r.path}: HTTP ${status}: ${body.slice(0, 1000)}`);
      }
    }
    if (status < 300 && r.upload && r.body) accepted.push(r.body.toString('utf8'));
    if (status < 300 && r.method !== 'GET') history.push(`${r.method} ${r.path} -> ${status}: ${(r.body ?? '').toString().slice(0, 300)}`);
    if (history.length > 6) history.shift();
    const context = () => `\nlast accepted changes before it:\n${history.join('\n')}`;
    if (!agent.proc?.running) throw new Error(`the agent exited after ${r.method} ${r.path}: ${agent.proc?.describe()}`);
    const injected = [...configFiles(agent.root.dir)].flatMap(([file, text]) => injectedLines(file, text, accepted));
    if (injected.length > 0) {
      figures.injected += injected.length;
      throw new Error(`${r.method} ${r.path} (HTTP ${status}): directives no accepted upload explains:\n${injected.join('\n')}`);
    }
    if (checkAnswers && !(await agent.answers())) throw new Error(`the agent no longer answers mutual TLS after ${r.method} ${r.path} (HTTP ${status}: ${body.slice(0, 500)})${context()}`);
  }

  const params = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: false, verbose: 1 as const });

  // no time limit of its own: how long depends on the machine's load (real binaries validate
  // and start), and vitest's limit would cut the run and its counterexample short
  it(`answers ${ROUTE_RUNS} generated requests to every route without a 5xx or an injected directive (seed ${SEED})`, { timeout: 0 }, async () => {
    await fc.assert(fc.asyncProperty(routeRequests(seeds), (r) => send(r, false)), params(ROUTE_RUNS));
    expect(agent.proc?.running).toBe(true);
  });

  it(`refuses config and certificate changes that would lock it out, and stays reachable (${CONFIG_RUNS} requests, seed ${SEED})`, { timeout: 0 }, async () => {
    const currentConfig = await readFile(agent.root.configFile, 'utf8');
    const certs = [seeds.certificatePem, (await issueServerCert(agent.root.pki, agent.root.at('pki-extra'))).pem];
    // a port another process really listens on (a fixed one such as sshd's 22 is free on some
    // machines: the agent then rightly takes it for its next restart, and the restart below moves it)
    const holder = createServer();
    await new Promise<void>((res) => holder.listen(0, '0.0.0.0', res));
    try {
      const usedPort = (holder.address() as AddressInfo).port;
      await fc.assert(fc.asyncProperty(configRequests(currentConfig, certs, usedPort), (r) => send(r, true)), params(CONFIG_RUNS));
    } finally {
      holder.close();
    }
    // the agent serves one of the certificates it was given, and starts again from its files
    const served = new X509Certificate(await readFile(agent.root.certFile)).subject;
    expect(served).toContain(agent.root.pki.amphoraId);
    await agent.stop();
    await agent.start();
    expect(await agent.answers()).toBe(true);
  });

  it('wrote nothing outside its configured roots, and every route was fuzzed', async () => {
    await agent.stop();
    process.stderr.write(`fuzz time per route (ms total / requests): ${JSON.stringify(Object.fromEntries(timing))}\n`);
    const { outside, kernel, daemonRuntime, namedByUploads } = outsideRoots(agent.writtenPaths(), [agent.root.dir], agent.ns, accepted);
    figures.outside_roots = outside.length;
    figures.kernel_writes = kernel;
    recordFigures('fuzz', import.meta.url, {
      requests: figures.requests, seed: SEED, routes: routesSeen.size, honest_ipvs_5xx: figures.honest_ipvs_5xx, honest_daemon_exit_5xx: figures.honest_daemon_exit_5xx, other_5xx: figures.other_5xx,
      injected: figures.injected, outside_roots: outside.length, kernel_writes: kernel, keepalived_runtime_writes: daemonRuntime, written_paths_named_by_uploads: namedByUploads, transport_errors: figures.transport_errors,
      ...Object.fromEntries(Object.entries(figures.by_status).map(([s, n]) => [`status_${s}`, n])),
    });
    expect(outside, `paths written outside ${agent.root.dir}`).toEqual([]);
    expect(routesSeen.size).toBeGreaterThanOrEqual(26);
    expect(figures.requests).toBeGreaterThanOrEqual(ROUTE_RUNS + CONFIG_RUNS);
  });
});
