/**
 * The real controller client against this agent: octavia-client.py wraps Octavia's own
 * AmphoraAPIClient1_0 (python3-octavia 11.0.0), with its TLS setup, amphora-id hostname check,
 * URL layout (`GET //`), retries and error mapping. What the controller reads must be there:
 * api_version, a haproxy_version that splits into MAJOR.MINOR; PUT /1.0/config and
 * PUT /1.0/certificate must be accepted; untrusted client certificates must be refused.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentHandle } from '../../src/main.js';
import {
  createAgentRoot,
  GEN_CERTS,
  issueServerCert,
  makePki,
  OCTAVIA_CLIENT,
  removeDir,
  startInProcess,
  type AgentRoot,
  type TestPki,
} from '../support/agent-fixture.js';
import { mtlsRequest } from '../support/mtls-client.js';
import { octaviaClient, outcome, printedJson, type ClientRun } from '../support/octavia-client.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('conformance', {
  python: 'octavia',
  binaries: ['openssl', 'bash', 'haproxy'],
  files: [GEN_CERTS, OCTAVIA_CLIENT],
});

/** MAJOR.MINOR of the installed haproxy, from `haproxy -v`. */
async function installedHaproxyMajorMinor(): Promise<string> {
  const { stdout } = await promisify(execFile)('haproxy', ['-v'], { encoding: 'utf8' });
  const m = /HA-?Proxy version (\d+)\.(\d+)/i.exec(stdout);
  if (!m) throw new Error(`cannot read the haproxy version from: ${stdout}`);
  return `${m[1]}.${m[2]}`;
}

// Every octavia-client.py run imports python3-octavia first: about 5 s on a 2-core VM.
describe.skipIf(!canRun)('the Octavia controller client (AmphoraAPIClient1_0)', { timeout: 180_000 }, () => {
  let work: string | undefined;
  let pki: TestPki;
  let root: AgentRoot;
  let agent: AgentHandle | undefined;

  const client = (...command: string[]): Promise<ClientRun> => octaviaClient({ port: agent?.port ?? 0, pki }, ...command);
  const clientWith = (options: readonly string[], ...command: string[]): Promise<ClientRun> =>
    octaviaClient({ port: agent?.port ?? 0, pki, options }, ...command);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'amphora-conformance-'));
    pki = await makePki(join(work, 'pki'));
    root = await createAgentRoot({ pki, parent: work });
    agent = await startInProcess(root);
  });

  afterAll(async () => {
    await agent?.close();
    await removeDir(work);
  });

  it('discovers API version 1.0 with GET //', async () => {
    const run = await client('version');
    expect(run.code, outcome(run)).toBe(0);
    expect(printedJson(run)).toEqual({ api_version: '1.0' });
  });

  it('reads info, with a haproxy_version that starts with the installed MAJOR.MINOR', async () => {
    const run = await client('info');
    expect(run.code, outcome(run)).toBe(0);
    const info = printedJson(run);
    expect(info['api_version']).toBe('1.0');
    const haproxy = info['haproxy_version'];
    expect(typeof haproxy).toBe('string');
    // The controller does haproxy_version.split('.')[:2] and compares the parts as integers.
    expect(String(haproxy)).toMatch(/^\d+\.\d+/);
    expect(String(haproxy).split('.').slice(0, 2).join('.')).toBe(await installedHaproxyMajorMinor());
  });

  it('reads details', async () => {
    const run = await client('details');
    expect(run.code, outcome(run)).toBe(0);
    const details = printedJson(run);
    expect(details).toMatchObject({ api_version: '1.0', active: true, topology: 'SINGLE', topology_status: 'OK', listeners: [] });
    expect(String(details['haproxy_version'])).toMatch(/^\d+\.\d+/);
  });

  it('is refused by the client when the certificate does not name the expected amphora', async () => {
    const run = await clientWith(['--amphora-id', '99999999-8888-7777-6666-555555555555', '--retries', '1'], 'version');
    expect(run.code, outcome(run)).toBe(3);
  });

  it.each([
    ['from another CA', 'rogueClientPem'],
    ['that has expired', 'expiredClientPem'],
  ] as const)('refuses a client certificate %s (the client exhausts its retries: exit 3)', async (_what, file) => {
    const run = await clientWith(['--client-cert', pki[file], '--retries', '1'], 'version');
    expect(run.code, outcome(run)).toBe(3);
    expect(run.stderr).toMatch(/TimeOutException/);
  });

  describe('update-config (PUT /1.0/config)', () => {
    it('answers 202, replaces the configuration file and applies the new topology at once', async () => {
      const text = root.render({ controller_worker: { loadbalancer_topology: 'ACTIVE_STANDBY' } });
      const file = join(work ?? tmpdir(), 'active-standby.conf');
      await writeFile(file, text);

      const run = await client('update-config', file);
      expect(run.code, outcome(run)).toBe(0);
      expect(run.stdout).toMatch(/^HTTP 202\b/);

      expect(await readFile(root.configFile, 'utf8')).toBe(text);
      expect((await stat(root.configFile)).mode & 0o777).toBe(0o600);
      const details = await client('details');
      expect(details.code, outcome(details)).toBe(0);
      expect(printedJson(details)['topology']).toBe('ACTIVE_STANDBY');
      // [DEFAULT] debug steers the agent's own logger only: the silent one given to startAgent stays silent.
      expect(agent?.log.level).toBe('silent');
    });

    it('is refused with 400 (client exit 2) for an invalid value, and the file is kept', async () => {
      const before = await readFile(root.configFile, 'utf8');
      const file = join(work ?? tmpdir(), 'invalid.conf');
      await writeFile(file, root.render({ haproxy_amphora: { bind_port: '99999' } }));

      const run = await client('update-config', file);
      expect(run.code, outcome(run)).toBe(2);
      expect(run.stderr).toMatch(/400|Bad ?Request|InvalidRequest/i);
      expect(await readFile(root.configFile, 'utf8')).toBe(before);
      expect((await client('version')).code).toBe(0);
    });
  });

  it('rotate-server-cert (PUT /1.0/certificate): answers 202 and the client still accepts the agent', async () => {
    const next = await issueServerCert(pki, join(work ?? tmpdir(), 'issued'));
    const file = join(work ?? tmpdir(), 'rotated.pem');
    await writeFile(file, next.pem);

    const run = await client('rotate-server-cert', file);
    expect(run.code, outcome(run)).toBe(0);
    expect(run.stdout).toMatch(/^HTTP 202\b/);

    // The client checks that the new certificate names the amphora and chains to server_ca.
    const version = await clientWith(['--retries', '1'], 'version');
    expect(version.code, outcome(version)).toBe(0);
    expect(printedJson(version)).toEqual({ api_version: '1.0' });
    const presented = await mtlsRequest(
      { port: agent?.port ?? 0, ca: await readFile(pki.serverCaPem, 'utf8'), servername: pki.amphoraId, clientPem: await readFile(pki.clientPem, 'utf8') },
      { path: '//' },
    );
    expect(presented.peerFingerprint256).toBe(next.fingerprint256);
  });
});
