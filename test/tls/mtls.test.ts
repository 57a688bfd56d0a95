/**
 * Mutual TLS on real sockets, against the agent started in process on 127.0.0.1 with the shared
 * test PKI: who is refused at the handshake, which protocol versions are accepted, keep-alive,
 * server certificate rotation (PUT /1.0/certificate) taking effect at the next connection, and
 * TLS settings changed by PUT /1.0/config.
 */
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecureVersion } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentHandle } from '../../src/main.js';
import {
  captureLogger,
  createAgentRoot,
  fingerprintOf,
  GEN_CERTS,
  issueServerCert,
  makePki,
  removeDir,
  startInProcess,
  type AgentRoot,
  type IssuedCert,
  type TestPki,
} from '../support/agent-fixture.js';
import { mtlsRequest, tlsProbe, type TlsTarget } from '../support/mtls-client.js';
import { tierCanRun } from '../support/requirements.js';

const canRun = tierCanRun('tls', { binaries: ['openssl', 'bash'], files: [GEN_CERTS] });
const VERSIONS: readonly SecureVersion[] = ['TLSv1.2', 'TLSv1.3'];

describe.skipIf(!canRun)('mutual TLS on a real socket', () => {
  let work: string | undefined;
  let pki: TestPki;
  let root: AgentRoot;
  let agent: AgentHandle | undefined;
  let serverCa: string;
  let clientPem: string;
  const logged = captureLogger();
  /** Handshakes the server refused ('tlsClientError'), in order. */
  const refusals: { code: string | undefined; authorizationError: string | undefined }[] = [];

  const target = (extra: Partial<TlsTarget> = {}): TlsTarget => ({
    port: agent?.port ?? 0,
    ca: serverCa,
    servername: pki.amphoraId,
    clientPem,
    ...extra,
  });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'amphora-mtls-'));
    pki = await makePki(join(work, 'pki'));
    root = await createAgentRoot({ pki, parent: work });
    agent = await startInProcess(root, logged.log);
    agent.server.on('tlsClientError', (err: Error & { code?: string }, socket) => {
      // At runtime authorizationError is the OpenSSL verify code (a string), whatever @types/node says.
      const why: unknown = socket.authorizationError;
      refusals.push({ code: err.code, authorizationError: why === undefined || why === null ? undefined : String(why) });
    });
    serverCa = await readFile(pki.serverCaPem, 'utf8');
    clientPem = await readFile(pki.clientPem, 'utf8');
  });

  afterAll(async () => {
    await agent?.close();
    await removeDir(work);
  });

  /** Runs `action` and returns the one refusal the server reported for it. */
  async function refusalDuring(action: () => Promise<void>) {
    const before = refusals.length;
    await action();
    await expect.poll(() => refusals.length, { timeout: 10_000 }).toBe(before + 1);
    return refusals[before];
  }

  describe.each(VERSIONS)('over %s', (version) => {
    const pinned = { minVersion: version, maxVersion: version };

    it('accepts the controller certificate and answers GET //', async () => {
      const res = await mtlsRequest(target(pinned), { path: '//' });
      expect(res.protocol).toBe(version);
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ api_version: '1.0' });
    });

    it('refuses a client without a certificate at the handshake', async () => {
      const refusal = await refusalDuring(async () => {
        const probe = await tlsProbe(target({ ...pinned, clientPem: undefined }));
        expect(probe.response).toBe('');
        // The alert the reference sends too (contract §1) for TLS 1.2; TLS 1.3 has its own.
        expect(probe.error?.code).toBe(version === 'TLSv1.2' ? 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' : 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
      });
      expect(refusal?.code).toBe('ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    });

    it.each([
      ['from another CA', 'rogueClientPem', /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/],
      ['from the trusted CA that has expired', 'expiredClientPem', /^CERT_HAS_EXPIRED$/],
    ] as const)('refuses a client certificate %s before any request is read', async (_what, file, reason) => {
      const pem = await readFile(pki[file], 'utf8');
      const refusal = await refusalDuring(async () => {
        const probe = await tlsProbe(target({ ...pinned, clientPem: pem }));
        expect(probe.response).toBe('');
        // With TLS 1.3 the client's side of the handshake ends before the server has checked its certificate.
        if (version === 'TLSv1.2') expect(probe.secureConnected).toBe(false);
      });
      expect(refusal?.authorizationError).toMatch(reason);
    });
  });

  it('logs why a client certificate was refused', async () => {
    const expired = await readFile(pki.expiredClientPem, 'utf8');
    const before = logged.lines.length;
    await refusalDuring(async () => void (await tlsProbe(target({ clientPem: expired }))));
    await expect
      .poll(() => logged.lines.slice(before).find((l) => l['msg'] === 'TLS handshake refused'), { timeout: 10_000 })
      .toMatchObject({ reason: expect.stringMatching(/CERT_HAS_EXPIRED/) });
  });

  it('keeps the connection open between requests (HTTP keep-alive)', async () => {
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await mtlsRequest(target(), { path: '//', agent: keepAlive });
      const second = await mtlsRequest(target(), { path: '/1.0/info', agent: keepAlive });
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(first.headers.connection).not.toBe('close');
      expect(second.headers.connection).not.toBe('close');
      expect(first.reusedSocket).toBe(false);
      expect(second.reusedSocket).toBe(true);
      expect(second.socket).toBe(first.socket);
    } finally {
      keepAlive.destroy();
    }
  });

  describe('PUT /1.0/certificate', () => {
    let next: IssuedCert;
    /** The private key of the certificate the agent started with. */
    let oldKey: string;

    beforeAll(async () => {
      next = await issueServerCert(pki, join(work ?? tmpdir(), 'issued'));
      const key = /-----BEGIN PRIVATE KEY-----[^]*?-----END PRIVATE KEY-----\n/.exec(await readFile(pki.serverPem, 'utf8'))?.[0];
      if (key === undefined) throw new Error(`no private key block in ${pki.serverPem}`);
      oldKey = key;
    });

    const put = (body: string) => mtlsRequest(target(), { method: 'PUT', path: '/1.0/certificate', body });

    it.each([
      ['a key that belongs to another certificate', () => next.certPem + oldKey],
      ['no key', () => next.certPem],
      ['no certificate', () => next.keyPem],
      ['text that is no PEM', () => 'hello\n'],
    ])('answers 400 JSON for a PEM with %s and leaves the file alone', async (_what, body) => {
      const before = await readFile(root.certFile);
      const presentedBefore = (await mtlsRequest(target(), { path: '//' })).peerFingerprint256;
      const res = await put(body());
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toMatchObject({ message: expect.any(String) });
      expect(await readFile(root.certFile)).toEqual(before);
      expect((await mtlsRequest(target(), { path: '//' })).peerFingerprint256).toBe(presentedBefore);
    });

    it('answers 202, replaces the file with mode 0600 and presents the new certificate from the next connection', async () => {
      const old = await fingerprintOf(root.certFile);
      expect(old).not.toBe(next.fingerprint256);
      expect((await mtlsRequest(target(), { path: '//' })).peerFingerprint256).toBe(old);

      const res = await put(next.pem);
      expect(res.status).toBe(202);
      expect(res.json()).toEqual({ message: 'OK' });

      expect(await readFile(root.certFile, 'utf8')).toBe(next.pem);
      expect((await stat(root.certFile)).mode & 0o777).toBe(0o600);
      for (const version of VERSIONS) {
        const after = await mtlsRequest(target({ minVersion: version, maxVersion: version }), { path: '//' });
        expect(after.status).toBe(200);
        expect(after.peerFingerprint256).toBe(next.fingerprint256);
      }
    });
  });
});

describe.skipIf(!canRun)('agent_tls_protocol = TLSv1.3', () => {
  let work: string | undefined;
  let agent: AgentHandle | undefined;
  let base: TlsTarget;
  let refusals = 0;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'amphora-tls13-'));
    const pki = await makePki(join(work, 'pki'));
    const root = await createAgentRoot({ pki, parent: work, overrides: { amphora_agent: { agent_tls_protocol: 'TLSv1.3' } } });
    agent = await startInProcess(root);
    agent.server.on('tlsClientError', () => refusals++);
    base = {
      port: agent.port,
      ca: await readFile(pki.serverCaPem, 'utf8'),
      servername: pki.amphoraId,
      clientPem: await readFile(pki.clientPem, 'utf8'),
    };
  });

  afterAll(async () => {
    await agent?.close();
    await removeDir(work);
  });

  it('refuses a TLS 1.2 client at the handshake', async () => {
    const probe = await tlsProbe({ ...base, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    expect(probe.secureConnected).toBe(false);
    expect(probe.response).toBe('');
    expect(probe.error?.code ?? probe.error?.message).toMatch(/ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|ECONNRESET/);
    await expect.poll(() => refusals, { timeout: 10_000 }).toBeGreaterThan(0);
  });

  it('accepts a TLS 1.3 client', async () => {
    const res = await mtlsRequest({ ...base, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }, { path: '//' });
    expect(res.protocol).toBe('TLSv1.3');
    expect(res.json()).toEqual({ api_version: '1.0' });
  });
});

describe.skipIf(!canRun)('TLS settings changed by PUT /1.0/config', () => {
  let work: string | undefined;
  let root: AgentRoot;
  let agent: AgentHandle | undefined;
  let base: TlsTarget;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'amphora-tls-config-'));
    const pki = await makePki(join(work, 'pki'));
    root = await createAgentRoot({ pki, parent: work });
    agent = await startInProcess(root);
    base = {
      port: agent.port,
      ca: await readFile(pki.serverCaPem, 'utf8'),
      servername: pki.amphoraId,
      clientPem: await readFile(pki.clientPem, 'utf8'),
    };
  });

  afterAll(async () => {
    await agent?.close();
    await removeDir(work);
  });

  const putConfig = (text: string) => mtlsRequest(base, { method: 'PUT', path: '/1.0/config', body: text });

  it('refuses (400) a configuration whose server certificate cannot be loaded, keeping the file and serving on', async () => {
    const before = await readFile(root.configFile, 'utf8');
    const presented = (await mtlsRequest(base, { path: '//' })).peerFingerprint256;
    const res = await putConfig(root.render({ amphora_agent: { agent_server_cert: root.at('etc/octavia/certs/missing.pem') } }));
    expect(res.status, res.body).toBe(400);
    expect(res.json()).toMatchObject({ message: expect.any(String), details: expect.stringContaining('agent_server_cert') });
    // Written anyway, the file would stop the agent at its next start (exit 2): the amphora would be lost.
    expect(await readFile(root.configFile, 'utf8')).toBe(before);
    const after = await mtlsRequest(base, { path: '//' });
    expect(after.status).toBe(200);
    expect(after.peerFingerprint256).toBe(presented);
  });

  it('applies agent_tls_protocol = TLSv1.3 from the next connection on', async () => {
    expect((await mtlsRequest({ ...base, maxVersion: 'TLSv1.2' }, { path: '//' })).status).toBe(200);
    const res = await putConfig(root.render({ amphora_agent: { agent_tls_protocol: 'TLSv1.3' } }));
    expect(res.status, res.body).toBe(202);
    const probe = await tlsProbe({ ...base, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    expect(probe.secureConnected).toBe(false);
    expect(probe.response).toBe('');
    const modern = await mtlsRequest({ ...base, minVersion: 'TLSv1.3' }, { path: '//' });
    expect(modern.status).toBe(200);
  });
});
